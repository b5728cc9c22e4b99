"""Cluster-model factories and the parameters that adapt to corpus size.

Every factory returns an object with BERTopic's cluster protocol: ``fit(X) -> self`` setting ``labels_``
(``-1`` = outlier, only HDBSCAN produces them). Factories take the same keywords
``(n_clusters=None, random_state=None, n_samples=None)`` so the theme stage can swap them by registry name:

- ``kmeans.v1``: k-means on the L2-normalised embeddings (spherical in effect). No outliers, fast, the default.
- ``agglomerative.v1``: Ward agglomerative clustering; deterministic (``random_state`` is accepted and unused).
- ``hdbscan.v1``: BERTopic's own recipe, UMAP then HDBSCAN, with UMAP fed exact cosine neighbours from
  scikit-learn (``precomputed_knn``), which skips UMAP's slow NN-descent, and with ``n_neighbors``,
  ``n_components`` and ``min_cluster_size`` chosen from the corpus size by :func:`size_parameters`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


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


class UmapHdbscan:
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
        import warnings

        reducer = UMAP(n_neighbors=n_neighbors, n_components=self.n_components_, min_dist=0.0, metric="cosine",
                       precomputed_knn=(indices, distances, None), random_state=self.random_state, n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "knn_search_index is not an NNDescent object": we never transform
            self.embedding_ = reducer.fit_transform(X)
        self.labels_ = HDBSCAN(min_cluster_size=self.min_cluster_size_, copy=True).fit(self.embedding_).labels_
        return self


class SeededKMeans:
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

        X = _unit_rows(np.asarray(X, dtype=np.float32))
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
            centroids = _unit_rows(np.vstack(centroids).astype(np.float32))
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
                centroids = _unit_rows(sums)
            inertia = float((1.0 - (X * centroids[labels]).sum(axis=1)).sum())
            if best is None or inertia < best[0] - 1e-6:
                best = (inertia, labels.copy(), centroids.copy())
        self.inertia_, self.labels_, self.cluster_centers_ = best
        return self


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def seeded_kmeans_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    return SeededKMeans(n_clusters=n_clusters or 8, random_state=random_state)


def kmeans_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    from sklearn.cluster import KMeans

    # n_init=3: with 1, seeds of the same k agreed at ARI 0.3-0.48 on the sample survey, with 3 at 0.34-0.57
    return KMeans(n_clusters=n_clusters or 8, n_init=3, random_state=random_state)


def agglomerative_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=n_clusters or 8, linkage="ward")


def hdbscan_v1(n_clusters: int | None = None, random_state: int | None = None, n_samples: int | None = None):
    """HDBSCAN finds its own number of themes, so ``n_clusters`` is ignored."""
    return UmapHdbscan(random_state=random_state)


CLUSTERERS: dict[str, Callable[..., ClusterModel]] = {
    "seeded-kmeans.v1": seeded_kmeans_v1,
    "kmeans.v1": kmeans_v1,
    "agglomerative.v1": agglomerative_v1,
    "hdbscan.v1": hdbscan_v1,
}

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
