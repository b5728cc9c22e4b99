"""Spreadsheet formula neutralisation for every CSV the run writes (OWASP, "CSV Injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a carriage return)
as a formula: ``=HYPERLINK(...)`` in an answer, an id or a theme label becomes a live link, ``+cmd|...`` a
command. Such a cell is written with a leading apostrophe, which spreadsheets show as text. Plain numbers
(``-1``, ``+0.5``) are left alone: no spreadsheet runs them, and the tables hold many.

The escaping is reversible, so the tool's own readers (``restore``) get every value back exactly: a value that
is already apostrophes followed by one of those characters gets one more apostrophe. The exact texts are also in
segments.parquet, which no spreadsheet executes.
"""
from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r"
_ESCAPED = re.compile(r"'*[=+\-@\t\r]")  # a value the escaping changes (and restore undoes)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: str) -> str:
    """``value`` as a CSV cell no spreadsheet runs as a formula."""
    if value and _ESCAPED.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The exact value ``neutralise`` was given (for the tool reading its own CSV files back)."""
    if value.startswith("'") and _ESCAPED.match(value, 1):
        return value[1:]
    return value
