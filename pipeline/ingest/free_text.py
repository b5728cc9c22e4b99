"""TXT/MD: one answer per line or per blank-line-separated block; Markdown structure listed, not read."""
from __future__ import annotations

import re

from pipeline.ingest.table import Record, Table

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_free_text(text: str, mode: str, markdown: bool = False) -> Table:
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
