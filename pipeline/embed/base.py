"""The one embedding protocol every backend implements, and the offline switch for the model hub."""
from __future__ import annotations

import os
from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 embeddings, one L2-normalised row per text."""


def offline_hub() -> None:
    """No model hub at run time: huggingface_hub reads HF_HUB_OFFLINE when it is first imported, so this runs
    before sentence_transformers or bertopic is imported (a user's explicit setting is kept)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
