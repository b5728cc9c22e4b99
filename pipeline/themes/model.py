"""Themes: BERTopic configured for survey answers, with consensus over seeds, stability, zero-shot categories,
an outlier audit and secondary themes.

What runs, and why (measured on all-MiniLM-L6-v2 embeddings, 2 shared CPU cores; see ../shared/evaluation.md):

1. Zero-shot categories. Each segment is scored against every closed category by the MAX cosine over the
   category's name (prompt templates, averaged), its description and each keyword (max over items beat one
   vector per name). A segment is *claimed* by its best category when that score reaches the calibrated
   threshold AND leads the runner-up category by at least the corpus's median lead. The threshold
   (``zeroshot_threshold_``, explained in ``zeroshot_calibration_``) is calibrated for the model and the
   category list, never BERTopic's fixed 0.7: the higher of (a) the 95th percentile of the best score that
   off-topic sentences in an answer's register (``pipeline.categories.SURVEY_REGISTER_NULL``) reach, and (b) the 95th percentile of the
   segments' *runner-up* category scores. (a) alone gave 0.34 on the sample survey and let categories swallow
   the politics and timescale answers, which resemble every category a little; in-domain text needs an
   in-domain background, which (b) is. A category needs at least ``min_claims`` (2-5, growing with n) claimed
   segments to seed a theme; fewer go to the free clustering.
   BERTopic's own ``zeroshot_topic_list`` path is not used: it embeds one string per topic, runs the cluster
   model inside ``fit`` on the leftovers only (consensus over seeds would mean n_seeds BERTopic fits), and its
   manual mode (``y=``) breaks when zero-shot removes rows. The same idea runs here in the open.
2. Clusters. ``cluster_model="auto"`` is seeded spherical k-means (``seeded-kmeans.v1``): claimed segments are
   pinned to their category's theme and start its centroid; the other segments join the nearest category
   theme or one of k free clusters, so category themes also gather the answers that describe them less
   literally while answers the closed list does not cover form emergent themes. k-means leaves no outliers,
   needs no UMAP numba JIT (~7 s per process) nor NN-descent (~27 s at 4k+ rows); BERTopic's UMAP+HDBSCAN left
   20-37% outliers and agreed across seeds at ARI 0.57-0.77 on the evaluation sets. ``kmeans.v1``,
   ``agglomerative.v1`` and ``hdbscan.v1`` (UMAP on exact neighbours + HDBSCAN with size-adapted parameters,
   ``pipeline.clusters.size_parameters``) cluster only the unclaimed segments.
   The number of free clusters comes from a table (``selection_``): every candidate k between a floor and a
   ceiling growing like sqrt(n/2) (capped by ``max_themes``) is fitted with ``n_seeds`` seeds on a fixed-seed
   subsample of at most 2,000 rows; candidates whose seed agreement (mean pairwise ARI) reaches 0.8x the best
   agreement or 0.6 compete on cosine silhouette (0.8x alone let one very stable small k shut out every other
   k: 4 themes for 20,000 patient comments). Silhouette alone is flat (0.05-0.09 here) and drifts to the
   floor or the ceiling; agreement alone always prefers the fewest clusters; the floor and ceiling bound both.
3. Consensus and stability. The consensus is the medoid partition (highest mean ARI to the other seeds), so
   no n x n matrix is built. A theme's stability is the mean, over the other seeds, of the best Jaccard
   overlap between its members and any cluster of that seed; below ``unstable_below`` it is flagged
   ``unstable``, never hidden. (With a cluster model other than auto, zero-shot themes do not depend on the
   seed and get 1.0.)
   Category coding (``category_themes="coded"``, the default when categories are given; ``pipeline.coding``):
   the clusters then decide only what is *off* the closed list. Every segment joins its own category's theme
   (``CategoryCoder``: max-over-items cosine plus self-training, per segment) unless its free cluster is off the
   list (``OffListDetector``: less than ``off_list_elevation`` corpus SDs closer to its best category than the
   corpus as a whole, the mapper's rule without the bootstrap) in a majority of the seeds; those segments form
   emergent themes, split as the consensus clusters them (``emergent_grouping="co-association"``: as all the seeds
   agree; ``emergent_recruit``: the emergent themes then take the unsure segments a classifier puts in them,
   ``pipeline.themes.emergent``). ``off_list_rule="score"`` replaces the elevation test
   with a threshold (``off_list_threshold``) on the clusters' mean calibrated off-list score (``OffListScorer``);
   that score is reported for every segment (``segment_off_list_``) and theme (``Theme.off_list_score``) either
   way, and a category theme's ``confidence`` is the coder's mean probability for its category over its segments. Measured on the five shared sets
   (docs/benchmarks.md): mapping whole clusters capped category F1 because clusters mix categories (0.052 on
   the 44-category set); coding each segment raised it on four sets. ``"clustered"`` keeps the seeded clusters as the themes (the previous default).
4. BERTopic keywords and outlier reduction (``pipeline.themes.representation``); every outlier move is logged in
   ``reassignments_``.
5. Labels (``pipeline.themes.naming``); zero-shot and category themes keep their category's label.
6. Secondary themes: softmax (temperature 0.05) of the cosine to each theme centroid; themes other than the
   primary with weight >= ``secondary_min_weight`` are kept (at most 3).

Reproducible: every random step takes a seed derived from ``random_state`` and clustering runs single-threaded
(which is also 4x faster on a shared 2-core machine); the same input, config and seed give identical
assignments. ``save``/``load`` (``pipeline.themes.persist``) keep what ``transform`` needs, so the training
segments get their assignments back exactly as ``fit`` made them; unseen segments go to the nearest theme centroid.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.categories import CategoryCoder, OffListScorer, category_similarity, claim_segments, topical
from pipeline.core.config import Seed, ThemesConfig
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterConstraints, check_parameters
from pipeline.core.records import UNASSIGNED, Assignment, Category, Reassignment, Theme
from pipeline.core.vectors import unit_rows
from pipeline.embed import MemoEmbedder
from pipeline.themes import persist
from pipeline.themes.coded import coded_partition
from pipeline.themes.naming import KeywordLabeler
from pipeline.themes.partition import seed_partitions
from pipeline.themes.representation import fit_bertopic, make_vectorizer, reduce_outliers, representation_models

DEFAULT_STOP_WORDS = ("nhs", "ccg", "ccgs", "stp", "stps", "barrier", "barriers")
SECONDARY_TEMPERATURE = 0.05


def _seeds(random_state: int | None, n: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(random_state or 0).generate_state(n)]


class ThemeModel(BaseEstimator):
    """Themes from segment embeddings; see the module docstring for the method. Parameters mirror ThemesConfig.

    ``fit`` checks the parameters against ``_parameter_constraints``, which are ThemesConfig's fields (one
    declaration of every range and allowed value), and raises ParameterError naming the parameter.
    """

    _parameter_constraints = ParameterConstraints(ThemesConfig, random_state=Optional[Seed])

    def __init__(self, cluster_model: str = "auto", n_themes: int | None = None, min_themes: int = 4,
                 max_themes: int = 30, n_seeds: int = 5, unstable_below: float = 0.6, min_segments: int = 12,
                 zeroshot: bool = True, zeroshot_min_similarity: float | None = None,
                 category_themes: str = "coded", off_list_elevation: float = 0.5,
                 off_list_rule: str = "elevation", off_list_threshold: float = 0.5,
                 confident_never_emergent: bool = True, emergent_grouping: str = "consensus",
                 emergent_recruit: bool = False,
                 outlier_strategy: str = "embeddings", outlier_threshold: float = 0.0,
                 secondary_min_weight: float = 0.15, n_keywords: int = 10,
                 stop_words: Sequence[str] = DEFAULT_STOP_WORDS, random_state: int | None = 42):
        self.cluster_model = cluster_model
        self.n_themes = n_themes
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.n_seeds = n_seeds
        self.unstable_below = unstable_below
        self.min_segments = min_segments
        self.zeroshot = zeroshot
        self.zeroshot_min_similarity = zeroshot_min_similarity
        self.category_themes = category_themes
        self.off_list_elevation = off_list_elevation
        self.off_list_rule = off_list_rule
        self.off_list_threshold = off_list_threshold
        self.confident_never_emergent = confident_never_emergent
        self.emergent_grouping = emergent_grouping
        self.emergent_recruit = emergent_recruit
        self.outlier_strategy = outlier_strategy
        self.outlier_threshold = outlier_threshold
        self.secondary_min_weight = secondary_min_weight
        self.n_keywords = n_keywords
        self.stop_words = stop_words
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, texts: Sequence[str], embeddings: np.ndarray, embedder, categories: Sequence[Category] = (),
            segment_ids: Sequence[str] | None = None) -> ThemeModel:
        texts = [str(t) for t in texts]
        X = self._checked_input(texts, embeddings)
        ids = list(segment_ids) if segment_ids is not None else [str(i) for i in range(len(texts))]
        categories = topical(categories)  # a catch-all "Other" option is no topic to seed or code to
        items_embedder = MemoEmbedder(embedder)  # the category items are embedded by three steps below
        self.timings_: dict[str, float] = {}
        clock = time.perf_counter()
        claims = self._claim(X, categories, items_embedder)  # 1. segments that clearly describe a category
        hit = sorted(set(claims[claims >= 0].tolist()))
        clock = self._time("zeroshot", clock)
        seeds = seed_partitions(X, claims, hit, cluster_model=self.cluster_model,  # 2-3. clusters over seeds
                                seeds=_seeds(self.random_state, self.n_seeds), min_themes=self.min_themes,
                                max_themes=self.max_themes, n_themes=self.n_themes)
        self.selection_, self.size_parameters_ = seeds.selection, seeds.size_parameters
        internal, stability, coder, scorer, self.coding_ = seeds.labels, seeds.stability, None, None, {}
        if self.category_themes == "coded" and self.zeroshot and categories:
            internal, hit, stability, coder, scorer = self._code(X, seeds, len(hit), categories, items_embedder)
        coder = self._segment_categories(X, categories, items_embedder, coder)
        self.segment_off_list_ = self._segment_off_list(X, categories, items_embedder, scorer)
        clock = self._time("partition", clock)
        self.vectorizer_ = make_vectorizer()  # 4. BERTopic keywords, outliers
        self.topic_model_, topics = fit_bertopic(texts, X, internal, embedder, self.vectorizer_, self.n_keywords)
        to_internal = {int(b): int(a) for a, b in zip(internal, topics)}
        topics, self.reassignments_ = self._reduce_outliers(texts, X, topics, ids)
        clock = self._time("bertopic", clock)
        topics = np.asarray(topics, dtype=np.int64)  # 5. themes, centroids, assignments with secondary themes
        theme_ids = sorted(set(topics.tolist()) - {UNASSIGNED})
        self.centroids_ = {t: unit_rows(X[topics == t].mean(axis=0), np.float32) for t in theme_ids}
        self.themes_ = self._themes(texts, topics, theme_ids, to_internal, hit, stability, categories, coder)
        self.assignments_ = self._assign(X, topics, ids)
        self.train_index_ = {_key(text): i for i, text in reversed(list(enumerate(texts)))}
        self._time("assign", clock)
        return self

    def _checked_input(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        X = np.asarray(embeddings, dtype=np.float32)
        if X.ndim != 2 or len(X) != len(texts):
            raise ValueError(f"embeddings must have one row per text: {X.shape} for {len(texts)} texts")
        check_parameters(self)
        n_distinct = len(set(texts))
        if n_distinct < self.min_segments:
            raise PipelineError(f"too little text to find themes: {n_distinct} distinct segments, need at least "
                                f"{self.min_segments} (themes.min_segments)")
        return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)

    def _time(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings_[step] = now - since
        return now

    def _claim(self, X: np.ndarray, categories: Sequence[Category], embedder) -> np.ndarray:
        """Each segment's zero-shot category (-1 = none), see ``pipeline.categories.zeroshot``."""
        self.zeroshot_threshold_, self.zeroshot_calibration_ = None, {}
        if not (self.zeroshot and categories):
            return np.full(len(X), -1, dtype=np.int64)
        scores = category_similarity(X, categories, embedder)
        claims, self.zeroshot_threshold_, self.zeroshot_calibration_ = claim_segments(
            scores, categories, embedder, self.zeroshot_min_similarity)
        return claims

    def _code(self, X, seeds, n_seeded, categories, embedder):
        """Category themes from the per-segment coder, emergent themes from off-list clusters
        (``pipeline.themes.coded``)."""
        coded = coded_partition(X, seeds.labels, seeds.labelings, seeds.medoid, n_seeded, categories, embedder,
                                min_elevation=self.off_list_elevation, random_state=self.random_state,
                                keep_confident=self.confident_never_emergent, rule=self.off_list_rule,
                                threshold=self.off_list_threshold, grouping=self.emergent_grouping,
                                recruit_segments=self.emergent_recruit)
        self.coding_ = coded.info
        return coded.labels, coded.categories, coded.stability, coded.coder, coded.scorer

    def _segment_categories(self, X, categories, embedder, coder) -> CategoryCoder | None:
        """Each segment's own closed category and its score (``segment_categories_``): the coder the category
        themes came from, or one fitted here when the themes were not coded (the report shows a segment's category
        beside its theme). Returns that coder."""
        self.segment_categories_ = []
        if not categories:
            return None
        if coder is None:
            coder = CategoryCoder(random_state=self.random_state or 0).fit(X, categories, embedder)
        self.segment_categories_ = [(categories[label].category_id, round(float(coder.scores_[row, label]), 4))
                                    for row, label in enumerate(coder.labels_)]
        return coder

    def _segment_off_list(self, X, categories, embedder, scorer) -> list[float]:
        """Each segment's calibrated off-list score (``OffListScorer``): the one the emergent themes came from, or
        one fitted here; empty without categories."""
        if not categories:
            return []
        if scorer is None:
            scorer = OffListScorer(random_state=self.random_state or 0).fit(X, categories, embedder)
        return [round(float(score), 4) for score in scorer.score_]

    def _reduce_outliers(self, texts, X, topics, ids) -> tuple[list[int], list[Reassignment]]:
        self._representation = representation_models(self.n_keywords, self.random_state or 0)
        return reduce_outliers(self.topic_model_, texts, X, topics, ids, strategy=self.outlier_strategy,
                               threshold=self.outlier_threshold, vectorizer=self.vectorizer_,
                               representation=self._representation, n_keywords=self.n_keywords)

    def _themes(self, texts, topics, theme_ids, to_internal, hit, stability, categories, coder) -> list[Theme]:
        """One Theme per BERTopic topic: keywords from BERTopic, the category's label for a category theme, else
        a keyword label; stability from the internal theme it came from. A category theme's ``confidence`` is
        the mean probability the coder gives its segments for its category (segments.csv ``category_score``);
        every theme's ``off_list_score`` is the mean of its segments' off-list scores."""
        cat_of = {i: categories[c].category_id for i, c in enumerate(hit)}
        column = {c.category_id: j for j, c in enumerate(categories)}
        off_list = np.asarray(self.segment_off_list_, dtype=np.float64)
        labeler = None
        themes = []
        for t in theme_ids:
            words = [w for w, _ in (self.topic_model_.get_topic(t) or [])][:self.n_keywords]
            source = to_internal.get(t)
            category_id = cat_of.get(source) if source is not None else None
            if category_id:
                label = next(c.label for c in categories if c.category_id == category_id)
            else:
                labeler = labeler or KeywordLabeler(texts, self.vectorizer_.build_analyzer(), self.stop_words)
                label = labeler.label(words, topics == t)
            score = round(stability.get(source, 0.0), 4)
            members = topics == t
            confidence = (round(float(coder.scores_[members, column[category_id]].mean()), 4)
                          if category_id and coder is not None and members.any() else None)
            themes.append(Theme(theme_id=t, label=label, keywords=tuple(words), size=int(members.sum()),
                                stability=score, unstable=score < self.unstable_below, category_id=category_id,
                                confidence=confidence,
                                off_list_score=round(float(off_list[members].mean()), 4) if len(off_list) else None))
        return themes

    def _assign(self, X: np.ndarray, topics: np.ndarray, ids: Sequence[str]) -> list[Assignment]:
        """Primary theme as given, and secondary themes by softmax (temperature 0.05) of the cosine to each theme
        centroid: those other than the primary with weight >= ``secondary_min_weight`` (at most 3)."""
        theme_ids = sorted(self.centroids_)
        if not theme_ids:
            return [Assignment(i, UNASSIGNED, 0.0) for i in ids]
        sims = X @ np.vstack([self.centroids_[t] for t in theme_ids]).T
        logits = (sims - sims.max(axis=1, keepdims=True)) / SECONDARY_TEMPERATURE
        weights = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        out = []
        for row, (segment_id, primary) in enumerate(zip(ids, topics.tolist())):
            w = {t: round(float(weights[row, j]), 4) for j, t in enumerate(theme_ids)}
            secondary = tuple(sorted(((t, v) for t, v in w.items() if t != primary and v >= self.secondary_min_weight),
                                     key=lambda tv: (-tv[1], tv[0]))[:3])
            out.append(Assignment(segment_id, int(primary), w.get(primary, 0.0), secondary))
        return out

    # ------------------------------------------------------------ transform / save / load
    def transform(self, texts: Sequence[str], embeddings: np.ndarray,
                  segment_ids: Sequence[str] | None = None) -> list[Assignment]:
        """Training segments get their fitted assignment back; new ones go to the nearest theme centroid."""
        if not hasattr(self, "assignments_"):
            raise RuntimeError("ThemeModel is not fitted")
        X = np.asarray(embeddings, dtype=np.float32)
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        ids = list(segment_ids) if segment_ids is not None else [str(i) for i in range(len(texts))]
        theme_ids = sorted(self.centroids_)
        nearest = (np.asarray(theme_ids)[(X @ np.vstack([self.centroids_[t] for t in theme_ids]).T).argmax(axis=1)]
                   if theme_ids else np.full(len(X), UNASSIGNED))
        fresh = self._assign(X, nearest, ids)
        out = []
        for text, segment_id, new in zip(texts, ids, fresh):
            known = self.train_index_.get(_key(str(text)))
            if known is None:
                out.append(new)
            else:
                fitted = self.assignments_[known]
                out.append(Assignment(segment_id, fitted.theme_id, fitted.weight, fitted.secondary))
        return out

    def save(self, path: str | Path) -> None:
        persist.save_model(self, path)

    @classmethod
    def load(cls, path: str | Path, embedder, with_topic_model: bool = True) -> ThemeModel:
        return persist.load_model(cls, path, embedder, with_topic_model)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
