"""The mapping stage: each (labelled) theme to its closed category, the analyst's pinned categories kept."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pipeline.core.artifacts import Categories, Embedded, Labelled, Mapped
from pipeline.core.context import RunContext
from pipeline.core.records import Theme
from pipeline.embed import CachedEmbedder
from pipeline.embed.cache import EmbeddingCache
from pipeline.mapping.mapper import CategoryMapper


def mapping_stage(ctx: RunContext, labels: Labelled, embed: Embedded, categories: Categories) -> Mapped:
    if not categories.categories:
        return Mapped(labels.themes)
    config = ctx.config.mapping
    # category items and calibration sentences go through the content cache: a re-run never loads the model
    embedder = (CachedEmbedder(embed.embedder, EmbeddingCache(ctx.cache_dir)) if ctx.cache_dir is not None
                else embed.embedder)
    mapper = CategoryMapper(keyword_weight=config.keyword_weight, emergent_threshold=config.emergent_threshold,
                            min_elevation=config.min_elevation, min_support=config.min_support,
                            random_state=ctx.config.seed)
    mapper.fit(list(labels.themes), list(labels.assignments), embed.embeddings, list(categories.categories), embedder)
    return Mapped(tuple(keep_pins(mapper.themes_, labels.themes)), tuple(mapper.scores_))


def keep_pins(mapped: Sequence[Theme], labelled: Sequence[Theme]) -> list[Theme]:
    """``mapped`` (the mapping stage's output) with the analyst's pinned categories of ``labelled`` put back."""
    pins = {t.theme_id: t for t in labelled if t.pinned}
    return [dataclasses.replace(t, category_id=pins[t.theme_id].category_id, emergent=pins[t.theme_id].emergent,
                                confidence=1.0, pinned=True) if t.theme_id in pins else t for t in mapped]
