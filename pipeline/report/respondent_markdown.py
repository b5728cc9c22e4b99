"""report.md's parts about respondents and labels.yaml (issue 14): theme x attribute tables (counts and row
shares; the intervals are in theme_attributes.csv) and the labels.yaml entries to check."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def attributes_markdown(view: dict[str, Any], md: Callable[[Any], str]) -> list[str]:
    tables = view.get("attribute_tables") or []
    if not tables:
        return ["No respondent attributes to tabulate."]
    themes = [t for t in view["themes"] if not t["noise"]]
    lines = ["Respondents carrying each theme, by attribute value (share of the theme's respondents). Intervals: "
             "theme_attributes.csv; every answer with its ratings and attributes: theme_answers.csv.", ""]
    for table in tables:
        values = table["values"]
        lines += [f"**{md(table['attribute'])}**", "", "| Theme | " + " | ".join(md(v) for v in values) + " |",
                  "|---|" + "---:|" * len(values),
                  f"| All respondents ({table['n_total']}) | " + " | ".join(str(table["totals"][v]) for v in values)
                  + " |"]
        for theme in themes:
            cells = []
            for value in values:
                cell = table["cells"].get((theme["theme_id"], value))
                cells.append("—" if cell is None else
                             f"{cell.n} ({cell.row_share:.0%})" if cell.row_share == cell.row_share else str(cell.n))
            lines.append(f"| {md(theme['label'])} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def label_warnings_markdown(view: dict[str, Any], md: Callable[[Any], str]) -> list[str]:
    warnings = view.get("label_warnings") or []
    if not warnings:
        return []
    return ["**Check labels.yaml:** entries written for a theme that has changed since:", ""] + \
        [f"- {md(w)}" for w in warnings] + [""]
