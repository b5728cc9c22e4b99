"""CategoryCoder: the name prior, self-training anchored to it, and the label-free calibration of its confidence."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from pipeline.categories import CategoryCoder
from pipeline.categories.coder import agreement_temperature, name_prior
from pipeline.core.records import Category

from .direction_embedder import DirectionEmbedder

DIM = 16
CATEGORIES = [Category(f"c{i}", f"topic {i}") for i in range(4)]


def planted(seed: int, per_cluster: int = 40, spread: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Noisy segments around each category's axis; returns (X, the category each was planted at)."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for axis in range(len(CATEGORIES)):
        centre = np.zeros(DIM)
        centre[axis] = 1.0
        rows.append(centre + spread * rng.normal(size=(per_cluster, DIM)) / np.sqrt(DIM))
        labels += [axis] * per_cluster
    X = np.vstack(rows)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), np.asarray(labels)


@pytest.mark.parametrize("seed", [0, 1])
def test_coder_name_prior_is_a_distribution_ranked_like_the_similarities(seed):
    similarity = np.random.default_rng(seed).uniform(-0.2, 0.8, size=(30, 5))
    prior = name_prior(similarity)
    assert np.allclose(prior.sum(axis=1), 1.0)
    assert (prior.argmax(axis=1) == similarity.argmax(axis=1)).all()
    # the sharpness is set by the corpus's own spread: scaling every similarity leaves the prior unchanged
    assert np.allclose(name_prior(3.0 * similarity), prior)


@pytest.mark.parametrize("target", [0.3, 0.55, 0.9])
def test_coder_agreement_temperature_hits_the_target_mean_confidence(target):
    log_scores = np.random.default_rng(0).normal(scale=3.0, size=(50, 4))
    t = agreement_temperature(log_scores, target)
    z = np.exp(log_scores / t - (log_scores / t).max(axis=1, keepdims=True))
    assert (z / z.sum(axis=1, keepdims=True)).max(axis=1).mean() == pytest.approx(target, abs=1e-3)


@pytest.mark.parametrize("target", [0.1, 0.25, 1.0])
def test_coder_agreement_temperature_is_one_when_the_target_is_unreachable(target):
    assert agreement_temperature(np.random.default_rng(0).normal(size=(20, 4)), target) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coder_calibrated_confidence_matches_the_two_views_agreement(seed):
    X, _ = planted(seed, spread=2.5)
    coder = CategoryCoder(calibrate=True, random_state=seed).fit(X, CATEGORIES, DirectionEmbedder(DIM))
    assert coder.n_rounds_ == 2 and 0.25 < coder.prior_agreement_ < 1.0  # the two views disagree somewhere
    assert coder.confidence_.mean() == pytest.approx(coder.prior_agreement_, abs=0.01)
    rows = np.arange(len(X))
    assert np.allclose(coder.confidence_, coder.scores_[rows, coder.labels_])
    assert np.allclose(coder.scores_.sum(axis=1), 1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_coder_codes_planted_segments_better_than_chance_and_the_anchor_keeps_them_near_the_names(seed):
    X, truth = planted(seed)
    embedder = DirectionEmbedder(DIM)
    anchored = CategoryCoder(prior_weight=1.0, random_state=seed).fit(X, CATEGORIES, embedder)
    free = CategoryCoder(prior_weight=0.0, random_state=seed).fit(X, CATEGORIES, embedder)
    assert (anchored.labels_ == truth).mean() > 0.5
    assert anchored.prior_agreement_ >= free.prior_agreement_


@pytest.mark.parametrize("seed", [0])
def test_coder_without_self_training_keeps_similarities_as_scores(seed):
    X, _ = planted(seed)
    coder = CategoryCoder(n_self_training=0).fit(X, CATEGORIES, DirectionEmbedder(DIM))
    assert coder.n_rounds_ == 0 and coder.temperature_ == 1.0
    assert np.array_equal(coder.scores_, coder.similarity_)
    assert np.allclose(coder.confidence_, coder.prior_[np.arange(len(X)), coder.labels_])


@pytest.mark.parametrize("seed", [3])
def test_coder_uncalibrated_and_clone_keep_parameters(seed):
    X, _ = planted(seed)
    coder = CategoryCoder(calibrate=False, random_state=seed)
    assert clone(coder).get_params() == coder.get_params()
    assert coder.fit(X, CATEGORIES, DirectionEmbedder(DIM)).temperature_ == 1.0


@pytest.mark.parametrize("described, expected", [(False, 0.0), (True, 1.0)])
def test_coder_prior_weight_default_anchors_only_a_list_with_a_codebook(described, expected):
    X, _ = planted(0)
    categories = [Category(c.category_id, c.label, description=f"about {c.label}" if described else "")
                  for c in CATEGORIES]
    coder = CategoryCoder().fit(X, categories, DirectionEmbedder(DIM))
    assert coder.prior_weight_ == expected
    assert coder.temperature_ == 1.0  # calibration is off by default
    assert np.allclose(coder.confidence_, coder.scores_[np.arange(len(X)), coder.labels_])
