"""Formatting shared by the HTML report and its charts: every piece of user text goes through ``escape``."""
from __future__ import annotations

import html
from typing import Any


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def percent(value: float) -> str:
    return f"{value:.0%}"
