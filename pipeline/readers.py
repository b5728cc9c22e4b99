"""Format readers for the ingest stage: decoding and one reader per file format (CSV/TSV, XLSX, JSONL, TXT/MD).

Each reader turns a file into a ``Table`` of ``Record``s (row number + values, or the reason it could not be
read); ``pipeline.ingest`` chooses the columns and builds ``Answer`` records from them.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Sequence

from pipeline.config import IngestConfig
from pipeline.errors import ConfigError

CSV_DELIMITERS = (",", ";", "\t")  # ties go to the earlier one
_CSV_FIELD_LIMIT = 2**31 - 1  # read huge cells so they can be dropped as too-long rather than crash the reader
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

@dataclass(frozen=True)
class Record:
    row: int
    values: dict[str, str] | None  # None: the record could not be read (or is not an answer)
    problem: str = ""  # why it could not be read
    reason: str = "unreadable"  # the ledger's drop reason when values is None


@dataclass
class Table:
    columns: list[str]
    records: list[Record]
    free_text: bool = False  # TXT/MD: one "text" column, no ids, ratings or meta


def _decode(data: bytes, encoding: str | None) -> tuple[str, str, str]:
    """Return (text, encoding used, problem or "") without ever raising on the bytes themselves."""
    if encoding:
        if _codec_name(encoding) == "utf-8" and data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"  # a BOM is not text, even when the user said "utf-8"
        try:
            return data.decode(encoding), encoding, ""
        except UnicodeDecodeError as exc:
            text = data.decode(encoding, errors="replace")
            return text, encoding, f"not valid {encoding} (byte {exc.start}); undecodable bytes replaced with '\ufffd'"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "utf-16", ""
        except UnicodeDecodeError:
            pass
    bomless = _utf16_without_bom(data)
    if bomless:
        try:
            note = f"no byte-order mark; read as {bomless.upper()} (set ingest.encoding to override)"
            return data.decode(bomless), bomless, note
        except UnicodeDecodeError:
            pass
    utf8 = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return data.decode(utf8), utf8, ""
    except UnicodeDecodeError:
        pass
    # Files pasted together from several exports are mostly UTF-8 with some cp1252 bytes; decoding them whole as
    # either one garbles the other part.
    marked = data.decode(utf8, errors="replace")
    n_invalid = marked.count("\ufffd") - data.count("\ufffd".encode())
    n_utf8 = sum(1 for char in marked if ord(char) > 0x7F) - marked.count("\ufffd")
    if n_utf8 >= n_invalid:
        note = f"mixed encodings: mostly UTF-8, {n_invalid} invalid byte runs read as cp1252"
        return data.decode(utf8, errors=_CP1252_FALLBACK), f"{utf8}+cp1252", note
    # Windows exports of English text are cp1252 far more often than anything charset detection guesses (it
    # reads a cp1252 file with one stray byte as Big5). The few bytes cp1252 leaves undefined are kept as latin-1,
    # as browsers do, so this never fails.
    text = data.decode("cp1252", errors=_CP1252_FALLBACK)
    return text, "cp1252", "not UTF-8; read as cp1252 (set ingest.encoding to override)"


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like mostly-ASCII UTF-16 (a zero byte in every other
    position) without a byte-order mark, as some exporters write; else None."""
    sample = data[:4096]
    sample = sample[:len(sample) // 2 * 2]  # whole 16-bit units
    if len(sample) < 4:
        return None
    even_zeros, odd_zeros = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd_zeros >= 0.6 * half and even_zeros <= 0.05 * half:
        return "utf-16-le"
    if even_zeros >= 0.6 * half and odd_zeros <= 0.05 * half:
        return "utf-16-be"
    return None


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"ingest.encoding: unknown encoding {encoding!r}") from None


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


_CP1252_FALLBACK = "pipeline-ingest-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


# --- readers: each returns a Table of raw string records --------------------------------------------------------

def read_table(path: Path, data: bytes, fmt: str, config: IngestConfig) -> tuple[Table | None, str, list[str]]:
    """Return (table or None if the file cannot be read at all, encoding, file-level problems)."""
    if fmt == "xlsx":
        table, problems = _read_xlsx(path)
        return table, "", problems
    text, encoding, problem = _decode(data, config.encoding)
    problems = [problem] if problem else []
    if "\x00" in text:
        problems.append("contains NUL bytes, so it is not a text file (or is UTF-16 without a byte-order mark); skipped")
        return None, encoding, problems
    if fmt in ("txt", "md"):
        return _read_free_text(text, config.txt_mode, markdown=fmt == "md"), encoding, problems
    if fmt == "jsonl":
        return _read_jsonl(text), encoding, problems
    directive = _SEP_DIRECTIVE.match(text)  # Excel's "sep=;" first line names the delimiter and is not data
    delimiter = "\t" if fmt == "tsv" else directive.group(1) if directive else _sniff_delimiter(text)
    table, header_problems = _read_delimited(text, delimiter, skip_first_line=directive is not None)
    return table, encoding, problems + header_problems


