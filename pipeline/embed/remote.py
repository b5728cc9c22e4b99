"""Embedding on an engine's workers (``pipeline.compute``): the model is described, never shipped.

A task gets an ``EmbedderSpec`` (a few strings and numbers) and chunks of texts; the worker builds the embedder
from the spec on first use and keeps it for every later task (``worker_embedder``), so each worker loads the model
once. Chunks are the embedding cache's shards (``EmbeddingCache.shard_size`` texts, in the cache's order), each
encoded on its own as a local run encodes it, so a dask run computes the same vectors from the same batches.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from pipeline.embed.backends import EmbedderSpec
from pipeline.embed.base import Embedder

_LOADED: dict[EmbedderSpec, Embedder] = {}
_LOCK = threading.Lock()


def worker_embedder(spec: EmbedderSpec) -> Embedder:
    """The embedder for ``spec``, built once per process (a dask worker, or this process) and kept."""
    with _LOCK:
        if spec not in _LOADED:
            _LOADED[spec] = spec.build()
        return _LOADED[spec]


def encode_chunks(chunks: Sequence[Sequence[str]], spec: EmbedderSpec) -> list[np.ndarray]:
    """One engine task: each chunk encoded on its own by this worker's embedder."""
    embedder = worker_embedder(spec)
    return [np.asarray(embedder.encode(list(chunk)), dtype=np.float32) for chunk in chunks]


class PrecomputedEmbedder:
    """``embedder`` with some vectors already computed elsewhere: ``encode`` returns those for the texts it has
    and asks ``embedder`` only for the others. Name and cache version are the embedder's, so the cache files the
    precomputed vectors exactly where the embedder's own would go."""

    def __init__(self, embedder: Embedder, vectors: dict[str, np.ndarray]):
        self.embedder = embedder
        self.vectors = vectors
        self.name = embedder.name

    @property
    def cache_version(self) -> str:
        return getattr(self.embedder, "cache_version", "")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.encode(missing)))
        if not texts:
            return self.embedder.encode(texts)
        return np.vstack([self.vectors[text] for text in texts]).astype(np.float32)


def encode_on_engine(engine, spec: EmbedderSpec, texts: Sequence[str], chunk_size: int, chunks_per_task: int,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Vectors of ``texts`` (distinct, in the cache's order) computed on ``engine``'s workers, by text."""
    from pipeline.compute import partitions

    chunks = partitions(list(texts), chunk_size)
    tasks = partitions(chunks, max(1, chunks_per_task))
    results = engine.map(encode_chunks, tasks, spec=spec)
    vectors: dict[str, np.ndarray] = {}
    for task, encoded in zip(tasks, results):
        for chunk, block in zip(task, encoded):
            if len(block) != len(chunk):
                raise RuntimeError(f"a worker returned {len(block)} vectors for {len(chunk)} texts")
            vectors.update(zip(chunk, block))
    if progress:
        progress(len(texts), len(texts))
    return vectors
