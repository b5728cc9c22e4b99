"""What the workspace pages show, computed from a ``RunView``: pure functions, tested without a server."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from pipeline.core.records import UNASSIGNED
from pipeline.workspace.session import RunView

PER_PAGE = 25
OFF_LIST_COLUMN = "off_list_score"  # added to themes.csv by the open-set work; shown when present


def themes_table(view: RunView, category_labels: Mapping[str, str]) -> tuple[list[dict[str, Any]], bool]:
    """One row per theme (largest first, noise last) and whether themes.csv has an off-list score column."""
    has_off_list = any(OFF_LIST_COLUMN in row for row in view.theme_rows.values())
    rows = []
    for theme in sorted(view.themes, key=lambda t: (t.noise, -t.size, t.theme_id)):
        if theme.theme_id == UNASSIGNED:
            continue
        csv_row = view.theme_rows.get(theme.theme_id, {})
        rows.append({"theme": theme, "share": csv_row.get("share", ""), "off_list": csv_row.get(OFF_LIST_COLUMN, ""),
                     "category": category_text(theme, category_labels)})
    return rows, has_off_list


def category_text(theme, category_labels: Mapping[str, str]) -> str:
    if theme.noise:
        return "noise (set aside)"
    if theme.emergent or not theme.category_id:
        return "emergent: not in the closed list"
    return category_labels.get(theme.category_id, theme.category_id)


@dataclass(frozen=True)
class SegmentItem:
    segment_id: str
    answer_id: str
    respondent_id: str
    text: str
    before: str  # the answer's text before the segment
    after: str  # and after it
    weight: float
    secondary: list[tuple[int, str, float]]  # (theme id, label, weight)
    attributes: dict[str, str]
    ratings: dict[str, str]
    recoded: str  # "", "segment" or "answer": the analyst recoded it


def matches(item: SegmentItem, query: str, filters: Mapping[str, str]) -> bool:
    if query and query.casefold() not in (item.before + item.text + item.after).casefold():
        return False
    values = {**item.attributes, **item.ratings}
    return all(str(values.get(name, "")).strip() == wanted for name, wanted in filters.items() if wanted)


def theme_segments(view: RunView, theme_id: int, query: str = "", filters: Mapping[str, str] | None = None,
                   page: int = 1, per_page: int = PER_PAGE, recoded: set[str] = frozenset()
                   ) -> tuple[list[SegmentItem], int, int]:
    """The theme's segments matching ``query`` (any case, in the whole answer) and ``filters`` (attribute or
    rating = value): one page of them, the number matching, and the number of pages."""
    items = []
    for segment, assignment in view.members(theme_id):
        answer = view.answers.get(segment.answer_id)
        full = answer.text if answer is not None else segment.text
        if full[segment.start:segment.end] != segment.text:  # offsets always index the answer; guard anyway
            before, after = "", ""
        else:
            before, after = full[:segment.start], full[segment.end:]
        items.append(SegmentItem(
            segment.segment_id, segment.answer_id, segment.respondent_id, segment.text, before, after,
            assignment.weight, [(t, view.label(t), w) for t, w in assignment.secondary],
            dict(answer.meta) if answer else {}, dict(answer.ratings) if answer else {},
            "segment" if segment.segment_id in recoded else "answer" if segment.answer_id in recoded else ""))
    found = [item for item in items if matches(item, query.strip(), filters or {})]
    pages = max(1, math.ceil(len(found) / per_page))
    page = min(max(page, 1), pages)
    return found[(page - 1) * per_page: page * per_page], len(found), pages


def quote_groups(view: RunView) -> list[dict[str, Any]]:
    """quotes.csv grouped by theme (in theme order), each quote with what an editor needs to judge it."""
    by_theme: dict[int, list[dict[str, str]]] = {}
    for row in view.quotes:
        by_theme.setdefault(int(row["theme_id"]), []).append(row)
    groups = []
    for theme in sorted(view.themes, key=lambda t: (-t.size, t.theme_id)):
        rows = sorted(by_theme.get(theme.theme_id, []), key=lambda r: int(r["rank"]))
        if not rows or theme.noise:
            continue
        quotes = []
        for row in rows:
            answer = view.answers.get(row["segment_id"].rpartition("#")[0])
            quotes.append({**row, "flag_list": [f for f in row.get("flags", "").split("; ") if f],
                           "answer": answer.text if answer else "", "key": f"{view.run_id}|{row['segment_id']}"})
        groups.append({"theme": theme, "quotes": quotes})
    return groups
