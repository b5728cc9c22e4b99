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


BLOCK_ROWS = 65_536  # rows per block of the blocked helpers: a larger matrix is never copied whole


def unit_rows_times(embeddings: np.ndarray, right: np.ndarray, dtype=np.float64,
                    block: int = BLOCK_ROWS) -> np.ndarray:
    """``unit_rows(embeddings, dtype) @ right`` without a normalised copy of the whole matrix: block by block (one
    block, the plain product, up to ``block`` rows)."""
    if len(embeddings) <= block:
        return unit_rows(embeddings, dtype) @ right
    out = np.empty((len(embeddings), right.shape[1]), dtype=np.result_type(dtype, right.dtype))
    for start in range(0, len(embeddings), block):
        out[start:start + block] = unit_rows(embeddings[start:start + block], dtype) @ right
    return out
