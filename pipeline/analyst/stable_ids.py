"""Theme ids that stay stable across re-runs, so an analyst's labels keep their meaning.

Stable ids: :func:`match_theme_ids` pairs this run's theme centroids with the previous run's (saved by
:func:`save_theme_state` in the output folder as JSON) by an optimal assignment on cosine similarity, so ids and the
labels attached to them carry over; :func:`renumber` rewrites the run's records with the stable ids.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Reassignment, Theme
from pipeline.core.vectors import unit_rows
from pipeline.io.atomic import write_json

@dataclass(frozen=True, slots=True)
class IdMatch:
    mapping: dict[int, int]  # this run's theme id -> stable id
    new: list[int]  # stable ids given to themes with no match in the previous run
    vanished: list[int]  # previous ids no theme of this run matched
    similarity: dict[int, float] = field(default_factory=dict)  # stable id -> cosine with its previous centroid
    next_id: int = 0  # first id never used so far


@dataclass(frozen=True, slots=True)
class ThemeState:
    """What a run leaves for the next one: its themes' stable ids, labels, centroids and the next free id."""

    centroids: dict[int, np.ndarray]
    labels: dict[int, str]
    next_id: int


def theme_centroids(assignments: Sequence[Assignment], embeddings: np.ndarray,
                    theme_ids: Iterable[int] | None = None, unit_members: bool = False) -> dict[int, np.ndarray]:
    """Unit-length mean embedding of each theme's primary members (``assignments`` aligned with the rows);
    ``unit_members``: of the members' unit-length rows."""
    labels = np.array([a.theme_id for a in assignments])
    wanted = sorted(set(labels.tolist()) - {UNASSIGNED}) if theme_ids is None else list(theme_ids)
    # each theme's rows converted on their own: no float64 copy of the whole (possibly memory-mapped) matrix
    return {int(t): unit_rows(theme_rows(embeddings, labels == t, unit_members).mean(axis=0))
            for t in wanted if (labels == t).any()}


def theme_rows(embeddings: np.ndarray, members: np.ndarray, unit: bool = False) -> np.ndarray:
    """The rows of ``members`` (a boolean mask) as float64, scaled to unit length when ``unit``."""
    rows = np.asarray(embeddings[members], dtype=np.float64)
    return unit_rows(rows) if unit else rows


def match_theme_ids(previous: ThemeState | Mapping[int, np.ndarray] | None, current: Mapping[int, np.ndarray],
                    min_similarity: float = 0.8, next_id: int | None = None) -> IdMatch:
    """Give each current theme the id of the previous theme whose centroid it matches.

    Pairs are chosen one-to-one maximising the total cosine similarity (Hungarian assignment); a pair below
    ``min_similarity`` does not match. Unmatched themes get fresh ids from ``next_id`` (default: the state's
    next free id, at least one above every previous id). With no previous run the ids are kept as they are.
    """
    if isinstance(previous, ThemeState):
        next_id = max(previous.next_id, next_id or 0)
        previous = previous.centroids
    previous = previous or {}
    old_ids = sorted(int(i) for i in previous if i != UNASSIGNED)
    cur_ids = sorted(int(i) for i in current if i != UNASSIGNED)
    mapping: dict[int, int] = {UNASSIGNED: UNASSIGNED} if UNASSIGNED in current else {}
    if not old_ids and next_id is None:
        return IdMatch({**mapping, **{i: i for i in cur_ids}}, [], [], {}, max(cur_ids, default=-1) + 1)
    next_id = max(max(old_ids, default=-1) + 1, next_id or 0)
    similarity: dict[int, float] = {}
    if old_ids and cur_ids:
        sims = np.array([unit_rows(current[c], float) for c in cur_ids]) @ \
            np.array([unit_rows(previous[p], float) for p in old_ids]).T
        for row, col in zip(*linear_sum_assignment(sims, maximize=True)):
            if sims[row, col] >= min_similarity:
                mapping[cur_ids[row]] = old_ids[col]
                similarity[old_ids[col]] = float(sims[row, col])
    new = []
    for theme_id in cur_ids:
        if theme_id not in mapping:
            mapping[theme_id] = next_id
            new.append(next_id)
            next_id += 1
    matched = set(mapping.values())
    return IdMatch(mapping, new, [p for p in old_ids if p not in matched], similarity, next_id)


def renumber(themes: Sequence[Theme], assignments: Sequence[Assignment], reassignments: Sequence[Reassignment],
             mapping: IdMatch | Mapping[int, int]) -> tuple[list[Theme], list[Assignment], list[Reassignment]]:
    """Rewrite theme ids everywhere with ``mapping`` (UNASSIGNED always stays UNASSIGNED)."""
    mapping = mapping.mapping if isinstance(mapping, IdMatch) else mapping

    def new(theme_id: int) -> int:
        if theme_id == UNASSIGNED:
            return UNASSIGNED
        if theme_id not in mapping:
            raise ValueError(f"renumber: no stable id for theme {theme_id}")
        return mapping[theme_id]

    if len({new(t.theme_id) for t in themes}) != len(themes):
        raise ValueError("renumber: mapping gives two themes the same id")
    return (
        [dataclasses.replace(t, theme_id=new(t.theme_id)) for t in themes],
        [dataclasses.replace(a, theme_id=new(a.theme_id), secondary=tuple((new(t), w) for t, w in a.secondary))
         for a in assignments],
        [dataclasses.replace(r, from_theme=new(r.from_theme), to_theme=new(r.to_theme)) for r in reassignments],
    )


def save_theme_state(path: str | Path, themes: Sequence[Theme], centroids: Mapping[int, np.ndarray],
                     next_id: int | None = None, previous: ThemeState | None = None) -> None:
    """Write the theme state as JSON: ids, labels, centroids and the next free id, which never goes below the
    previous state's (ids of vanished themes are not reused) nor below the highest id + 1."""
    kept = [t for t in themes if t.theme_id in centroids and t.theme_id != UNASSIGNED]
    free = max([t.theme_id + 1 for t in kept] + [next_id or 0, previous.next_id if previous else 0])
    write_json(path, {"version": 1, "next_id": free, "themes": [
        {"theme_id": t.theme_id, "label": t.label,
         "centroid": [round(float(x), 7) for x in np.asarray(centroids[t.theme_id]).ravel()]} for t in kept]})


def load_theme_state(path: str | Path) -> ThemeState | None:
    """The previous run's theme state, or None if there is none."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        themes = data["themes"]
        return ThemeState({int(t["theme_id"]): np.asarray(t["centroid"], dtype=np.float32) for t in themes},
                          {int(t["theme_id"]): str(t["label"]) for t in themes}, int(data["next_id"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise PipelineError(f"unreadable theme state ({exc.__class__.__name__}: {exc}); delete it to start ids "
                            "afresh", file=str(path)) from None
