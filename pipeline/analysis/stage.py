"""The analysis stages: themes against the structured ratings, and the quotes that represent each theme."""
from __future__ import annotations

from pipeline.analysis.association import crosstab, disagreements
from pipeline.analysis.quotes import select_quotes
from pipeline.core.artifacts import Associations, Categories, Cleaned, Embedded, Ingested, Labelled, Mapped, Quotes
from pipeline.core.context import RunContext


def association_stage(ctx: RunContext, ingest: Ingested, clean: Cleaned, labels: Labelled, mapping: Mapped,
                      categories: Categories) -> Associations:
    args = (list(ingest.answers), list(clean.segments), list(labels.assignments), list(mapping.themes),
            list(categories.categories), ctx.config.mapping)
    return Associations(tuple(crosstab(*args)), tuple(disagreements(*args)))


def quotes_stage(ctx: RunContext, ingest: Ingested, clean: Cleaned, embed: Embedded, labels: Labelled,
                 mapping: Mapped) -> Quotes:
    return Quotes(tuple(select_quotes(list(mapping.themes), list(labels.assignments), list(clean.segments),
                                      embed.embeddings, list(ingest.answers), ctx.config.quotes)))
