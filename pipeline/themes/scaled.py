"""Theme fits that scale: fit ``ThemeModel`` on a stratified sample, then assign the rest in batches.

Above ``scale.fit_above`` segments the theme stage fits on ``scale.fit_sample`` of them, drawn per stratum (each
segment's nearest closed category by the max-over-items cosine, or one stratum without categories) in proportion
to the stratum's size, every stratum keeping at least ``MIN_PER_STRATUM`` segments (all of a smaller one). Every
other segment is then assigned, ``scale.batch_rows`` at a time and on the run's engine (``pipeline.compute``):

- its closed category: a balanced logistic regression trained on the sample's most confident coded segments
  (the top ``keep_share`` of each category, the coder's own training rule), i.e. one more self-training round of
  the per-segment coder applied to the rows it did not see;
- its theme: the nearest theme centroid (``ThemeModel``'s transform), except with coded category themes, where a
  segment joins the theme of its own predicted category (as in the full fit, where every segment not in an
  emergent cluster joins its category's theme) unless its nearest theme is emergent *and* it is closer to that
  centroid than to its own category theme's by at least that emergent theme's margin (``emergent_margins``):
  the margin that best separates, among the sample's segments nearest that theme, its members from the others
  (most sample segments on the right side). Joining whenever the nearest centroid was emergent (the rule before)
  made 43.9% of the assigned segments emergent where the sample itself had 30.6% (100,000 segments, 30,000
  sampled: docs/benchmarks.md), since a category theme gathers a diffuse set whose centroid is farther from
  most of its members than a tight emergent cluster's;
- a text identical to a sampled one gets that one's theme and category, as ``ThemeModel.transform`` does.

Secondary themes and weights come from ``ThemeModel._assign`` (softmax over the centroids), as in the fit. The
sample size and its effect on the result are measured in docs/benchmarks.md (ARI and category agreement of a
sampled fit with the full fit on the same corpus).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.categories import category_similarity, topical
from pipeline.core.records import UNASSIGNED, Assignment, Category, Theme
from pipeline.embed import MemoEmbedder
from pipeline.io.stage_cache import code_digest
from pipeline.themes.model import ThemeModel, _key

MIN_PER_STRATUM = 50
KEEP_SHARE = 0.3  # CategoryCoder's default keep_share: the confident rows it trains on


def fit_on_sample(n_segments: int, fit_above: int, fit_sample: int) -> int | None:
    """The sample size a corpus of ``n_segments`` is fitted on, or None for a fit on every segment."""
    return min(fit_sample, n_segments) if n_segments > fit_above and fit_sample < n_segments else None


def sampled_fingerprint(fingerprint: str | None, sample_size: int | None, batch_rows: int) -> str | None:
    """The theme stage's fit fingerprint extended by the sample settings (unchanged for a full fit)."""
    if fingerprint is None or sample_size is None:
        return fingerprint
    extra = json.dumps({"fit_sample": sample_size, "batch_rows": batch_rows,
                        "code": code_digest(("pipeline.themes.scaled",))})
    return hashlib.sha256(f"{fingerprint}\x00{extra}".encode()).hexdigest()


def strata_of(X: np.ndarray, categories: Sequence[Category], embedder, batch_rows: int) -> np.ndarray:
    """Each row's nearest closed category (index into the topical categories), in batches; zeros without any."""
    topics = topical(categories)
    strata = np.zeros(len(X), dtype=np.int64)
    if not topics:
        return strata
    memo = MemoEmbedder(embedder)
    for start in range(0, len(X), batch_rows):
        block = np.asarray(X[start:start + batch_rows], dtype=np.float32)
        strata[start:start + len(block)] = category_similarity(block, topics, memo).argmax(axis=1)
    return strata


