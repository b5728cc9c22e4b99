"""One reader per file format (CSV/TSV, XLSX, JSONL, TXT/MD), chosen by ``read_table``.

Each reader turns a file into a ``Table`` of ``Record``s (row number + values, or the reason it could not be
read); ``pipeline.ingest.corpus`` chooses the columns and builds ``Answer`` records from them.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.core.config import IngestConfig
from pipeline.ingest.decode import decode
from pipeline.ingest.delimited import SEP_DIRECTIVE, read_delimited, sniff_delimiter
from pipeline.ingest.free_text import read_free_text
from pipeline.ingest.jsonl import read_jsonl
from pipeline.ingest.table import Record, Table
from pipeline.ingest.xlsx import read_xlsx

__all__ = ["Record", "Table", "read_table"]


def read_table(path: Path, data: bytes, fmt: str, config: IngestConfig) -> tuple[Table | None, str, list[str]]:
    """Return (table or None if the file cannot be read at all, encoding, file-level problems)."""
    if fmt == "xlsx":
        table, problems = read_xlsx(path)
        return table, "", problems
    text, encoding, problem = decode(data, config.encoding)
    problems = [problem] if problem else []
    if "\x00" in text:
        problems.append("contains NUL bytes, so it is not a text file (or is UTF-16 without a byte-order mark); skipped")
        return None, encoding, problems
    if fmt in ("txt", "md"):
        return read_free_text(text, config.txt_mode, markdown=fmt == "md"), encoding, problems
    if fmt == "jsonl":
        return read_jsonl(text), encoding, problems
    directive = SEP_DIRECTIVE.match(text)  # Excel's "sep=;" first line names the delimiter and is not data
    delimiter = "\t" if fmt == "tsv" else directive.group(1) if directive else sniff_delimiter(text)
    table, header_problems = read_delimited(text, delimiter, skip_first_line=directive is not None)
    return table, encoding, problems + header_problems
