"""Which groups of segments no closed category describes, calibrated on the corpus and the embedder in use.

``off_topic_floor`` is the score the bundled off-topic sentences get taken together as one theme;
``corpus_baseline`` the similarity of the corpus as a whole to each category and the spread of single segments'
similarities. A group is off the list when it stands less than ``min_elevation`` of those spreads above the
corpus, or below the floor. The mapper (``pipeline.mapping``) adds a bootstrap support to the same rule.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.categories.items import CategoryItems, core_items, embed_categories, item_similarity
from pipeline.categories.null_texts import OFF_TOPIC_SENTENCES
from pipeline.core.records import Category


def off_topic_floor(items: Sequence[CategoryItems], embedder) -> float:
    """The score an off-topic *theme* gets: the bundled off-topic sentences scored together, as a theme's segments
    are (mean similarity, max over items), against their nearest category, for this embedder.

    A theme below it is no closer to the closed list than a group of texts about the weather or cooking. (The
    maximum over single sentences would be an extreme value on another scale than a theme's mean.)"""
    off_topic = np.asarray(embedder.encode(list(OFF_TOPIC_SENTENCES)), dtype=np.float32)
    return float(item_similarity(off_topic.mean(axis=0, keepdims=True), items).max())


def corpus_baseline(embeddings: np.ndarray, items: Sequence[CategoryItems]) -> tuple[np.ndarray, np.ndarray]:
    """Per category: the similarity of the corpus as a whole (the score a theme made of *all* segments would get)
    and the spread of single segments' similarities, which scales how far a theme must stand out."""
    baseline = np.zeros(len(items), dtype=np.float64)
    spread = np.ones(len(items), dtype=np.float64)
    for j, category in enumerate(items):
        per_item = embeddings @ category.vectors.T  # (n_segments, n_items)
        baseline[j] = float(per_item.mean(axis=0).max())
        spread[j] = max(float(per_item.max(axis=1).std()), 1e-6)
    return baseline, spread


class OffListDetector(BaseEstimator):
    """Which clusters of segments no closed category describes: the mapper's calibrated test without the bootstrap.

    A cluster is *off the list* when the similarity of its centroid (plain mean, as in ``CategoryMapper``) to its
    best category's label and description stands less than ``min_elevation`` corpus standard deviations above the
    corpus as a whole, or when it scores below the off-topic floor. The bootstrap support is left out on purpose:
    a cluster that mixes two categories is not off the list, its segments are simply coded one by one.
    """

    def __init__(self, min_elevation: float = 0.5):
        self.min_elevation = min_elevation

    def fit(self, embeddings: np.ndarray, categories: list[Category], embedder) -> OffListDetector:
        self._items = embed_categories(categories, embedder)
        self._core = core_items(self._items, categories)
        self.floor_ = off_topic_floor(self._items, embedder)
        self._baseline, self._spread = corpus_baseline(np.asarray(embeddings, dtype=np.float32), self._core)
        return self

    def off_list(self, embeddings: np.ndarray, labels: np.ndarray, candidates: Sequence[int]) -> set[int]:
        """The ``candidates`` (cluster labels in ``labels``) that are off the list."""
        candidates = [int(c) for c in candidates if (labels == c).any()]
        if not candidates:
            return set()
        centroids = np.vstack([embeddings[labels == c].mean(axis=0) for c in candidates])
        similarity = item_similarity(centroids, self._items)
        core = item_similarity(centroids, self._core)
        best = similarity.argmax(axis=1)
        rows = np.arange(len(candidates))
        elevation = (core[rows, best] - self._baseline[best]) / self._spread[best]
        off = (similarity[rows, best] < self.floor_) | (elevation < self.min_elevation)
        return {c for c, flag in zip(candidates, off) if flag}
