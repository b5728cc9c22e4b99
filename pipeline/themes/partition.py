"""Steps 2-3 of a theme fit: the number of free clusters, one partition per seed, their consensus and each theme's
stability (see ``pipeline.themes.model`` for why).

``seeded-kmeans.v1`` (the default, ``auto``) partitions all rows with the zero-shot claims pinned to their
category's theme; another cluster model partitions only the unclaimed rows, after the category themes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pipeline.core.records import UNASSIGNED
from pipeline.themes.clusters import consensus_partition, select_and_fit, size_parameters, theme_stability


@dataclass
class SeedPartitions:
    """The consensus partition of every row (theme index per row: the category themes first), each theme's
    stability, and every seed's own partition of all rows (the category coder votes over them)."""

    labels: np.ndarray
    stability: dict[int, float]
    labelings: list[np.ndarray]
    medoid: int | None
    selection: list[dict[str, Any]]
    size_parameters: dict[str, Any] = field(default_factory=dict)


def seed_partitions(X: np.ndarray, claims: np.ndarray, hit: list[int], *, cluster_model: str, seeds: list[int],
                    min_themes: int, max_themes: int, n_themes: int | None) -> SeedPartitions:
    """Partition ``X`` with every seed; ``claims`` holds each row's zero-shot category (-1 = none) and ``hit``
    the categories that seed a theme (theme ``i`` is category ``hit[i]``)."""
    name = "seeded-kmeans.v1" if cluster_model == "auto" else cluster_model
    seeded = name == "seeded-kmeans.v1"
    rest = np.flatnonzero(claims < 0)
    pinned = np.full(len(X), -1, dtype=np.int64)
    for theme, category in enumerate(hit):
        pinned[claims == category] = theme
    rows, offset = (np.arange(len(X)), 0) if seeded else (rest, len(hit))
    free_floor = max(2, min_themes - len(hit)) if seeded else min_themes
    sizes = size_parameters(len(rest), free_floor, max(free_floor, max_themes - len(hit)))
    internal = pinned.copy()
    stability = {theme: 1.0 for theme in range(len(hit))}  # overwritten when seeds are fitted
    if len(rest) < max(2 * sizes.k_min, 6):
        selection = [{"k": 0, "cluster_model": name, "chosen": True,
                      "reason": f"only {len(rest)} segments outside the categories' themes: no clustering, they go "
                                "through outlier reduction"}]
        return SeedPartitions(internal, stability, [pinned.copy()], None, selection, asdict(sizes))
    labelings, selection = select_and_fit(name, X[rows], seeds, sizes, n_themes, pinned[rows] if seeded else None)
    for row in selection:
        row["n_category_themes"] = len(hit)
    medoid, _ = consensus_partition(labelings)
    clusters = labelings[medoid]
    full_labelings = []
    for labels in labelings:
        full = pinned.copy()
        full[rows] = labels if seeded else np.where(labels >= 0, offset + labels, UNASSIGNED)
        full_labelings.append(full)
    for cluster in sorted(set(clusters.tolist()) - {-1}):
        theme = offset + cluster
        internal[rows[clusters == cluster]] = theme
        stability[theme] = theme_stability(clusters == cluster, labelings, skip=medoid if len(labelings) > 1 else None)
    return SeedPartitions(internal, stability, full_labelings, medoid, selection, asdict(sizes))
