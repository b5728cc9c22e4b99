"""Blind coding sheets: the check that the themes mean what their labels say (scored by
:mod:`pipeline.analyst.agreement`).

``pipeline validate sample --n 60`` (:func:`sample_sheet` + :func:`write_sample`) writes three files:

- ``coding_sheet.csv``: ``item, segment_id, text, code``. A stratified sample (every theme at least once,
  otherwise in proportion to size, the unassigned/noise segments as a stratum of their own), shuffled, with
  no machine codes. Give a copy to each coder; they fill ``code`` and keep the file name as their coder name.
- ``coding_codes.csv``: ``number, code, definition``: the allowed codes (theme labels, plus ``none of these``
  numbered 0). A coder may write the code or its number; case and spacing do not matter.
- ``coding_key.json``: the machine's code for each item. Keep it away from the coders; ``score`` reads it.

``pipeline validate score A.csv B.csv`` (:func:`score_sheets`) checks every sheet against the key and raises
PipelineError naming the sheet and row for an unknown code (suggesting the closest valid one), an item number
that is not a whole number or not in the key, a changed segment id, a duplicate item, or missing items. Rows
are counted as in the rest of the pipeline: 1 = first data row after the header.
Blank codes are allowed: an item a coder left blank is *uncoded*, excluded from that coder's scores, and
reported in a warning (coders legitimately skip items they cannot decide; a sheet scored halfway through is
still useful). A sheet with no code at all is an error.
"""
from __future__ import annotations

import csv
import difflib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Segment, Theme
from pipeline.ingest.decode import decode
from pipeline.io.atomic import write_csv, write_json
from pipeline.io.csv_safe import restore

NONE_CODE = "none of these"
MACHINE = "machine"
SHEET_COLUMNS = ["item", "segment_id", "text", "code"]
SHEET_FILE, CODES_FILE, KEY_FILE = "coding_sheet.csv", "coding_codes.csv", "coding_key.json"


def coding_codes(themes: Sequence[Theme]) -> list[dict[str, Any]]:
    """The allowed codes: one per non-noise theme (label, made unique with the id if two share it), then none."""
    coded = [t for t in themes if not t.noise and t.theme_id != UNASSIGNED]
    counts: dict[str, int] = {}
    for theme in coded:
        counts[_norm(theme.label)] = counts.get(_norm(theme.label), 0) + 1
    codes = [{"number": k, "code": theme.label if counts[_norm(theme.label)] == 1 and _norm(theme.label) != NONE_CODE
              else f"{theme.label} (theme {theme.theme_id})", "theme_id": theme.theme_id,
              "definition": theme.definition}
             for k, theme in enumerate(coded, 1)]
    return codes + [{"number": 0, "code": NONE_CODE, "theme_id": UNASSIGNED,
                     "definition": "the text fits none of the codes above"}]


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def sample_sheet(segments: Sequence[Segment], assignments: Sequence[Assignment], themes: Sequence[Theme], n: int,
                 random_state: int | None = None) -> list[dict[str, Any]]:
    """A shuffled, stratified sample of ``n`` segments as blank coding-sheet rows (``SHEET_COLUMNS``).

    Each stratum (every non-noise theme, plus the unassigned/noise segments) gets one item, the rest are shared
    in proportion to stratum size (largest remainders). If ``n`` is smaller than the number of strata, the
    largest strata get one item each. ``assignments`` are aligned with ``segments``.
    """
    if n < 1:
        raise PipelineError(f"sample size must be at least 1, got {n}")
    if not segments:
        raise PipelineError("the run has no segments to sample")
    rng = np.random.default_rng(random_state)
    coded = {t.theme_id for t in themes if not t.noise and t.theme_id != UNASSIGNED}
    strata: dict[int, list[int]] = {}
    for index, assignment in enumerate(assignments):
        key = assignment.theme_id if assignment.theme_id in coded else UNASSIGNED
        strata.setdefault(key, []).append(index)
    n = min(n, len(segments))
    order = sorted(strata, key=lambda k: (-len(strata[k]), k))
    quota = dict.fromkeys(order[:n], 1)
    spare = n - len(quota)
    if spare > 0:
        room = {k: len(strata[k]) - 1 for k in order}
        total = sum(room.values())
        exact = {k: spare * room[k] / total for k in order}
        extra = {k: int(exact[k]) for k in order}
        for k in sorted(order, key=lambda k: (-(exact[k] - extra[k]), k))[:spare - sum(extra.values())]:
            extra[k] += 1
        quota = {k: quota[k] + extra[k] for k in order}
    chosen = [int(i) for k in order for i in rng.choice(strata[k], size=quota.get(k, 0), replace=False)]
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]
    return [{"item": item, "segment_id": segments[i].segment_id, "text": segments[i].text, "code": ""}
            for item, i in enumerate(chosen, 1)]


