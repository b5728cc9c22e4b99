"""Which column of a table holds the free text, the respondent id and each rating.

``ingest.text_column``/``id_column`` when set (exact, then case-insensitive match); otherwise the id column is
found by name (``ID_COLUMN_NAMES``) and the text column is the non-numeric column with the longest mean text,
preferring columns whose values mostly differ over a repeated question or closed answer.
"""
from __future__ import annotations

import re
from typing import Sequence

from pipeline.core.config import IngestConfig
from pipeline.core.errors import PipelineError
from pipeline.ingest.readers import Table

ID_COLUMN_NAMES = ("respondent_id", "respondent", "id", "response_id", "resp_id")  # in order of preference
# Text-column detection prefers columns whose values mostly differ, judged once a column has this many values.
MIN_ROWS_TO_JUDGE_VARIETY = 20
MIN_DISTINCT_SHARE = 0.2


def find_column(name: str, columns: Sequence[str]) -> str | None:
    if name in columns:
        return name
    folded = {column.strip().casefold(): column for column in reversed(columns)}
    return folded.get(name.strip().casefold())


def _normalised(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().lower())  # "." joins nested JSONL keys: respondent.id


def choose_columns(
    table: Table, display: str, config: IngestConfig, wanted_ratings: Sequence[str]
) -> tuple[str | None, str | None, dict[str, str], list[str]]:
    """Return (text column, id column, {requested rating name: column}, notes) for a tabular file.

    Raises ``PipelineError`` if a configured text column is missing or no column could hold free text.
    """
    columns = table.columns
    notes: list[str] = []
    listing = ", ".join(columns) or "(none)"
    ratings = {name: found for name in wanted_ratings if (found := find_column(name, columns))}
    missing = [name for name in wanted_ratings if name not in ratings]
    if missing:
        notes.append(f"{display}: rating columns not found: {', '.join(missing)} (columns: {listing})")
    if config.id_column:
        id_column = find_column(config.id_column, columns)
        if id_column is None:
            notes.append(f"{display}: id column '{config.id_column}' not found (columns: {listing}); "
                         "respondent ids are <file>-<row>")
    else:
        by_name = {_normalised(column): column for column in reversed(columns)}
        id_column = next((by_name[name] for name in ID_COLUMN_NAMES if name in by_name), None)
    if config.text_column:
        text_column = find_column(config.text_column, columns)
        if text_column is None:
            raise PipelineError(f"text column '{config.text_column}' not found; available columns: {listing}",
                                file=display)
        return text_column, id_column, ratings, notes
    readable = [record.values for record in table.records if record.values is not None]
    taken = {id_column, *ratings.values()}
    best, best_key = None, None
    for column in columns:
        values = [values.get(column, "").strip() for values in readable]
        filled = [value for value in values if value]
        if column in taken or not values or (filled and all(_is_number(value) for value in filled)):
            continue
        # A question text or a closed-list answer repeats down its column; free text rarely does.
        varied = len(filled) < MIN_ROWS_TO_JUDGE_VARIETY or len(set(filled)) >= MIN_DISTINCT_SHARE * len(filled)
        key = (varied, sum(map(len, values)) / len(values))
        if best_key is None or key > best_key:
            best, best_key = column, key
    if best is None and readable:
        raise PipelineError(f"no text column found; set ingest.text_column to one of: {listing}", file=display)
    return best, id_column, ratings, notes


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True
