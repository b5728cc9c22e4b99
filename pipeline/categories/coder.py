"""Code every segment with one closed category, without labelled examples: max-over-items cosine as a prior, then
self-training rounds, anchored to that prior when the categories carry a codebook (docs/benchmarks.md, "Category
coding against the nearest name")."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field
from scipy.optimize import brentq
from scipy.special import softmax
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from pipeline.categories.items import embed_categories, item_similarity
from pipeline.core.config import Bool, Float, Int, Seed
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterConstraints, check_parameters
from pipeline.core.records import Category


def name_prior(similarity: np.ndarray) -> np.ndarray:
    """Row-wise softmax of the similarities, each row centred and divided by the corpus-wide spread of centred
    similarities (so the prior's sharpness is in units of this corpus and embedder, not a fixed temperature)."""
    if similarity.size == 0:
        return np.zeros_like(similarity, dtype=np.float64)
    centred = similarity - similarity.mean(axis=1, keepdims=True)
    logits = centred / max(float(centred.std()), 1e-6)
    return softmax(logits, axis=1)


def agreement_temperature(log_scores: np.ndarray, target: float) -> float:
    """The temperature T at which the mean top probability of ``softmax(log_scores / T)`` equals ``target`` (1 when
    that cannot be reached: a target at or below the uniform share, or at or above the sharpest scores)."""
    n, m = log_scores.shape
    if n == 0 or m < 2 or not (1.0 / m < target < 1.0):
        return 1.0

    def gap(log_t: float) -> float:
        return float(softmax(log_scores / np.exp(log_t), axis=1).max(axis=1).mean()) - target

    low, high = -6.0, 6.0
    if gap(low) < 0 or gap(high) > 0:
        return 1.0
    return float(np.exp(brentq(gap, low, high, xtol=1e-4)))


class CategoryCoder(BaseEstimator):
    """Code every segment with one closed category, without labelled examples.

    The prior is a softmax over each segment's max-over-items cosines (``name_prior``). Then, ``n_self_training``
    times, the ``keep_share`` most confident segments of each category (under the current scores) train a balanced
    logistic regression on the embeddings, and the scores become the product of its probabilities and the prior
    raised to ``prior_weight``. ``None`` (the default): 1 when some category has a description or keywords (a
    codebook: the anchored product gained 0.03-0.06 macro-F1 on all three shared codebook conditions), 0 when the
    list is names only (the regression alone, as before: anchoring to bare names lost on napire-causes).

    ``confidence_`` is the probability of the chosen category. It is not calibrated against truth and cannot be
    without labels: on the shared sets its expected calibration error ranges from 0.03 to 0.4 (docs/benchmarks.md),
    and it is over-confident most where the names say least. ``calibrate`` divides the log scores by the
    temperature at which the mean confidence equals the share of segments where the prior's top category agrees
    with the final one; measured, that made it worse (both views come from the names, so they share their
    errors), and it is off by default. An analyst's coded sample (``pipeline code``) gives calibrated codes.

    Attributes
    ----------
    similarity_ : ndarray (n_segments, n_categories)
        Max cosine over each category's items.
    prior_ : ndarray (n_segments, n_categories)
        ``name_prior(similarity_)``.
    scores_ : ndarray (n_segments, n_categories)
        The scores ``labels_`` is the row-wise argmax of: class probabilities (calibrated when ``calibrate``), or
        ``similarity_`` when no self-training ran.
    confidence_ : ndarray (n_segments,)
        The probability of each segment's chosen category (from the prior when no self-training ran).
    labels_ : ndarray of int (n_segments,)
        Category index per segment (into the ``categories`` passed to ``fit``).
    n_rounds_ : int
        Self-training rounds actually run (fewer than asked when fewer than two categories have segments).
    prior_agreement_ : float
        Share of segments whose chosen category is also the prior's top category.
    temperature_ : float
        The calibration temperature (1 without ``calibrate``).
    prior_weight_ : float
        The prior weight used (``prior_weight``, or the one ``None`` chose).
    confident_ : ndarray of bool (n_segments,)
        The ``keep_share`` most confident segments of each category under the final scores: what another round
        would train on. The theme stage keeps these in their category even inside an off-list cluster.
    """

    _parameter_constraints = ParameterConstraints(n_self_training=Annotated[Int, Field(ge=0)],
                                                  keep_share=Annotated[Float, Field(gt=0, le=1)],
                                                  prior_weight=Annotated[Float, Field(ge=0)] | None,
                                                  calibrate=Bool,
                                                  random_state=Seed)

    def __init__(self, n_self_training: int = 2, keep_share: float = 0.3, prior_weight: float | None = None,
                 calibrate: bool = False, random_state: int = 0):
        self.n_self_training = n_self_training
        self.keep_share = keep_share
        self.prior_weight = prior_weight
        self.calibrate = calibrate
        self.random_state = random_state

    def fit(self, embeddings: np.ndarray, categories: list[Category], embedder) -> CategoryCoder:
        if not categories:
            raise PipelineError("category coding needs at least one category (categories.yaml is empty or missing)")
        check_parameters(self)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        items = embed_categories(categories, embedder)
        self.similarity_ = item_similarity(embeddings, items) if len(embeddings) else np.zeros((0, len(categories)))
        self.prior_ = name_prior(self.similarity_)
        log_prior = np.log(np.maximum(self.prior_, 1e-12))
        self.prior_weight_ = self._prior_weight(categories)
        scores, log_scores = self.similarity_, log_prior
        labels = scores.argmax(axis=1) if len(scores) else np.zeros(0, dtype=int)
        self.n_rounds_ = 0
        for _ in range(self.n_self_training):
            keep = self._confident_rows(scores, labels)
            if len(np.unique(labels[keep])) < 2:
                break
            model = LogisticRegression(class_weight="balanced", max_iter=1000, random_state=self.random_state)
            model.fit(embeddings[keep], labels[keep])
            proba = np.full((len(embeddings), len(categories)), 1e-12)
            proba[:, model.classes_] = np.maximum(model.predict_proba(embeddings), 1e-12)
            log_scores = np.log(proba) + self.prior_weight_ * log_prior
            scores = softmax(log_scores, axis=1)
            labels = scores.argmax(axis=1)
            self.n_rounds_ += 1
        self.labels_ = np.asarray(labels, dtype=int)
        rows = np.arange(len(self.labels_))
        self.prior_agreement_ = float((self.labels_ == self.prior_.argmax(axis=1)).mean()) if len(rows) else 0.0
        self.temperature_ = (agreement_temperature(log_scores, self.prior_agreement_)
                             if self.calibrate and self.n_rounds_ else 1.0)
        probabilities = softmax(log_scores / self.temperature_, axis=1) if len(rows) else self.prior_
        self.scores_ = probabilities if self.n_rounds_ else self.similarity_
        self.confidence_ = probabilities[rows, self.labels_]
        self.confident_ = np.zeros(len(labels), dtype=bool)
        self.confident_[self._confident_rows(self.scores_, self.labels_)] = True
        return self

    def _prior_weight(self, categories: list[Category]) -> float:
        if self.prior_weight is not None:
            return float(self.prior_weight)
        described = any(c.description.strip() or any(k.strip() for k in c.keywords) for c in categories)
        return 1.0 if described else 0.0

    def _confident_rows(self, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        keep: list[np.ndarray] = []
        for label in np.unique(labels):
            rows = np.flatnonzero(labels == label)
            n_keep = max(1, int(np.ceil(self.keep_share * len(rows))))
            keep.append(rows[np.argsort(-scores[rows, label], kind="stable")[:n_keep]])
        return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)
