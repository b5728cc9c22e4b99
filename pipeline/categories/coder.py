"""Code every segment with one closed category, without labelled examples (the label-free design that measured best
in ../shared/evaluation.md): max-over-items cosine, then self-training rounds."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from pipeline.categories.items import embed_categories, item_similarity
from pydantic import Field

from pipeline.core.config import Float, Int, Seed
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterConstraints, check_parameters
from pipeline.core.records import Category


class CategoryCoder(BaseEstimator):
    """Code every segment with one closed category, without labelled examples.

    Each segment starts at its highest max-over-items cosine category; then, ``n_self_training`` times, the
    ``keep_share`` most confident segments of each category train a balanced logistic regression on the
    embeddings, which re-predicts every segment.

    Attributes
    ----------
    similarity_ : ndarray (n_segments, n_categories)
        Max cosine over each category's items.
    scores_ : ndarray (n_segments, n_categories)
        The scores ``labels_`` is the row-wise argmax of: the last round's class probabilities (zero for a
        category that had no confident segment), or ``similarity_`` when no self-training ran.
    labels_ : ndarray of int (n_segments,)
        Category index per segment (into the ``categories`` passed to ``fit``).
    n_rounds_ : int
        Self-training rounds actually run (fewer than asked when fewer than two categories have segments).
    confident_ : ndarray of bool (n_segments,)
        The ``keep_share`` most confident segments of each category under the final scores: what another round
        would train on. The theme stage keeps these in their category even inside an off-list cluster.
    """

    _parameter_constraints = ParameterConstraints(n_self_training=Annotated[Int, Field(ge=0)],
                                                  keep_share=Annotated[Float, Field(gt=0, le=1)], random_state=Seed)

    def __init__(self, n_self_training: int = 2, keep_share: float = 0.3, random_state: int = 0):
        self.n_self_training = n_self_training
        self.keep_share = keep_share
        self.random_state = random_state

    def fit(self, embeddings: np.ndarray, categories: list[Category], embedder) -> CategoryCoder:
        if not categories:
            raise PipelineError("category coding needs at least one category (categories.yaml is empty or missing)")
        check_parameters(self)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        items = embed_categories(categories, embedder)
        self.similarity_ = item_similarity(embeddings, items) if len(embeddings) else np.zeros((0, len(categories)))
        scores = self.similarity_
        labels = scores.argmax(axis=1) if len(scores) else np.zeros(0, dtype=int)
        self.n_rounds_ = 0
        for _ in range(self.n_self_training):
            keep = self._confident_rows(scores, labels)
            if len(np.unique(labels[keep])) < 2:
                break
            model = LogisticRegression(class_weight="balanced", max_iter=1000, random_state=self.random_state)
            model.fit(embeddings[keep], labels[keep])
            proba = np.zeros((len(embeddings), len(categories)))
            proba[:, model.classes_] = model.predict_proba(embeddings)
            scores, labels = proba, proba.argmax(axis=1)
            self.n_rounds_ += 1
        self.scores_ = scores
        self.labels_ = np.asarray(labels, dtype=int)
        self.confident_ = np.zeros(len(labels), dtype=bool)
        self.confident_[self._confident_rows(scores, self.labels_)] = True
        return self

    def _confident_rows(self, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        keep: list[np.ndarray] = []
        for label in np.unique(labels):
            rows = np.flatnonzero(labels == label)
            n_keep = max(1, int(np.ceil(self.keep_share * len(rows))))
            keep.append(rows[np.argsort(-scores[rows, label], kind="stable")[:n_keep]])
        return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)
