"""Contract tests over every registry entry (the habit of scikit-learn's estimator_checks)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.registry import CLUSTERERS, EMBEDDERS

NEEDS_REAL_MODEL = {"minilm-local.v1"}
TEXTS = ["staff capacity is stretched", "councillors resist closures", "the footprint boundary is wrong",
         "funding for social care is short", "staff time is scarce", "political will is weak"]


def _blobs(n_per: int = 15, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 8) * 4
    X = np.vstack([c + rng.normal(scale=0.4, size=(n_per, 8)) for c in centres])
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_registry_clusterer_init_sets_no_learned_attributes(name):
    model = CLUSTERERS[name](n_clusters=3, random_state=0)
    assert not [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_registry_clusterer_fit_returns_self_with_labels(name):
    X = _blobs()
    model = CLUSTERERS[name](n_clusters=3, random_state=0, n_samples=len(X))
    assert model.fit(X) is model
    assert len(model.labels_) == len(X)
    assert set(np.unique(model.labels_)) - {-1}, "at least one cluster"


@pytest.mark.parametrize("name", sorted(CLUSTERERS))
def test_registry_clusterer_fixed_seed_gives_same_labels(name):
    X = _blobs(seed=1)
    first = CLUSTERERS[name](n_clusters=3, random_state=7, n_samples=len(X)).fit(X).labels_
    second = CLUSTERERS[name](n_clusters=3, random_state=7, n_samples=len(X)).fit(X).labels_
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", sorted(set(EMBEDDERS) - NEEDS_REAL_MODEL))
def test_registry_embedder_shape_normalised_deterministic(name):
    embedder = EMBEDDERS[name]("cpu", 32)
    vectors = embedder.encode(TEXTS)
    assert vectors.shape[0] == len(TEXTS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, EMBEDDERS[name]("cpu", 32).encode(TEXTS))
    assert isinstance(embedder.name, str) and embedder.name


def test_registry_seeded_kmeans_keeps_pinned_rows():
    X = _blobs(seed=2)
    pinned = np.full(len(X), -1)
    pinned[[0, 1, 20]] = 0  # row 20 belongs to another blob but is pinned to group 0
    labels = CLUSTERERS["seeded-kmeans.v1"](n_clusters=2, random_state=0).fit(X, pinned).labels_
    assert labels[0] == labels[1] == labels[20] == 0
    assert len(set(labels.tolist())) == 3
