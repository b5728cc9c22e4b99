"""Embeddings cached on disk by model name + content hash, and remembered in memory within a fit.

A re-run embeds only new or changed texts; the cache is written atomically per batch, so an interrupted run
keeps every batch it finished. Shards are .npz files of plain arrays, read with ``allow_pickle=False`` (nothing
in one can run code), carrying a format version and a sha256 of their keys and vectors. A shard that cannot be
read or checked (truncated, empty, edited: one such shard made every later run fail with ``BadZipFile``) is named
in a warning, deleted, and its texts are embedded again into a new shard.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from pipeline.embed.base import Embedder
from pipeline.io.atomic import atomic_write_bytes

SHARD_VERSION = 1
# what np.load raises for a damaged .npz: a cut zip, an empty file, a bad member, a corrupt deflate stream
_DAMAGE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, IndexError, TypeError)


def cache_name(embedder: Embedder) -> str:
    """What a cached vector depends on besides its text: the model and, where the embedder says, the versions of
    the libraries that compute it (``cache_version``), so an upgrade never mixes old and new vectors."""
    version = getattr(embedder, "cache_version", "")
    return f"{embedder.name}@{version}" if version else embedder.name


def content_key(model_name: str, text: str) -> str:
    return hashlib.sha256(f"{model_name}\x00{text}".encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int


class EmbeddingCache:
    """Content-addressed store: one .npz shard per embedded batch, keyed by sha256(model name, text).

    Shards are written atomically; on load every shard is read into one index, so a run interrupted
    mid-way re-embeds only the batches it had not finished.
    """

    def __init__(self, cache_dir: str | Path, shard_size: int = 512):
        self.cache_dir = Path(cache_dir)
        self.shard_size = shard_size
        self._indexes: dict[Path, dict[str, np.ndarray]] = {}  # shards are read once per cache object
        self.warnings_: list[str] = []  # one line per damaged shard found (and discarded)

    def _model_dir(self, model_name: str) -> Path:
        # readable, and unique however long the name (the versions make it long)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name.split("@")[0])[-60:]
        slug += "-" + hashlib.sha256(model_name.encode("utf-8")).hexdigest()[:12]
        return self.cache_dir / slug

    def _load_index(self, model_dir: Path) -> dict[str, np.ndarray]:
        index: dict[str, np.ndarray] = {}
        width = None
        for shard in sorted(model_dir.glob("*.npz")):
            try:
                keys, vectors = _read_shard(shard, width)
            except _DAMAGE as exc:
                problem = " ".join(str(exc).split())[:100] or type(exc).__name__
                self.warnings_.append(f"{shard.as_posix()}: damaged embedding cache shard ({type(exc).__name__}: "
                                      f"{problem}); discarded, its texts are embedded again")
                shard.unlink(missing_ok=True)
                continue
            width = vectors.shape[1]
            index.update(zip(keys, vectors))
        return index

    def _index(self, embedder: Embedder) -> tuple[Path, dict[str, np.ndarray]]:
        model_dir = self._model_dir(cache_name(embedder))
        model_dir.mkdir(parents=True, exist_ok=True)
        if model_dir not in self._indexes:
            self._indexes[model_dir] = self._load_index(model_dir)
        return model_dir, self._indexes[model_dir]

    def missing(self, texts: Sequence[str], embedder: Embedder) -> list[str]:
        """The distinct ``texts`` not in the cache yet, in the order ``embed`` would encode them."""
        _, index = self._index(embedder)
        name = cache_name(embedder)
        pending: dict[str, str] = {}
        for text in texts:
            key = content_key(name, text)
            if key not in index and key not in pending:
                pending[key] = text
        return list(pending.values())

    def embed(self, texts: Sequence[str], embedder: Embedder,
              progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, CacheStats]:
        """Embeddings for ``texts`` (rows aligned), reading cached rows and encoding only the rest.

        ``progress(done, total)`` is called after each encoded shard (total = texts not in the cache)."""
        model_dir, index = self._index(embedder)
        keys = [content_key(cache_name(embedder), text) for text in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key not in index and key not in missing:
                missing[key] = text
        pending = list(missing.items())
        done = 0
        for start in range(0, len(pending), self.shard_size):
            chunk = pending[start:start + self.shard_size]
            vectors = embedder.encode([text for _, text in chunk])
            chunk_keys = np.array([key for key, _ in chunk])
            for key, vector in zip(chunk_keys, vectors):
                index[str(key)] = vector
            self._write_shard(model_dir, chunk_keys, vectors)
            done += len(chunk)
            if progress:
                progress(done, len(pending))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), CacheStats(0, 0)
        matrix = np.stack([index[key] for key in keys]).astype(np.float32)
        misses = sum(1 for key in keys if key in missing)
        return matrix, CacheStats(hits=len(keys) - misses, misses=misses)

    @staticmethod
    def _write_shard(model_dir: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
        import io

        buffer = io.BytesIO()
        vectors = np.asarray(vectors, dtype=np.float32)
        np.savez(buffer, keys=keys, vectors=vectors, version=np.int64(SHARD_VERSION),
                 checksum=np.array(_shard_digest(keys, vectors)))
        name = hashlib.sha256("".join(keys.tolist()).encode()).hexdigest()[:24]
        atomic_write_bytes(model_dir / f"{name}.npz", buffer.getvalue())


def _shard_digest(keys: np.ndarray, vectors: np.ndarray) -> str:
    digest = hashlib.sha256("\x00".join(str(k) for k in keys).encode("utf-8"))
    digest.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    return digest.hexdigest()


def _read_shard(shard: Path, width: int | None) -> tuple[list[str], np.ndarray]:
    """A shard's keys and vectors, checked; raises one of ``_DAMAGE`` for anything wrong with it."""
    with np.load(shard, allow_pickle=False) as data:
        keys, vectors = data["keys"], data["vectors"]
        version = int(data["version"]) if "version" in data.files else None
        checksum = str(data["checksum"]) if "checksum" in data.files else None
    if keys.ndim != 1 or vectors.ndim != 2 or len(keys) != len(vectors) or keys.dtype.kind != "U":
        raise ValueError(f"keys {keys.shape} and vectors {vectors.shape} do not match")
    if width is not None and vectors.shape[1] != width:
        raise ValueError(f"vectors of width {vectors.shape[1]}, the other shards' are {width}")
    if version is not None and version != SHARD_VERSION:
        raise ValueError(f"shard format version {version}, expected {SHARD_VERSION}")
    if checksum is not None and checksum != _shard_digest(keys, vectors):
        raise ValueError("checksum mismatch")
    if not np.isfinite(vectors).all():
        raise ValueError("non-finite values")
    return [str(key) for key in keys], vectors


class CachedEmbedder:
    """An embedder whose every ``encode`` goes through the content cache, so a re-run that has seen every text
    (category items, calibration sentences) never loads the model at all."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache):
        self.embedder = embedder
        self.cache = cache
        self.name = embedder.name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return self.embedder.encode(texts)
        return self.cache.embed(list(texts), self.embedder)[0]


class MemoEmbedder:
    """An embedder that encodes each distinct string once per instance, in memory (``known`` primes it).

    One theme fit embeds the same category items in three steps (zero-shot claims, the coder, the off-list test)
    and BERTopic's representations embed the same candidate words again and again; none of it needs the disk
    cache, whose shards suit corpora, not word lists."""

    def __init__(self, embedder: Embedder, known: dict[str, np.ndarray] | None = None):
        self.embedder = embedder
        self.name = getattr(embedder, "name", "?")
        self._memo: dict[str, np.ndarray] = dict(known or {})

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(text) for text in texts]
        if not texts:
            return self.embedder.encode(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.embedder.encode(missing)))
        return np.vstack([self._memo[text] for text in texts])