def coded_items(sheet: str | Path) -> tuple[int, int]:
    """(items with a code filled in, items) of an existing coding sheet; (0, 0) when there is none."""
    path = Path(sheet)
    if not path.is_file():
        return 0, 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return 1, 1  # unreadable as a sheet: treat as someone's work, never overwrite it silently
    return sum(bool(str(row.get("code") or "").strip()) for row in rows), len(rows)


def refuse_overwrite(out_dir: Path, sheet: Path) -> None:
    """Raise when writing a sample would overwrite codes: in the target sheet, or in the default sheet whose key
    a new sample replaces."""
    for path in dict.fromkeys([sheet, out_dir / SHEET_FILE]):
        coded, total = coded_items(path)
        if coded:
            raise PipelineError(f"{coded} of {total} items already have a code; a new sample would overwrite them "
                                "and the key that scores them. Score it first (pipeline validate score), write the "
                                "new sheet elsewhere (--sheet, --run) or pass --force", file=str(path))


def write_sample(out_dir: str | Path, rows: Sequence[Mapping[str, Any]], assignments: Sequence[Assignment],
                 segments: Sequence[Segment], themes: Sequence[Theme],
                 sheet: str | Path | None = None, force: bool = False) -> dict[str, Path]:
    """Write the key into ``out_dir`` and the sheet (default ``out_dir/coding_sheet.csv``) with the code list
    beside it; returns their paths by role ("sheet", "codes", "key"). A sheet with codes filled in is never
    overwritten unless ``force``."""
    out_dir = Path(out_dir)
    sheet = Path(sheet) if sheet else out_dir / SHEET_FILE
    if not force:
        refuse_overwrite(out_dir, sheet)
    codes = coding_codes(themes)
    code_of = {c["theme_id"]: c["code"] for c in codes}
    theme_of = {s.segment_id: a.theme_id for s, a in zip(segments, assignments, strict=True)}
    items = []
    for row in rows:
        theme_id = theme_of[row["segment_id"]]
        items.append({"item": row["item"], "segment_id": row["segment_id"], "theme_id": theme_id,
                      "machine_code": code_of.get(theme_id, NONE_CODE)})
    paths = {"sheet": sheet, "codes": sheet.parent / CODES_FILE, "key": out_dir / KEY_FILE}
    write_csv(paths["sheet"], rows, columns=SHEET_COLUMNS)
    write_csv(paths["codes"], codes, columns=["number", "code", "definition"])
    write_json(paths["key"], {"version": 1, "codes": codes, "items": items})
    return paths


@dataclass(frozen=True, slots=True)
class CodingKey:
    codes: list[str]  # allowed codes, NONE_CODE last
    machine: dict[int, str]  # item -> machine code
    segment_ids: dict[int, str]  # item -> segment id
    numbers: dict[str, str] = field(default_factory=dict)  # "3" -> code


