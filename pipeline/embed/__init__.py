"""Embed: sentence embeddings offline, behind one protocol (``Embedder``), cached by content.

Backends register under versioned names in ``pipeline.core.registry.EMBEDDERS``; ``get_embedder`` resolves a name
or a local model folder."""
from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.registry import EMBEDDERS
# importing the backends registers them, the packaged model first (the order `EMBEDDERS` lists them in)
from pipeline.embed import transformer  # noqa: F401  isort: skip
from pipeline.embed import hashing  # noqa: F401  isort: skip
from pipeline.embed.base import Embedder, offline_hub
from pipeline.embed.cache import CachedEmbedder, CacheStats, EmbeddingCache, MemoEmbedder, content_key
from pipeline.embed.hashing import HashingEmbedder
from pipeline.embed.transformer import SentenceTransformerEmbedder

__all__ = ["CacheStats", "CachedEmbedder", "Embedder", "EmbeddingCache", "HashingEmbedder", "MemoEmbedder",
           "SentenceTransformerEmbedder", "content_key", "get_embedder", "offline_hub"]


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
