"""An Excel workbook of a run (xlsxwriter): a "Themes" overview, the "Codebook", then one sheet per theme with
every segment, its whole answer, the respondent and their attributes and ratings.

Formula-safe: every text cell is written as a string (``write_string``), never parsed as a formula, and a text that
starts with = + - @ (or a tab or CR) also gets a leading ``'`` so it stays text when copied to another sheet or
saved as CSV from Excel. Sheet names are made unique and legal (31 characters, none of ``[]:*?/\\``).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from pipeline.export.run_data import RunData, load_run_data
from pipeline.export.safe import formula_safe

MAX_SHEET_NAME = 31
SEGMENT_COLUMNS = ["segment_id", "respondent_id", "segment", "answer", "weight", "secondary"]


def sheet_name(label: str, theme_id: int, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", f"{theme_id} {label}").strip() or str(theme_id)
    name = " ".join(base.split())[:MAX_SHEET_NAME]
    k = 2
    while name.casefold() in used:
        suffix = f" ({k})"
        name = base[:MAX_SHEET_NAME - len(suffix)] + suffix
        k += 1
    used.add(name.casefold())
    return name


def _write_table(sheet, header_format, header: Sequence[str], rows: Sequence[Sequence[Any]],
                 widths: dict[int, int] | None = None) -> None:
    for column, name in enumerate(header):
        sheet.write_string(0, column, str(name), header_format)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(formula_safe("" if value is None else str(value))))
    for column, width in (widths or {}).items():
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)


def write_xlsx(run_dir: str | Path, out: str | Path) -> Path:
    """The workbook for the run in ``run_dir`` at ``out``."""
    import xlsxwriter

    data = load_run_data(Path(run_dir))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    workbook = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#EDF2F7"})
    _overview(workbook, bold, data)
    _themes(workbook, bold, data)
    workbook.close()
    tmp.replace(out)
    return out


def _overview(workbook, bold, data: RunData) -> None:
    labels = {c.category_id: c.label for c in data.categories}
    rows = [[t.theme_id, t.label, t.size, round(t.stability, 3),
             "emergent" if t.emergent or not t.category_id else labels.get(t.category_id, t.category_id),
             t.definition, ", ".join(t.keywords), t.memo] for t in data.coded_themes]
    _write_table(workbook.add_worksheet("Themes"), bold,
                 ["theme_id", "label", "segments", "stability", "category", "definition", "keywords", "memo"], rows,
                 {1: 40, 4: 30, 5: 50, 6: 40, 7: 40})
    if data.codebook:
        header = list(data.codebook[0])
        _write_table(workbook.add_worksheet("Codebook"), bold, header,
                     [[row.get(column, "") for column in header] for row in data.codebook], {1: 40, 2: 50})


def _themes(workbook, bold, data: RunData) -> None:
    answers = {a.answer_id: a for a in data.answers}
    extra = list(dict.fromkeys(name for a in data.answers for name in [*a.meta, *a.ratings]))
    labels = {t.theme_id: t.label for t in data.themes}
    members: dict[int, list] = {}
    for segment, assignment in zip(data.segments, data.assignments):
        members.setdefault(assignment.theme_id, []).append((segment, assignment))
    used = {"themes", "codebook"}
    for theme in data.coded_themes:
        rows = []
        for segment, assignment in members.get(theme.theme_id, []):
            answer = answers.get(segment.answer_id)
            values = {**(answer.meta if answer else {}), **(answer.ratings if answer else {})}
            secondary = "; ".join(f"{labels.get(t, t)} ({w:.2f})" for t, w in assignment.secondary)
            rows.append([segment.segment_id, segment.respondent_id, segment.text, answer.text if answer else "",
                         round(assignment.weight, 3), secondary, *[values.get(name, "") for name in extra]])
        sheet = workbook.add_worksheet(sheet_name(theme.label, theme.theme_id, used))
        _write_table(sheet, bold, [*SEGMENT_COLUMNS, *extra], rows, {2: 60, 3: 60})