def stratified_sample(strata: np.ndarray, size: int, seed: int) -> np.ndarray:
    """``size`` sorted row indices: per stratum a seeded draw without replacement, proportional to its size (largest
    remainders), at least ``MIN_PER_STRATUM`` (or all) per stratum."""
    n = len(strata)
    if size >= n:
        return np.arange(n)
    labels, counts = np.unique(strata, return_counts=True)
    exact = counts * size / n
    quota = np.maximum(np.floor(exact).astype(np.int64), np.minimum(counts, MIN_PER_STRATUM))
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    while quota.sum() < size:  # hand out what rounding down left, largest remainder first
        room = [i for i in order if quota[i] < counts[i]]
        for i in room[:size - int(quota.sum())]:
            quota[i] += 1
    while quota.sum() > size:  # the floors overshot: take from the largest strata
        quota[int(np.argmax(quota - np.minimum(counts, MIN_PER_STRATUM)))] -= 1
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(strata == label), int(q), replace=False) for label, q in zip(labels, quota)]
    return np.sort(np.concatenate(picks))


@dataclasses.dataclass
class Assigner:
    """What assigning unseen segments needs from a sampled fit, small enough to send to every worker once."""

    model: ThemeModel  # without its BERTopic model: centroids, the sample's assignments and text index
    category_ids: list[str]  # topical categories, in coder order
    theme_of_category: dict[str, int]  # coded mode: a category's theme
    emergent: frozenset[int]  # coded mode: themes no category owns
    coder: Any  # LogisticRegression over category indices, or None (then the max-over-items similarity)
    items: Any  # the categories' embedded items, for the similarity fallback
    sample_categories: list[tuple[str, float]]  # the sample's own (category, score), by sample row
    emergent_margins: dict[int, float] = dataclasses.field(default_factory=dict)  # coded mode, per emergent theme

    def categories(self, X: np.ndarray) -> list[tuple[str, float]]:
        if not self.category_ids:
            return []
        if self.coder is not None:
            proba = np.zeros((len(X), len(self.category_ids)))
            proba[:, self.coder.classes_] = self.coder.predict_proba(X)
        else:
            from pipeline.categories.items import item_similarity

            proba = item_similarity(X, self.items)
        best = proba.argmax(axis=1)
        return [(self.category_ids[j], round(float(proba[row, j]), 4)) for row, j in enumerate(best)]

    def themes(self, X: np.ndarray, categories: list[tuple[str, float]]) -> np.ndarray:
        theme_ids = sorted(self.model.centroids_)
        if not theme_ids:
            return np.full(len(X), UNASSIGNED, dtype=np.int64)
        sims = X @ np.vstack([self.model.centroids_[t] for t in theme_ids]).T
        nearest = np.asarray(theme_ids)[sims.argmax(axis=1)]
        if not self.theme_of_category:
            return nearest.astype(np.int64)
        own = np.array([self.theme_of_category.get(category, theme)
                        for (category, _), theme in zip(categories, nearest)], dtype=np.int64)
        margin = emergent_margin(sims, own, theme_ids)
        floor = np.array([self.emergent_margins.get(int(t), np.inf) for t in nearest])
        joins = np.isin(nearest, sorted(self.emergent)) & (margin >= floor)
        return np.where(joins, nearest, own).astype(np.int64)


def emergent_margin(sims: np.ndarray, own: np.ndarray, theme_ids: Sequence[int]) -> np.ndarray:
    """How much closer each row is to its nearest theme centroid than to its own category theme's (``sims``: cosine
    to each centroid of ``theme_ids``; ``own``: each row's category theme)."""
    column = {t: j for j, t in enumerate(theme_ids)}
    return sims.max(axis=1) - sims[np.arange(len(sims)), [column[int(t)] for t in own]]


def best_threshold(values: np.ndarray, positive: np.ndarray) -> float:
    """The threshold t of the rule ``value >= t`` that puts the most rows on the right side (``positive`` the
    rows that should pass); inf when none should, ties to the higher threshold."""
    order = np.argsort(-values, kind="stable")
    values, positive = values[order], positive[order]
    correct = np.concatenate([[(~positive).sum()], np.cumsum(positive) + (~positive).sum() - np.cumsum(~positive)])
    k = int(np.argmax(correct))  # the first k rows (the k largest values) pass
    return float(values[k - 1]) if k else float("inf")


