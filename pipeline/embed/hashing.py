"""A deterministic stand-in embedder for tests (``fake-hash.v1``): no model, no download, instant."""
from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

from pipeline.core.registry import EMBEDDERS
from pipeline.core.vectors import unit_rows


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


@EMBEDDERS.register("fake-hash.v1")
def hashing_v1(device: str = "cpu", batch_size: int = 32) -> HashingEmbedder:
    return HashingEmbedder()
