"""Category-coded themes: how the per-segment coder and the clusters' off-list verdicts combine."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.themes import coded as coding
from pipeline.core.errors import ConfigError
from pipeline.core.records import UNASSIGNED, Category

CATEGORIES = [Category("a", "First"), Category("b", "Second"), Category("c", "Third")]
N = 40


class StubCoder:
    """Codes rows 0-19 as category 0 and rows 20-39 as category 1; category 2 gets nothing. Sure of no row
    unless ``CONFIDENT`` lists some."""

    CONFIDENT: tuple[int, ...] = ()

    def __init__(self, random_state=0):
        pass

    def fit(self, X, categories, embedder):
        self.labels_ = np.array([0] * 20 + [1] * 20)
        self.confident_ = np.isin(np.arange(N), self.CONFIDENT)
        self.n_rounds_ = 0
        return self


def stub_detector(off_clusters):
    class StubDetector:
        floor_ = 0.0

        def __init__(self, min_elevation=0.5):
            pass

        def fit(self, X, categories, embedder):
            return self

        def off_list(self, X, labels, candidates):
            return {int(c) for c in candidates if int(c) in off_clusters}

    return StubDetector


class StubScorer:
    """Off-list score 0.9 for rows 30-39 (the planted off-list rows), 0.2 elsewhere."""

    def __init__(self, random_state=0):
        pass

    def fit(self, X, categories, embedder):
        self.score_ = np.where(np.arange(N) >= 30, 0.9, 0.2)
        self.n_loco_ = len(categories)
        return self

    def theme_score(self, members):
        return float(self.score_[members].mean())


@pytest.fixture
def stubbed(monkeypatch):
    def install(off_clusters):
        monkeypatch.setattr(coding, "CategoryCoder", StubCoder)
        monkeypatch.setattr(coding, "OffListDetector", stub_detector(set(off_clusters)))
        monkeypatch.setattr(coding, "OffListScorer", StubScorer)
    return install


def consensus_labels() -> np.ndarray:
    # rows 0-9 zero-shot seeded group 0; rows 10-29 free cluster 3; rows 30-39 free cluster 5
    return np.array([0] * 10 + [3] * 20 + [5] * 10)


def run(labelings, medoid=0, **kwargs):
    X = np.zeros((N, 4), dtype=np.float32)
    return coding.coded_partition(X, labelings[medoid], labelings, medoid, 2, CATEGORIES, embedder=None, **kwargs)


def test_coding_segments_take_their_own_category_unless_their_cluster_is_off_list(stubbed):
    stubbed(off_clusters={5})
    consensus = consensus_labels()
    result = run([consensus, consensus.copy(), consensus.copy()])
    # the free cluster 3 mixes both categories: its rows are coded one by one, not mapped as a whole
    assert result.categories == [0, 1]
    assert result.labels[:20].tolist() == [0] * 20 and result.labels[20:30].tolist() == [1] * 10
    assert result.labels[30:].tolist() == [2] * 10  # one emergent theme after the two category themes
    assert result.info["emergent_segments"] == 10 and result.info["emergent_themes"] == 1
    assert result.stability == {0: 1.0, 1: 1.0, 2: 1.0}


@pytest.mark.parametrize("seeds_off, emergent", [(3, True), (2, True), (1, False), (0, False)])
def test_coding_emergent_needs_a_majority_of_seeds(stubbed, seeds_off, emergent):
    stubbed(off_clusters={5})
    consensus = consensus_labels()
    labelings = []
    for seed in range(3):
        labels = consensus.copy()
        if seed >= seeds_off:
            labels[30:] = 4  # this seed put the rows in a cluster that is on the list
        labelings.append(labels)
    result = run(labelings, medoid=0 if seeds_off else 2)
    assert bool((result.labels[30:] == 2).all()) is emergent
    assert result.info["emergent_segments"] == (10 if emergent else 0)


def test_coding_partial_agreement_lowers_the_emergent_theme_stability(stubbed):
    stubbed(off_clusters={5, 6})
    consensus = consensus_labels()
    split = consensus.copy()
    split[35:] = 6  # another seed splits the off-list rows in two off-list clusters
    result = run([consensus, split, consensus.copy()])
    emergent_theme = int(result.labels[30])
    assert result.stability[emergent_theme] == pytest.approx((0.5 + 1.0) / 2)
    assert result.stability[0] == 1.0


def test_coding_small_off_list_fragment_is_coded_like_the_rest(stubbed):
    stubbed(off_clusters={5})
    consensus = consensus_labels()
    consensus[30:38] = 3  # only two rows stay in the off-list cluster: below the minimum emergent size
    result = run([consensus])
    assert coding.min_emergent_size(N) == 3
    assert result.info["emergent_segments"] == 0
    assert result.labels[38:].tolist() == [1, 1]


def test_coding_seeded_groups_and_outliers_are_never_emergent(stubbed):
    stubbed(off_clusters={0, 5})
    consensus = consensus_labels()
    consensus[30:] = UNASSIGNED  # outliers of a density-based cluster model
    result = run([consensus])
    assert result.info["emergent_segments"] == 0  # group 0 is zero-shot seeded; -1 is no cluster
    assert result.labels.tolist() == [0] * 20 + [1] * 20


def test_coding_unknown_category_themes_mode_is_a_config_error():
    from pipeline.embed import get_embedder
    from pipeline.themes import ThemeModel

    fake = get_embedder("fake-hash.v1")
    texts = [f"answer number {i} about topic {i % 4}" for i in range(20)]
    with pytest.raises(ConfigError, match="themes.category_themes"):
        ThemeModel(category_themes="mapped").fit(texts, fake.encode(texts), fake, categories=CATEGORIES)


def test_coding_segments_the_coder_is_sure_of_stay_in_their_category(stubbed, monkeypatch):
    stubbed(off_clusters={5})
    monkeypatch.setattr(StubCoder, "CONFIDENT", (30, 31))
    consensus = consensus_labels()
    kept = run([consensus])
    assert kept.labels[30:32].tolist() == [1, 1] and (kept.labels[32:] == 2).all()
    assert kept.info["emergent_segments"] == 8
    ignored = run([consensus], keep_confident=False)
    assert ignored.info["emergent_segments"] == 10


def test_coding_theme_stage_never_seeds_or_codes_a_catch_all_option():
    from pipeline.embed import get_embedder
    from pipeline.themes import ThemeModel

    fake = get_embedder("fake-hash.v1")
    texts = [f"{word} number {i} again" for i in range(12) for word in ("potholes", "recycling")]
    categories = [Category("roads", "Road repairs", keywords=("potholes",)),
                  Category("bins", "Bin collections", keywords=("recycling",)), Category("other", "Other")]
    model = ThemeModel(n_seeds=2).fit(texts, fake.encode(texts), fake, categories=categories)
    assert "other" not in {t.category_id for t in model.themes_}


@pytest.mark.parametrize("category_themes", ["coded", "clustered"])
def test_coding_segment_categories_come_from_the_theme_stage_and_survive_save_load(tmp_path, category_themes):
    from pipeline.categories import CategoryCoder
    from pipeline.core.vectors import unit_rows
    from pipeline.embed import get_embedder
    from pipeline.themes import ThemeModel

    fake = get_embedder("fake-hash.v1")
    texts = [f"{word} number {i} again" for i in range(12) for word in ("potholes", "recycling")]
    categories = [Category("roads", "Road repairs", keywords=("potholes",)),
                  Category("bins", "Bin collections", keywords=("recycling",)), Category("other", "Other")]
    X = unit_rows(fake.encode(texts), np.float32)  # the runner's embeddings are unit rows
    model = ThemeModel(n_seeds=2, category_themes=category_themes, random_state=3).fit(texts, X, fake,
                                                                                          categories=categories)
    direct = CategoryCoder(random_state=3).fit(X, categories[:2], fake)
    assert model.segment_categories_ == [(categories[label].category_id, round(float(direct.scores_[row, label]), 4))
                                         for row, label in enumerate(direct.labels_)]
    model.save(tmp_path / "model")
    assert ThemeModel.load(tmp_path / "model", fake, with_topic_model=False).segment_categories_ == \
        model.segment_categories_


@pytest.mark.parametrize("threshold, emergent_rows", [(0.5, 10), (0.95, 0)])
def test_coding_score_rule_makes_clusters_at_or_above_the_threshold_emergent(stubbed, threshold, emergent_rows):
    stubbed(off_clusters=set())  # the elevation rule would call nothing off the list
    consensus = consensus_labels()
    result = run([consensus, consensus.copy(), consensus.copy()], rule="score", threshold=threshold)
    assert result.info["emergent_segments"] == emergent_rows
    assert result.info["off_list_rule"] == "score"
    assert bool((result.labels[30:] == 2).all()) is (emergent_rows == 10)


@pytest.mark.parametrize("rule", ["elevation", "score"])
@pytest.mark.parametrize("offlist", [True, False])
def test_coding_real_components_planted_offlist_cluster_is_the_only_emergent_theme(rule, offlist):
    from tests.categories.test_offlist_score import CATEGORIES as FOUR, DIM, DirectionEmbedder, planted

    X, clusters = planted(offlist=offlist, seed=1)
    labelings = [clusters.copy() for _ in range(3)]  # every seed finds the planted clusters (all free: n_seeded 0)
    result = coding.coded_partition(X, labelings[0], labelings, 0, 0, FOUR, DirectionEmbedder(DIM), rule=rule,
                                    keep_confident=True)
    emergent = result.labels >= len(result.categories)
    if offlist:
        assert result.info["emergent_themes"] == 1
        assert emergent[clusters == 4].mean() >= 0.5 and not emergent[clusters < 4].any()
    else:
        assert result.info["emergent_themes"] == 0 and not emergent.any()
    assert result.scorer.theme_score(clusters == 0) < 0.5