_SEP_DIRECTIVE = re.compile(r'\A\ufeff?"?sep=([^\r\n"])"?[ \t]*(?:\r\n|\r|\n)', re.IGNORECASE)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    sample = text[:65536].lstrip("\r\n")
    counts = {d: len(next(csv.reader(io.StringIO(sample, newline=""), delimiter=d), [])) for d in CSV_DELIMITERS}
    return max(CSV_DELIMITERS, key=lambda d: (counts[d], -CSV_DELIMITERS.index(d)))


def _read_delimited(text: str, delimiter: str, skip_first_line: bool = False) -> tuple[Table, list[str]]:
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
                columns, renamed = _column_names(fields)
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


def _column_names(header: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Stripped header names; blanks become column_<n>, repeats get a suffix (and a note)."""
    names: list[str] = []
    notes: list[str] = []
    for position, raw in enumerate(header, start=1):
        name = _cell_text(raw).strip() or f"column_{position}"
        if name in names:
            unique = next(f"{name}_{k}" for k in range(2, len(header) + 2) if f"{name}_{k}" not in names)
            notes.append(f"column name '{name}' is repeated; column {position} renamed '{unique}'")
            name = unique
        names.append(name)
    return names, notes


def _read_xlsx(path: Path) -> tuple[Table | None, list[str]]:
    import openpyxl  # imported here: only XLSX corpora pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (zip, XML, key errors) for a damaged or mislabelled file
        return None, [f"cannot open as an Excel workbook ({type(exc).__name__}: {exc}); skipped"]
    try:
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()  # some writers store a wrong used range, which read-only mode would trust
            header: list[str] | None = None
            width = 0
            rows: list[tuple[int, list[str]]] = []
            for cells in sheet.iter_rows(values_only=True):
                values = [_cell_text(cell) for cell in cells]
                while values and not values[-1].strip():
                    values.pop()
                if header is None:
                    if values:
                        header, width = values, len(values)
                    continue
                rows.append((len(rows) + 1, values))
                width = max(width, len(values))
            if header is None:
                continue
            columns, notes = _column_names(header + [""] * (width - len(header)))
            records = [
                Record(row, dict(zip(columns, values + [""] * (width - len(values))))) for row, values in rows if values
            ]
            return Table(columns, records), notes
        return Table([], []), []
    finally:
        workbook.close()


def _read_jsonl(text: str) -> Table:
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
        values = {str(key): _cell_text(item) for key, item in value.items()}
        columns.update(dict.fromkeys(values))
        records.append(Record(line_number, values))
    return Table(list(columns), records)


def _read_free_text(text: str, mode: str, markdown: bool = False) -> Table:
    """One answer per line, or per blank-line-separated block; ``auto`` picks blocks only when they matter.

    In Markdown, headings and horizontal rules are structure, not answers: each is listed as dropped."""
    lines = _LINE_BREAK.split(text)
    structure: list[Record] = []
    if markdown:
        for number, line in enumerate(lines, start=1):
            if _MARKDOWN_STRUCTURE.match(line):
                kind = "heading" if line.lstrip().startswith("#") else "rule"
                structure.append(Record(number, None, f"Markdown {kind} {line.strip()[:60]!r}", reason="not-an-answer"))
    skip = {record.row for record in structure}  # structure neither ends nor joins a block
    blocks: list[tuple[int, list[str]]] = []  # (first line number, lines)
    current: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        if number in skip:
            continue
        if not line.strip():
            current = None
            continue
        if current is None:
            current = []
            blocks.append((number, current))
        current.append(line)
    if mode == "auto":
        mode = "block" if len(blocks) > 1 and any(len(block) > 1 for _, block in blocks) else "line"
    if mode == "block":
        records = [Record(start, {"text": "\n".join(block)}) for start, block in blocks]
    else:
        records = [Record(n, {"text": line}) for n, line in enumerate(lines, start=1) if line.strip() and n not in skip]
    return Table(["text"], sorted(records + structure, key=lambda record: record.row), free_text=True)


# ATX headings ("# Q3"), and thematic breaks ("---", "***", "___") on a line of their own
_MARKDOWN_STRUCTURE = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t].*)?|(?:[-*_][ \t]*){3,})$")


def _cell_text(value: Any) -> str:
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


# --- columns and answers ----------------------------------------------------------------------------------------

