"""The one place BERTopic meets the pipeline's embedder protocol."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.embed import Embedder, MemoEmbedder, offline_hub


def bertopic_backend(embedder: Embedder):
    """Wrap an embedder for BERTopic (whose KeyBERTInspired and zero-shot steps embed words and topics)."""
    offline_hub()
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def __init__(self):
            super().__init__()
            self.embedding_model = embedder

        def embed(self, documents, verbose=False):
            return embedder.encode(list(documents))

    return _Backend()


def memo_backend(embedder: Embedder, texts: Sequence[str], X: np.ndarray):
    """bertopic_backend that remembers every string it embedded, primed with the training segments: KeyBERTInspired
    and MaximalMarginalRelevance embed the same candidate words and representative documents again and again."""
    return bertopic_backend(MemoEmbedder(embedder, known=dict(zip(texts, X))))
