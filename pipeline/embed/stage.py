"""The embed stage: every segment's clean text, through the content cache when there is one.

The backend comes from ``embed.backend`` and the corpus size (``pipeline.embed.backends``). With the dask engine
the texts the cache lacks are encoded on the workers first, shard by shard as a local run would. A matrix of
more than ``scale.memmap_above`` rows is assembled block by block in a memory-mapped .npy file beside the cache
(``<cache_dir>/../matrices/``) and handed on memory-mapped, so it never has to fit in memory twice.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from pipeline.core.artifacts import Cleaned, Embedded
from pipeline.core.context import RunContext
from pipeline.embed import MemoEmbedder
from pipeline.embed.backends import embedder_spec
from pipeline.embed.cache import EmbeddingCache, cache_name
from pipeline.embed.remote import PrecomputedEmbedder, encode_on_engine
from pipeline.io.atomic import current_umask

CHUNKS_PER_TASK = 8  # cache shards per engine task (4,096 texts at the default shard size)


def embed_stage(ctx: RunContext, clean: Cleaned) -> Embedded:
    texts = [segment.clean_text for segment in clean.segments]
    writes = any(folder is not None for folder in (ctx.out_dir, ctx.model_dir, ctx.cache_dir))
    spec = embedder_spec(ctx.config.embed, len(texts), may_write=writes)
    embedder = spec.build()
    track = ctx.track
    progress = (lambda done, total: track("embedding", done, total)) if track else None
    if ctx.cache_dir is None:
        # in memory only: each distinct text encoded once
        embeddings = MemoEmbedder(embedder).encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        return Embedded(embeddings, embedder, 0, len(texts))
    cache = EmbeddingCache(ctx.cache_dir)
    encoder = embedder
    if ctx.engine is not None and ctx.engine.name != "local":
        pending = cache.missing(texts, embedder)
        encoder = PrecomputedEmbedder(embedder, encode_on_engine(ctx.engine, spec, pending, cache.shard_size,
                                                                 CHUNKS_PER_TASK, progress))
    if len(texts) > ctx.config.scale.memmap_above:
        embeddings, hits, misses = _embed_to_file(cache, texts, encoder, ctx.cache_dir.parent / "matrices",
                                                  ctx.config.scale.batch_rows, progress)
        return Embedded(embeddings, embedder, hits, misses, tuple(cache.warnings_))
    embeddings, stats = cache.embed(texts, encoder, progress=progress)
    return Embedded(embeddings, embedder, stats.hits, stats.misses, tuple(cache.warnings_))


def _embed_to_file(cache: EmbeddingCache, texts: list[str], embedder, folder: Path, block: int,
                   progress) -> tuple[np.ndarray, int, int]:
    """The embeddings of ``texts`` written block by block into ``folder/embeddings-<digest>.npy`` and returned
    memory-mapped (read-only); older matrices in ``folder`` are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(cache_name(embedder).encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    final = folder / f"embeddings-{digest.hexdigest()[:24]}.npy"
    total = len(cache.missing(texts, embedder))
    hits = misses = done = 0
    out, tmp = None, None
    try:
        for start in range(0, len(texts), block):
            base = done
            step = (lambda d, t: progress(base + d, total)) if progress else None
            vectors, stats = cache.embed(texts[start:start + block], embedder, progress=step)
            done, hits, misses = done + stats.misses, hits + stats.hits, misses + stats.misses
            if out is None:
                fd, name = tempfile.mkstemp(prefix=final.name + ".", suffix=".partial", dir=folder)
                os.close(fd)
                tmp = Path(name)
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(texts), vectors.shape[1]))
            out[start:start + len(vectors)] = vectors
        out.flush()
        del out
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it 0600; the cache follows the umask like outputs
        os.replace(tmp, final)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    for old in folder.glob("embeddings-*.npy"):
        if old != final:
            old.unlink(missing_ok=True)
    return np.load(final, mmap_mode="r"), hits, misses
