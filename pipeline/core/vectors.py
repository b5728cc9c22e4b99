"""Vector helpers every stage shares, so cosine similarities and saved centroids agree across stages."""
from __future__ import annotations

import numpy as np


def unit_rows(vectors: np.ndarray, dtype=None) -> np.ndarray:
    """``vectors`` (one vector, or a matrix of row vectors) scaled to unit length; zero vectors stay zero.

    ``dtype`` converts first (None keeps the input's)."""
    vectors = np.asarray(vectors, dtype=dtype)
    if vectors.ndim == 1:  # norm() of a vector sums in another order than row norms: keep each path's rounding
        norm = np.linalg.norm(vectors)
        return vectors / norm if norm > 0 else vectors
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)
