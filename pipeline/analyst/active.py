"""Which segments to code next (``pipeline validate sample --next N``): uncertain ones, spread out, rare codes first.

For a batch of ``n`` segments among those neither coded nor asked before (never the same segment twice):

1. Stratified by predicted code: slots go one at a time to the predicted code with the fewest analyst-coded
   segments so far (counting the slots given in this batch), while that code has fewer than ``min_per_code``;
   then over all candidates. A code no candidate is predicted as gets no slot.
2. Within a code, greedy: each pick maximises ``uncertainty * novelty ** diversity * density ** density_power``;
   uncertainty = 1 - (p1 - p2) (margin), novelty = 1 - max cosine to any coded or already picked segment
   (core-set style), density = mean cosine to the ``n_neighbors`` nearest segments (outliers teach little).
3. With nothing coded yet (``cold_start="typical"``) the first batch takes the densest, most confident segments of
   each predicted code instead: the label-free coder's surest cases are checked first.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
from pydantic import Field
from sklearn.base import BaseEstimator

from pipeline.core.config import Bool, Float, Int, Seed
from pipeline.core.params import ParameterConstraints, check_parameters


def density(embeddings: np.ndarray, n_neighbors: int = 10, chunk: int = 2048) -> np.ndarray:
    """Mean cosine to the ``n_neighbors`` nearest other rows (unit rows; computed in chunks, O(n^2 d))."""
    X = np.asarray(embeddings, dtype=np.float32)
    k = min(n_neighbors, len(X) - 1)
    if k < 1:
        return np.ones(len(X))
    out = np.zeros(len(X))
    for start in range(0, len(X), chunk):
        S = X[start:start + chunk] @ X.T
        S[np.arange(len(S)), np.arange(start, start + len(S))] = -np.inf
        out[start:start + chunk] = np.partition(S, -k, axis=1)[:, -k:].mean(axis=1)
    return np.clip(out, 1e-6, None)


class ActiveSelector(BaseEstimator):
    """Pick the next segments to code (see the module docstring).

    Parameters
    ----------
    diversity, density_power : float
        Exponents of novelty and density in the score.
    n_neighbors : int
        Neighbours of the density.
    stratify : bool
        Give rare predicted codes their examples first.
    min_per_code : int
        Coded segments a predicted code is owed before the batch is chosen over all candidates.
    cold_start : {"typical", "uncertain"}
        How the first batch is chosen when nothing is coded.
    random_state : int
        Breaks ties between codes.

    Attributes
    ----------
    selected_ : ndarray of int
        The last batch (rows), best first.
    """

    _parameter_constraints = ParameterConstraints(
        diversity=Annotated[Float, Field(ge=0)], density_power=Annotated[Float, Field(ge=0)],
        n_neighbors=Annotated[Int, Field(ge=1)], stratify=Bool, min_per_code=Annotated[Int, Field(ge=0)],
        random_state=Seed)

    def __init__(self, diversity: float = 1.0, density_power: float = 1.0, n_neighbors: int = 10,
                 stratify: bool = True, min_per_code: int = 6, cold_start: str = "typical", random_state: int = 0):
        self.diversity = diversity
        self.density_power = density_power
        self.n_neighbors = n_neighbors
        self.stratify = stratify
        self.min_per_code = min_per_code
        self.cold_start = cold_start
        self.random_state = random_state

    def select(self, embeddings: np.ndarray, proba: np.ndarray, coded_index: Sequence[int], n: int,
               coded_labels: Sequence[int] = (), candidates: np.ndarray | None = None,
               dense: np.ndarray | None = None) -> np.ndarray:
        """Rows of the ``n`` segments to code next. ``proba``: the current coder's probabilities (n_rows, C);
        ``coded_labels``: code indices of ``coded_index``; ``candidates``: mask of the rows that may be picked
        (e.g. not asked before); ``dense``: a precomputed :func:`density`."""
        check_parameters(self)
        X = np.asarray(embeddings, dtype=np.float32)
        P = np.asarray(proba, dtype=float)
        coded = np.zeros(len(X), dtype=bool)
        coded[np.asarray(coded_index, dtype=int)] = True
        available = ~coded if candidates is None else (~coded & np.asarray(candidates, dtype=bool))
        n = int(min(n, available.sum()))
        if n <= 0:
            self.selected_ = np.zeros(0, dtype=int)
            return self.selected_
        dense = density(X, self.n_neighbors) if dense is None else dense
        value = self._value(P, cold=not coded.any() and self.cold_start == "typical") * dense ** self.density_power
        counts = np.bincount(np.asarray(coded_labels, dtype=int), minlength=P.shape[1])[:P.shape[1]].astype(float)
        nearest = np.full(len(X), -1.0)
        anchors = np.flatnonzero(coded)
        for start in range(0, len(anchors), 1024):
            nearest = np.maximum(nearest, (X @ X[anchors[start:start + 1024]].T).max(axis=1))
        self.selected_ = self._greedy(X, P.argmax(axis=1), value, counts, nearest, available.copy(), n)
        return self.selected_

    def _value(self, P: np.ndarray, cold: bool) -> np.ndarray:
        top2 = np.sort(P, axis=1)[:, -2:] if P.shape[1] >= 2 else np.hstack([np.zeros((len(P), 1)), P])
        value = top2[:, 1] if cold else 1.0 - (top2[:, 1] - top2[:, 0])
        return np.clip(value, 1e-6, None)

    def _greedy(self, X, predicted, value, counts, nearest, available, n) -> np.ndarray:
        rng = np.random.default_rng(self.random_state + int(counts.sum()))
        picked: list[int] = []
        while len(picked) < n and available.any():
            live = np.unique(predicted[available]) if self.stratify else np.zeros(0, dtype=int)
            live = live[counts[live] < self.min_per_code]
            if len(live):
                c = live[np.argmin(counts[live] + 1e-3 * rng.random(len(live)))]
                pool = np.flatnonzero(available & (predicted == c))
            else:
                pool = np.flatnonzero(available)
            score = value[pool] * np.clip(1.0 - nearest[pool], 1e-6, None) ** self.diversity
            best = int(pool[np.argmax(score)])
            picked.append(best)
            available[best] = False
            counts[predicted[best]] += 1
            nearest = np.maximum(nearest, X @ X[best])
        return np.asarray(picked, dtype=int)


def audit_count(n: int, share: float, asked_before: int = 0, audited_before: int = 0) -> int:
    """How many of a batch of ``n`` are audit rows: what brings the audit rows of every batch so far to
    ``round(share * rows asked)``, at most ``n - 1`` (a batch is never all audit when n > 1)."""
    if n <= 0 or share <= 0:
        return 0
    due = int(np.floor(share * (asked_before + n) + 0.5)) - audited_before
    return int(max(0, min(due, n - 1 if n > 1 else n)))


def audited_batch(selector: ActiveSelector, embeddings: np.ndarray, proba: np.ndarray, coded_index: Sequence[int],
                  n: int, audit_share: float, rng: np.random.Generator, coded_labels: Sequence[int] = (),
                  candidates: np.ndarray | None = None, dense: np.ndarray | None = None,
                  asked_before: int = 0, audited_before: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A ``--next`` batch: (active rows, audit rows). The audit rows, :func:`audit_count` of the ``n`` (given the
    rows and audit rows of the earlier batches, so the share holds over all of them), are drawn
    uniformly at random from the candidates (never coded, never asked): they are a random sample of the segments
    the machine codes, so the accuracy measured on them (``pipeline.analyst.accuracy``, ``cv_random``) estimates
    the machine's accuracy without the bias of the actively chosen ones. The rest are chosen by ``selector``."""
    n_rows = len(embeddings)
    available = np.ones(n_rows, dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool).copy()
    available[np.asarray(coded_index, dtype=int)] = False
    pool = np.flatnonzero(available)
    n = int(min(n, len(pool)))
    size = audit_count(n, audit_share, asked_before, audited_before)
    audit = np.sort(rng.choice(pool, size=size, replace=False)) if n else pool[:0]
    available[audit] = False
    active = selector.select(embeddings, proba, coded_index, n - len(audit), coded_labels=coded_labels,
                             candidates=available, dense=dense)
    return active, audit
