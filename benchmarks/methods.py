"""The methods the quality benchmark compares, all on the same texts and the same embeddings.

Theme methods (ours, BERTopic default, k-means, LDA) produce a partition; each partition's themes are mapped to the
closed categories by the product's ``CategoryMapper`` (the same code for all, so only the themes differ). Direct
coders (ours ``CategoryCoder``, the nearest-category-name anchor, the cross-validated classifier ceiling) give a
category per segment; their partition is that category. BERTopic zero-shot's category topics keep their category;
its other topics go through the same mapper.
"""
from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.metrics import UNASSIGNED
from pipeline.core.records import Assignment, Category, Theme


@dataclass
class MethodRun:
    """One method fitted with one seed: its partition and the category of each segment (None = unassigned)."""

    method: str
    seed: int
    labels: list  # theme id per segment (UNASSIGNED = -1), or the category name for direct coders
    categories: list[str | None]
    theme_seconds: float  # fitting the themes (or coder)
    map_seconds: float = 0.0  # theme -> category mapping
    info: dict[str, Any] = field(default_factory=dict)
    # every theme to its best-scoring category, ignoring the emergent threshold: shows what that threshold costs
    forced_categories: list[str | None] | None = None


@dataclass
class Context:
    """Everything a method may use: texts, their embeddings, the embedder and the closed category names."""

    texts: list[str]
    embeddings: np.ndarray
    embedder: Any
    category_names: list[str]
    gold_first: list[str]  # used only by the ceiling (trained on gold) and never by the others
    vectorizer_factory: Callable[[], Any]
    theme_options: dict[str, Any] = field(default_factory=dict)  # [themes] overrides for the ours methods

    @property
    def category_records(self) -> list[Category]:
        return [Category(category_id=f"c{i:02d}", label=name) for i, name in enumerate(self.category_names)]

    def category_name(self, category_id: str | None) -> str | None:
        return None if category_id is None else self.category_names[int(category_id[1:])]


def map_partition(context: Context, labels: Sequence[int], keywords: dict[int, list[str]], seed: int,
                  themes: list[Theme] | None = None, categories: list[Category] | None = None
                  ) -> tuple[list[str | None], dict[str, Any]]:
    """Map a partition's themes to categories with the product's CategoryMapper; emergent themes map to None.

    ``info["forced"]`` holds each segment's category when every theme takes its best score, emergent or not.
    """
    from pipeline.core.config import MappingConfig
    from pipeline.mapping import CategoryMapper

    if themes is None:
        sizes: dict[int, int] = {}
        for label in labels:
            sizes[int(label)] = sizes.get(int(label), 0) + 1
        themes = [Theme(theme_id=theme_id, label=" ".join(keywords.get(theme_id, [])[:3]) or f"theme {theme_id}",
                        keywords=tuple(keywords.get(theme_id, [])), size=size, stability=1.0)
                  for theme_id, size in sorted(sizes.items()) if theme_id != UNASSIGNED]
    assignments = [Assignment(segment_id=str(i), theme_id=int(label), weight=1.0) for i, label in enumerate(labels)]
    mapper = CategoryMapper(**_config_kwargs(MappingConfig(), CategoryMapper), random_state=seed)
    mapper.fit(themes, assignments, context.embeddings, categories or context.category_records, context.embedder)
    by_theme = {theme.theme_id: context.category_name(theme.category_id) for theme in mapper.themes_}
    best: dict[int, tuple[float, str]] = {}
    for score in mapper.scores_:
        if score.theme_id not in best or score.score > best[score.theme_id][0]:
            best[score.theme_id] = (score.score, score.category_id)
    forced = [context.category_name(best[int(label)][1]) if int(label) in best else None for label in labels]
    info = {"forced": forced, "emergent_themes": sum(theme.emergent for theme in mapper.themes_),
            "mapper_threshold": mapper.threshold_, "mapper_threshold_method": mapper.threshold_method_}
    return [by_theme.get(int(label)) for label in labels], info


