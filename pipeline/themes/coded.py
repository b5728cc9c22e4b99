"""Category-coded themes: each segment joins its own closed category's theme unless it belongs to a cluster that no
closed category describes, which stays an emergent theme.

Why (measured in docs/benchmarks.md on every shared set): a theme found by clustering usually mixes categories, so
mapping whole themes to categories caps how well answers are categorised, while coding each segment on its own
(``pipeline.categories.CategoryCoder``) was the best label-free category route on 4 of 5 sets. The clusters remain
what finds the material the closed list missed: a free cluster whose centroid stands less than ``min_elevation``
corpus standard deviations closer to its best category than the corpus as a whole
(``pipeline.categories.OffListDetector``, the mapper's calibrated rule without the bootstrap) holds off-list material.
At 0.0 (only clusters no closer than the corpus) the sample survey's politics answers were coded into listed
categories; 0.5, the mapper's default, keeps them emergent. A segment counts as emergent when its cluster is off
the list in a majority of the seeds' partitions, so the emergent part rests on the seeds' agreement, not on one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from pipeline.categories import CategoryCoder, OffListDetector, OffListScorer
from pipeline.core.records import UNASSIGNED, Category
from pipeline.themes.clusters import theme_stability


@dataclass
class CodedPartition:
    """Theme index per segment: ``0..len(categories)-1`` are category themes (``categories[i]`` is the index of
    the closed category of theme ``i``), the rest emergent themes."""

    labels: np.ndarray
    categories: list[int]
    stability: dict[int, float]
    info: dict = field(default_factory=dict)
    coder: CategoryCoder | None = None  # the fitted per-segment coder the category themes come from
    scorer: OffListScorer | None = None  # the calibrated off-list score of every segment


def min_emergent_size(n_segments: int) -> int:
    """Fewer emergent segments than this in one cluster are not a theme: they are coded like the rest."""
    return max(3, min(10, n_segments // 100))


def coded_partition(X: np.ndarray, consensus: np.ndarray, labelings: Sequence[np.ndarray], medoid: int | None,
                    n_seeded: int, categories: Sequence[Category], embedder, *, min_elevation: float = 0.5,
                    random_state: int | None = 0, keep_confident: bool = True, rule: str = "elevation",
                    threshold: float = 0.5) -> CodedPartition:
    """Combine the per-segment category coder with the clusters' off-list verdicts.

    ``consensus`` and each of ``labelings`` (one per seed, ``consensus`` among them at ``medoid``) label every
    segment: ``0..n_seeded-1`` are the zero-shot-seeded groups (never off the list), larger labels free clusters,
    ``UNASSIGNED`` outliers (coded like everything else). ``rule`` decides which free clusters are off the list:
    ``"elevation"`` (``OffListDetector``) or ``"score"`` (mean calibrated off-list score of its segments, from
    ``OffListScorer``, at least ``threshold``).
    """
    categories = list(categories)
    coder = CategoryCoder(random_state=random_state or 0).fit(X, categories, embedder)
    detector = OffListDetector(min_elevation).fit(X, categories, embedder)
    scorer = OffListScorer(random_state=random_state or 0).fit(X, categories, embedder)
    stays_coded = coder.confident_ if keep_confident else np.zeros(len(X), dtype=bool)
    masks = []  # per seed: the segments that seed would make emergent
    for labels in labelings:
        free = sorted(set(labels.tolist()) - set(range(n_seeded)) - {UNASSIGNED})
        off = (detector.off_list(X, labels, free) if rule == "elevation" else
               {c for c in free if scorer.theme_score(labels == c) >= threshold})
        masks.append(np.isin(labels, sorted(off)) & ~stays_coded)
    votes = np.sum(masks, axis=0) if masks else np.zeros(len(X), dtype=int)
    emergent = (2 * votes > len(masks)) & (consensus >= n_seeded)
    smallest = min_emergent_size(len(X))
    for cluster in np.unique(consensus[emergent]):
        members = emergent & (consensus == cluster)
        if members.sum() < smallest:
            emergent[members] = False

    coded = coder.labels_
    used = sorted(set(coded[~emergent].tolist()))
    theme_of_category = {c: i for i, c in enumerate(used)}
    emergent_clusters = sorted(set(consensus[emergent].tolist()))
    theme_of_cluster = {c: len(used) + i for i, c in enumerate(emergent_clusters)}
    final = np.array([theme_of_cluster[int(consensus[i])] if emergent[i] else theme_of_category[int(coded[i])]
                      for i in range(len(X))], dtype=np.int64)

    # each seed's own version of the same partition, for per-theme stability
    offset = len(categories)
    per_seed = [np.where(mask, offset + np.maximum(labels, 0), coded) for labels, mask in zip(labelings, masks)]
    stability = {theme: theme_stability(final == theme, per_seed, skip=medoid if len(per_seed) > 1 else None)
                 for theme in range(len(used) + len(emergent_clusters))}
    info = {"method": _method_text(rule, min_elevation, threshold, len(masks), smallest, keep_confident),
            "emergent_segments": int(emergent.sum()), "emergent_themes": len(emergent_clusters),
            "category_themes": len(used), "coder_rounds": coder.n_rounds_, "off_list_floor": detector.floor_,
            "off_list_rule": rule, "off_list_calibrated_on": scorer.n_loco_}
    return CodedPartition(final, used, stability, info, coder, scorer)


def _method_text(rule: str, min_elevation: float, threshold: float, n_seeds: int, smallest: int,
                 keep_confident: bool) -> str:
    """How the themes were formed, in one sentence for the report and manifest."""
    off = (f"less than {min_elevation:g} corpus standard deviations closer to any category than the corpus as a "
           "whole" if rule == "elevation" else
           f"its segments' mean calibrated off-list score at least {threshold:g}")
    return ("each segment joins the theme of its own closed category (coded one by one), except segments whose "
            f"cluster no listed category describes ({off}) in a majority of {n_seeds} seeds: they form emergent "
            f"themes of at least {smallest} segments"
            + ("; segments the coder is surest of always keep their category" if keep_confident else ""))
