"""What both reports show about respondents (issue 14): each quote's short attribution line (the rating of the
theme's own category, then the respondent's attributes) and full answer, the theme x attribute tables, every
answer of each theme, each label's fit, and the labels.yaml entries to check."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.analysis.association import theme_categories
from pipeline.report.answer_tables import ATTRIBUTE_PREFIX, theme_answer_rows


def quote_line(category_rating: str, attributes: str) -> str:
    """"Lack of capacity: major barrier · role Chair, region North" (what matters for the theme, then who)."""
    who = ", ".join(f"{key} {value}" for key, value in (part.split("=", 1) for part in attributes.split("; ")
                                                        if "=" in part))
    return " · ".join(part for part in (category_rating, who) if part)


def attribute_tables(result) -> list[dict[str, Any]]:
    """One table per tabulated attribute: its values, and per theme each value's cell (matrix coding query)."""
    tables: dict[str, dict[str, Any]] = {}
    for cell in getattr(result, "attribute_cells", ()) or ():
        table = tables.setdefault(cell.attribute, {"attribute": cell.attribute, "values": [], "cells": {},
                                                   "totals": {}, "n_total": cell.n_total})
        if cell.value not in table["values"]:
            table["values"].append(cell.value)
        table["totals"][cell.value] = cell.n_value
        table["cells"][(cell.theme_id, cell.value)] = cell
    return list(tables.values())


def label_warnings(result) -> list[str]:
    """The labels stage's warnings about entries whose theme changed since they were written."""
    labels = result.outputs.get("labels") if hasattr(result, "outputs") else None
    return [w for w in getattr(labels, "warnings", ()) if "has changed since" in w]


def respondent_view(result, quote_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The view's respondent parts; ``quote_rows`` (quotes.csv rows) get their line and full answer."""
    answers = {a.answer_id: a.text for a in result.answers}
    for row in quote_rows:
        row["ratings_display"] = quote_line(row.get("category_rating", ""), row.get("attributes", ""))
        row["answer_text"] = answers.get(row.get("answer_id", ""), "")
    by_theme: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in theme_answer_rows(result):
        by_theme[row["theme_id"]].append(row)
    columns = list(getattr(result, "attribute_columns", ()) or ())
    return {
        "attribute_tables": attribute_tables(result), "attribute_columns": columns,
        "attribute_prefix": ATTRIBUTE_PREFIX, "theme_answers": dict(by_theme),
        "label_fit": dict(getattr(result, "label_fit", {}) or {}), "label_warnings": label_warnings(result),
        "standing": theme_categories(result.themes, getattr(result, "merged_categories", {})),
    }
