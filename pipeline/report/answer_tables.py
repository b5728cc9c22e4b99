"""The tables about respondents and their answers (issue 14): respondent attributes carried into segments.csv and
quotes.csv, the theme x attribute matrix (theme_attributes.csv), every answer of each theme with its ratings and
attributes (theme_answers.csv), and each theme's label fit in themes.csv. Pure builders over a run's records;
``pipeline.report.tables`` registers them."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.analysis.association import theme_categories
from pipeline.analysis.attributes import respondent_attributes
from pipeline.analysis.ratings import read_ratings
from pipeline.analysis.respondents import collect_respondents
from pipeline.core.records import UNASSIGNED

ATTRIBUTE_PREFIX = "attr_"
ATTRIBUTE_MATRIX_COLUMNS = ["attribute", "value", "theme_id", "theme_label", "n", "n_theme", "n_value", "n_total",
                            "row_share", "row_low", "row_high", "column_share", "column_low", "column_high"]
THEME_EXTRA_COLUMNS = ["categories", "label_source", "machine_label", "label_coverage", "label_lift", "label_weak"]
QUOTE_EXTRA_COLUMNS = ["answer_id", "confidence", "category_rating", "attributes", "answer", "answer_flags"]


def answer_flagger(result):
    """The run's identifiability check as ``text -> flags`` (none when the naming stage did not run)."""
    naming = result.outputs.get("naming") if hasattr(result, "outputs") else None
    identifier = getattr(naming, "identifier", None)
    return identifier.flags if identifier is not None else (lambda text: ())


def _labels(result) -> dict[int, str]:
    return {t.theme_id: t.label for t in result.themes}


def _attributes(result) -> tuple[list[str], dict[str, dict[str, str]]]:
    columns = list(getattr(result, "attribute_columns", ()) or ())
    return columns, respondent_attributes(result.answers, columns)


def attribute_column_names(result) -> list[str]:
    return [ATTRIBUTE_PREFIX + column for column in _attributes(result)[0]]


def with_segment_extras(rows: list[dict[str, Any]], result) -> list[dict[str, Any]]:
    """segments.csv rows with the respondent's attributes (``attr_<column>``) and the segment's flags."""
    columns, values = _attributes(result)
    flags = list(getattr(result, "segment_flags", ()) or ())
    for position, row in enumerate(rows):
        held = values.get(row["respondent_id"], {})
        row.update({ATTRIBUTE_PREFIX + c: held.get(c, "") for c in columns})
        row["flags"] = list(flags[position]) if position < len(flags) else []
    return rows


def _category_rating(theme_id: int, ratings: dict[str, str], standing, by_id) -> str:
    parts = [f"{by_id[c].label}: {ratings[by_id[c].rating_column]}" for c in standing.get(theme_id, ())
             if c in by_id and by_id[c].rating_column and str(ratings.get(by_id[c].rating_column, "")).strip()]
    return "; ".join(parts)


def with_quote_extras(rows: list[dict[str, Any]], result) -> list[dict[str, Any]]:
    """quotes.csv rows with the full answer, the rating of the theme's own category, and the attributes."""
    answers = {a.answer_id: a for a in result.answers}
    quotes = {(q.theme_id, q.rank): q for q in result.quotes}
    standing = theme_categories(result.themes, getattr(result, "merged_categories", {}))
    by_id = {c.category_id: c for c in result.categories}
    flagger = answer_flagger(result)
    for row in rows:
        quote = quotes.get((row["theme_id"], row["rank"]))
        answer = answers.get(quote.answer_id) if quote else None
        row.update(answer_id=quote.answer_id if quote else "", confidence=quote.confidence if quote else None,
                   answer=answer.text if answer else "", answer_flags=list(flagger(answer.text)) if answer else [],
                   attributes="; ".join(f"{k}={v}" for k, v in (quote.attributes if quote else {}).items()),
                   category_rating=_category_rating(row["theme_id"], dict(quote.ratings), standing, by_id)
                   if quote else "")
    return rows


def with_theme_extras(rows: list[dict[str, Any]], result) -> list[dict[str, Any]]:
    """themes.csv rows with the categories each theme stands for and its label's source and fit."""
    standing = theme_categories(result.themes, getattr(result, "merged_categories", {}))
    fits = getattr(result, "label_fit", {}) or {}
    for row in rows:
        fit = fits.get(row["theme_id"], {})
        row.update(categories=list(standing.get(row["theme_id"], ())), label_source=fit.get("source", ""),
                   machine_label=fit.get("previous", ""), label_coverage=fit.get("coverage"),
                   label_lift=fit.get("lift"), label_weak=fit.get("weak", ""))
    return rows


def theme_attribute_rows(result) -> list[dict[str, Any]]:
    labels = _labels(result)
    return [{**{name: getattr(cell, name) for name in ATTRIBUTE_MATRIX_COLUMNS if name != "theme_label"},
             "theme_label": labels.get(cell.theme_id, str(cell.theme_id))}
            for cell in getattr(result, "attribute_cells", ()) or ()]


def theme_answer_columns(result) -> list[str]:
    ratings = list(dict.fromkeys(column for a in result.answers for column in a.ratings))
    return (["theme_id", "theme_label", "respondent_id", "answer_id", "file", "row", "category_rating"]
            + [f"rating:{c}" for c in ratings] + attribute_column_names(result) + ["segments", "answer", "flags"])


def theme_answer_rows(result) -> list[dict[str, Any]]:  # long: one row per theme and answer, every column named
    """Every answer carrying each theme (primary or secondary), with its ratings (as the crosstab reads them:
    blank when not rated) and the respondent's attributes."""
    if not result.segments or not result.assignments:
        return []
    people = collect_respondents(list(result.segments), list(result.assignments))
    ratings = read_ratings(result.answers, result.categories, result.config.mapping, people.order)
    columns, values = _attributes(result)
    answers = {a.answer_id: a for a in result.answers}
    standing = theme_categories(result.themes, getattr(result, "merged_categories", {}))
    by_id = {c.category_id: c for c in result.categories}
    flagger, rows = answer_flagger(result), []
    for theme in (t for t in result.themes if t.theme_id != UNASSIGNED and not t.noise):
        for respondent in people.order:
            carrying = people.theme_segments.get((respondent, theme.theme_id), [])
            for answer_id in dict.fromkeys(s.answer_id for s in carrying):
                answer = answers.get(answer_id)
                if answer is None:
                    continue
                held = {c: ratings.get(respondent, c) or "" for c in ratings.scales}
                rows.append({
                    "theme_id": theme.theme_id, "theme_label": theme.label, "respondent_id": respondent,
                    "answer_id": answer_id, "file": answer.file, "row": answer.row,
                    "category_rating": _category_rating(theme.theme_id, held, standing, by_id),
                    **{f"rating:{c}": v for c, v in held.items()},
                    **{ATTRIBUTE_PREFIX + c: values.get(respondent, {}).get(c, "") for c in columns},
                    "segments": " | ".join(s.text for s in carrying if s.answer_id == answer_id),
                    "answer": answer.text, "flags": list(flagger(answer.text))})
    return rows


def attribute_summary(cells: Sequence[Any]) -> dict[str, list[str]]:
    """attribute -> its values in table order (as the matrix lists them)."""
    out: dict[str, list[str]] = {}
    for cell in cells:
        values = out.setdefault(cell.attribute, [])
        if cell.value not in values:
            values.append(cell.value)
    return out
