"""Cells and text that cannot turn into something else where they land: spreadsheet formulas, HTML in Markdown."""
from __future__ import annotations

import html
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (starting = + - @, tab or CR) gets a leading ``'``;
    numbers and other text are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def markdown_safe(text: Any) -> str:
    """One line of Markdown that renders as the text itself: ``& < >`` as entities, so no HTML survives."""
    return html.escape(" ".join(str(text).split()), quote=False)
