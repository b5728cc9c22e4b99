"""Near-duplicate detection for the clean stage: character-shingle Jaccard via MinHash banding.

Candidates come from banded MinHash signatures of hashed character n-grams (no all-pairs loop), and each
candidate pair's real Jaccard score is checked, so the threshold is exact for the pairs found.

Memory stays bounded by the number of texts, whatever the texts: it used 4.7 GB at 50,000 templated answers and
20.6 GB at 200,000, because templated answers share MinHash bands, so the candidate pairs run into the millions
and the exact check built one sparse row per pair for all of them at once. Now the shingle matrix is built in
blocks of texts, candidate pairs are filtered band by band (only plausible pairs are kept between bands), and the
exact check runs on blocks of pairs; the result is the same pairs as before (docs/benchmarks.md, "Ingest memory").
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

TEXT_BLOCK = 20_000  # texts hashed into shingles at a time
PAIR_BLOCK = 50_000  # candidate pairs checked at a time (each builds two sparse rows)


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
    a, b = _candidate_pairs(signature, rows, sizes, threshold, _band_width(threshold, n_hashes), max_partners)
    if a.size == 0:
        return result
    jaccard = np.concatenate([_jaccard(shingles, sizes, a[lo:lo + PAIR_BLOCK], b[lo:lo + PAIR_BLOCK])
                              for lo in range(0, a.size, PAIR_BLOCK)])
    close = jaccard >= threshold - 1e-12
    a, b, jaccard = a[close], b[close], jaccard[close]
    kept = np.ones(n, dtype=bool)
    for i in np.lexsort((a, -jaccard, b)):  # by later text, best match first: earlier texts are settled
        earlier_i, later_i = int(a[i]), int(b[i])
        if kept[later_i] and kept[earlier_i]:
            result[later_i] = (earlier_i, float(jaccard[i]))
            kept[later_i] = False
    return result


def _candidate_pairs(signature: np.ndarray, rows: np.ndarray, sizes: np.ndarray, threshold: float, width: int,
                     max_partners: int) -> tuple[np.ndarray, np.ndarray]:
    """(earlier, later) text indices of the pairs sharing a band whose sizes and MinHash estimate make Jaccard >=
    ``threshold`` plausible; unique, filtered band by band so that only those pairs are ever held together."""
    n = int(sizes.size)
    found = np.zeros(0, dtype=np.int64)
    for band in range(signature.shape[1] // width):
        band_key = _mix_columns(signature[:, band * width:(band + 1) * width])
        order = np.lexsort((rows, band_key))
        key, member = band_key[order], rows[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        first = np.repeat(starts, np.diff(np.r_[starts, key.size]))
        rank = np.arange(key.size) - first
        earlier, later = [], []
        for k in range(max_partners):
            earlier += [member[first[rank > k] + k], member[np.flatnonzero(rank > max_partners + k) - 1 - k]]
            later += [member[rank > k], member[rank > max_partners + k]]
        a, b = np.concatenate(earlier).astype(np.int64), np.concatenate(later).astype(np.int64)
        plausible = np.minimum(sizes[a], sizes[b]) >= threshold * np.maximum(sizes[a], sizes[b])
        a, b = _likely_pairs(signature, np.searchsorted(rows, a[plausible]), np.searchsorted(rows, b[plausible]),
                             a[plausible], b[plausible], threshold)
        found = _sorted_unique(np.concatenate([found, a * n + b]))
    return found // n, found % n


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting in place: numpy 2's np.unique on 64-bit integers was 50x slower than a sort here."""
    values.sort()
    return values[np.r_[True, values[1:] != values[:-1]]] if values.size else values


