"""How the segments judged off the list are grouped into emergent themes (``themes.emergent_grouping``), and whether
those themes then recruit the segments the coder placed elsewhere with little confidence (``themes.emergent_recruit``).

Why (measured in docs/benchmarks.md, issue 12): with the consensus partition's own clusters (``"consensus"``, the
default), the sample survey's politics and timescale answers reach emergent themes but are split over several of
them, because the medoid seed cuts the small off-list pool wherever its k-means happened to. Two remedies:

- ``"co-association"``: the off-list pool only, grouped by how often its segments share a cluster across *all* the
  seeds' partitions (an n_pool x n_pool co-association matrix, cheap because the pool is small), average linkage
  cut where the mean co-association falls below ``COASSOC_MIN``: the groups every seed roughly agrees on.
- recruitment: a balanced logistic regression trained on the coder's confident segments (labelled with their
  category) and the emergent themes' members (labelled with their theme) re-predicts every other segment; those it
  puts in an emergent theme join it. The coder never saw the emergent themes, so it codes their material into the
  nearest listed category (the sample's politics answers into "own targets"); once a theme exists, it can compete.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

COASSOC_MIN = 0.1  # groups whose members share a seed's cluster at least this often on average stay together
GROUPINGS = ("consensus", "co-association")


def coassociation(labelings: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """(len(rows), len(rows)): the share of ``labelings`` in which two of ``rows`` share a cluster."""
    if not len(labelings):
        return np.eye(len(rows))
    stacked = np.vstack([np.asarray(labels)[rows] for labels in labelings])  # seeds x rows
    return (stacked[:, :, None] == stacked[:, None, :]).mean(axis=0)


def coassociation_groups(labelings: Sequence[np.ndarray], rows: np.ndarray,
                         min_share: float = COASSOC_MIN) -> np.ndarray:
    """A group number (0..) per row of ``rows``: average-linkage clusters of the co-association matrix, cut where
    the mean co-association between two groups is below ``min_share``."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    rows = np.asarray(rows)
    if len(rows) < 2:
        return np.zeros(len(rows), dtype=np.int64)
    distance = 1.0 - coassociation(labelings, rows)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(np.clip(distance, 0.0, 1.0), checks=False), method="average")
    groups = fcluster(tree, t=1.0 - min_share, criterion="distance")
    _, dense = np.unique(groups, return_inverse=True)
    return dense.astype(np.int64)


def group_emergent(emergent: np.ndarray, consensus: np.ndarray, labelings: Sequence[np.ndarray],
                   grouping: str) -> np.ndarray:
    """A group label per segment (-1 = not emergent): the consensus cluster, or the co-association group."""
    if grouping not in GROUPINGS:
        raise ValueError(f"emergent grouping must be one of {GROUPINGS}, not {grouping!r}")
    out = np.full(len(emergent), -1, dtype=np.int64)
    pool = np.flatnonzero(emergent)
    if grouping == "consensus":
        out[pool] = consensus[pool]
    else:
        out[pool] = coassociation_groups(labelings, pool)
    return out


def recruit(X: np.ndarray, themes: np.ndarray, first_emergent: int, confident: np.ndarray,
            random_state: int | None = 0) -> np.ndarray:
    """``themes`` with every segment that is neither confident nor already emergent moved to the emergent theme
    (index >= ``first_emergent``) a classifier trained on the confident and the emergent segments puts it in."""
    from sklearn.linear_model import LogisticRegression

    themes = np.asarray(themes).copy()
    is_emergent = themes >= first_emergent
    train = np.asarray(confident, dtype=bool) | is_emergent
    if not is_emergent.any() or len(np.unique(themes[train])) < 2:
        return themes
    model = LogisticRegression(class_weight="balanced", max_iter=1000, random_state=random_state or 0)
    model.fit(X[train], themes[train])
    predicted = model.classes_[model.predict_proba(X).argmax(axis=1)]
    move = ~train & (predicted >= first_emergent)
    themes[move] = predicted[move]
    return themes
