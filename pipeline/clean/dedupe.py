"""Near-duplicate detection for the clean stage: character-shingle Jaccard via MinHash banding.

Candidates come from banded MinHash signatures of hashed character n-grams (no all-pairs loop), and each
candidate pair's real Jaccard score is checked, so the threshold is exact for the pairs found.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def find_near_duplicates(texts: Sequence[str], threshold: float, *, ngram: int = 5, n_hashes: int = 64,
                         max_partners: int = 4) -> list[tuple[int, float] | None]:
    """For each text, ``(i, jaccard)`` of the most similar *earlier, not itself near-duplicate* text whose
    character ``ngram`` shingles have Jaccard >= ``threshold``, else None.

    Candidate pairs come from MinHash banding (no O(n^2) loop); every candidate is then checked with its exact
    Jaccard, so there are no false positives. The band width is chosen so that a pair at the threshold is
    missed with probability below 1e-3; texts sharing a band are compared with the first and the previous
    ``max_partners`` texts in it.
    """
    n = len(texts)
    result: list[tuple[int, float] | None] = [None] * n
    if n < 2:
        return result
    shingles = shingle_matrix(texts, ngram)
    sizes = np.diff(shingles.indptr)
    rows = np.flatnonzero(sizes)
    if rows.size < 2:
        return result
    signature = _minhash(shingles, rows, n_hashes)
    width = _band_width(threshold, n_hashes)
    earlier, later = [], []
    for band in range(n_hashes // width):
        band_key = _mix_columns(signature[:, band * width:(band + 1) * width])
        order = np.lexsort((rows, band_key))
        key, member = band_key[order], rows[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        first = np.repeat(starts, np.diff(np.r_[starts, key.size]))
        rank = np.arange(key.size) - first
        for k in range(max_partners):
            earlier += [member[first[rank > k] + k], member[np.flatnonzero(rank > max_partners + k) - 1 - k]]
            later += [member[rank > k], member[rank > max_partners + k]]
    codes = np.unique(np.concatenate(earlier).astype(np.int64) * n + np.concatenate(later))
    a, b = codes // n, codes % n
    plausible = np.minimum(sizes[a], sizes[b]) >= threshold * np.maximum(sizes[a], sizes[b])
    a, b = a[plausible], b[plausible]
    a, b = _likely_pairs(signature, np.searchsorted(rows, a), np.searchsorted(rows, b), a, b, threshold)
    if a.size == 0:
        return result
    overlap = np.asarray(shingles[a].multiply(shingles[b]).sum(axis=1)).ravel()
    jaccard = overlap / (sizes[a] + sizes[b] - overlap)
    close = jaccard >= threshold - 1e-12
    a, b, jaccard = a[close], b[close], jaccard[close]
    kept = np.ones(n, dtype=bool)
    for i in np.lexsort((a, -jaccard, b)):  # by later text, best match first: earlier texts are settled
        earlier_i, later_i = int(a[i]), int(b[i])
        if kept[later_i] and kept[earlier_i]:
            result[later_i] = (earlier_i, float(jaccard[i]))
            kept[later_i] = False
    return result


def shingle_matrix(texts: Sequence[str], ngram: int = 5) -> Any:
    """Binary CSR matrix (texts x distinct character ``ngram``s). Rolling 64-bit hashes in numpy: sklearn's
    HashingVectorizer builds the n-grams in Python and is ten times slower on 50,000 answers."""
    from scipy.sparse import csr_matrix

    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("\x00".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    n_windows = max(codes.size - ngram + 1, 0)
    hashes = np.zeros(n_windows, dtype=np.uint64)
    for k in range(ngram):
        hashes = hashes * np.uint64(1_000_003) + codes[k:k + n_windows].astype(np.uint64)
    doc = np.repeat(np.arange(len(texts)), lengths + 1)[:n_windows]
    offset = np.arange(n_windows) - (np.cumsum(lengths + 1) - (lengths + 1))[doc]
    inside = offset <= lengths[doc] - ngram  # the window does not run past its own text
    # 2**24 columns instead of numbering the distinct shingles (a global sort): a collision costs little.
    # The polynomial hash's top bits ignore the last characters, so mix first (splitmix64's finaliser).
    hashes = hashes[inside]
    for shift, multiplier in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        hashes = (hashes ^ (hashes >> np.uint64(shift))) * np.uint64(multiplier)
    columns = ((hashes ^ (hashes >> np.uint64(31))) >> np.uint64(40)).astype(np.int64)
    matrix = csr_matrix((np.ones(columns.size, dtype=np.float32), (doc[inside], columns)),
                        shape=(len(texts), 1 << 24))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _minhash(shingles: Any, rows: np.ndarray, n_hashes: int) -> np.ndarray:
    """MinHash signatures (len(rows), n_hashes) from universal hashes of the shingle columns; fixed seed."""
    rng = np.random.default_rng(20160201)
    multipliers = rng.bit_generator.random_raw(n_hashes).astype(np.uint64) | np.uint64(1)  # full 64-bit, odd
    offsets = rng.bit_generator.random_raw(n_hashes).astype(np.uint64)
    columns = shingles.indices.astype(np.uint64)
    starts = shingles.indptr[rows]
    signature = np.empty((rows.size, n_hashes), dtype=np.uint64)
    for k in range(n_hashes):
        hashed = (columns * multipliers[k] + offsets[k]) >> np.uint64(32)
        signature[:, k] = np.minimum.reduceat(hashed, starts)
    return signature


def _likely_pairs(signature: np.ndarray, sig_a: np.ndarray, sig_b: np.ndarray, a: np.ndarray, b: np.ndarray,
                  threshold: float, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose MinHash estimate of Jaccard is within 0.2 of the threshold (> 4 standard errors with 64
    hashes), so the exact check runs on few pairs."""
    keep = np.zeros(a.size, dtype=bool)
    for lo in range(0, a.size, chunk):
        same = signature[sig_a[lo:lo + chunk]] == signature[sig_b[lo:lo + chunk]]
        keep[lo:lo + chunk] = same.mean(axis=1) >= threshold - 0.2
    return a[keep], b[keep]


def _band_width(threshold: float, n_hashes: int) -> int:
    """The widest band (fewest chance collisions) that still finds a pair at ``threshold`` with p > 0.999."""
    for width in range(n_hashes, 0, -1):
        if 1.0 - (1.0 - threshold**width) ** (n_hashes // width) > 0.999:
            return width
    return 1


def _mix_columns(block: np.ndarray) -> np.ndarray:
    mixed = np.zeros(block.shape[0], dtype=np.uint64)
    for column in block.T:
        mixed = mixed * np.uint64(0x9E3779B97F4A7C15) + column
    return mixed
