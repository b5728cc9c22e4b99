"""JSONL: one JSON object per line. Nested objects and lists are flattened into dotted column names
(``{"respondent": {"id": 7}}`` -> column ``respondent.id``), so a nested id or answer is found by name like any
other column instead of becoming a raw JSON string."""
from __future__ import annotations

import json
import re
from typing import Any

from pipeline.ingest.table import Record, Table, cell_text

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_jsonl(text: str) -> Table:
    columns: dict[str, None] = {}
    records: list[Record] = []
    nested: dict[str, None] = {}
    for line_number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            records.append(Record(line_number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except RecursionError:
            records.append(Record(line_number, None, "not readable JSON (nested too deeply)"))
            continue
        if not isinstance(value, dict):
            records.append(Record(line_number, None, f"expected a JSON object, got {type(value).__name__}"))
            continue
        values: dict[str, str] = {}
        _flatten(value, "", values, nested)
        columns.update(dict.fromkeys(values))
        records.append(Record(line_number, values))
    table = Table(list(columns), records)
    if nested:
        shown = ", ".join(list(nested)[:5]) + (f" and {len(nested) - 5} more" if len(nested) > 5 else "")
        table.notes.append(f"nested JSON flattened into dotted column names: {shown}")
    return table


def _flatten(value: dict[str, Any], prefix: str, out: dict[str, str], nested: dict[str, None], depth: int = 0) -> None:
    for key, item in value.items():
        name = f"{prefix}{key}"
        children = ({str(i): element for i, element in enumerate(item, start=1)} if isinstance(item, list)
                    else item if isinstance(item, dict) else None)
        if children and depth < 20:  # deeper than 20 levels stays one JSON string
            nested[name] = None
            _flatten(children, f"{name}.", out, nested, depth + 1)
        else:
            out[name] = cell_text(item)
