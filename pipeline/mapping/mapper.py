"""Map themes onto the survey's closed categories, and flag the themes no category describes (emergent).

How a category is represented (the label-free design that measured best in docs/evaluation notes): a set of
*items*, each one embedding:

- its label, embedded in a few prompt templates ("a comment about <label>", ...) and averaged;
- each sentence or ``;``-separated clause of its description;
- each of its keywords.

A text's semantic similarity to a category is the MAX cosine over the category's items (max beats mean clearly:
a comment usually touches one facet of a category, not all of them).

``CategoryMapper`` scores every theme against every category::

    score = (1 - keyword_weight) * similarity + keyword_weight * keyword_overlap

where ``similarity`` is the max over the category's items of the theme centroid's dot product with the item, and
``keyword_overlap`` is the share of the theme's keyword lemmas found among the category's label, description and
keyword lemmas (lower-cased, spaCy lookup lemmas, stop words out).

The centroid is the plain mean of the segments' (unit) embeddings, deliberately *not* re-normalised: its dot
product with an item is then the mean cosine of the theme's segments to that item, on the same scale as the
single texts the threshold is calibrated on. Re-normalising divides by the centroid's length, which shrinks as a
theme gets larger and looser (about sqrt(mean pairwise cosine)), so a big loose theme would look closer to every
category than any of its segments is (measured: 0.56 instead of 0.40 for a four-sentence off-list theme).

Confidence of a theme the theme stage seeded from a category and measured (``Theme.confidence`` set on input: the
per-segment coder's mean probability for that category over the theme's segments) is kept as given. An emergent
theme gets none (it claims no category). Otherwise it is bootstrap support: the share of ``n_bootstrap`` resamples of the theme's segments in which the best
category stays best (1.0 = every resample agrees; near 0.5 = a coin toss between two categories). A theme whose
support is below ``min_support`` is flagged emergent: no single closed category clearly describes it (measured on
the sample corpus: a politics theme about councils sat between "social care funding" and "own targets" with a
score margin of 0.005, while every theme a reader would map cleanly led by 0.05-0.25).

Emergent themes: a theme no closed category describes gets ``emergent=True`` and ``category_id=None`` (or the id of
the list's catch-all option, "Other", when it has one: ``pipeline.categories.is_residual``; such an option is
never scored, since its label names no topic); its nearest
category is still in ``scores_``. With ``emergent_threshold`` set, a theme is emergent when its best score is below
it. Otherwise the decision is calibrated on the corpus and the embedder in use, not a constant:

- a theme the theme stage seeded from a category (``Theme.category_id`` set on input: the answers that clearly
  describe that category) maps to it;
- any other theme maps to its best category only if (a) its similarity to that category's *label and description*
  (not its keywords) stands at least ``min_elevation`` standard deviations (of single segments' similarities)
  above the similarity of the corpus as a whole, (b) the best category stays best in ``min_support`` of bootstrap
  resamples, and (c) it scores above ``off_topic_floor``, the bundled off-topic sentences taken as one theme.

Keywords help choose among categories but cannot claim a theme on their own: on the sample corpus a theme about
councillors and MPs reached social care funding through its keywords "local authority" and "council budgets"
(elevation 0.70 with keywords, 0.17 on label and description). A first design calibrated one threshold from the
category items scored against each other (Youden's J); it flagged every real theme emergent, because short items
are far more similar to each other than loose groups of answers are to any item, so it was replaced.

"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated

import numpy as np
from sklearn.base import BaseEstimator
from pydantic import Field

from pipeline.categories import (
    OFF_TOPIC_SENTENCES, CategoryItems, content_lemmas, core_items, corpus_baseline, embed_categories, is_residual,
    item_similarity, keyword_overlap, off_topic_floor, topical,
)
from pipeline.core.config import Int, MappingConfig, Seed
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterConstraints, check_parameters
from pipeline.core.records import UNASSIGNED, Assignment, Category, CategoryScore, Theme

BOOTSTRAP_CELLS = 4_000_000  # resample counts held at once (resamples x segments); a large theme is drawn in steps


def _check_aligned(assignments: Sequence[Assignment], embeddings: np.ndarray) -> None:
    if len(assignments) != len(embeddings):
        raise PipelineError(f"mapping got {len(assignments)} assignments but {len(embeddings)} embeddings; "
                            "they must be aligned with the segments")


@dataclasses.dataclass(frozen=True)
class _Frame:
    """What every theme of one fit is scored against: the categories' items, the corpus baseline and spread, and
    each theme's similarity to every category (rows in theme order)."""

    categories: list[Category]
    items: list[CategoryItems]
    embeddings: np.ndarray
    seeds: dict[str, int]  # category id -> its column
    members: dict[int, list[int]]  # theme id -> rows whose primary theme it is
    similarity: np.ndarray
    core_similarity: np.ndarray
    category_lemmas: list[set[str]]
    baseline: np.ndarray | None
    spread: np.ndarray | None

    @classmethod
    def build(cls, themes, assignments, embeddings, categories, items, embedder, theme_texts, theme_vectors):
        core = core_items(items, categories)
        baseline, spread = corpus_baseline(embeddings, core) if len(embeddings) else (None, None)
        vectors = theme_vectors(themes, assignments, embeddings, embedder, theme_texts)
        empty = np.zeros((0, len(categories)))
        members: dict[int, list[int]] = {}
        for position, assignment in enumerate(assignments):
            members.setdefault(assignment.theme_id, []).append(position)
        return cls(categories, list(items), embeddings, {c.category_id: j for j, c in enumerate(categories)}, members,
                   item_similarity(vectors, items) if themes else empty,
                   item_similarity(vectors, core) if themes else empty, [c.all_lemmas for c in items],
                   baseline, spread)


