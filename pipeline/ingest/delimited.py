"""CSV/TSV: the delimiter (Excel's ``sep=`` line, else the one that splits the header into most fields), and
one record per row, a bad row dropped with the reason rather than stopping the file."""
from __future__ import annotations

import csv
import io
import re

from pipeline.ingest.table import Record, Table, column_names

CSV_DELIMITERS = (",", ";", "\t")  # ties go to the earlier one
_CSV_FIELD_LIMIT = 2**31 - 1  # read huge cells so they can be dropped as too-long rather than crash the reader
SEP_DIRECTIVE = re.compile(r'\A\ufeff?"?sep=([^\r\n"])"?[ \t]*(?:\r\n|\r|\n)', re.IGNORECASE)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    sample = text[:65536].lstrip("\r\n")
    counts = {d: len(next(csv.reader(io.StringIO(sample, newline=""), delimiter=d), [])) for d in CSV_DELIMITERS}
    return max(CSV_DELIMITERS, key=lambda d: (counts[d], -CSV_DELIMITERS.index(d)))


def read_delimited(text: str, delimiter: str, skip_first_line: bool = False) -> tuple[Table, list[str]]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: list[str] | None = None
    problems: list[str] = []
    records: list[Record] = []
    row = last_line = 0
    if skip_first_line:
        next(reader, None)
        last_line = reader.line_num
    first_line = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the lenient reader rarely raises, but one bad record must not stop the file
            if columns is None or reader.line_num == last_line:
                problems.append(f"not readable as delimited text: {exc}; skipped")
                break
            row += 1
            records.append(Record(row, None, f"not valid CSV ({exc}) at line {last_line + 1}"))
            last_line = reader.line_num
            continue
        first_line, last_line = last_line + 1, reader.line_num
        if columns is None:
            if any(field.strip() for field in fields):
                columns, renamed = column_names(fields)
                problems += renamed
            continue
        row += 1
        if not fields:  # a blank line: not an answer, but counted so rows stay in step with a spreadsheet view
            continue
        if len(fields) != len(columns):
            where = f"line {first_line}" if first_line == last_line else f"lines {first_line}-{last_line}"
            records.append(Record(row, None, f"row has {len(fields)} fields, header has {len(columns)} ({where})"))
            continue
        records.append(Record(row, dict(zip(columns, fields))))
    last = records[-1] if records else None
    if last is not None and last.values is not None and _open_quote_at_end(text, first_line, last_line, delimiter):
        problem = f"unclosed quote from line {first_line} runs to the end of the file (line {last_line})"
        records[-1] = Record(last.row, None, problem)
    return Table(columns or [], records), problems


def _open_quote_at_end(text: str, first_line: int, last_line: int, delimiter: str) -> bool:
    """The lenient reader takes an unclosed quote to run to the end of the file; strict mode says so."""
    if first_line >= last_line:
        return False
    tail = "".join(io.StringIO(text, newline="").readlines()[first_line - 1:])
    try:
        list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "end of data" in str(exc)
    return False
