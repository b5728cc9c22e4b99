"""The analysis stages: readable labels and the identifiability check (``naming``, in ``naming_stage``), themes
against the structured ratings and respondent attributes (``association``), and the quotes (``quotes``)."""
from __future__ import annotations

from pipeline.analysis.association import crosstab_cells, theme_categories
from pipeline.analysis.attributes import attribute_columns, attribute_matrix, respondent_attributes
from pipeline.analysis.disagreements import disagreement_rows, raw_values
from pipeline.analysis.naming_stage import naming_stage  # noqa: F401 -- the stage graph imports it from here
from pipeline.analysis.quotes import QuoteInputs, select_quotes
from pipeline.analysis.ratings import read_ratings
from pipeline.analysis.respondents import collect_respondents
from pipeline.core.artifacts import (
    Associations, Categories, Cleaned, Coded, Embedded, Ingested, Labelled, Named, Quotes, ThemeFit,
)
from pipeline.core.context import RunContext


def association_stage(ctx: RunContext, ingest: Ingested, clean: Cleaned, labels: Labelled, naming: Named,
                      categories: Categories) -> Associations:
    config, themes, cats = ctx.config.mapping, list(naming.themes), list(categories.categories)
    answers = list(ingest.answers)
    people = collect_respondents(list(clean.segments), list(labels.assignments))
    ratings = read_ratings(answers, cats, config, people.order)
    standing = theme_categories(themes, labels.merged_categories)
    cells = crosstab_cells(people, ratings, themes, cats, config, standing) if ratings.scales else []
    rows = disagreement_rows(people, ratings, themes, cats, standing, raw_values(answers, ratings))
    columns, column_notes = attribute_columns(answers, ctx.config.ingest)
    matrix, matrix_notes = attribute_matrix(people, respondent_attributes(answers, columns), columns, themes,
                                            ctx.config.report.max_attribute_levels)
    return Associations(tuple(cells), tuple(rows), tuple(ratings.warnings() + column_notes + matrix_notes),
                        attribute_cells=tuple(matrix), attribute_columns=tuple(columns))


def segment_scores(themes: ThemeFit, coding: Coded | None = None) -> tuple[tuple[str, float | None], ...]:
    """Per segment: its own code and how surely it is coded: once the analyst has coded segments, the coding
    stage's code (analyst: 1, trained: its calibrated confidence; these codes decide the themes); else its own
    closed category with the theme stage's calibrated confidence when it has one (``segment_confidence``, aligned
    with the segments), else the coder's score."""
    if coding is not None and coding.proba is not None and len(coding.codes) == len(themes.segment_categories):
        return tuple((code, confidence) for code, _, confidence in coding.codes)
    confidence = getattr(themes, "segment_confidence", None)
    if confidence is not None and len(confidence) == len(themes.segment_categories):
        return tuple((category, value) for (category, _), value in zip(themes.segment_categories, confidence))
    return tuple(themes.segment_categories)


def quotes_stage(ctx: RunContext, ingest: Ingested, clean: Cleaned, embed: Embedded, themes: ThemeFit,
                 labels: Labelled, naming: Named, coding: Coded | None = None) -> Quotes:
    answers = list(ingest.answers)
    columns, _ = attribute_columns(answers, ctx.config.ingest)
    inputs = QuoteInputs(answers, naming.identifier, segment_scores(themes, coding),
                         theme_categories(naming.themes, labels.merged_categories),
                         respondent_attributes(answers, columns))
    return Quotes(tuple(select_quotes(list(naming.themes), list(labels.assignments), list(clean.segments),
                                      embed.embeddings, answers, ctx.config.quotes, inputs)))
