"""The embed stage: every segment's clean text, through the content cache when there is one."""
from __future__ import annotations

import numpy as np

from pipeline.core.artifacts import Cleaned, Embedded
from pipeline.core.context import RunContext
from pipeline.embed import MemoEmbedder, get_embedder
from pipeline.embed.cache import EmbeddingCache


def embed_stage(ctx: RunContext, clean: Cleaned) -> Embedded:
    config = ctx.config.embed
    embedder = get_embedder(config.model, device=config.device, batch_size=config.batch_size)
    texts = [segment.clean_text for segment in clean.segments]
    track = ctx.track
    progress = (lambda done, total: track("embedding", done, total)) if track else None
    if ctx.cache_dir is None:
        # in memory only: each distinct text encoded once
        embeddings = MemoEmbedder(embedder).encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        return Embedded(embeddings, embedder, 0, len(texts))
    cache = EmbeddingCache(ctx.cache_dir)
    embeddings, stats = cache.embed(texts, embedder, progress=progress)
    return Embedded(embeddings, embedder, stats.hits, stats.misses, tuple(cache.warnings_))
