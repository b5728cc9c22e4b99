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
   emergent themes, split as the consensus clusters them. Measured on the five shared sets
   (docs/benchmarks.md): mapping whole clusters capped category F1 because clusters mix categories (0.052 on
   the 44-category set); coding each segment raised it on four sets. ``"clustered"`` keeps the seeded clusters as the themes (the previous default).
4. BERTopic (manual mode: ``BaseDimensionalityReduction`` + ``BaseCluster`` + ``y=``) computes c-TF-IDF over
   spaCy lemmas (unigrams and bigrams of adjacent content words, English stop words removed). Any -1 rows go
   through ``reduce_outliers``; ``update_topics`` then runs KeyBERTInspired + MaximalMarginalRelevance once.
   Every outlier move is logged in ``reassignments_`` (score = cosine to the theme's centroid).
5. Labels: up to 3 keywords that at least 10% of the theme's members use, no two sharing a word stem, joined by
   " / "; domain stop words (``stop_words``) may be keywords but enter a label only when distinctive (twice as
   common in the theme as in the corpus). Zero-shot themes keep their category's label.
6. Secondary themes: softmax (temperature 0.05) of the cosine to each theme centroid; themes other than the
   primary with weight >= ``secondary_min_weight`` are kept (at most 3).

Reproducible: every random step takes a seed derived from ``random_state`` and clustering runs single-threaded
(which is also 4x faster on a shared 2-core machine); the same input, config and seed give identical
assignments. ``save`` writes BERTopic's safetensors model plus ``state.json``/``centroids.npz`` (the learned
assignments and centroids, which BERTopic's save drops along with UMAP/HDBSCAN), so ``load`` + ``transform``
return the training segments' assignments exactly as ``fit`` made them; unseen segments go to the nearest
theme centroid.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.categories import CategoryCoder, LemmaAnalyzer, category_similarity, claim_segments, topical
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Category, Reassignment, Theme
from pipeline.core.registry import CLUSTERERS
from pipeline.core.vectors import unit_rows
from pipeline.embed import MemoEmbedder
from pipeline.io.atomic import atomic_write_text, current_umask
from pipeline.themes.bertopic_adapter import bertopic_backend, memo_backend
from pipeline.themes.clusters import consensus_partition, select_and_fit, size_parameters, theme_stability
from pipeline.themes.coded import coded_partition


DEFAULT_STOP_WORDS = ("nhs", "ccg", "ccgs", "stp", "stps", "barrier", "barriers")
OUTLIER_STRATEGIES = ("embeddings", "c-tf-idf", "distributions")
CATEGORY_THEMES = ("coded", "clustered")
SECONDARY_TEMPERATURE = 0.05

def _seeds(random_state: int | None, n: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(random_state or 0).generate_state(n)]


class ThemeModel(BaseEstimator):
    """Themes from segment embeddings; see the module docstring for the method. Parameters mirror ThemesConfig."""

    def __init__(self, cluster_model: str = "auto", n_themes: int | None = None, min_themes: int = 4,
                 max_themes: int = 30, n_seeds: int = 5, unstable_below: float = 0.6, min_segments: int = 12,
                 zeroshot: bool = True, zeroshot_min_similarity: float | None = None,
                 category_themes: str = "coded", off_list_elevation: float = 0.5,
                 confident_never_emergent: bool = True,
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
        self.confident_never_emergent = confident_never_emergent
        self.outlier_strategy = outlier_strategy
        self.outlier_threshold = outlier_threshold
        self.secondary_min_weight = secondary_min_weight
        self.n_keywords = n_keywords
        self.stop_words = stop_words
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, texts: Sequence[str], embeddings: np.ndarray, embedder, categories: Sequence[Category] = (),
            segment_ids: Sequence[str] | None = None) -> "ThemeModel":
        texts = [str(t) for t in texts]
        X = np.asarray(embeddings, dtype=np.float32)
        if X.ndim != 2 or len(X) != len(texts):
            raise ValueError(f"embeddings must have one row per text: {X.shape} for {len(texts)} texts")
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        self._check_params()
        n_distinct = len(set(texts))
        if n_distinct < self.min_segments:
            raise PipelineError(f"too little text to find themes: {n_distinct} distinct segments, need at least "
                                f"{self.min_segments} (themes.min_segments)")
        ids = list(segment_ids) if segment_ids is not None else [str(i) for i in range(len(texts))]
        categories = topical(categories)  # a catch-all "Other" option is no topic to seed or code to
        items_embedder = MemoEmbedder(embedder)  # the category items are embedded by three steps below
        self.timings_: dict[str, float] = {}
        clock = time.perf_counter()

        # 1. zero-shot categories
        zs = np.full(len(X), -1, dtype=np.int64)
        self.zeroshot_threshold_, self.zeroshot_calibration_ = None, {}
        if self.zeroshot and categories:
            scores = category_similarity(X, categories, items_embedder)
            zs = self._zeroshot(scores, categories, items_embedder)
        hit = sorted(set(zs[zs >= 0].tolist()))
        self.timings_["zeroshot"] = time.perf_counter() - clock
        t0 = time.perf_counter()

        # 2. choose k and fit the seeds: seeded k-means over all rows (claimed rows pinned to their category's
        #    theme), or another cluster model over the unclaimed rows only
        name = "seeded-kmeans.v1" if self.cluster_model == "auto" else self.cluster_model
        seeds = _seeds(self.random_state, self.n_seeds)
        rest = np.flatnonzero(zs < 0)
        internal = np.full(len(X), UNASSIGNED, dtype=np.int64)
        pinned = np.full(len(X), -1, dtype=np.int64)
        for theme, category in enumerate(hit):
            pinned[zs == category] = theme
        internal[:] = pinned
        seeded = name == "seeded-kmeans.v1"
        rows, offset = (np.arange(len(X)), 0) if seeded else (rest, len(hit))
        free_floor = max(2, self.min_themes - len(hit)) if seeded else self.min_themes
        sizes = size_parameters(len(rest), free_floor, max(free_floor, self.max_themes - len(hit)))
        self.size_parameters_ = asdict(sizes)
        stability = {theme: 1.0 for theme in range(len(hit))}  # overwritten when seeds are fitted
        full_labelings, medoid = [pinned.copy()], None  # every seed's partition of all rows, for category coding
        if len(rest) >= max(2 * sizes.k_min, 6):
            labelings, self.selection_ = select_and_fit(name, X[rows], seeds, sizes, self.n_themes,
                                                        pinned[rows] if seeded else None)
            for row in self.selection_:
                row["n_category_themes"] = len(hit)
            self.timings_["select_k"] = time.perf_counter() - t0
            t0 = time.perf_counter()

            # 3. consensus (medoid partition) and per-theme stability
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
                stability[theme] = theme_stability(clusters == cluster, labelings,
                                                   skip=medoid if len(labelings) > 1 else None)
        else:
            self.selection_ = [{"k": 0, "cluster_model": name, "chosen": True,
                                "reason": f"only {len(rest)} segments outside the categories' themes: "
                                          "no clustering, they go through outlier reduction"}]
        self.coding_: dict = {}
        coder = None
        if self.category_themes == "coded" and self.zeroshot and categories:
            internal, hit, stability, coder = self._code(X, internal, full_labelings, medoid, len(hit), categories,
                                                         items_embedder)
        self.segment_categories_ = self._segment_categories(X, categories, items_embedder, coder)
        self.timings_["consensus"] = time.perf_counter() - t0
        t0 = time.perf_counter()

        # 4. BERTopic representations, outlier reduction
        topics = self._fit_bertopic(texts, X, internal, embedder)
        to_internal = {int(b): int(a) for a, b in zip(internal, topics)}
        self.timings_["bertopic"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        topics, self.reassignments_ = self._reduce_outliers(texts, X, topics, ids)
        self.timings_["outliers"] = time.perf_counter() - t0
        t0 = time.perf_counter()

        # 5. themes, centroids, assignments with secondary themes
        topics = np.asarray(topics, dtype=np.int64)
        theme_ids = sorted(set(topics.tolist()) - {UNASSIGNED})
        self.centroids_ = {t: unit_rows(X[topics == t].mean(axis=0), np.float32) for t in theme_ids}
        cat_of = {i: categories[c].category_id for i, c in enumerate(hit)}
        self.themes_, self._token_sets = [], None
        for t in theme_ids:
            words = [w for w, _ in (self.topic_model_.get_topic(t) or [])][:self.n_keywords]
            source = to_internal.get(t)
            category_id = cat_of.get(source) if source is not None else None
            label = (next(c.label for c in categories if c.category_id == category_id) if category_id
                     else self._label(words, texts, topics == t))
            score = round(stability.get(source, 0.0), 4)
            self.themes_.append(Theme(theme_id=t, label=label, keywords=tuple(words), size=int((topics == t).sum()),
                                      stability=score, unstable=score < self.unstable_below, category_id=category_id))
        self.assignments_ = self._assign(X, topics, ids)
        self._train_index = {_key(text): i for i, text in reversed(list(enumerate(texts)))}
        self.timings_["assign"] = time.perf_counter() - t0
        return self

    def _check_params(self) -> None:
        if self.cluster_model != "auto" and self.cluster_model not in CLUSTERERS:
            raise ConfigError(f"themes.cluster_model must be auto or one of {', '.join(CLUSTERERS)}, "
                              f"got {self.cluster_model!r}")
        if self.outlier_strategy not in OUTLIER_STRATEGIES:
            raise ConfigError(f"themes.outlier_strategy must be one of {', '.join(OUTLIER_STRATEGIES)}, "
                              f"got {self.outlier_strategy!r}")
        if self.category_themes not in CATEGORY_THEMES:
            raise ConfigError(f"themes.category_themes must be one of {', '.join(CATEGORY_THEMES)}, "
                              f"got {self.category_themes!r}")
        if self.n_seeds < 1 or not 2 <= self.min_themes <= self.max_themes:
            raise ConfigError("themes.n_seeds must be >= 1 and 2 <= themes.min_themes <= themes.max_themes")

    def _code(self, X, consensus, labelings, medoid, n_seeded, categories, embedder):
        """Category themes from the per-segment coder, emergent themes from off-list clusters (``pipeline.coding``)."""
        coded = coded_partition(X, consensus, labelings, medoid, n_seeded, categories, embedder,
                                min_elevation=self.off_list_elevation, random_state=self.random_state,
                                keep_confident=self.confident_never_emergent)
        self.coding_ = coded.info
        return coded.labels, coded.categories, coded.stability, coded.coder

    def _segment_categories(self, X, categories, embedder, coder) -> list[tuple[str, float]]:
        """Each segment's own closed category and its score: the coder the category themes came from, or one
        fitted here when the themes were not coded (the report shows a segment's category beside its theme)."""
        if not categories:
            return []
        if coder is None:
            coder = CategoryCoder(random_state=self.random_state or 0).fit(X, categories, embedder)
        return [(categories[label].category_id, round(float(coder.scores_[row, label]), 4))
                for row, label in enumerate(coder.labels_)]

    def _zeroshot(self, scores: np.ndarray, categories: Sequence[Category], embedder) -> np.ndarray:
        claims, self.zeroshot_threshold_, self.zeroshot_calibration_ = claim_segments(
            scores, categories, embedder, self.zeroshot_min_similarity)
        return claims

    def _fit_bertopic(self, texts, X, labels, embedder) -> list[int]:
        from bertopic import BERTopic
        from bertopic.cluster import BaseCluster
        from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
        from bertopic.vectorizers import ClassTfidfTransformer

        self._vectorizer = self._make_vectorizer()
        self._representation = [KeyBERTInspired(top_n_words=2 * self.n_keywords, nr_repr_docs=5,
                                                nr_candidate_words=max(30, 3 * self.n_keywords),
                                                random_state=self.random_state or 0),
                                MaximalMarginalRelevance(diversity=0.3, top_n_words=self.n_keywords)]
        self.topic_model_ = BERTopic(embedding_model=memo_backend(embedder, texts, X),
                                     umap_model=BaseDimensionalityReduction(), hdbscan_model=BaseCluster(),
                                     vectorizer_model=self._vectorizer,
                                     ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
                                     top_n_words=self.n_keywords)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            topics, _ = self.topic_model_.fit_transform(texts, embeddings=X, y=labels)
        return [int(t) for t in topics]

    def _make_vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer

        # domain stop words stay in the vocabulary (they may be a theme's keyword); _label keeps them out of labels
        return CountVectorizer(analyzer=LemmaAnalyzer())

    def _reduce_outliers(self, texts, X, topics, ids) -> tuple[list[int], list[Reassignment]]:
        """reduce_outliers on the -1 rows, then update_topics, which also runs the representation models once
        (BERTopic was fitted with c-TF-IDF only so KeyBERTInspired does not run twice)."""
        model = self.topic_model_
        new, moves = list(topics), []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("BERTopic").setLevel(logging.ERROR)  # update_topics warns on every custom list
            if UNASSIGNED in topics and len(set(topics) - {UNASSIGNED}) > 0:
                new = [int(t) for t in model.reduce_outliers(texts, topics, strategy=self.outlier_strategy,
                                                             embeddings=X, threshold=self.outlier_threshold)]
                vectors = {t: unit_rows(X[np.asarray(topics) == t].mean(axis=0), np.float32) for t in set(topics) - {UNASSIGNED}}
                moves = [Reassignment(ids[i], UNASSIGNED, new[i], self.outlier_strategy,
                                      round(float(X[i] @ vectors[new[i]]), 4))
                         for i in range(len(topics)) if topics[i] == UNASSIGNED and new[i] != UNASSIGNED]
            model.update_topics(texts, topics=new, top_n_words=self.n_keywords, vectorizer_model=self._vectorizer,
                                ctfidf_model=model.ctfidf_model, representation_model=self._representation)
        return new, moves

    def _label(self, words: list[str], texts: list[str], members: np.ndarray) -> str:
        """2-3 keywords that several members use (no one-off phrase), not overlapping, domain stop words only
        when distinctive."""
        stop = {w.lower() for w in self.stop_words}
        tokens = self._tokens(texts)
        member_sets = [tokens[i] for i in np.flatnonzero(members)]
        min_docs = max(2, int(np.ceil(0.1 * len(member_sets))))
        words = words[:max(3, len(words) // 2 + 1)]  # the label comes from the top keywords only
        common = [w for w in words if sum(w in m for m in member_sets) >= min_docs]
        chosen: list[str] = []
        for word in common + [w for w in words if w not in common]:
            if any(a[:5] == b[:5] for c in chosen for a in word.split() for b in c.split()):
                continue  # same word or a near form of one already in the label (political / politic)
            if set(word.split()) & stop and not self._distinctive(word, texts, members):
                continue
            chosen.append(word)
            if len(chosen) == 3 or (len(chosen) == 2 and word not in common):
                break
        return " / ".join(chosen) or (words[0] if words else "(no keywords)")

    def _tokens(self, texts: list[str]) -> list[set[str]]:
        if getattr(self, "_token_sets", None) is None or len(self._token_sets) != len(texts):
            analyzer = self._vectorizer.build_analyzer()
            self._token_sets = [set(analyzer(t)) for t in texts]
        return self._token_sets

    def _distinctive(self, word: str, texts: list[str], members: np.ndarray) -> bool:
        has = np.array([word in tokens for tokens in self._tokens(texts)])
        inside, overall = has[members].mean(), has.mean()
        return bool(overall > 0 and inside >= 0.3 and inside >= 2 * overall)

    def _assign(self, X: np.ndarray, topics: np.ndarray, ids: Sequence[str]) -> list[Assignment]:
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
            known = self._train_index.get(_key(str(text)))
            if known is None:
                out.append(new)
            else:
                fitted = self.assignments_[known]
                out.append(Assignment(segment_id, fitted.theme_id, fitted.weight, fitted.secondary))
        return out

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("BERTopic").disabled = True
            self.topic_model_.save(path / "bertopic", serialization="safetensors", save_ctfidf=True,
                                   save_embedding_model=False)
            logging.getLogger("BERTopic").disabled = False
        for saved in (path / "bertopic").rglob("*"):  # safetensors writes 0600 whatever the umask
            if saved.is_file():
                saved.chmod(0o666 & ~current_umask())
        theme_ids = sorted(self.centroids_)
        np.savez(path / "centroids.npz", theme_ids=np.asarray(theme_ids, dtype=np.int64),
                 centroids=np.vstack([self.centroids_[t] for t in theme_ids]) if theme_ids else np.zeros((0, 0)))
        state = {"params": self.get_params(), "themes": [asdict(t) for t in self.themes_],
                 "assignments": [asdict(a) for a in self.assignments_],
                 "reassignments": [asdict(r) for r in self.reassignments_], "selection": self.selection_,
                 "zeroshot_threshold": self.zeroshot_threshold_, "zeroshot_calibration": self.zeroshot_calibration_,
                 "size_parameters": self.size_parameters_, "coding": getattr(self, "coding_", {}),
                 "segment_categories": getattr(self, "segment_categories_", []),
                 "train_index": self._train_index}
        atomic_write_text(path / "state.json", json.dumps(state, indent=1))

    @classmethod
    def load(cls, path: str | Path, embedder, with_topic_model: bool = True) -> "ThemeModel":
        """The saved model. ``with_topic_model=False`` skips BERTopic (and its import): enough for the learned
        themes, assignments and centroids, and for ``transform`` of new segments."""
        path = Path(path)
        if not (path / "state.json").is_file():
            raise PipelineError("not a saved theme model (state.json missing)", file=str(path))
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
        model = cls(**state["params"])
        model.themes_ = [Theme(**{**t, "keywords": tuple(t["keywords"])}) for t in state["themes"]]
        model.assignments_ = [Assignment(a["segment_id"], a["theme_id"], a["weight"],
                                         tuple((int(t), float(w)) for t, w in a["secondary"]))
                              for a in state["assignments"]]
        model.reassignments_ = [Reassignment(**r) for r in state["reassignments"]]
        model.selection_ = state["selection"]
        model.zeroshot_threshold_ = state["zeroshot_threshold"]
        model.zeroshot_calibration_ = state["zeroshot_calibration"]
        model.size_parameters_ = state["size_parameters"]
        model.coding_ = state.get("coding", {})
        model.segment_categories_ = [(str(c), float(s)) for c, s in state.get("segment_categories", [])]
        model._train_index = state["train_index"]
        with np.load(path / "centroids.npz") as data:
            model.centroids_ = {int(t): c.astype(np.float32) for t, c in zip(data["theme_ids"], data["centroids"])}
        if not with_topic_model:
            return model
        from bertopic import BERTopic

        if not (path / "bertopic").is_dir():  # BERTopic.load unpickles a *file* of that name: never give it one
            raise PipelineError("not a saved theme model (bertopic/ is not a folder of safetensors files)",
                                file=str(path))
        model.topic_model_ = BERTopic.load(str(path / "bertopic"), embedding_model=bertopic_backend(embedder))
        vectorizer = model.topic_model_.vectorizer_model
        vectorizer.analyzer = LemmaAnalyzer()  # BERTopic's save drops a callable analyzer
        vectorizer.fixed_vocabulary_ = True
        model._vectorizer = vectorizer
        return model


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
