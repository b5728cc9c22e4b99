"""One reader per file format (CSV/TSV, XLSX, JSONL, TXT/MD), chosen by ``read_table``.

Each reader turns a file into ``Table``s of ``Record``s (row number + values, or the reason it could not be
read): one table, or one per sheet of a workbook. ``pipeline.ingest.corpus`` chooses the columns and builds
``Answer`` records from them.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.core.config import IngestConfig
from pipeline.ingest.decode import bad_share, decode
from pipeline.ingest.delimited import SEP_DIRECTIVE, read_delimited, sniff_delimiter
from pipeline.ingest.free_text import read_free_text
from pipeline.ingest.jsonl import read_jsonl
from pipeline.ingest.table import Record, Table
from pipeline.ingest.xlsx import read_xlsx

__all__ = ["Record", "Table", "read_table"]

# Magic numbers of binary formats often saved under a text extension (zip/xlsx/docx, OLE xls/doc, PDF, PNG, gzip)
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\x1f\x8b")
# A text export with a few damaged bytes has almost no control characters; a binary file has many (a random
# byte is a control character one time in eight), so more than this share of them (and more than one NUL) means binary.
MAX_CONTROL_SHARE = 0.05


def read_table(path: Path, data: bytes, fmt: str, config: IngestConfig) -> tuple[list[Table] | None, str, list[str]]:
    """Return (tables, or None if the file cannot be read at all; encoding; file-level problems)."""
    if fmt == "xlsx":
        tables, problems = read_xlsx(path)
        return tables, "", problems
    if data.startswith(BINARY_MAGIC):
        return None, "", ["is a binary file (a workbook, document or archive?), not text"]
    text, encoding, problem = decode(data, config.encoding)
    problems = [problem] if problem else []
    if "\x00" in text:
        n_nul = text.count("\x00")
        if n_nul > 1 and bad_share(text) > MAX_CONTROL_SHARE:
            problems.append(f"contains {n_nul:,} NUL bytes, so it is not a text file (or it is UTF-16 text: set "
                            "ingest.encoding)")
            return None, encoding, problems
        # a few NULs are damaged bytes in a text export: the answers around them are still there to read
        problems.append(f"{n_nul} NUL byte(s) on line(s) {_lines_with_nul(text)} replaced with '\ufffd'")
        text = text.replace("\x00", "\ufffd")
    if fmt in ("txt", "md"):
        return [read_free_text(text, config.txt_mode, markdown=fmt == "md")], encoding, problems
    if fmt == "jsonl":
        return [read_jsonl(text)], encoding, problems
    directive = SEP_DIRECTIVE.match(text)  # Excel's "sep=;" first line names the delimiter and is not data
    delimiter = "\t" if fmt == "tsv" else directive.group(1) if directive else sniff_delimiter(text)
    table, header_problems = read_delimited(text, delimiter, skip_first_line=directive is not None)
    return [table], encoding, problems + header_problems


def _lines_with_nul(text: str, limit: int = 5) -> str:
    lines, position = [], text.find("\x00")
    while position != -1 and len(lines) <= limit:
        line = text.count("\n", 0, position) + 1 if "\n" in text else text.count("\r", 0, position) + 1
        if line not in lines:
            lines.append(line)
        position = text.find("\x00", position + 1)
    shown = ", ".join(map(str, lines[:limit]))
    return shown + (" and more" if len(lines) > limit else "")
