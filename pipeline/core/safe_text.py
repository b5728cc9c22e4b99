"""User text made safe for where it is shown: a Markdown document, a terminal, a one-line message.

Answers, ids, file names and analysts' labels are the user's text, and some of it is hostile or damaged: raw HTML
that a Markdown renderer passes through (``<img src=x onerror=...>`` ran in codebook.md rendered by pandoc or
MkDocs), terminal escape sequences (clear screen, OSC-8 links), newlines inside a file name that split a one-line
error in two.
"""
from __future__ import annotations

import re

# ANSI/VT sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and two-character ESC sequences
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
# other control characters, and the bidirectional overrides that make text display in another order than it reads
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: object) -> str:
    """``text`` for a terminal: escape sequences removed, other control characters shown as ``\\xNN``; line
    breaks and tabs kept."""
    cleaned = _ESCAPE_SEQUENCE.sub("", str(text))
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        cleaned)


def literal(text: object) -> str:
    """``text`` with every control character shown as an escape, line breaks and tabs too (``a\\nb.csv``): for a
    file name inside a one-line message."""
    return terminal_text(text).replace("\t", "\\t").replace("\n", "\\n")


def one_line(text: object) -> str:
    """``text`` on one terminal line: whitespace runs (newlines included) become one space, controls escaped."""
    return " ".join(terminal_text(text).split())


def markdown_inline(text: object) -> str:
    """One line, safe inside a Markdown table cell, heading or blockquote: ``|`` escaped, and ``<`` ``>``
    backslash-escaped so no answer renders as HTML (CommonMark treats ``\\<`` as a literal ``<``)."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")