def _emergent_margins(model: ThemeModel, X: np.ndarray, theme_of_category: dict[str, int],
                      emergent: frozenset[int]) -> dict[int, float]:
    """Per emergent theme, the margin (``emergent_margin``) the sample's own members of it met: learned on the
    sample's segments whose nearest centroid it is (``best_threshold``)."""
    theme_ids = sorted(model.centroids_)
    if not emergent or not theme_ids:
        return {}
    sims = X @ np.vstack([model.centroids_[t] for t in theme_ids]).T
    nearest = np.asarray(theme_ids)[sims.argmax(axis=1)]
    own = np.array([theme_of_category.get(category, theme)
                    for (category, _), theme in zip(model.segment_categories_, nearest)], dtype=np.int64)
    margin = emergent_margin(sims, own, theme_ids)
    fitted = np.array([a.theme_id for a in model.assignments_])
    return {int(t): best_threshold(margin[nearest == t], fitted[nearest == t] == t)
            for t in sorted(emergent) if (nearest == t).any()}


def assign_partition(part: tuple[Sequence[str], Sequence[str], np.ndarray], assigner: Assigner
                     ) -> tuple[list[Assignment], list[tuple[str, float]]]:
    """One engine task: assignments and (category, score) of a batch of segments outside the sample."""
    texts, ids, X = part
    X = np.asarray(X, dtype=np.float32)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    categories = assigner.categories(X)
    fresh = assigner.model._assign(X, assigner.themes(X, categories), list(ids))
    model, out, out_categories = assigner.model, [], []
    for row, (text, segment_id, new) in enumerate(zip(texts, ids, fresh)):
        known = model.train_index_.get(_key(str(text)))
        if known is None:
            out.append(new)
            out_categories.append(categories[row] if categories else None)
        else:  # the same text was in the sample: it gets that one's theme and category
            fitted = model.assignments_[known]
            out.append(Assignment(segment_id, fitted.theme_id, fitted.weight, fitted.secondary))
            out_categories.append(assigner.sample_categories[known] if assigner.sample_categories else None)
    return out, out_categories


@dataclasses.dataclass
class SampledFit:
    """A fit on a sample with every segment assigned: the ``ThemeFit`` fields, in segment order."""

    model: ThemeModel
    themes: list[Theme]
    assignments: list[Assignment]
    segment_categories: list[tuple[str, float]]
    method: dict[str, Any]
    sample: np.ndarray


class _Parts(Sequence):
    """The batches outside the sample, built one at a time when asked for (the local engine never holds two)."""

    def __init__(self, rows: np.ndarray, texts, ids, X, size: int):
        self.rows, self.texts, self.ids, self.X, self.size = rows, texts, ids, X, size

    def __len__(self) -> int:
        return (len(self.rows) + self.size - 1) // self.size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not 0 <= index < len(self):
            raise IndexError(index)
        rows = self.rows[index * self.size:(index + 1) * self.size]
        return [self.texts[i] for i in rows], [self.ids[i] for i in rows], np.asarray(self.X[rows], dtype=np.float32)


def make_assigner(model: ThemeModel, X_sample: np.ndarray, categories: Sequence[Category], embedder) -> Assigner:
    """The ``Assigner`` of a model fitted on ``X_sample`` (its rows in the order the model saw them)."""
    from sklearn.linear_model import LogisticRegression

    light = ThemeModel(**model.get_params())
    light.centroids_, light.assignments_, light.train_index_ = model.centroids_, model.assignments_, model.train_index_
    topics = topical(categories)
    ids = [c.category_id for c in topics]
    sampled = list(getattr(model, "segment_categories_", []) or [])
    coder, items = None, None
    X = np.asarray(X_sample, dtype=np.float32)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    if topics and sampled:
        labels = np.array([ids.index(c) for c, _ in sampled])
        scores = np.array([s for _, s in sampled])
        keep = _confident(labels, scores)
        if len(np.unique(labels[keep])) >= 2:
            coder = LogisticRegression(class_weight="balanced", max_iter=1000, random_state=model.random_state or 0)
            coder.fit(X[keep], labels[keep])
    if topics and coder is None:
        from pipeline.categories.items import embed_categories

        items = embed_categories(topics, MemoEmbedder(embedder))
    coded = model.category_themes == "coded" and bool(getattr(model, "coding_", {}))
    theme_of_category = {t.category_id: t.theme_id for t in model.themes_ if t.category_id} if coded else {}
    emergent = frozenset(t.theme_id for t in model.themes_ if not t.category_id) if coded else frozenset()
    margins = _emergent_margins(model, X, theme_of_category, emergent) if coded and sampled else {}
    return Assigner(light, ids, theme_of_category, emergent, coder, items, sampled, margins)