def _jaccard(shingles: Any, sizes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    overlap = np.asarray(shingles[a].multiply(shingles[b]).sum(axis=1)).ravel()
    return overlap / (sizes[a] + sizes[b] - overlap)


def shingle_matrix(texts: Sequence[str], ngram: int = 5) -> Any:
    """Binary CSR matrix (texts x distinct character ``ngram``s), built ``TEXT_BLOCK`` texts at a time. Rolling
    64-bit hashes in numpy: sklearn's HashingVectorizer builds the n-grams in Python and is ten times slower on
    50,000 answers."""
    from scipy.sparse import csr_matrix

    indptr, indices = [np.zeros(1, dtype=np.int64)], []
    for lo in range(0, len(texts), TEXT_BLOCK):
        block_indptr, block_indices = _shingle_block(texts[lo:lo + TEXT_BLOCK], ngram)
        indptr.append(block_indptr[1:] + indptr[-1][-1])
        indices.append(block_indices)
    indices_all = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32)
    return csr_matrix((np.ones(indices_all.size, dtype=np.float32), indices_all, np.concatenate(indptr)),
                      shape=(len(texts), 1 << 24))


def _shingle_block(texts: Sequence[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, sorted distinct column indices per text) of one block of texts."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("\x00".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    n_windows = max(codes.size - ngram + 1, 0)
    hashes = np.zeros(n_windows, dtype=np.uint64)
    for k in range(ngram):
        hashes *= np.uint64(1_000_003)
        hashes += codes[k:k + n_windows]
    doc = np.repeat(np.arange(len(texts)), lengths + 1)[:n_windows]
    offset = np.arange(n_windows) - (np.cumsum(lengths + 1) - (lengths + 1))[doc]
    inside = offset <= lengths[doc] - ngram  # the window does not run past its own text
    del offset
    # 2**24 columns instead of numbering the distinct shingles (a global sort): a collision costs little.
    # The polynomial hash's top bits ignore the last characters, so mix first (splitmix64's finaliser).
    hashes, doc = hashes[inside], doc[inside]
    for shift, multiplier in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        hashes ^= hashes >> np.uint64(shift)
        hashes *= np.uint64(multiplier)
    columns = (hashes ^ (hashes >> np.uint64(31))) >> np.uint64(40)
    del hashes
    cells = _sorted_unique(doc.astype(np.uint64) << np.uint64(24) | columns)  # distinct (text, column), sorted
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount((cells >> np.uint64(24)).astype(np.int64), minlength=len(texts)), out=indptr[1:])
    return indptr, (cells & np.uint64((1 << 24) - 1)).astype(np.int32)


def _minhash(shingles: Any, rows: np.ndarray, n_hashes: int) -> np.ndarray:
    """MinHash signatures (len(rows), n_hashes) from universal hashes of the shingle columns; fixed seed. The
    hashes keep their top 32 bits, so the signature is stored as uint32 (half the memory of uint64); rows are
    hashed ``TEXT_BLOCK`` at a time, so the 64-bit working copies stay the size of one block."""
    rng = np.random.default_rng(20160201)
    multipliers = rng.bit_generator.random_raw(n_hashes).astype(np.uint64) | np.uint64(1)  # full 64-bit, odd
    offsets = rng.bit_generator.random_raw(n_hashes).astype(np.uint64)
    signature = np.empty((rows.size, n_hashes), dtype=np.uint32)
    for lo in range(0, rows.size, TEXT_BLOCK):
        block = rows[lo:lo + TEXT_BLOCK]
        start, end = shingles.indptr[block[0]], shingles.indptr[block[-1] + 1]
        columns = shingles.indices[start:end].astype(np.uint64)
        starts = shingles.indptr[block] - start
        hashed = np.empty_like(columns)
        for k in range(n_hashes):
            np.multiply(columns, multipliers[k], out=hashed)
            hashed += offsets[k]
            hashed >>= np.uint64(32)
            signature[lo:lo + block.size, k] = np.minimum.reduceat(hashed, starts)
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
        mixed = mixed * np.uint64(0x9E3779B97F4A7C15) + column.astype(np.uint64)
    return mixed
