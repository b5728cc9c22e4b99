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
from pipeline.themes.emergent import group_emergent, recruit


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
                    threshold: float = 0.5, grouping: str = "consensus",
                    recruit_segments: bool = False) -> CodedPartition:
    """Combine the per-segment category coder with the clusters' off-list verdicts.

    ``consensus`` and each of ``labelings`` (one per seed, ``consensus`` among them at ``medoid``) label every
    segment: ``0..n_seeded-1`` are the zero-shot-seeded groups (never off the list), larger labels free clusters,
    ``UNASSIGNED`` outliers (coded like everything else). ``rule`` decides which free clusters are off the list:
    ``"elevation"`` (``OffListDetector``) or ``"score"`` (mean calibrated off-list score of its segments, from
    ``OffListScorer``, at least ``threshold``). ``grouping`` and ``recruit_segments``: how the emergent segments
    form themes (``pipeline.themes.emergent``).
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
    groups = group_emergent(emergent, consensus, labelings, grouping)
    smallest = min_emergent_size(len(X))
    for group in np.unique(groups[emergent]):
        members = groups == group
        if members.sum() < smallest:
            emergent[members], groups[members] = False, -1

    coded = coder.labels_
    final, used, n_emergent, recruited = _themes(X, coded, emergent, groups,
                                                 coder.confident_ if recruit_segments else None, random_state)

    # each seed's own version of the same partition, for per-theme stability
    offset = len(categories)
    per_seed = [np.where(mask, offset + np.maximum(labels, 0), coded) for labels, mask in zip(labelings, masks)]
    stability = {theme: theme_stability(final == theme, per_seed, skip=medoid if len(per_seed) > 1 else None)
                 for theme in range(len(used) + n_emergent)}
    info = {"method": _method_text(rule, min_elevation, threshold, len(masks), smallest, keep_confident)
            + _grouping_text(grouping, recruit_segments),
            "emergent_segments": int((final >= len(used)).sum()), "emergent_grouping": grouping,
            "recruited_segments": recruited, "emergent_themes": n_emergent,
            "category_themes": len(used), "coder_rounds": coder.n_rounds_, "off_list_floor": detector.floor_,
            "off_list_rule": rule, "off_list_calibrated_on": scorer.n_loco_}
    return CodedPartition(final, used, stability, info, coder, scorer)


def _themes(X: np.ndarray, coded: np.ndarray, emergent: np.ndarray, groups: np.ndarray,
            confident: np.ndarray | None, random_state: int | None) -> tuple[np.ndarray, list[int], int, int]:
    """Theme per segment (category themes first, in category order, then one per emergent group), the categories
    of the category themes, the number of emergent themes and how many segments recruitment moved into them
    (``confident`` given: recruitment runs, those segments never move)."""
    used = sorted(set(coded[~emergent].tolist()))
    theme_of_category = {c: i for i, c in enumerate(used)}
    emergent_groups = sorted(set(groups[emergent].tolist()))
    theme_of_group = {g: len(used) + i for i, g in enumerate(emergent_groups)}
    final = np.array([theme_of_group[int(groups[i])] if emergent[i] else theme_of_category[int(coded[i])]
                      for i in range(len(X))], dtype=np.int64)
    recruited = 0
    if confident is not None and emergent_groups:
        before = int((final >= len(used)).sum())
        final = recruit(X, final, len(used), confident, random_state)
        recruited = int((final >= len(used)).sum()) - before
        final, used = _drop_empty_categories(final, used)
    return final, used, len(emergent_groups), recruited


def _drop_empty_categories(final: np.ndarray, used: list[int]) -> tuple[np.ndarray, list[int]]:
    """Renumber the themes when recruitment emptied a category theme (its category leaves ``used``)."""
    present = set(final.tolist())
    keep = [i for i in range(len(used)) if i in present]
    if len(keep) == len(used):
        return final, used
    n_emergent = int(final.max()) + 1 - len(used)
    order = keep + list(range(len(used), len(used) + n_emergent))
    renumber = {old: new for new, old in enumerate(order)}
    return np.array([renumber[int(t)] for t in final], dtype=np.int64), [used[i] for i in keep]


def _grouping_text(grouping: str, recruit_segments: bool) -> str:
    text = ("" if grouping == "consensus" else
            "; the emergent segments are grouped by how often the seeds put them in one cluster")
    return text + ("; each emergent theme then takes the segments the coder is unsure of that a classifier trained "
                   "on the confident and the emergent segments puts in it" if recruit_segments else "")


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
