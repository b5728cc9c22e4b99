"""The ingest stages: the closed categories, then every answer of the corpus folder."""
from __future__ import annotations

from pipeline.core.artifacts import Categories, Ingested
from pipeline.core.context import RunContext
from pipeline.core.errors import PipelineError
from pipeline.ingest.categories_file import load_categories
from pipeline.ingest.corpus import read_corpus


def categories_stage(ctx: RunContext) -> Categories:
    if ctx.labels is None:  # the labels stage reads it much later: a mistyped name fails now, not after the fit
        ctx.configured_file("labels_file", "labels.yaml")
    path = ctx.configured_file("categories_file", "categories.yaml")
    return Categories(tuple(load_categories(path)) if path is not None else ())


def ingest_stage(ctx: RunContext, categories: Categories) -> Ingested:
    if ctx.corpus_dir is None:
        raise PipelineError("the ingest stage reads a corpus folder; none was given")
    # the run's own folders, when they sit inside the corpus (a run started from inside it), are never answers
    exclude = [path for path in (ctx.out_dir, ctx.model_dir, ctx.cache_dir) if path is not None]
    read = read_corpus(ctx.corpus_dir, ctx.config.ingest, rating_columns=categories.rating_columns, exclude=exclude)
    return Ingested(tuple(read.files), tuple(read.answers), tuple(read.ledger), tuple(read.warnings),
                    dict(read.sources))
