"""XLSX workbooks (openpyxl, read-only, cached values): every sheet with content, formulas without a saved value,
and ids shown zero-padded by their number format.

Every sheet with content is read as its own table (a workbook of three sheets of answers gives three tables),
except a *note*: a one-column sheet beside sheets of several columns (a cover page, read-me text), whose lines are
listed as not-an-answer rather than read as answers. Nothing in a workbook is skipped silently.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, Iterator

from pipeline.ingest.table import Record, Table, cell_text, column_names

_ZERO_PADDED = re.compile(r"0+")  # number format "000": Excel shows 7 as 007


def read_xlsx(path: Path) -> tuple[list[Table] | None, list[str]]:
    """The workbook's sheets with content, as tables (None when the file cannot be opened as a workbook)."""
    import openpyxl  # imported here: only XLSX corpora pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False) if _has_formulas(path) else None
    except Exception as exc:  # openpyxl raises many types (zip, XML, key errors) for a damaged or mislabelled file
        return None, [f"cannot open as an Excel workbook ({type(exc).__name__}: {_one_line(exc)})"]
    try:
        tables = []
        for index, sheet in enumerate(workbook.worksheets):
            formula_sheet = formulas.worksheets[index] if formulas is not None else None
            table = _read_sheet(sheet, formula_sheet)
            if table is not None:
                tables.append(table)
    except Exception as exc:  # a sheet's XML damaged after a readable start
        return None, [f"cannot read the workbook's sheets ({type(exc).__name__}: {_one_line(exc)})"]
    finally:
        workbook.close()
        if formulas is not None:
            formulas.close()
    _mark_notes(tables)
    return tables, []


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _has_formulas(path: Path) -> bool:
    """Whether any sheet holds a formula (``<f>``): only then is the workbook read a second time for them."""
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with archive.open(name) as member:
                        while chunk := member.read(1 << 20):
                            if b"<f>" in chunk or b"<f " in chunk:
                                return True
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return False


def _rows(sheet: Any, formula_sheet: Any) -> Iterator[tuple[list[str], dict[int, str]]]:
    """Each sheet row as cell texts (trailing blanks removed) and {column position: formula} for formula cells
    that have no saved value (a workbook written by a program and never opened in Excel)."""
    sheet.reset_dimensions()  # some writers store a wrong used range, which read-only mode would trust
    formula_rows = None
    if formula_sheet is not None:
        formula_sheet.reset_dimensions()
        formula_rows = formula_sheet.iter_rows(values_only=True)
    for cells in sheet.iter_rows():
        raw = next(formula_rows, ()) if formula_rows is not None else ()
        values = [_cell_value(cell) for cell in cells]
        uncomputed = {position: str(raw[position]) for position, cell in enumerate(cells)
                      if position < len(raw) and getattr(cell, "value", None) is None
                      and isinstance(raw[position], str) and raw[position].startswith("=")}
        for position in uncomputed:
            values[position] = ""
        while values and not values[-1].strip() and len(values) - 1 not in uncomputed:
            values.pop()
        yield values, uncomputed


def _cell_value(cell: Any) -> str:
    value = getattr(cell, "value", None)
    number_format = getattr(cell, "number_format", "") or ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() \
            and _ZERO_PADDED.fullmatch(number_format):
        return str(int(value)).zfill(len(number_format))  # shown (and meant) as 007, stored as 7
    return cell_text(value)


def _read_sheet(sheet: Any, formula_sheet: Any) -> Table | None:
    header: list[str] | None = None
    width = 0
    rows: list[tuple[int, list[str], dict[int, str]]] = []
    lines: list[tuple[int, str]] = []  # (sheet row, first cell): what a note sheet lists
    for number, (values, uncomputed) in enumerate(_rows(sheet, formula_sheet), start=1):
        if values:
            lines.append((number, " ".join(v.strip() for v in values if v.strip())))
        if header is None:
            if values:
                header, width = values, len(values)
            continue
        rows.append((len(rows) + 1, values, uncomputed))
        width = max(width, len(values))
    if header is None:
        return None
    columns, notes = column_names(header + [""] * (width - len(header)))
    records = []
    for row, values, uncomputed in rows:
        if not values:
            continue
        padded = dict(zip(columns, values + [""] * (width - len(values))))
        records.append(Record(row, padded, formulas={columns[p]: f for p, f in uncomputed.items() if p < width}))
    return Table(columns, records, sheet=sheet.title, notes=notes, lines=lines)


def _mark_notes(tables: list[Table]) -> None:
    """A one-column sheet beside sheets of several columns is a note (cover page, read-me), not answers: each of
    its lines is listed as not-an-answer instead."""
    if len(tables) < 2 or all(len(t.columns) == 1 for t in tables):
        return
    answer_sheets = ", ".join(f"'{t.sheet}'" for t in tables if len(t.columns) > 1)
    for table in tables:
        if len(table.columns) != 1:
            continue
        table.records = [Record(number, None, f"sheet '{table.sheet}' line {number} is a note ({text[:60]!r}), "
                                f"not an answer: the answers are on sheet(s) {answer_sheets}", reason="not-an-answer")
                         for number, text in table.lines]
        table.notes.append(f"one-column sheet read as a note beside the answer sheet(s) {answer_sheets}; its "
                           f"{len(table.lines)} line(s) are listed in ledger.csv as not-an-answer")
        table.columns = []
