"""JSONL: one JSON object per line."""
from __future__ import annotations

import json
import re

from pipeline.ingest.table import Record, Table, cell_text

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_jsonl(text: str) -> Table:
    columns: dict[str, None] = {}
    records: list[Record] = []
    for line_number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            records.append(Record(line_number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(value, dict):
            records.append(Record(line_number, None, f"expected a JSON object, got {type(value).__name__}"))
            continue
        values = {str(key): cell_text(item) for key, item in value.items()}
        columns.update(dict.fromkeys(values))
        records.append(Record(line_number, values))
    return Table(list(columns), records)