def _config_kwargs(config: Any, estimator: type) -> dict[str, Any]:
    """The product's config defaults that ``estimator`` takes, as the runner passes them."""
    accepted = inspect.signature(estimator.__init__).parameters
    return {key: value for key, value in config.model_dump().items() if key in accepted and key != "random_state"}


def _timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _with_mapping(context: Context, method: str, seed: int, labels: Sequence[int], seconds: float,
                  info: dict[str, Any] | None = None) -> MethodRun:
    from benchmarks.metrics import top_words

    labels = [int(label) for label in labels]
    (categories, map_info), map_seconds = _timed(lambda: map_partition(
        context, labels, top_words(context.texts, labels, context.vectorizer_factory()), seed))
    forced = map_info.pop("forced")
    return MethodRun(method, seed, labels, categories, seconds, map_seconds, {**(info or {}), **map_info}, forced)


def _umap(seed: int):
    from umap import UMAP

    # BERTopic's own default UMAP, plus a seed so that two seeds can be compared.
    return UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False, random_state=seed)


def run_ours(context: Context, seed: int, previous: bool = False) -> MethodRun:
    """The product's theme stage and mapper with their defaults; ``previous``: the defaults before 2026-11-28
    (``category_themes="clustered"``, no catch-all "Other" option recognised), to measure that change."""
    from dataclasses import replace

    from pipeline.core.config import ThemesConfig
    from pipeline.themes import ThemeModel

    segment_ids = [str(i) for i in range(len(context.texts))]
    options, records = dict(context.theme_options), context.category_records
    if previous:
        options["category_themes"] = "clustered"
        records = [replace(record, residual=False) for record in records]
    config = ThemesConfig(**options)
    method = "ours-previous" if previous else "ours"
    model = ThemeModel(**_config_kwargs(config, ThemeModel), random_state=seed)
    _, seconds = _timed(lambda: model.fit(context.texts, context.embeddings, context.embedder,
                                          categories=records, segment_ids=segment_ids))
    labels = [int(a.theme_id) for a in model.assignments_]
    sizes = {t.theme_id: t.size for t in model.themes_}
    own = sum(t.stability * t.size for t in model.themes_) / max(sum(sizes.values()), 1)
    (categories, map_info), map_seconds = _timed(lambda: map_partition(context, labels, {}, seed,
                                                                       themes=list(model.themes_),
                                                                       categories=records))
    zeroshot = {t.theme_id: t.category_id for t in model.themes_ if t.category_id is not None}
    mapped = {t: c for t, c in zip(labels, categories)}
    info = {"own_stability_weighted": own, "n_unstable_themes": sum(t.unstable for t in model.themes_),
            "zeroshot_themes": len(zeroshot),
            "mapper_moved_zeroshot_themes": sum(mapped.get(t) != context.category_name(c) for t, c in zeroshot.items()),
            "zeroshot_threshold": getattr(model, "zeroshot_threshold_", None), "coding": dict(model.coding_),
            "stage_seconds": dict(getattr(model, "timings_", {})),
            "selection": [dict(row) for row in getattr(model, "selection_", [])][:60], **map_info}
    forced = info.pop("forced")
    return MethodRun(method, seed, labels, categories, seconds, map_seconds, info, forced)


def run_coder(context: Context, seed: int) -> MethodRun:
    from pipeline.categories import topical
    from pipeline.categories import CategoryCoder

    records = topical(context.category_records)  # as the runner codes segments: never to a catch-all option
    coder, seconds = _timed(lambda: CategoryCoder(random_state=seed).fit(context.embeddings, records,
                                                                         context.embedder))
    names = [context.category_name(records[i].category_id) for i in coder.labels_]
    return MethodRun("ours-coder", seed, names, names, seconds, 0.0, {"self_training_rounds": coder.n_rounds_})


