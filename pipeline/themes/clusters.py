"""Cluster-model factories and the parameters that adapt to corpus size.

Every factory returns an object with BERTopic's cluster protocol: ``fit(X) -> self`` setting ``labels_``
(``-1`` = outlier, only HDBSCAN produces them). Factories take the same keywords
``(n_clusters=None, random_state=None, n_samples=None)`` so the theme stage can swap them by registry name:

- ``kmeans.v1``: k-means on the L2-normalised embeddings (spherical in effect). No outliers, fast, the default.
- ``agglomerative.v1``: Ward agglomerative clustering; deterministic (``random_state`` is accepted and unused).
- ``hdbscan.v1``: BERTopic's own recipe, UMAP then HDBSCAN, with UMAP fed exact cosine neighbours from
  scikit-learn (``precomputed_knn``), which skips UMAP's slow NN-descent, and with ``n_neighbors``,
  ``n_components`` and ``min_cluster_size`` chosen from the corpus size by :func:`size_parameters`.

:func:`select_and_fit` chooses the number of clusters (seed agreement, then silhouette) and fits one partition per
seed; :func:`consensus_partition` and :func:`theme_stability` turn those partitions into one and score its themes.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.base import BaseEstimator
from pipeline.core.registry import CLUSTERERS
from pipeline.core.vectors import unit_rows


class ClusterModel(Protocol):
    labels_: np.ndarray

    def fit(self, X: np.ndarray, y=None) -> "ClusterModel":
        ...


@dataclass(frozen=True)
class SizeParameters:
    """Clustering parameters chosen from the number of segments (see :func:`size_parameters`)."""

    n_segments: int
    k_min: int  # fewest themes considered
    k_max: int  # most themes considered: grows with corpus size, capped by max_themes
    n_neighbors: int  # UMAP neighbourhood (hdbscan.v1 only)
    n_components: int  # UMAP output dimensions (hdbscan.v1 only)
    min_cluster_size: int  # HDBSCAN smallest theme (hdbscan.v1 only)
    selection_sample: int  # rows used to choose k (a fixed-seed subsample above this; 5,000 cost 69 s at 10k)


def size_parameters(n_segments: int, min_themes: int = 4, max_themes: int = 30,
                    min_theme_size: int = 5) -> SizeParameters:
    """Parameters for a corpus of ``n_segments``.

    The ceiling on the number of themes grows like sqrt(n/2) (11 themes for 240 segments, 30 from 1,800 up) and
    never asks for themes smaller than ``min_theme_size`` segments on average; the floor is ``min_themes``
    unless the corpus is too small to hold that many themes of that size. HDBSCAN's smallest cluster is ~1% of
    the corpus (at least 5, at most 100) instead of its fixed 10, which put all of an 18-answer corpus in -1;
    UMAP's neighbourhood grows slowly with n (BERTopic's 15 suits a few thousand documents).
    """
    n = max(int(n_segments), 0)
    by_size = max(2, n // min_theme_size)
    k_max = max(2, min(max_themes, by_size, max(min_themes, int(math.sqrt(n / 2)))))
    k_min = max(2, min(min_themes, k_max))
    n_neighbors = int(np.clip(round(math.sqrt(n)), 5, 50)) if n else 5
    n_neighbors = min(n_neighbors, max(2, n - 1))
    n_components = 5 if n >= 100 else max(2, min(5, n // 10))
    min_cluster_size = int(np.clip(round(0.01 * n), 5, 100))
    min_cluster_size = min(min_cluster_size, max(2, n // 4))
    return SizeParameters(n_segments=n, k_min=k_min, k_max=k_max, n_neighbors=n_neighbors,
                          n_components=n_components, min_cluster_size=min_cluster_size, selection_sample=2000)


class UmapHdbscan(BaseEstimator):
    """UMAP (exact cosine neighbours precomputed) followed by HDBSCAN; parameters None = from the corpus size."""

    def __init__(self, n_neighbors: int | None = None, n_components: int | None = None,
                 min_cluster_size: int | None = None, random_state: int | None = None):
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.min_cluster_size = min_cluster_size
        self.random_state = random_state

    def fit(self, X: np.ndarray, y=None) -> "UmapHdbscan":
        from sklearn.cluster import HDBSCAN
        from sklearn.neighbors import NearestNeighbors
        from umap import UMAP

        X = np.asarray(X, dtype=np.float32)
        sizes = size_parameters(len(X))
        n_neighbors = min(self.n_neighbors or sizes.n_neighbors, len(X) - 1)
        self.n_neighbors_ = n_neighbors
        self.n_components_ = self.n_components or sizes.n_components
        self.min_cluster_size_ = self.min_cluster_size or sizes.min_cluster_size
        distances, indices = NearestNeighbors(n_neighbors=n_neighbors, metric="cosine").fit(X).kneighbors(X)
        reducer = UMAP(n_neighbors=n_neighbors, n_components=self.n_components_, min_dist=0.0, metric="cosine",
                       precomputed_knn=(indices, distances, None), random_state=self.random_state, n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "knn_search_index is not an NNDescent object": we never transform
            self.embedding_ = reducer.fit_transform(X)
        self.labels_ = HDBSCAN(min_cluster_size=self.min_cluster_size_, copy=True).fit(self.embedding_).labels_
        return self


class SeededKMeans(BaseEstimator):
    """Spherical k-means where some rows are pinned to given groups (constrained seeding, Basu et al. 2002).

    ``fit(X, y)``: rows with ``y >= 0`` stay in group ``y`` and start that group's centroid; the other rows
    go to the nearest of the seeded centroids or of ``n_clusters`` free centroids (k-means++ on the free rows).
    Labels ``0..m-1`` are the seeded groups, ``m..m+n_clusters-1`` the free clusters. Without ``y`` it is plain
    spherical k-means. This is how the zero-shot categories seed their themes while the rest of the corpus forms
    its own themes, in one partition whose stability over seeds covers every theme.
    """

    def __init__(self, n_clusters: int = 8, n_init: int = 3, max_iter: int = 100, tol: float = 1e-3,
                 random_state: int | None = None):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol  # stop when at most this share of rows changes cluster
        self.random_state = random_state

    def fit(self, X: np.ndarray, y=None) -> "SeededKMeans":
        from scipy.sparse import csr_matrix
        from sklearn.cluster import kmeans_plusplus

        X = unit_rows(X, np.float32)
        y = np.full(len(X), -1) if y is None else np.asarray(y, dtype=np.int64)
        pinned = y >= 0
        n_seeded = int(y.max()) + 1 if pinned.any() else 0
        free = np.flatnonzero(~pinned)
        n_free = max(0, min(self.n_clusters, len(free)))
        n_total = n_seeded + n_free
        rng = np.random.default_rng(self.random_state)
        rows = np.arange(len(X))
        best = None
        for _ in range(self.n_init):
            centroids = [X[y == g].mean(axis=0) for g in range(n_seeded)]
            if n_free:
                init, _ = kmeans_plusplus(X[free], n_free, random_state=int(rng.integers(2**31 - 1)))
                centroids += list(init)
            centroids = unit_rows(np.vstack(centroids), np.float32)
            labels = np.full(len(X), -1)
            for _ in range(self.max_iter):
                new = (X @ centroids.T).argmax(axis=1)
                new[pinned] = y[pinned]
                if (new != labels).mean() <= self.tol:
                    labels = new
                    break
                labels = new
                # sums per cluster as one sparse product instead of a Python loop over clusters
                onehot = csr_matrix((np.ones(len(X), dtype=np.float32), (labels, rows)), shape=(n_total, len(X)))
                sums = np.asarray(onehot @ X)
                empty = np.flatnonzero(np.bincount(labels, minlength=n_total) == 0)
                if len(empty):  # an emptied free cluster restarts at the worst-fitted free rows
                    fit = (X[free] * centroids[labels[free]]).sum(axis=1)
                    sums[empty] = X[free[np.argsort(fit, kind="stable")[:len(empty)]]]
                centroids = unit_rows(sums)
            inertia = float((1.0 - (X * centroids[labels]).sum(axis=1)).sum())
            if best is None or inertia < best[0] - 1e-6:
                best = (inertia, labels.copy(), centroids.copy())
        self.inertia_, self.labels_, self.cluster_centers_ = best
        return self


@CLUSTERERS.register("seeded-kmeans.v1")
def seeded_kmeans_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    return SeededKMeans(n_clusters=n_clusters or 8, random_state=random_state)


@CLUSTERERS.register("kmeans.v1")
def kmeans_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    from sklearn.cluster import KMeans

    # n_init=3: with 1, seeds of the same k agreed at ARI 0.3-0.48 on the sample survey, with 3 at 0.34-0.57
    return KMeans(n_clusters=n_clusters or 8, n_init=3, random_state=random_state)


@CLUSTERERS.register("agglomerative.v1")
def agglomerative_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=n_clusters or 8, linkage="ward")


@CLUSTERERS.register("hdbscan.v1")
def hdbscan_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    """HDBSCAN finds its own number of themes, so ``n_clusters`` is ignored."""
    return UmapHdbscan(random_state=random_state)


# whether the factory honours n_clusters (the theme stage only searches k for these)
TAKES_N_CLUSTERS = {"seeded-kmeans.v1": True, "kmeans.v1": True, "agglomerative.v1": True, "hdbscan.v1": False}


def consensus_partition(labelings: list[np.ndarray]) -> tuple[int, list[float]]:
    """Index of the medoid partition (highest mean ARI to the other seeds' partitions) and each one's mean ARI.

    Needs only n_seeds^2 ARIs, never an n x n co-association matrix, so it scales to any corpus size.
    """
    from sklearn.metrics import adjusted_rand_score

    m = len(labelings)
    if m == 1:
        return 0, [1.0]
    ari = np.eye(m)
    for i in range(m):
        for j in range(i + 1, m):
            ari[i, j] = ari[j, i] = adjusted_rand_score(labelings[i], labelings[j])
    mean_ari = [float((ari[i].sum() - 1.0) / (m - 1)) for i in range(m)]
    return int(np.argmax(mean_ari)), mean_ari


def best_jaccard(members: np.ndarray, labels: np.ndarray) -> float:
    """Largest Jaccard overlap between the boolean ``members`` mask and any cluster (not -1) of ``labels``."""
    size = int(members.sum())
    if size == 0:
        return 0.0
    valid = labels >= 0
    if not valid.any():
        return 0.0
    n_clusters = int(labels[valid].max()) + 1
    inter = np.bincount(labels[members & valid], minlength=n_clusters)
    sizes = np.bincount(labels[valid], minlength=n_clusters)
    return float(np.max(inter / (size + sizes - inter)))


def theme_stability(members: np.ndarray, labelings: list[np.ndarray], skip: int | None = None) -> float:
    """Mean over seeds (except ``skip``, the consensus itself) of the theme's best Jaccard with that seed's clusters."""
    scores = [best_jaccard(members, labels) for i, labels in enumerate(labelings) if i != skip]
    return float(np.mean(scores)) if scores else 1.0


STABLE_SHARE = 0.8  # a candidate k competes on silhouette if its seed agreement is >= this share of the best
STABLE_ENOUGH_ARI = 0.6  # ... or at least this mean ARI, so one very stable small k cannot shut out all others
SILHOUETTE_SAMPLE = 2000


def _fit_labels(name: str, X: np.ndarray, k: int | None, seed: int, y: np.ndarray | None = None) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    # one thread: on a shared 2-core machine OpenMP k-means ran 4x slower with 2 threads than with 1
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        model = CLUSTERERS[name](n_clusters=k, random_state=seed, n_samples=len(X))
        model = model.fit(X, y) if y is not None else model.fit(X)
    return np.asarray(model.labels_, dtype=np.int64)


def _candidate_ks(k_min: int, k_max: int) -> list[int]:
    """Every k up to 8, then steps of ~25%: a 4-30 range costs 11 candidates, not 27."""
    ks, k = [], k_min
    while k <= k_max:
        ks.append(k)
        k = k + 1 if k < 8 else max(k + 1, int(round(k * 1.25)))
    return sorted(set(ks + [k_max]))


def select_and_fit(name: str, X: np.ndarray, seeds: list[int], sizes: SizeParameters, n_themes: int | None = None,
                   y: np.ndarray | None = None) -> tuple[list[np.ndarray], list[dict]]:
    """Choose the number of clusters and fit one partition per seed; returns them and the selection table.

    Candidates k between ``sizes.k_min`` and ``sizes.k_max`` (or ``n_themes`` alone) are fitted with every seed
    on a fixed-seed subsample; those whose seed agreement (mean ARI) is high enough compete on cosine silhouette
    (see ``pipeline.themes``)."""
    from sklearn.metrics import silhouette_score

    if not TAKES_N_CLUSTERS[name]:
        labelings = [_fit_labels(name, X, None, s, y) for s in seeds]
        found = sorted({len(set(l.tolist()) - {-1}) for l in labelings})
        return labelings, [{"k": found[-1], "cluster_model": name, "chosen": True,
                            "reason": f"{name} finds its own number of themes (seeds found {found})"}]
    rng = np.random.default_rng(seeds[0])
    sample = np.sort(rng.choice(len(X), sizes.selection_sample, replace=False)) \
        if len(X) > sizes.selection_sample else np.arange(len(X))
    sil_rows = sample if len(sample) <= SILHOUETTE_SAMPLE else np.sort(rng.choice(sample, SILHOUETTE_SAMPLE,
                                                                                   replace=False))
    sil_pos = np.searchsorted(sample, sil_rows)
    n_distinct = len(np.unique(X[sample].round(5), axis=0))
    candidates = [n_themes] if n_themes else _candidate_ks(sizes.k_min, sizes.k_max)
    candidates = sorted({min(k, n_distinct - 1) for k in candidates} - {0, 1})
    rows, fits = [], {}
    for k in candidates:
        labs = [_fit_labels(name, X[sample], k, s, None if y is None else y[sample]) for s in seeds]
        medoid, mean_ari = consensus_partition(labs)
        chosen_labels = labs[medoid][sil_pos]
        sil = silhouette_score(X[sil_rows], chosen_labels, metric="cosine") \
            if 1 < len(set(chosen_labels.tolist())) < len(sil_rows) else -1.0
        rows.append({"k": k, "cluster_model": name, "silhouette": round(float(sil), 4),
                     "seed_agreement": round(float(np.mean(mean_ari)), 4), "n_rows": int(len(sample)),
                     "stable_enough": False, "chosen": False, "reason": ""})
        fits[k] = labs
    top_agreement = max(r["seed_agreement"] for r in rows)
    # a share of a negative agreement would lie above it: then only the best agreement itself qualifies
    cutoff = min(STABLE_SHARE * top_agreement if top_agreement > 0 else top_agreement, STABLE_ENOUGH_ARI)
    for row in rows:
        row["stable_enough"] = row["seed_agreement"] >= cutoff
    if n_themes:
        best, why = rows[0], "fixed by themes.n_themes"
    else:
        best = max((r for r in rows if r["stable_enough"]), key=lambda r: (r["silhouette"], -r["k"]))
        why = (f"best silhouette among k whose seed agreement (mean ARI) is >= min({STABLE_SHARE:g} x the best "
               f"agreement, {STABLE_ENOUGH_ARI:g}) = {cutoff:.3f}")
    best["chosen"], best["reason"] = True, why + f"; k range {sizes.k_min}-{sizes.k_max} for {len(X)} segments"
    if len(sample) == len(X):
        return fits[best["k"]], rows
    return [_fit_labels(name, X, best["k"], s, y) for s in seeds], rows
