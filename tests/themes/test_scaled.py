"""Sampled theme fits (pipeline.themes.scaled): the stratified sample, the assignment of the other segments in
batches, and agreement with a fit on every segment."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from pipeline.compute import LocalEngine
from pipeline.core.records import Category
from pipeline.embed import get_embedder
from pipeline.themes import ThemeModel
from pipeline.themes.scaled import MIN_PER_STRATUM, fit_on_sample, fit_sampled, stratified_sample
from tests.themes.test_model import TOPIC_SENTENCES

CATEGORIES = [Category("staff", "Lack of staff capacity"), Category("footprint", "Clashes over planning footprints"),
              Category("money", "Insufficient funding")]  # politics is off the list


def _corpus() -> tuple[list[str], np.ndarray]:
    """Distinct texts, each two sentences of one topic (90 per topic), and the topic of each."""
    texts, truth = [], []
    for topic, (name, sentences) in enumerate(TOPIC_SENTENCES.items()):
        for i, first in enumerate(sentences):
            for second in sentences[:i] + sentences[i + 1:]:
                texts.append(f"{first}; {second}")
                truth.append(topic)
    return texts, np.asarray(truth)


@pytest.fixture(scope="module")
def fake():
    return get_embedder("fake-hash.v1")


@pytest.fixture(scope="module")
def full_and_sampled(fake):
    texts, truth = _corpus()
    X = fake.encode(texts)
    ids = [f"s{i}" for i in range(len(texts))]
    full = ThemeModel(n_seeds=3, random_state=7).fit(texts, X, fake, categories=CATEGORIES, segment_ids=ids)
    sampled = fit_sampled(ThemeModel(n_seeds=3, random_state=7), texts, X, fake, CATEGORIES, ids, sample_size=150,
                          batch_rows=37, seed=7, engine=LocalEngine())
    return texts, truth, full, sampled


def test_fit_on_sample_only_above_the_threshold():
    assert fit_on_sample(50_000, 50_000, 30_000) is None
    assert fit_on_sample(50_001, 50_000, 30_000) == 30_000
    assert fit_on_sample(40_000, 10_000, 60_000) is None  # a sample as large as the corpus is the corpus


def test_stratified_sample_is_exact_proportional_and_keeps_small_strata():
    strata = np.repeat([0, 1, 2], [9_000, 950, 30])
    sample = stratified_sample(strata, 1_000, seed=3)
    assert len(sample) == 1_000 == len(np.unique(sample)) and np.all(np.diff(sample) > 0)
    counts = np.bincount(strata[sample])
    assert counts[2] == 30  # a stratum smaller than the floor is kept whole
    assert counts[1] >= MIN_PER_STRATUM and abs(counts[0] - 900) <= 40  # the rest in proportion
    assert np.array_equal(sample, stratified_sample(strata, 1_000, seed=3))
    assert not np.array_equal(sample, stratified_sample(strata, 1_000, seed=4))
    assert np.array_equal(stratified_sample(strata, 20_000, seed=3), np.arange(len(strata)))


def test_sampled_fit_assigns_every_segment_once_in_order(full_and_sampled):
    texts, _, _, sampled = full_and_sampled
    assert len(sampled.sample) == 150
    assert [a.segment_id for a in sampled.assignments] == [f"s{i}" for i in range(len(texts))]
    assert len(sampled.segment_categories) == len(texts)
    assert sum(t.size for t in sampled.themes) == len(texts)
    assert sampled.method["sampled"] == {**sampled.method["sampled"], "n_segments": len(texts), "sample": 150,
                                         "assigned": len(texts) - 150}
    for position, row in enumerate(sampled.sample):  # the sample keeps the fit's own assignments
        assert sampled.assignments[row] == sampled.model.assignments_[position]


def test_sampled_fit_codes_the_rest_into_their_own_category_theme(full_and_sampled):
    texts, _, _, sampled = full_and_sampled
    theme_of = {t.category_id: t.theme_id for t in sampled.themes if t.category_id}
    emergent = {t.theme_id for t in sampled.themes if not t.category_id}
    rest = np.setdiff1d(np.arange(len(texts)), sampled.sample)
    joined = [sampled.assignments[r].theme_id == theme_of.get(sampled.segment_categories[r][0])
              or sampled.assignments[r].theme_id in emergent for r in rest]
    assert all(joined)


def test_sampled_fit_agrees_with_the_full_fit(full_and_sampled):
    _, truth, full, sampled = full_and_sampled
    full_themes = [a.theme_id for a in full.assignments_]
    sampled_themes = [a.theme_id for a in sampled.assignments]
    assert adjusted_rand_score(full_themes, sampled_themes) >= 0.6
    agreement = np.mean([a[0] == b[0] for a, b in zip(full.segment_categories_, sampled.segment_categories)])
    assert agreement >= 0.9
    assert adjusted_rand_score(truth, sampled_themes) >= 0.6  # and it still finds the written topics


def test_sampled_fit_is_saved_and_reused_with_the_same_assignments(tmp_path):
    import yaml

    from pipeline import runner
    from pipeline.core.config import load_config

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts, _ = _corpus()
    (corpus / "answers.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (corpus / "categories.yaml").write_text(yaml.safe_dump({"categories": [
        {"id": c.category_id, "label": c.label} for c in CATEGORIES]}), encoding="utf-8")
    config = load_config(None, {"embed.model": "fake-hash.v1", "themes.n_seeds": 3, "scale.fit_above": 200,
                                "scale.fit_sample": 150, "scale.batch_rows": 50})
    first = runner.run(corpus, config, None, until="themes", model_dir=tmp_path / "models")
    second = runner.run(corpus, config, None, until="themes", model_dir=tmp_path / "models")
    assert first.theme_method["sampled"]["sample"] == 150 and not first.theme_model_reused
    assert second.theme_model_reused
    assert second.assignments == first.assignments and second.segment_categories == first.segment_categories
    assert [t.size for t in second.themes] == [t.size for t in first.themes]
    bigger = config.model_copy(update={"scale": config.scale.model_copy(update={"fit_sample": 180})})
    assert not runner.run(corpus, bigger, None, until="themes", model_dir=tmp_path / "models").theme_model_reused


def test_scaled_every_segment_gets_an_off_list_score_calibrated_on_the_sample():
    from pipeline.categories import OffListScorer
    from pipeline.themes.stage import _sampled_off_list
    from tests.categories.test_offlist_score import CATEGORIES as FOUR, DIM, DirectionEmbedder, planted

    X, clusters = planted(offlist=True, seed=4)
    sample = np.arange(0, len(X), 2)
    scores = np.asarray(_sampled_off_list(X, sample, FOUR, DirectionEmbedder(DIM), 7))
    assert scores.shape == (len(X),)
    on_sample = OffListScorer(random_state=7).fit(X[sample], FOUR, DirectionEmbedder(DIM)).score_
    assert np.allclose(scores[sample], on_sample, atol=1e-4)
    unseen = np.setdiff1d(np.arange(len(X)), sample)
    assert scores[unseen][clusters[unseen] == 4].mean() > 0.5 > scores[unseen][clusters[unseen] < 4].mean()
    assert _sampled_off_list(X, sample, [], DirectionEmbedder(DIM), 7) == ()


@pytest.mark.parametrize("values, positive, expected", [
    ([0.9, 0.3, 0.8, 0.2], [True, False, True, False], 0.8),
    ([0.9, 0.3, 0.8, 0.2], [False, False, False, False], float("inf")),
    ([0.9, 0.3, 0.8, 0.2], [True, True, True, True], 0.2),
    ([0.9, 0.7, 0.5, 0.1], [True, False, True, False], 0.9),  # one error either way: the higher threshold
])
def test_best_threshold_puts_the_most_rows_on_the_right_side(values, positive, expected):
    from pipeline.themes.scaled import best_threshold

    assert best_threshold(np.asarray(values), np.asarray(positive)) == expected


def test_assigned_segment_joins_an_emergent_theme_only_past_its_margin():
    from pipeline.themes.scaled import Assigner

    light = ThemeModel()
    light.centroids_ = {0: np.array([1.0, 0.0], dtype=np.float32), 1: np.array([0.0, 1.0], dtype=np.float32)}
    assigner = Assigner(light, ["a"], {"a": 0}, frozenset({1}), None, None, [], emergent_margins={1: 0.2})
    angles = np.radians([80.0, 50.0, 20.0])  # nearest the emergent theme by far, by a little, nearest the category
    X = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    themes = assigner.themes(X, [("a", 0.9)] * 3)
    assert themes.tolist() == [1, 0, 0]
    assert Assigner(light, ["a"], {"a": 0}, frozenset({1}), None, None, []).themes(X, [("a", 0.9)] * 3).tolist() \
        == [0, 0, 0]  # an emergent theme without a learned margin takes nobody from outside the sample


def test_sampled_fit_assigns_about_the_samples_emergent_share(full_and_sampled):
    texts, _, _, sampled = full_and_sampled
    emergent = sorted({t.theme_id for t in sampled.themes if not t.category_id})
    themes = np.array([a.theme_id for a in sampled.assignments])
    rest = np.setdiff1d(np.arange(len(texts)), sampled.sample)
    in_sample, outside = np.isin(themes[sampled.sample], emergent).mean(), np.isin(themes[rest], emergent).mean()
    assert emergent and abs(outside - in_sample) <= 0.1
