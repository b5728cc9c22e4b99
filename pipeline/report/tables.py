"""The CSV tables of a run: pure builders (records -> list[dict]), tested without files, and the one writer.

Every file goes through ``pipeline.io.atomic``'s writers, so a crashed run never leaves a half-written table. Every
CSV cell is neutralised against spreadsheet formulas (``pipeline.io.csv_safe``); the segments, which carry the
answers' exact text, are also written to segments.parquet exactly as they are (a format no spreadsheet runs).
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.core.records import (
    UNASSIGNED, Answer, Assignment, Category, CategoryScore, CrosstabCell, LedgerEntry, Quote, Reassignment, Segment, Theme,
)
from pipeline.io.atomic import atomic_write_bytes, write_csv
from pipeline.report import answer_tables
from pipeline.report.coding_tables import (
    ACCURACY_COLUMNS, CURVE_COLUMNS, accuracy_rows, code_columns, code_labels, curve_rows,
)

LEDGER_COLUMNS = ["answer_id", "file", "row", "respondent_id", "status", "reason", "detail", "n_segments"]
SEGMENT_COLUMNS = ["segment_id", "answer_id", "respondent_id", "file", "row", "index", "start", "end", "text",
                   "clean_text", "theme_id", "theme_label", "weight", "secondary", "category_id", "category_score",
                   "off_list_score", "code", "code_label", "code_source", "code_confidence"]
THEME_COLUMNS = ["theme_id", "label", "keywords", "size", "share", "stability", "unstable", "category_id",
                 "category_label", "confidence", "emergent", "off_list_score", "definition", "n_respondents", "noise",
                 "memo"]
ASSIGNMENT_COLUMNS = ["segment_id", "answer_id", "respondent_id", "theme_id", "theme_label", "weight", "secondary"]
REASSIGNMENT_COLUMNS = ["segment_id", "from_theme", "from_label", "to_theme", "to_label", "strategy", "score"]
CATEGORY_MAP_COLUMNS = ["theme_id", "theme_label", "category_id", "category_label", "similarity", "keyword_overlap",
                        "score", "best", "emergent"]
CROSSTAB_COLUMNS = ["theme_id", "theme_label", "category_id", "category_label", "n_with", "barrier_with",
                    "n_without", "barrier_without", "share_with", "share_with_low", "share_with_high",
                    "share_without", "share_without_low", "share_without_high", "share_difference", "odds_ratio",
                    "p_value", "p_adjusted", "significant", "test", "small_cell",
                    # issue 14: families, ordinal levels, effect sizes with intervals
                    "family", "rating_column", "levels", "levels_with", "levels_without", "risk_difference",
                    "risk_difference_low", "risk_difference_high", "odds_ratio_low", "odds_ratio_high"]
# answers.csv: every answer read, whole and exactly as written, with the respondent's ratings and other structured
# columns as JSON objects (lossless); what `pipeline serve` and `pipeline export` show beside each segment.
ANSWER_COLUMNS = ["answer_id", "file", "row", "respondent_id", "text", "ratings", "attributes"]
QUOTE_COLUMNS = ["theme_id", "theme_label", "rank", "segment_id", "respondent_id", "file", "row", "source", "text",
                 "centrality", "flagged", "flags", "ratings"]

EMERGENT_TEXT = "emergent — not in the closed list"


def as_row(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, shallow (dataclasses.asdict deep-copies, which mapping proxies refuse)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def theme_label(theme_id: int, themes_by_id: dict[int, Theme]) -> str:
    if theme_id == UNASSIGNED:
        return "unassigned"
    theme = themes_by_id.get(theme_id)
    return theme.label if theme else f"theme {theme_id}"


def format_secondary(secondary: Iterable[tuple[int, float]]) -> str:
    return "; ".join(f"{theme_id}:{weight:.3f}" for theme_id, weight in secondary)


def format_ratings(ratings: dict[str, str] | Any) -> str:
    return "; ".join(f"{column}={value}" for column, value in ratings.items() if str(value).strip())


def ledger_rows(ledger: Sequence[LedgerEntry]) -> list[dict[str, Any]]:
    return [as_row(entry) for entry in ledger]


def segment_rows(segments: Sequence[Segment], assignments: Sequence[Assignment], themes: Sequence[Theme],
                 segment_categories: Sequence[tuple[str, float]] = (), coded: Any = None,
                 code_labels: dict[str, str] | None = None,
                 segment_off_list: Sequence[float] = ()) -> list[dict[str, Any]]:
    """One row per kept segment: provenance, theme, (when categories are given) the segment's own category and its
    calibrated off-list score, and (after the coding stage) its code, where the code came from and its calibrated
    confidence."""
    by_segment = {assignment.segment_id: assignment for assignment in assignments}
    themes_by_id = {theme.theme_id: theme for theme in themes}
    rows = []
    for position, segment in enumerate(segments):
        assignment = by_segment.get(segment.segment_id)
        theme_id = assignment.theme_id if assignment else UNASSIGNED
        category = segment_categories[position] if position < len(segment_categories) else ("", None)
        rows.append({**as_row(segment), "theme_id": theme_id, "theme_label": theme_label(theme_id, themes_by_id),
                     "weight": assignment.weight if assignment else None,
                     "secondary": format_secondary(assignment.secondary) if assignment else "",
                     "category_id": category[0], "category_score": category[1],
                     "off_list_score": segment_off_list[position] if position < len(segment_off_list) else None,
                     **code_columns(coded, code_labels or {}, position)})
    return rows


def respondent_counts(segments: Sequence[Segment], assignments: Sequence[Assignment]) -> tuple[Counter, int]:
    """Respondents whose answers carry each theme (primary assignment), and respondents with any kept segment."""
    respondent_of = {segment.segment_id: segment.respondent_id for segment in segments}
    carriers: dict[int, set[str]] = defaultdict(set)
    for assignment in assignments:
        if assignment.segment_id in respondent_of:
            carriers[assignment.theme_id].add(respondent_of[assignment.segment_id])
    return Counter({theme_id: len(ids) for theme_id, ids in carriers.items()}), len(set(respondent_of.values()))


def theme_rows(themes: Sequence[Theme], segments: Sequence[Segment], assignments: Sequence[Assignment],
               categories: Sequence[Category]) -> list[dict[str, Any]]:
    """One row per theme, largest first. ``share`` is the share of respondents with kept free text whose answer
    carries the theme; ``size`` counts segments."""
    counts, n_respondents = respondent_counts(segments, assignments)
    labels = {category.category_id: category.label for category in categories}
    rows = []
    for theme in sorted((t for t in themes if t.theme_id != UNASSIGNED), key=lambda t: (-t.size, t.theme_id)):
        row = as_row(theme)
        row.update(keywords=list(theme.keywords), n_respondents=counts.get(theme.theme_id, 0),
                   share=counts.get(theme.theme_id, 0) / n_respondents if n_respondents else 0.0,
                   category_label=_category_label(theme, labels))
        rows.append(row)
    return rows


def _category_label(theme: Theme, labels: dict[str, str]) -> str:
    if not theme.emergent:
        return labels.get(theme.category_id or "", "")
    residual = labels.get(theme.category_id or "")
    return f"{EMERGENT_TEXT} (counted under \u201c{residual}\u201d)" if residual else EMERGENT_TEXT


def assignment_rows(assignments: Sequence[Assignment], segments: Sequence[Segment],
                    themes: Sequence[Theme]) -> list[dict[str, Any]]:
    by_id = {segment.segment_id: segment for segment in segments}
    themes_by_id = {theme.theme_id: theme for theme in themes}
    rows = []
    for assignment in assignments:
        segment = by_id.get(assignment.segment_id)
        rows.append({"segment_id": assignment.segment_id, "answer_id": segment.answer_id if segment else "",
                     "respondent_id": segment.respondent_id if segment else "", "theme_id": assignment.theme_id,
                     "theme_label": theme_label(assignment.theme_id, themes_by_id), "weight": assignment.weight,
                     "secondary": format_secondary(assignment.secondary)})
    return rows


def reassignment_rows(reassignments: Sequence[Reassignment], themes: Sequence[Theme]) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    return [{**as_row(change), "from_label": theme_label(change.from_theme, themes_by_id),
             "to_label": theme_label(change.to_theme, themes_by_id)} for change in reassignments]


def category_map_rows(scores: Sequence[CategoryScore], themes: Sequence[Theme],
                      categories: Sequence[Category]) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    labels = {category.category_id: category.label for category in categories}
    rows = []
    for score in sorted(scores, key=lambda s: (s.theme_id, -s.score)):
        theme = themes_by_id.get(score.theme_id)
        rows.append({**as_row(score), "theme_label": theme_label(score.theme_id, themes_by_id),
                     "category_label": labels.get(score.category_id, score.category_id),
                     "best": bool(theme and theme.category_id == score.category_id),
                     "emergent": bool(theme and theme.emergent)})
    return rows


def is_significant(cell: CrosstabCell, alpha: float) -> bool:
    return cell.p_adjusted == cell.p_adjusted and cell.p_adjusted < alpha  # NaN is never significant


def crosstab_rows(cells: Sequence[CrosstabCell], themes: Sequence[Theme], categories: Sequence[Category],
                  alpha: float) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    labels = {category.category_id: category.label for category in categories}
    return [{**as_row(cell), "theme_label": theme_label(cell.theme_id, themes_by_id),
             "category_label": labels.get(cell.category_id, cell.category_id),
             "share_difference": cell.share_with - cell.share_without,
             "significant": is_significant(cell, alpha)} for cell in cells]


def answer_rows(answers: Sequence[Answer]) -> list[dict[str, Any]]:
    return [{"answer_id": a.answer_id, "file": a.file, "row": a.row, "respondent_id": a.respondent_id, "text": a.text,
             "ratings": json.dumps(dict(a.ratings), ensure_ascii=False),
             "attributes": json.dumps(dict(a.meta), ensure_ascii=False)} for a in answers]


def quote_rows(quotes: Sequence[Quote], themes: Sequence[Theme]) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    return [{**as_row(quote), "theme_label": theme_label(quote.theme_id, themes_by_id),
             "source": f"{quote.file}:{quote.row}", "flagged": bool(quote.flags), "flags": list(quote.flags),
             "ratings": format_ratings(quote.ratings)}
            for quote in sorted(quotes, key=lambda q: (q.theme_id, q.rank))]


TABLES = {  # file name -> (columns, or a function of the run giving them; builder)
    "ledger.csv": (LEDGER_COLUMNS, lambda r: ledger_rows(r.ledger)),
    "segments.csv": (lambda r: SEGMENT_COLUMNS + answer_tables.attribute_column_names(r) + ["flags"],
                     lambda r: answer_tables.with_segment_extras(
                         segment_rows(r.segments, r.assignments, r.themes, r.segment_categories,
                                      getattr(r, "coded", None), code_labels(r),
                                      getattr(r, "segment_off_list", ())), r)),
    "themes.csv": (THEME_COLUMNS + answer_tables.THEME_EXTRA_COLUMNS,
                   lambda r: answer_tables.with_theme_extras(
                       theme_rows(r.themes, r.segments, r.assignments,
                                  [*r.categories, *getattr(r, "analyst_codes", ())]), r)),
    "assignments.csv": (ASSIGNMENT_COLUMNS, lambda r: assignment_rows(r.assignments, r.segments, r.themes)),
    "reassignments.csv": (REASSIGNMENT_COLUMNS, lambda r: reassignment_rows(r.reassignments, r.themes)),
    "theme_selection.csv": (None, lambda r: list(r.theme_selection)),
    "theme_category_map.csv": (CATEGORY_MAP_COLUMNS,
                               lambda r: category_map_rows(r.category_scores, r.themes, r.categories)),
    "crosstab.csv": (CROSSTAB_COLUMNS, lambda r: crosstab_rows(r.crosstab, r.themes, r.categories,
                                                               r.config.mapping.fdr_alpha)),
    "disagreements.csv": (None, lambda r: list(r.disagreements)),
    "quotes.csv": (QUOTE_COLUMNS + answer_tables.QUOTE_EXTRA_COLUMNS,
                   lambda r: answer_tables.with_quote_extras(quote_rows(r.quotes, r.themes), r)),
    "answers.csv": (ANSWER_COLUMNS, lambda r: answer_rows(r.answers)),
    "theme_attributes.csv": (answer_tables.ATTRIBUTE_MATRIX_COLUMNS, answer_tables.theme_attribute_rows),
    "theme_answers.csv": (answer_tables.theme_answer_columns, answer_tables.theme_answer_rows),
    "accuracy.csv": (ACCURACY_COLUMNS, lambda r: accuracy_rows(getattr(r, "coding_accuracy", None))),
    "learning_curve.csv": (CURVE_COLUMNS, lambda r: curve_rows(getattr(r, "coding_accuracy", None))),
}


def _union_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


EXACT_COPIES = {"segments.csv": "segments.parquet"}  # table -> the lossless copy written beside it


def write_tables(result, out_dir: Path, names: Iterable[str]) -> dict[str, Path]:
    written = {}
    for name in names:
        columns, build = TABLES[name]
        columns = columns(result) if callable(columns) else columns
        rows = build(result)
        write_csv(out_dir / name, rows, columns or _union_columns(rows))
        written[name] = out_dir / name
        if name in EXACT_COPIES:
            written[EXACT_COPIES[name]] = write_parquet(out_dir / EXACT_COPIES[name], rows,
                                                        columns or _union_columns(rows))
    return written


def write_parquet(path: Path, rows: Sequence[dict[str, Any]], columns: list[str]) -> Path:
    """``rows`` as a Parquet table, every value exactly as in the records (no formula neutralisation)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    data = {column: [row.get(column) for row in rows] for column in columns}
    buffer = io.BytesIO()
    pq.write_table(pa.table(data) if rows else pa.table({c: pa.array([], pa.string()) for c in columns}), buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path
