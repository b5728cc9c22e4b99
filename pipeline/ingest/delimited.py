"""CSV/TSV: the delimiter (Excel's ``sep=`` line, else the one that splits the header into most fields), and
one record per row, a bad row dropped with the reason rather than stopping the file.

Records are read strictly, one at a time. A record the strict reader refuses (a stray or unclosed quote) is read
leniently; when that lenient record runs over lines that are rows of their own (they split into the header's
number of fields), the quote was never meant to open a multi-line cell: the record is cut back to its first line
and reading resumes on the next, so one respondent's stray quote neither swallows the following answers nor shifts
their row numbers (it did: three answers became two, and every later ``file:row`` was off by one).
"""
from __future__ import annotations

import csv
import io
import re

from pipeline.ingest.table import Record, Table, column_names

CSV_DELIMITERS = (",", ";", "\t")  # ties go to the earlier one
_CSV_FIELD_LIMIT = 2**31 - 1  # read huge cells so they can be dropped as too-long rather than crash the reader
SEP_DIRECTIVE = re.compile(r'\A\ufeff?"?sep=([^\r\n"])"?[ \t]*(?:\r\n|\r|\n)', re.IGNORECASE)
# physical lines as the csv module sees them: only \r, \n and \r\n end a line (str.splitlines also splits on
# \x0b, \x1c, \u2028, ..., which may sit inside a cell)
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    sample = text[:65536].lstrip("\r\n")
    counts = {d: len(next(csv.reader(io.StringIO(sample, newline=""), delimiter=d), [])) for d in CSV_DELIMITERS}
    return max(CSV_DELIMITERS, key=lambda d: (counts[d], -CSV_DELIMITERS.index(d)))


class _Lines:
    """An iterator over physical lines that knows how many it has handed out (the csv reader's position)."""

    def __init__(self, lines: list[str], position: int = 0):
        self.lines, self.position = lines, position

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1]


def read_delimited(text: str, delimiter: str, skip_first_line: bool = False) -> tuple[Table, list[str]]:
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    lines = _PHYSICAL_LINE.findall(text)
    columns: list[str] | None = None
    problems: list[str] = []
    records: list[Record] = []
    row = 0
    position = 1 if skip_first_line else 0
    while position < len(lines):
        start = position
        fields, position, note = _next_record(lines, position, delimiter, len(columns) if columns else None)
        if fields is None:  # the rest of the file is one unclosed quote
            if columns is None:
                problems.append(f"not readable as delimited text: {note}; skipped")
                break
            row += 1
            records.append(Record(row, None, note))
            continue
        if columns is None:
            if any(field.strip() for field in fields):
                columns, renamed = column_names(fields)
                problems += renamed
            continue
        row += 1
        if not fields:  # a blank line: not an answer, but counted so rows stay in step with a spreadsheet view
            continue
        if len(fields) != len(columns):
            where = f"line {start + 1}" if position == start + 1 else f"lines {start + 1}-{position}"
            records.append(Record(row, None, f"row has {len(fields)} fields, header has {len(columns)} ({where})"))
            continue
        records.append(Record(row, dict(zip(columns, fields)), note=note))
    return Table(columns or [], records), problems


def _next_record(lines: list[str], position: int, delimiter: str,
                 width: int | None) -> tuple[list[str] | None, int, str]:
    """(fields, next line position, note) of the record starting at ``lines[position]``; fields None when an
    unclosed quote runs to the end of the file and no later line is a row of its own."""
    feed = _Lines(lines, position)
    try:
        fields = next(csv.reader(feed, delimiter=delimiter, strict=True))
        return fields, feed.position, ""
    except StopIteration:
        return [], feed.position, ""
    except csv.Error as exc:
        runs_to_end = "end of data" in str(exc)
    feed = _Lines(lines, position)
    fields = next(csv.reader(feed, delimiter=delimiter), [])
    end = feed.position
    if end - position <= 1:  # one line: the lenient reading is what a spreadsheet shows
        return fields, end, ""
    line = position + 1  # 1-based number of the record's first line
    if width is not None and any(_is_row(lines[k], delimiter, width) for k in range(position + 1, end)):
        alone = next(csv.reader([lines[position].rstrip("\r\n")], delimiter=delimiter), [])
        return alone, position + 1, (f"unclosed quote on line {line}; read that line alone, so the lines after it "
                                     "stay rows of their own (check this answer)")
    if runs_to_end:
        return None, end, f"unclosed quote from line {line} runs to the end of the file (line {end})"
    return fields, end, ""


def _is_row(line: str, delimiter: str, width: int) -> bool:
    """Whether ``line`` on its own is a complete record of ``width`` fields (so it is not inside a cell)."""
    try:
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return False
    return len(fields) == width and width > 1