class CategoryMapper(BaseEstimator):
    """Map each theme to its best closed category, with a confidence and an emergent flag.

    Parameters
    ----------
    keyword_weight : float
        Weight of keyword overlap against semantic similarity in the combined score (0..1).
    emergent_threshold : float or None
        Themes whose best score is below this are emergent; None calibrates it (see the module docstring).
    min_elevation : float
        Calibrated mode: standard deviations above the corpus baseline a theme's best category must reach.
    min_support : float
        Calibrated mode: bootstrap support the best category must reach, else the theme is emergent.
    n_bootstrap : int
        Resamples of each theme's segments for the support.
    random_state : int
        Seeds the bootstrap resampling.
    """

    # the ranges of the parameters that mirror [mapping] are MappingConfig's fields
    _parameter_constraints = ParameterConstraints(
        MappingConfig, names=("keyword_weight", "emergent_threshold", "min_elevation", "min_support"),
        n_bootstrap=Annotated[Int, Field(ge=1)], random_state=Seed)

    def __init__(self, keyword_weight: float = 0.25, emergent_threshold: float | None = None,
                 min_elevation: float = 0.5, min_support: float = 0.8, n_bootstrap: int = 200, random_state: int = 0):
        self.keyword_weight = keyword_weight
        self.emergent_threshold = emergent_threshold
        self.min_elevation = min_elevation
        self.min_support = min_support
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

    def fit(self, themes: list[Theme], assignments: list[Assignment], embeddings: np.ndarray,
            categories: list[Category], embedder, theme_texts: dict[int, list[str]] | None = None) -> CategoryMapper:
        """Score themes against categories.

        A theme's vector is the normalised mean of the embeddings of the segments whose *primary* theme it is;
        ``theme_texts[theme_id]`` (e.g. representative documents), when given, is embedded and used instead. A
        theme with neither is represented by its label and keywords.
        """
        check_parameters(self)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        _check_aligned(assignments, embeddings)
        all_themes = list(themes)
        themes = [theme for theme in all_themes if theme.theme_id != UNASSIGNED]
        # a catch-all option ("Other") is never scored: emergent themes are what it stands for
        residual_id = next((c.category_id for c in categories if is_residual(c)), None)
        categories = topical(categories)
        self.scores_ = []
        self.elevation_: dict[int, float] = {}  # theme id -> standard deviations above the corpus baseline
        self.support_: dict[int, float] = {}  # theme id -> bootstrap support of its best category
        if not categories:
            self.themes_, self.unsupported_categories_ = all_themes, []
            self.threshold_, self.threshold_method_ = None, "no categories given"
            return self
        items = embed_categories(categories, embedder)
        self._calibrate(items, embedder)
        frame = _Frame.build(themes, assignments, embeddings, categories, items, embedder, theme_texts or {},
                             self._theme_vectors)
        rng = np.random.default_rng(self.random_state)
        mapped = {theme.theme_id: self._map_theme(row, theme, frame, rng, residual_id)
                  for row, theme in enumerate(themes)}
        # same order as given, so the caller can zip them with its own list (the outlier pseudo-theme passes through)
        self.themes_ = [mapped.get(theme.theme_id, theme) for theme in all_themes]
        covered = {t.category_id for t in mapped.values() if t.category_id is not None and not t.emergent}
        self.unsupported_categories_ = [c for c in categories if c.category_id not in covered]
        return self

    def _calibrate(self, items: Sequence[CategoryItems], embedder) -> None:
        if self.emergent_threshold is not None:
            self.threshold_ = float(self.emergent_threshold)
            self.threshold_method_ = "set in config (mapping.emergent_threshold)"
            return
        self.threshold_ = off_topic_floor(items, embedder)
        self.threshold_method_ = (
            f"calibrated on this corpus for embedder {getattr(embedder, 'name', '?')}: a theme seeded from a "
            f"category maps to it; any other theme maps to its best category only if its similarity to that "
            f"category's label and description stands at least {self.min_elevation:g} corpus standard "
            f"deviations above the corpus as a whole (mapping.min_elevation), its best category stays best in "
            f"{self.min_support:.0%} of bootstrap resamples (mapping.min_support), and it scores above "
            f"{self.threshold_:.3f}, the score of {len(OFF_TOPIC_SENTENCES)} off-topic sentences taken as one theme")

    def _map_theme(self, row: int, theme: Theme, f: _Frame, rng: np.random.Generator,
                   residual_id: str | None) -> Theme:
        """Score one theme against every category (appended to ``scores_``) and decide its category."""
        lemmas = content_lemmas(theme.keywords)
        overlaps = [keyword_overlap(lemmas, words) for words in f.category_lemmas]
        w = self.keyword_weight
        combined = (1 - w) * f.similarity[row] + w * np.asarray(overlaps)
        for j, category in enumerate(f.categories):
            self.scores_.append(CategoryScore(theme.theme_id, category.category_id, round(float(f.similarity[row, j]), 6),
                                              round(float(overlaps[j]), 6), round(float(combined[j]), 6)))
        order = np.argsort(-combined, kind="stable")
        best = float(combined[order[0]])
        seeded = theme.category_id in f.seeds and not theme.pinned
        j = f.seeds[theme.category_id] if seeded else int(order[0])
        support = self._bootstrap_support(f.members.get(theme.theme_id, []), f.embeddings, f.items,
                                          np.asarray(overlaps), j, rng)
        self.support_[theme.theme_id] = support
        if self.emergent_threshold is not None or f.baseline is None:
            emergent = best < self.threshold_
            elevation = float("nan")
        else:
            elevation = float((f.core_similarity[row, j] - f.baseline[j]) / f.spread[j])
            # a theme the theme stage seeded from a category is, by construction, answers that clearly
            # describe it; only themes found without the closed list have to earn their category
            emergent = not seeded and (f.similarity[row, j] < self.threshold_ or elevation < self.min_elevation
                                       or support < self.min_support)
        self.elevation_[theme.theme_id] = elevation
        category_id = residual_id if emergent else f.categories[j].category_id
        # a category theme the theme stage measured (its coder's mean probability) keeps that confidence; the
        # bootstrap support of a theme made of one category's segments is 1.0 by construction and says nothing
        # an emergent theme claims no category: no confidence (its evidence is ``off_list_score``; the support of
        # its nearest category stays in ``support_``)
        measured = seeded and theme.confidence is not None
        confidence = None if emergent else theme.confidence if measured else round(support, 6)
        return dataclasses.replace(theme, category_id=category_id, emergent=emergent, confidence=confidence)

    def _bootstrap_support(self, rows: list[int], embeddings: np.ndarray, items: Sequence[CategoryItems],
                           overlaps: np.ndarray, best: int, rng: np.random.Generator) -> float:
        """Share of bootstrap resamples of the theme's segments whose best category is still ``best``.

        A resample's centroid similarity to an item is the count-weighted mean of its segments' similarities, so
        the segment x item similarities are computed once and each resample is a row of multinomial counts.
        1.0 when the theme has fewer than two segments to resample (nothing to measure)."""
        if len(rows) < 2 or self.n_bootstrap < 1:
            return 1.0
        n = len(rows)
        members = embeddings[np.asarray(rows)]
        per_item = [members @ category.vectors.T for category in items]  # (n, items of the category) each
        w = self.keyword_weight
        similarity = np.empty((self.n_bootstrap, len(items)), dtype=np.float64)
        step = max(1, min(self.n_bootstrap, BOOTSTRAP_CELLS // n))  # resamples drawn at a time: memory stays bounded
        for start in range(0, self.n_bootstrap, step):
            size = min(step, self.n_bootstrap - start)
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(np.float32)  # (size, n)
            for j, sims in enumerate(per_item):
                similarity[start:start + size, j] = ((counts @ sims) / n).max(axis=1)
        combined = (1 - w) * similarity + w * overlaps[None, :]
        return float((combined.argmax(axis=1) == best).mean())

    @staticmethod
    def _theme_vectors(themes: Sequence[Theme], assignments: Sequence[Assignment], embeddings: np.ndarray,
                       embedder, theme_texts: dict[int, list[str]]) -> np.ndarray:
        members: dict[int, list[int]] = {}
        for row, assignment in enumerate(assignments):
            members.setdefault(assignment.theme_id, []).append(row)
        vectors: list[np.ndarray | None] = []
        to_encode: dict[int, list[str]] = {}
        for position, theme in enumerate(themes):
            texts = [t for t in theme_texts.get(theme.theme_id, []) if t and t.strip()]
            if texts:
                to_encode[position] = texts
                vectors.append(None)
            elif members.get(theme.theme_id):
                vectors.append(embeddings[members[theme.theme_id]].mean(axis=0))
            else:
                to_encode[position] = [" ".join([theme.label, *theme.keywords]).strip() or str(theme.theme_id)]
                vectors.append(None)
        if to_encode:
            flat = [text for texts in to_encode.values() for text in texts]
            encoded = np.asarray(embedder.encode(flat), dtype=np.float32)
            cursor = 0
            for position, texts in to_encode.items():
                vectors[position] = encoded[cursor:cursor + len(texts)].mean(axis=0)
                cursor += len(texts)
        return np.vstack(vectors) if vectors else np.zeros((0, embeddings.shape[1] if embeddings.ndim == 2 else 0))


