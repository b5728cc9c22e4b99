"""How off-list segments form emergent themes: co-association grouping over the seeds, and recruitment."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.themes import emergent
from tests.themes.test_coded import StubCoder, consensus_labels, run, stubbed  # noqa: F401 (fixture)


@pytest.mark.parametrize("labelings, expected", [
    ([np.array([0, 0, 1, 1])], [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]),
    ([np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])], [[1, .5, 0, 0], [.5, 1, .5, .5], [0, .5, 1, 1], [0, .5, 1, 1]]),
])
def test_emergent_coassociation_is_the_share_of_seeds_that_put_two_rows_together(labelings, expected):
    assert emergent.coassociation(labelings, np.arange(4)) == pytest.approx(np.array(expected))


def test_emergent_coassociation_groups_join_what_the_seeds_agree_on_and_keep_apart_what_none_joins():
    # rows 0-5 are one group in four seeds; seed 0 (say the medoid) cut it in two; rows 6-9 are never with them
    together = np.array([7] * 6 + [8] * 4)
    cut = np.array([7, 7, 7, 9, 9, 9, 8, 8, 8, 8])
    groups = emergent.coassociation_groups([cut] + [together.copy() for _ in range(4)], np.arange(10))
    assert len(set(groups[:6].tolist())) == 1 and len(set(groups[6:].tolist())) == 1
    assert groups[0] != groups[6]


def test_emergent_coassociation_groups_follow_the_rows_they_are_given():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    rows = np.array([1, 2, 6, 7])  # only these are in the pool
    groups = emergent.coassociation_groups([labels, labels.copy()], rows)
    assert groups[0] == groups[1] and groups[2] == groups[3] and groups[0] != groups[2]
    assert emergent.coassociation_groups([labels], np.array([3])).tolist() == [0]


@pytest.mark.parametrize("grouping", ["consensus", "co-association"])
def test_emergent_group_labels_only_the_pool(grouping):
    consensus = np.array([0, 3, 3, 4, 4, 5])
    pool = np.array([False, True, True, True, True, False])
    groups = emergent.group_emergent(pool, consensus, [consensus, consensus.copy()], grouping)
    assert (groups[~pool] == -1).all() and (groups[pool] >= 0).all()
    assert groups[1] == groups[2] and groups[3] == groups[4] and groups[1] != groups[3]


def test_emergent_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="co-association"):
        emergent.group_emergent(np.ones(2, bool), np.zeros(2, int), [], "medoid")


def _two_blobs(rng, n_per: int = 10):
    centres = np.eye(3, 8)
    X = np.vstack([c + 0.05 * rng.standard_normal((n_per, 8)) for c in centres])
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_emergent_recruit_moves_unsure_segments_of_the_emergent_material_and_nothing_else():
    rng = np.random.default_rng(0)
    X = _two_blobs(rng)  # rows 0-9 blob A, 10-19 blob B, 20-29 blob C (the off-list material)
    themes = np.array([0] * 10 + [1] * 10 + [1] * 5 + [2] * 5)  # C's rows 20-24 were coded into category theme 1
    confident = np.zeros(30, bool)
    confident[[0, 1, 2, 10, 11, 12, 20]] = True  # row 20: the coder is sure of it, it must stay
    out = emergent.recruit(X, themes, 2, confident, random_state=0)
    assert out[21:25].tolist() == [2] * 4 and out[20] == 1
    assert out[:20].tolist() == themes[:20].tolist() and (out[25:] == 2).all()


def test_emergent_recruit_without_emergent_themes_changes_nothing():
    X = _two_blobs(np.random.default_rng(1))
    themes = np.array([0] * 15 + [1] * 15)
    assert emergent.recruit(X, themes, 2, np.ones(30, bool)).tolist() == themes.tolist()


def test_emergent_coded_partition_co_association_merges_what_only_the_medoid_split(stubbed):  # noqa: F811
    stubbed(off_clusters={5, 6})
    consensus = consensus_labels()
    split = consensus.copy()
    split[35:] = 6  # the medoid cut the off-list rows in two; two other seeds keep them together
    labelings = [split, consensus.copy(), consensus.copy()]
    by_consensus = run(labelings, medoid=0)
    assert by_consensus.info["emergent_themes"] == 2
    by_seeds = run(labelings, medoid=0, grouping="co-association")
    assert by_seeds.info["emergent_themes"] == 1 and by_seeds.info["emergent_grouping"] == "co-association"
    assert (by_seeds.labels[30:] == 2).all() and by_seeds.labels[:30].tolist() == by_consensus.labels[:30].tolist()


def test_emergent_coded_partition_recruits_off_list_rows_the_coder_put_in_a_category(stubbed, monkeypatch):  # noqa: F811
    stubbed(off_clusters={5})
    monkeypatch.setattr(StubCoder, "CONFIDENT", (0, 1, 2, 3, 20, 21, 22, 23))
    rng = np.random.default_rng(2)
    centres = np.eye(3, 8)
    X = np.vstack([centres[0] + 0.05 * rng.standard_normal((20, 8)), centres[1] + 0.05 * rng.standard_normal((6, 8)),
                   centres[2] + 0.05 * rng.standard_normal((14, 8))])  # rows 26-39: the off-list material
    consensus = consensus_labels()  # the off-list cluster 5 holds rows 30-39 only: 26-29 sit in cluster 3
    result = coding_run(X, consensus, recruit_segments=True)
    assert (result.labels[26:] == 2).all() and result.info["recruited_segments"] == 4
    assert (result.labels[:26] < 2).all()
    plain = coding_run(X, consensus)
    assert plain.info["recruited_segments"] == 0 and (plain.labels[26:30] == 1).all()


def coding_run(X, consensus, **kwargs):
    from pipeline.themes import coded as coding
    from tests.themes.test_coded import CATEGORIES

    labelings = [consensus, consensus.copy(), consensus.copy()]
    return coding.coded_partition(X.astype(np.float32), consensus, labelings, 0, 2, CATEGORIES, embedder=None,
                                  **kwargs)

