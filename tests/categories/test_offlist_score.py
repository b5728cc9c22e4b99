"""OffListScorer: a calibrated off-list probability per segment, learned by leave-one-category-out."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from pipeline.categories import OffListScorer
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterError
from pipeline.core.records import Category

from .direction_embedder import DirectionEmbedder

DIM = 24
CATEGORIES = [Category(f"c{i}", f"topic {i}") for i in range(4)]


def planted(offlist: bool, seed: int = 0, per_cluster: int = 40, spread: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Segments around each category's axis (listed clusters) and, with ``offlist``, one more cluster around an
    axis no category has (axis 10). Returns (X, cluster index per row; 4 = the off-list cluster)."""
    rng = np.random.default_rng(seed)
    centres = list(range(4)) + ([10] if offlist else [])
    rows, labels = [], []
    for index, axis in enumerate(centres):
        centre = np.zeros(DIM)
        centre[axis] = 1.0
        points = centre + spread * rng.normal(size=(per_cluster, DIM)) / np.sqrt(DIM)
        rows.append(points)
        labels += [index] * per_cluster
    X = np.vstack(rows)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), np.asarray(labels)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_offlist_score_planted_offlist_cluster_scores_higher_than_every_listed_cluster(seed):
    X, labels = planted(offlist=True, seed=seed)
    scorer = OffListScorer().fit(X, CATEGORIES, DirectionEmbedder(DIM))
    off = scorer.theme_score(labels == 4)
    listed = [scorer.theme_score(labels == c) for c in range(4)]
    assert off > max(listed)
    assert off > 0.5 > max(listed)  # a probability a reader can take at face value on this clean case
    assert ((scorer.score_ >= 0) & (scorer.score_ <= 1)).all()
    assert scorer.n_loco_ == 4


def test_offlist_score_without_a_planted_cluster_no_cluster_leans_offlist():
    X, labels = planted(offlist=False)
    scorer = OffListScorer().fit(X, CATEGORIES, DirectionEmbedder(DIM))
    assert max(scorer.theme_score(labels == c) for c in range(4)) < 0.5


def test_offlist_score_theme_score_is_the_mean_of_its_segments():
    X, labels = planted(offlist=True)
    scorer = OffListScorer().fit(X, CATEGORIES, DirectionEmbedder(DIM))
    members = np.flatnonzero(labels == 2)
    assert scorer.theme_score(members) == pytest.approx(scorer.score_[members].mean())
    assert np.isnan(scorer.theme_score(np.zeros(len(X), dtype=bool)))


def test_offlist_score_one_category_cannot_be_calibrated_and_says_so():
    X, _ = planted(offlist=True)
    scorer = OffListScorer().fit(X, CATEGORIES[:1], DirectionEmbedder(DIM))
    assert scorer.n_loco_ == 0 and scorer.calibrator_ is None and (scorer.score_ == 0.5).all()


@pytest.mark.parametrize("params", [{"C": 0}, {"C": -1.0}, {"features": ()}, {"features": ("best", "nope")},
                                    {"random_state": -1}])
def test_offlist_score_rejects_bad_parameters_naming_them(params):
    X, _ = planted(offlist=False)
    with pytest.raises(ParameterError, match=next(iter(params))):
        OffListScorer(**params).fit(X, CATEGORIES, DirectionEmbedder(DIM))


def test_offlist_score_needs_categories():
    X, _ = planted(offlist=False)
    with pytest.raises(PipelineError, match="at least one category"):
        OffListScorer().fit(X, [], DirectionEmbedder(DIM))


@pytest.mark.parametrize("features", [("best",), ("best", "margin", "typicality")])
def test_offlist_score_is_clone_able_and_deterministic(features):
    X, labels = planted(offlist=True)
    scorer = OffListScorer(features=features, random_state=3)
    copy = clone(scorer)
    assert copy.get_params() == scorer.get_params() and not hasattr(copy, "score_")
    first = scorer.fit(X, CATEGORIES, DirectionEmbedder(DIM)).score_
    assert np.array_equal(first, copy.fit(X, CATEGORIES, DirectionEmbedder(DIM)).score_)
    assert scorer.theme_score(labels == 4) > max(scorer.theme_score(labels == c) for c in range(4))


def test_offlist_score_samples_reproduces_the_fitted_rows_and_scores_new_ones():
    X, labels = planted(offlist=True)
    scorer = OffListScorer().fit(X, CATEGORIES, DirectionEmbedder(DIM))
    assert np.allclose(scorer.score_samples(X), scorer.score_)
    fresh, fresh_labels = planted(offlist=True, seed=9)
    scores = scorer.score_samples(fresh)
    assert scores[fresh_labels == 4].mean() > max(scores[fresh_labels == c].mean() for c in range(4))
    with pytest.raises(RuntimeError, match="not fitted"):
        OffListScorer().score_samples(X)