def _confident(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    keep = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        n_keep = max(1, int(np.ceil(KEEP_SHARE * len(rows))))
        keep.append(rows[np.argsort(-scores[rows], kind="stable")[:n_keep]])
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def fit_sampled(model: ThemeModel, texts: Sequence[str], X: np.ndarray, embedder, categories: Sequence[Category],
                ids: Sequence[str], *, sample_size: int, batch_rows: int, seed: int, engine=None,
                fitted: bool = False) -> SampledFit:  # long: one pass, fit then assign, easier to read whole
    """Fit ``model`` on a stratified sample of ``sample_size`` rows (unless ``fitted``: a saved fit of that same
    sample), then assign every other row in batches of ``batch_rows`` on ``engine``."""
    from pipeline.compute import LocalEngine

    strata = strata_of(X, categories, embedder, batch_rows)
    sample = stratified_sample(strata, sample_size, seed)
    X_sample = np.asarray(X[sample], dtype=np.float32)
    if not fitted:
        model.fit([texts[i] for i in sample], X_sample, embedder, categories=list(categories),
                  segment_ids=[ids[i] for i in sample])
    assigner = make_assigner(model, X_sample, categories, embedder)
    rest = np.setdiff1d(np.arange(len(texts)), sample)
    results = (engine or LocalEngine()).map(assign_partition, _Parts(rest, texts, ids, X, batch_rows),
                                            assigner=assigner)
    assignments: list[Assignment | None] = [None] * len(texts)
    categories_out: list[tuple[str, float] | None] = [None] * len(texts)
    sampled = list(getattr(model, "segment_categories_", []) or [])
    for position, row in enumerate(sample):
        assignments[row] = model.assignments_[position]
        categories_out[row] = sampled[position] if sampled else None
    cursor = 0
    for batch_assignments, batch_categories in results:
        for assignment, category in zip(batch_assignments, batch_categories):
            row = rest[cursor]
            if assignment.segment_id != ids[row]:
                raise RuntimeError(f"batch results out of order: {assignment.segment_id} at row {row}")
            assignments[row], categories_out[row] = assignment, category
            cursor += 1
    if cursor != len(rest):
        raise RuntimeError(f"{len(rest) - cursor} segments outside the sample were not assigned")
    sizes = np.bincount([a.theme_id for a in assignments if a.theme_id >= 0], minlength=1)
    themes = [dataclasses.replace(t, size=int(sizes[t.theme_id]) if t.theme_id < len(sizes) else 0)
              for t in model.themes_]
    method = _method(model, assigner, themes, len(texts), len(sample), len(np.unique(strata)))
    return SampledFit(model, themes, assignments, [c for c in categories_out if c is not None] if sampled else [],
                      method, sample)


def _method(model: ThemeModel, assigner: Assigner, themes: list[Theme], n: int, n_sample: int,
            n_strata: int) -> dict[str, Any]:
    method = dict(getattr(model, "coding_", {}) or {})
    how = (f"fitted on a stratified sample of {n_sample:,} of {n:,} segments ({n_strata} strata by nearest closed "
           "category); the others joined their nearest theme, with coded categories their own category's theme unless "
           "nearer an emergent theme's centroid by the margin that theme's sampled members met")
    if method.get("method"):
        method["method"] = f"{method['method']}; {how}"
    if assigner.emergent:
        method["emergent_segments"] = int(sum(t.size for t in themes if t.theme_id in assigner.emergent))
    method["sampled"] = {"n_segments": n, "sample": n_sample, "strata": n_strata, "assigned": n - n_sample,
                         "method": how}
    return method
