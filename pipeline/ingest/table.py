"""What every format reader returns: ``Table``s of ``Record``s (row number + values, or the reason the record could
not be read), plus the cell and header conventions the readers share."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Sequence


@dataclass(frozen=True)
class Record:
    row: int
    values: dict[str, str] | None  # None: the record could not be read (or is not an answer)
    problem: str = ""  # why it could not be read
    reason: str = "unreadable"  # the ledger's drop reason when values is None
    note: str = ""  # a warning about a record that was read (e.g. a stray quote), without the file:row prefix
    # XLSX: columns whose cell is a formula the workbook never calculated (no saved value), with the formula
    formulas: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    columns: list[str]
    records: list[Record]
    free_text: bool = False  # TXT/MD: one "text" column, no ids, ratings or meta
    sheet: str | None = None  # XLSX: the sheet's name
    notes: list[str] = field(default_factory=list)  # problems of this table, one line each (without the file name)
    lines: list[tuple[int, str]] = field(default_factory=list)  # XLSX: (sheet row, its text), to list a note sheet


def column_names(header: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Stripped header names; blanks become column_<n>, repeats get a suffix (and a note)."""
    names: list[str] = []
    notes: list[str] = []
    for position, raw in enumerate(header, start=1):
        name = cell_text(raw).strip() or f"column_{position}"
        if name in names:
            unique = next(f"{name}_{k}" for k in range(2, len(header) + 2) if f"{name}_{k}" not in names)
            notes.append(f"column name '{name}' is repeated; column {position} renamed '{unique}'")
            name = unique
        names.append(name)
    return names, notes


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 1001 as 1001.0
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
