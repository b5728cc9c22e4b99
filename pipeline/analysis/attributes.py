"""Respondent attributes (role, region, confidence, ...): which columns they are, each respondent's values, and the
theme x attribute matrix (theme_attributes.csv and the report's tables).

Which columns: ``ingest.attribute_columns`` when set (a named column no file has is a warning), otherwise every
column that is not the text, the respondent id or a rating (ingest puts those in ``Answer.meta``), in the order
first seen. A respondent's value is the first non-blank one across their answers, like a rating.

The matrix is NVivo's matrix coding query over respondents with kept text: for each theme (non-noise) and each
value of an attribute, the number of respondents who carry the theme and have that value, its share of the
theme's respondents with a value (row share) and of the value's respondents (column share), each with a Wilson
95% interval. An attribute with more than ``report.max_attribute_levels`` distinct values (an id, a date, a
second text column) is not tabulated: its values are still carried into segments.csv and the quotes.
"""
from __future__ import annotations

from collections.abc import Sequence

from pipeline.analysis.association import wilson_interval
from pipeline.analysis.respondents import Respondents
from pipeline.core.config import IngestConfig
from pipeline.core.records import UNASSIGNED, Answer, AttributeCell, Theme


def attribute_columns(answers: Sequence[Answer], config: IngestConfig) -> tuple[list[str], list[str]]:
    """(attribute columns, warnings)."""
    seen = list(dict.fromkeys(column for answer in answers for column in answer.meta))
    if config.attribute_columns is None:
        filled = {column for answer in answers for column, value in answer.meta.items() if str(value).strip()}
        return [column for column in seen if column in filled], []
    folded = {column.casefold(): column for column in reversed(seen)}
    columns, warnings = [], []
    for name in config.attribute_columns:
        found = name if name in seen else folded.get(name.casefold())
        if found is None:
            warnings.append(f"ingest.attribute_columns: no file has a column '{name}' "
                            f"(other columns: {', '.join(seen) or 'none'})")
        elif found not in columns:
            columns.append(found)
    return columns, warnings


def respondent_attributes(answers: Sequence[Answer], columns: Sequence[str]) -> dict[str, dict[str, str]]:
    """respondent -> column -> the first non-blank value across their answers (input order)."""
    values: dict[str, dict[str, str]] = {}
    for answer in answers:
        held = values.setdefault(answer.respondent_id, {})
        for column in columns:
            value = " ".join(str(answer.meta.get(column, "")).split())
            if value and column not in held:
                held[column] = value
    return values


def attribute_levels(values: dict[str, dict[str, str]], respondents: Sequence[str], column: str) -> list[str]:
    """The values of ``column`` among ``respondents``, commonest first (ties by name)."""
    counts: dict[str, int] = {}
    for respondent in respondents:
        value = values.get(respondent, {}).get(column)
        if value:
            counts[value] = counts.get(value, 0) + 1
    return sorted(counts, key=lambda v: (-counts[v], v))


def attribute_matrix(people: Respondents, values: dict[str, dict[str, str]], columns: Sequence[str],
                     themes: Sequence[Theme], max_levels: int) -> tuple[list[AttributeCell], list[str]]:
    """Cells of every tabulated attribute x value x theme (see the module docstring), and notes on attributes
    left out."""
    cells, notes = [], []
    theme_ids = [t.theme_id for t in themes if t.theme_id != UNASSIGNED and not t.noise]
    for column in columns:
        levels = attribute_levels(values, people.order, column)
        if len(levels) > max_levels:
            notes.append(f"attribute {column}: {len(levels)} distinct values, more than report.max_attribute_levels "
                         f"({max_levels}); carried into segments.csv and quotes but not tabulated")
            continue
        with_value = {level: {r for r in people.order if values.get(r, {}).get(column) == level} for level in levels}
        valued = set().union(*with_value.values()) if with_value else set()
        for theme_id in theme_ids:
            carriers = people.carriers(theme_id) & valued
            for level in levels:
                n = len(carriers & with_value[level])
                row, column_share = wilson_interval(n, len(carriers)), wilson_interval(n, len(with_value[level]))
                cells.append(AttributeCell(
                    theme_id, column, level, n, len(carriers), len(with_value[level]), len(valued),
                    n / len(carriers) if carriers else float("nan"), row[0], row[1],
                    n / len(with_value[level]), column_share[0], column_share[1]))
    return cells, notes