def run_bertopic_default(context: Context, seed: int) -> MethodRun:
    from bertopic import BERTopic

    from pipeline.themes.bertopic_adapter import bertopic_backend

    def fit():
        model = BERTopic(embedding_model=bertopic_backend(context.embedder), umap_model=_umap(seed))
        return model.fit_transform(context.texts, context.embeddings)[0]

    topics, seconds = _timed(fit)
    return _with_mapping(context, "bertopic-default", seed, topics, seconds)


def run_bertopic_zeroshot(context: Context, seed: int, min_similarity: float = 0.3) -> MethodRun:
    from bertopic import BERTopic

    from pipeline.themes.bertopic_adapter import bertopic_backend

    def fit():
        model = BERTopic(embedding_model=bertopic_backend(context.embedder), umap_model=_umap(seed),
                         zeroshot_topic_list=list(context.category_names), zeroshot_min_similarity=min_similarity)
        topics = model.fit_transform(context.texts, context.embeddings)[0]
        return model, [int(t) for t in topics]

    (model, topics), seconds = _timed(fit)
    direct = {t: name for t, name in model.topic_labels_.items() if name in context.category_names}
    run = _with_mapping(context, "bertopic-zeroshot", seed, topics, seconds,
                        {"min_similarity": min_similarity, "zeroshot_topics": len(direct)})
    run.categories = [direct.get(t, category) for t, category in zip(topics, run.categories)]
    run.forced_categories = [direct.get(t, category) for t, category in zip(topics, run.forced_categories)]
    return run


def run_kmeans(context: Context, seed: int) -> MethodRun:
    from sklearn.cluster import KMeans

    k = len(context.category_names)
    labels, seconds = _timed(lambda: KMeans(n_clusters=k, random_state=seed).fit_predict(context.embeddings))
    return _with_mapping(context, "kmeans", seed, labels, seconds, {"k": k})


def run_lda(context: Context, seed: int) -> MethodRun:
    from sklearn.decomposition import LatentDirichletAllocation

    k = len(context.category_names)

    def fit():
        counts = context.vectorizer_factory().fit_transform(context.texts)
        return LatentDirichletAllocation(n_components=k, random_state=seed).fit_transform(counts).argmax(axis=1)

    labels, seconds = _timed(fit)
    return _with_mapping(context, "lda", seed, labels, seconds, {"k": k})


def run_nearest_name(context: Context, seed: int) -> MethodRun:
    def fit():
        names = np.asarray(context.embedder.encode(context.category_names), dtype=np.float32)
        return (context.embeddings @ names.T).argmax(axis=1)

    best, seconds = _timed(fit)
    names = [context.category_names[i] for i in best]
    return MethodRun("nearest-name", seed, names, names, seconds)


def run_ceiling(context: Context, seed: int) -> MethodRun:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    gold = np.asarray(context.gold_first)
    folds = int(min(5, max(2, np.unique(gold, return_counts=True)[1].max())))

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # classes rarer than the fold count only warn
            return cross_val_predict(LogisticRegression(C=10, class_weight="balanced", max_iter=2000),
                                     context.embeddings, gold, cv=StratifiedKFold(folds, shuffle=True,
                                                                                  random_state=seed))

    predicted, seconds = _timed(fit)
    names = [str(name) for name in predicted]
    return MethodRun("ceiling", seed, names, names, seconds, 0.0, {"folds": folds, "trained_on": "first gold label"})


METHODS: dict[str, Callable[[Context, int], MethodRun]] = {
    "ours": run_ours,
    "ours-previous": lambda context, seed: run_ours(context, seed, previous=True),
    "ours-coder": run_coder,
    "bertopic-default": run_bertopic_default,
    "kmeans": run_kmeans,
    "lda": run_lda,
    "nearest-name": run_nearest_name,
    "bertopic-zeroshot": run_bertopic_zeroshot,
    "ceiling": run_ceiling,
}
# Deterministic given the embeddings: a second seed would only repeat the first.
SINGLE_SEED = {"nearest-name", "ceiling"}
NEEDS_UMAP = {"ours", "ours-previous", "bertopic-default", "bertopic-zeroshot"}