def load_key(path: str | Path) -> CodingKey:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        codes = [c["code"] for c in data["codes"]]
        numbers = {str(c["number"]): c["code"] for c in data["codes"]}
        machine = {int(i["item"]): i["machine_code"] for i in data["items"]}
        segment_ids = {int(i["item"]): i["segment_id"] for i in data["items"]}
    except FileNotFoundError:
        raise PipelineError("coding key not found; run `pipeline validate sample` first", file=str(path)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise PipelineError(f"not a coding key written by `pipeline validate sample` ({exc})", file=str(path)) from None
    return CodingKey(codes, machine, segment_ids, numbers)


def read_sheet(path: str | Path, key: CodingKey) -> tuple[dict[int, str | None], list[str]]:
    """One coder's codes by item (None = left blank), checked against the key; and warnings."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise PipelineError("coding sheet not found", file=name)
    # a spreadsheet saves the sheet as UTF-8, the Windows code page, or "Unicode text" (UTF-16, tab-separated):
    # the same decoding as the corpus files (a UTF-16 sheet was blamed for its header)
    text, _, _ = decode(path.read_bytes(), None)
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = {_norm(restore(h)): h for h in reader.fieldnames or [] if h is not None}
    missing = [c for c in ("item", "segment_id", "code") if c not in header]
    if missing:
        raise PipelineError(f"header lacks column(s) {', '.join(missing)}; expected {', '.join(SHEET_COLUMNS)}",
                            file=name)
    records = [{col: restore((record.get(header[col]) or "").strip()) for col in ("item", "segment_id", "code")}
               for record in reader]
    known = {(str(item), segment_id) for item, segment_id in key.segment_ids.items()}
    if sum((r["item"], r["segment_id"]) in known for r in records) * 2 < len(known):
        raise PipelineError("most items on this sheet do not match the coding key: was it drawn by an earlier "
                            "`pipeline validate sample`?", file=name)
    lookup = {_norm(code): code for code in key.codes}
    coded: dict[int, str | None] = {}
    rows_of: dict[int, int] = {}
    for row_number, values in enumerate(records, 1):
        if not any(values.values()):
            continue  # trailing empty rows spreadsheets add
        if not values["item"].isdigit() or int(values["item"]) not in key.segment_ids:
            raise PipelineError(f"item {values['item']!r} is not an item of this sample (1..{len(key.segment_ids)})",
                                file=name, row=row_number)
        item = int(values["item"])
        if item in coded:
            raise PipelineError(f"item {item} appears twice (also row {rows_of[item]})", file=name, row=row_number)
        if values["segment_id"] != key.segment_ids[item]:
            raise PipelineError(f"item {item}: segment id {values['segment_id']!r} was changed; the key has "
                                f"{key.segment_ids[item]!r}", file=name, row=row_number)
        coded[item] = _code(values["code"], key, lookup, name, row_number, item)
        rows_of[item] = row_number
    absent = sorted(set(key.segment_ids) - set(coded))
    if absent:
        raise PipelineError(f"{len(absent)} item(s) missing from the sheet: {_list(absent)}", file=name)
    blank = sorted(item for item, code in coded.items() if code is None)
    if len(blank) == len(coded):
        raise PipelineError("no item has a code yet", file=name)
    warnings = [f"{name}: {len(blank)} item(s) left blank and not scored: {_list(blank)}"] if blank else []
    return coded, warnings


def _code(value: str, key: CodingKey, lookup: Mapping[str, str], name: str, row: int, item: int) -> str | None:
    if not value:
        return None
    if value in key.numbers:
        return key.numbers[value]
    if _norm(value) in lookup:
        return lookup[_norm(value)]
    close = difflib.get_close_matches(_norm(value), list(lookup), n=1, cutoff=0.0)
    hint = f"; did you mean '{lookup[close[0]]}'?" if close else ""
    raise PipelineError(f"item {item}: unknown code {value!r}{hint} (codes are listed in {CODES_FILE})",
                        file=name, row=row)


def _list(items: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
