"""A calibrated off-list score per segment: how likely it is that a segment belongs to a category the closed list
does not have, learned from the list itself by leave-one-category-out (LOCO).

Evidence per segment, from the max-over-items similarities to the listed categories (``pipeline.categories.items``),
each standardised over the corpus (``features``):

- ``best``: its similarity to its nearest category (the default, alone);
- ``margin``: how far that category leads the runner-up;
- ``typicality``: ``best`` standardised against the segments whose nearest category is the same one (a segment
  far less close to its category than that category's own segments are is atypical of it).

Measured on the five shared sets with the open-set protocol (benchmarks/openset.py, 6 conditions each): adding
``margin`` and ``typicality`` lowered the AUROC on airline (0.62 -> 0.58) and nhs-fft-v6 (0.59 -> 0.51) and
gained nowhere, so the default is ``best`` alone: the nearest-name anchor's evidence, made a probability. Calibration: each listed category h is taken off the list in turn;
the segments whose nearest category was h are then "off the list", every other segment is not, and the evidence is
recomputed from the remaining categories. One logistic regression on the pooled pairs (classes weighted equally)
maps evidence to a probability, applied with the whole list. So the score reads: the probability, learned on this
corpus with this embedder, that a segment with this evidence belongs to a category missing from the list, with
off-list and listed material given equal prior weight (0.5 = the evidence does not lean either way). A theme's
score is the mean of its segments' scores, on the same scale.

Measured (docs/benchmarks.md, open-set): this answer-level score is weak evidence in MiniLM embeddings, no better
than the nearest-name anchor it is built from (AUROC about 0.55-0.65); it is there so that an analyst can sort
candidates, and so that the emergent flag is a documented threshold on a readable number.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from pipeline.categories.items import embed_categories, item_similarity
from pipeline.core.config import Float, Seed
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterConstraints, ParameterError, check_parameters
from pipeline.core.records import Category

FEATURES = ("best", "margin", "typicality")


def evidence(similarity: np.ndarray) -> np.ndarray:
    """(n, 3) raw evidence (``FEATURES``) from an (n, n_categories) similarity matrix, higher = more on the list."""
    n, m = similarity.shape
    if m == 0:
        return np.zeros((n, len(FEATURES)))
    order = np.sort(similarity, axis=1)
    best = order[:, -1]
    margin = best - order[:, -2] if m > 1 else np.zeros(n)
    nearest = similarity.argmax(axis=1)
    typicality = np.zeros(n)
    for c in np.unique(nearest):
        rows = nearest == c
        typicality[rows] = (best[rows] - best[rows].mean()) / max(float(best[rows].std()), 1e-6)
    return np.column_stack([best, margin, typicality])


def _standardised(E: np.ndarray) -> np.ndarray:
    return (E - E.mean(axis=0)) / np.maximum(E.std(axis=0), 1e-9)


class OffListScorer(BaseEstimator):
    """Calibrated off-list probability per segment, by leave-one-category-out (see the module docstring).

    Parameters
    ----------
    features : tuple of str
        Evidence used (``FEATURES``: "best", "margin", "typicality"); default ``("best",)``.
    C : float
        Inverse regularisation of the calibrating logistic regression.
    random_state : int
        Seeds the logistic regression's solver (deterministic anyway with lbfgs).

    Attributes
    ----------
    similarity_ : ndarray (n_segments, n_categories)
        Max cosine over each category's items.
    score_ : ndarray (n_segments,)
        P(off the list) per segment, in [0, 1].
    calibrator_ : LogisticRegression
        Fitted on the pooled LOCO evidence (standardised ``FEATURES``, negated: higher = more off the list).
    n_loco_ : int
        Categories taken off the list in turn (0 when fewer than two categories: every score is then 0.5).
    """

    _parameter_constraints = ParameterConstraints(features=list[str],
                                                  C=Annotated[Float, Field(gt=0)], random_state=Seed)

    def __init__(self, features: tuple[str, ...] = ("best",), C: float = 1.0, random_state: int = 0):
        self.features = features
        self.C = C
        self.random_state = random_state

    def fit(self, embeddings: np.ndarray, categories: list[Category], embedder) -> OffListScorer:
        check_parameters(self)
        if not self.features or set(self.features) - set(FEATURES):
            raise ParameterError(f"OffListScorer: features must be a non-empty list of {', '.join(FEATURES)}, "
                                 f"got {self.features!r}")
        if not categories:
            raise PipelineError("off-list scoring needs at least one category (categories.yaml is empty or missing)")
        X = np.asarray(embeddings, dtype=np.float32)
        self._items = embed_categories(categories, embedder)
        self.similarity_ = item_similarity(X, self._items) if len(X) else np.zeros((0, len(categories)))
        return self._calibrate(self.similarity_)

    def score_samples(self, embeddings: np.ndarray) -> np.ndarray:
        """The off-list score of other segments (e.g. the rows a sampled theme fit did not see), standardised and
        calibrated as the fitted corpus was."""
        if not hasattr(self, "score_"):
            raise RuntimeError("OffListScorer is not fitted")
        X = np.asarray(embeddings, dtype=np.float32)
        if self.calibrator_ is None or not len(X):
            return np.full(len(X), 0.5)
        raw = -evidence(item_similarity(X, self._items))
        columns = [FEATURES.index(name) for name in self.features]
        return self.calibrator_.predict_proba(((raw - self._centre) / self._scale)[:, columns])[:, 1]

    def _calibrate(self, S: np.ndarray) -> OffListScorer:
        n, m = S.shape
        self.n_loco_ = m if m >= 2 and n >= 2 else 0
        if not self.n_loco_:
            self.calibrator_ = None
            self.score_ = np.full(n, 0.5)
            return self
        nearest = S.argmax(axis=1)
        rows, ys = [], []
        for h in range(m):
            rest = np.delete(S, h, axis=1)
            rows.append(self._evidence(rest))
            ys.append(nearest == h)
        R, Y = np.vstack(rows), np.concatenate(ys)
        if Y.all() or not Y.any():
            self.calibrator_ = None
            self.score_ = np.full(n, 0.5)
            return self
        self.calibrator_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000,
                                              random_state=self.random_state).fit(R, Y)
        raw = -evidence(S)  # kept to standardise other rows the same way (score_samples)
        self._centre, self._scale = raw.mean(axis=0), np.maximum(raw.std(axis=0), 1e-9)
        self.score_ = self.calibrator_.predict_proba(self._evidence(S))[:, 1]
        return self

    def _evidence(self, S: np.ndarray) -> np.ndarray:
        """Standardised evidence, negated (higher = more off the list), of the chosen features only."""
        columns = [FEATURES.index(name) for name in self.features]
        return -_standardised(evidence(S))[:, columns]

    def theme_score(self, members: np.ndarray) -> float:
        """The mean score of a theme's segments (a boolean mask or row indices); nan for an empty theme."""
        scores = self.score_[members]
        return float(scores.mean()) if scores.size else float("nan")
