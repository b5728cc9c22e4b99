"""Theme -> category mapping, the emergent threshold, and per-segment category coding."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipeline.embed import get_embedder
from pipeline.core.errors import PipelineError
from pipeline.categories import (
    CategoryCoder,
    OffListDetector,
    content_lemmas,
    embed_categories,
    item_similarity,
    keyword_overlap,
)
from pipeline.mapping import CategoryMapper
from pipeline.core.records import UNASSIGNED, Assignment, Category, Theme

# Our own wording, modelled on the barrier list of the commissioning-leaders survey (see docs/domain notes).
BARRIER_CATEGORIES = [
    Category("social_care_funding", "Insufficient social care funding", "national",
             "Councils do not have enough money for adult social care; care packages and home care are being cut.",
             ("social care budget", "council care cuts"), "rating_social_care"),
    Category("nhs_funding", "Insufficient NHS funding", "national",
             "The health service budget is too small for rising demand; hospitals and commissioners run deficits.",
             ("NHS budget", "financial deficit"), "rating_nhs_funding"),
    Category("own_targets", "The need to meet NHS organisations' own targets and priorities", "national",
             "Each organisation chases its own performance targets and priorities rather than shared system goals.",
             ("waiting time targets", "organisational priorities")),
    Category("incentives", "National financial and regulatory incentives", "national",
             "Payment rules, tariffs and regulators reward single organisations instead of joint working.",
             ("payment by results", "tariff", "regulation")),
    Category("hospital_activity", "Disagreement about future hospital activity", "local",
             "Partners cannot agree how much work hospitals should do in future or whether to shift care out of "
             "hospital.", ("bed numbers", "acute activity")),
    Category("clinician_interest", "Self-interest of clinicians in secondary and tertiary care", "local",
             "Hospital consultants and specialists protect their own services and resist change.",
             ("consultants", "specialists resisting change")),
    Category("footprints", "Confusion or clashes over planning footprints", "local",
             "The areas chosen for planning do not match the boundaries of commissioners or councils.",
             ("planning footprint", "boundaries")),
    Category("leader_approach", "The personal approach of senior leaders", "local",
             "Chief executives and senior leaders do not cooperate, trust each other or share leadership.",
             ("chief executives", "leadership style")),
    Category("capacity", "Lack of organisational or staff capacity", "local",
             "There are not enough staff, time or skills in organisations to plan and deliver change.",
             ("staff shortages", "management capacity")),
]

# Themes as a respondent might write them: paraphrases of three listed barriers and two the list lacks.
THEME_SENTENCES = {
    "capacity": ["We simply do not have enough people to do this planning work.",
                 "Our small team has no time or energy left for a plan of this scale.",
                 "The CCG lacks the skills and manpower to lead transformation.",
                 "Staff are stretched too thin to take on extra planning."],
    "footprints": ["The planning area does not line up with our council boundaries.",
                   "Our footprint was imposed and cuts across existing partnerships.",
                   "The STP area covers three councils with different boundaries.",
                   "Nobody understands why the footprint was drawn where it was."],
    "social_care_funding": ["The council has cut home care packages again.",
                            "Adult social care budgets are collapsing.",
                            "Without social care money, discharges stall.",
                            "Local authority care funding is the biggest gap."],
    "politics": ["Local councillors are ambivalent and will not back difficult decisions.",
                 "There is no political will locally to close anything.",
                 "Elected members oppose change for electoral reasons.",
                 "Local politicians keep blocking reconfiguration."],
    "timescale": ["The national deadlines are far too soon to do this properly.",
                  "The pace leaves no room for engaging the public.",
                  "We were given weeks to produce something that needs years.",
                  "Timescales are unrealistic and rushed."],
}


def frequent_lemmas(sentences: list[str], n: int = 6) -> tuple[str, ...]:
    """Keywords the way a topic model would find them: the theme's most frequent content words."""
    counts = Counter(lemma for sentence in sentences for lemma in content_lemmas([sentence]))
    return tuple(word for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def build_themes(embedder, sentence_sets: dict[str, list[str]]):
    themes, assignments, texts = [], [], []
    for theme_id, (label, sentences) in enumerate(sentence_sets.items()):
        themes.append(Theme(theme_id, label, frequent_lemmas(sentences), len(sentences), 1.0))
        for sentence in sentences:
            texts.append(sentence)
            assignments.append(Assignment(f"a:{len(texts)}#0", theme_id, 1.0))
    return themes, assignments, embedder.encode(texts)


@pytest.fixture(scope="module")
def fake():
    return get_embedder("fake-hash.v1")


@pytest.fixture(scope="module")
def minilm():
    return get_embedder("minilm-local.v1")


SMALL_CATEGORIES = [
    Category("roads", "Road repairs", description="Potholes and broken road surfaces.", keywords=("potholes",)),
    Category("bins", "Bin collections", description="Missed rubbish and recycling collections.",
             keywords=("recycling",)),
    Category("parks", "Park maintenance", description="Overgrown grass and broken swings in parks.",
             keywords=("swings",)),
]
SMALL_THEMES = {
    "roads": ["potholes on the road surface again", "road repairs never happen, potholes everywhere",
              "broken road surfaces and potholes"],
    "bins": ["missed recycling collections", "rubbish collections missed again", "bin collections for recycling"],
}


def test_mapping_fit_returns_self_and_scores_every_pair(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper()
    assert not [name for name in vars(mapper) if name.endswith("_")]
    assert mapper.fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake) is mapper
    pairs = {(s.theme_id, s.category_id) for s in mapper.scores_}
    assert pairs == {(t.theme_id, c.category_id) for t in themes for c in SMALL_CATEGORIES}
    assert [t.category_id for t in mapper.themes_] == ["roads", "bins"]
    assert themes[0].category_id is None  # the input themes are left untouched


def test_mapping_score_combines_similarity_and_overlap(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper(keyword_weight=0.4).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    for score in mapper.scores_:
        assert score.score == pytest.approx(0.6 * score.similarity + 0.4 * score.keyword_overlap, abs=1e-5)


def test_mapping_confidence_is_bootstrap_support_of_best_category(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper(emergent_threshold=-1.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert not any(theme.emergent for theme in mapper.themes_)
    for theme in mapper.themes_:
        assert 0.0 <= theme.confidence <= 1.0
        assert theme.confidence == mapper.support_[theme.theme_id]
    again = CategoryMapper(emergent_threshold=-1.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert again.support_ == mapper.support_  # seeded


@pytest.mark.parametrize("mixed_share", [0.5])
def test_mapping_theme_split_between_two_categories_has_low_support_and_is_emergent(fake, mixed_share):
    """Half road-repair answers, half bin answers: no single category describes the theme."""
    texts = SMALL_THEMES["roads"] + SMALL_THEMES["bins"]
    pure_texts = SMALL_THEMES["roads"]
    embeddings = fake.encode(texts + pure_texts)
    n_mixed = len(texts)
    themes = [Theme(0, "mixed", ("road", "bin"), n_mixed, 1.0), Theme(1, "pure", ("road",), len(pure_texts), 1.0)]
    assignments = ([Assignment(f"m{i}", 0, 1.0) for i in range(n_mixed)]
                   + [Assignment(f"p{i}", 1, 1.0) for i in range(len(pure_texts))])
    mapper = CategoryMapper(min_elevation=-10.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert mapper.support_[1] > mapper.support_[0]
    by_id = {t.theme_id: t for t in mapper.themes_}
    assert by_id[1].category_id == "roads" and not by_id[1].emergent
    assert mapper.support_[0] < 0.8 and by_id[0].emergent and by_id[0].category_id is None


def test_mapping_similarity_is_mean_segment_cosine_max_over_items(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper(keyword_weight=0.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    items = embed_categories(SMALL_CATEGORIES, fake)
    roads_rows = [i for i, a in enumerate(assignments) if a.theme_id == 0]
    per_item = embeddings[roads_rows] @ items[1].vectors.T  # theme "roads" vs category "bins"
    expected = per_item.mean(axis=0).max()
    got = next(s.similarity for s in mapper.scores_ if s.theme_id == 0 and s.category_id == "bins")
    assert got == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("threshold, emergent", [(1.0, True), (-1.0, False)])
def test_mapping_given_threshold_decides_emergent(fake, threshold, emergent):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper(emergent_threshold=threshold).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert mapper.threshold_ == threshold and "config" in mapper.threshold_method_
    assert all(t.emergent is emergent for t in mapper.themes_)
    assert all((t.category_id is None) is emergent for t in mapper.themes_)
    unsupported = {c.category_id for c in mapper.unsupported_categories_}
    assert unsupported == ({"roads", "bins", "parks"} if emergent else {"parks"})


def test_mapping_calibration_is_reported_with_embedder(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper().fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert -1.0 <= mapper.threshold_ <= 1.0
    assert "standard deviations" in mapper.threshold_method_ and fake.name in mapper.threshold_method_
    assert set(mapper.elevation_) == {t.theme_id for t in themes}


@pytest.mark.parametrize("min_elevation", [0.5])
def test_mapping_theme_like_the_whole_corpus_is_emergent(fake, min_elevation):
    """A 'theme' holding every segment is exactly the corpus baseline: elevation 0, so no category is claimed."""
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    everything = [Theme(0, "everything", ("road", "bin"), len(assignments), 1.0)]
    pooled = [Assignment(a.segment_id, 0, 1.0) for a in assignments]
    mapper = CategoryMapper(min_elevation=min_elevation).fit(everything, pooled, embeddings, SMALL_CATEGORIES, fake)
    assert abs(mapper.elevation_[0]) < 1e-6
    assert mapper.themes_[0].emergent and mapper.themes_[0].category_id is None


def test_mapping_elevation_threshold_decides(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    lenient = CategoryMapper(min_elevation=-10.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    strict = CategoryMapper(min_elevation=10.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert all(t.emergent for t in strict.themes_)
    assert sum(not t.emergent for t in lenient.themes_) >= sum(not t.emergent for t in strict.themes_)


def test_mapping_theme_texts_replace_segment_centroid(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    swapped = {0: SMALL_THEMES["bins"], 1: SMALL_THEMES["roads"]}
    mapper = CategoryMapper(emergent_threshold=-1.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake,
                                                         theme_texts=swapped)
    assert [t.category_id for t in mapper.themes_] == ["bins", "roads"]


def test_mapping_theme_without_segments_uses_label_and_keywords(fake):
    themes = [Theme(7, "Swings in parks", ("swings", "park"), 0, 1.0)]
    mapper = CategoryMapper(emergent_threshold=-1.0).fit(themes, [], np.zeros((0, 256)), SMALL_CATEGORIES, fake)
    assert mapper.themes_[0].category_id == "parks"


def test_mapping_outlier_pseudo_theme_passes_through_in_order(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    outlier = Theme(UNASSIGNED, "Unassigned", (), 0, 0.0)
    mapper = CategoryMapper().fit([outlier, *themes], assignments, embeddings, SMALL_CATEGORIES, fake)
    assert [t.theme_id for t in mapper.themes_] == [UNASSIGNED, 0, 1]
    assert mapper.themes_[0] == outlier
    assert UNASSIGNED not in {s.theme_id for s in mapper.scores_}


def test_mapping_without_categories_changes_nothing(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper().fit(themes, assignments, embeddings, [], fake)
    assert mapper.scores_ == [] and mapper.themes_ == themes and mapper.threshold_ is None


def test_mapping_misaligned_inputs_raise(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    with pytest.raises(PipelineError, match="aligned"):
        CategoryMapper().fit(themes, assignments[:-1], embeddings, SMALL_CATEGORIES, fake)


@pytest.mark.parametrize("theme_words, category_words, expected", [
    ({"pothole", "road"}, {"road", "repair", "pothole"}, 1.0),
    ({"pothole", "road", "council", "money"}, {"road"}, 0.25),
    ({"swing"}, {"road"}, 0.0),
    (set(), {"road"}, 0.0),
])
def test_mapping_keyword_overlap_is_share_of_theme_words(theme_words, category_words, expected):
    assert keyword_overlap(theme_words, category_words) == expected


@pytest.mark.parametrize("text, expected", [
    ("The Councils' budgets", {"council", "budget"}),
    ("Clashes over planning footprints", {"clash", "plan", "footprint"}),
    ("it is and of the", set()),
    ("2016 targets", {"target"}),
])
def test_mapping_content_lemmas_lowercase_lemmatised_without_stop_words(text, expected):
    assert content_lemmas([text]) == expected


def test_mapping_item_similarity_takes_max_over_items(fake):
    items = embed_categories(SMALL_CATEGORIES, fake)
    vector = fake.encode(["recycling"])
    sims = item_similarity(vector, items)
    assert sims[0, 1] == pytest.approx(1.0, abs=1e-5)  # the keyword item "recycling" itself
    assert sims[0, 1] == pytest.approx((vector @ items[1].vectors.T).max(), abs=1e-6)


# --- per-segment category coding -----------------------------------------------------------------------------

CODER_SEGMENTS = [
    ("roads", "potholes in the road near school"), ("roads", "the road surface is broken with potholes"),
    ("roads", "road repairs take months"), ("roads", "deep potholes damage cars"),
    ("bins", "recycling was not collected"), ("bins", "missed rubbish collections this week"),
    ("bins", "bin collections are unreliable"), ("bins", "recycling bins left full"),
    ("parks", "swings in the park are broken"), ("parks", "grass in the park is overgrown"),
    ("parks", "park maintenance has stopped"), ("parks", "broken swings and overgrown grass"),
]


def test_mapping_coder_codes_segments_to_their_category(fake):
    embeddings = fake.encode([text for _, text in CODER_SEGMENTS])
    coder = CategoryCoder(random_state=3)
    assert coder.fit(embeddings, SMALL_CATEGORIES, fake) is coder
    gold = [[c.category_id for c in SMALL_CATEGORIES].index(label) for label, _ in CODER_SEGMENTS]
    assert np.mean(coder.labels_ == np.array(gold)) >= 0.8
    assert coder.scores_.shape == (len(CODER_SEGMENTS), 3) and coder.similarity_.shape == coder.scores_.shape
    assert (coder.labels_ == coder.scores_.argmax(axis=1)).all()
    assert coder.n_rounds_ == 2


def test_mapping_coder_is_deterministic(fake):
    embeddings = fake.encode([text for _, text in CODER_SEGMENTS])
    first = CategoryCoder(random_state=5).fit(embeddings, SMALL_CATEGORIES, fake)
    second = CategoryCoder(random_state=5).fit(embeddings, SMALL_CATEGORIES, fake)
    assert (first.labels_ == second.labels_).all() and np.allclose(first.scores_, second.scores_)


def test_mapping_coder_without_self_training_is_nearest_category(fake):
    embeddings = fake.encode([text for _, text in CODER_SEGMENTS])
    coder = CategoryCoder(n_self_training=0).fit(embeddings, SMALL_CATEGORIES, fake)
    assert coder.n_rounds_ == 0
    assert np.array_equal(coder.scores_, coder.similarity_)


@pytest.mark.parametrize("categories, keep_share", [([], 0.3), (SMALL_CATEGORIES, 0.0)])
def test_mapping_coder_rejects_bad_input(fake, categories, keep_share):
    with pytest.raises(PipelineError):
        CategoryCoder(keep_share=keep_share).fit(fake.encode(["a road"]), categories, fake)


# --- the real model ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_mapping_real_model_maps_paraphrases_and_flags_off_list_themes(minilm):
    themes, assignments, embeddings = build_themes(minilm, THEME_SENTENCES)
    mapper = CategoryMapper().fit(themes, assignments, embeddings, BARRIER_CATEGORIES, minilm)
    by_label = {t.label: t for t in mapper.themes_}
    for label in ("capacity", "footprints", "social_care_funding"):
        assert by_label[label].category_id == label and not by_label[label].emergent
    for label in ("politics", "timescale"):
        assert by_label[label].emergent and by_label[label].category_id is None
    unsupported = {c.category_id for c in mapper.unsupported_categories_}
    assert unsupported == {c.category_id for c in BARRIER_CATEGORIES} - {"capacity", "footprints",
                                                                         "social_care_funding"}


@pytest.mark.slow
def test_mapping_real_model_threshold_survives_a_dropped_category(minilm):
    """The politics theme stays emergent, and capacity stays mapped, whatever else is on the list."""
    themes, assignments, embeddings = build_themes(minilm, {k: THEME_SENTENCES[k] for k in ("capacity", "politics")})
    fewer = [c for c in BARRIER_CATEGORIES if c.category_id != "footprints"]
    mapper = CategoryMapper().fit(themes, assignments, embeddings, fewer, minilm)
    assert [(t.category_id, t.emergent) for t in mapper.themes_] == [("capacity", False), (None, True)]


@pytest.mark.slow
def test_mapping_real_model_coder_codes_paraphrases(minilm):
    chosen = ("capacity", "footprints", "social_care_funding")
    texts = [s for key in chosen for s in THEME_SENTENCES[key]]
    gold = [[c.category_id for c in BARRIER_CATEGORIES].index(key) for key in chosen for _ in THEME_SENTENCES[key]]
    coder = CategoryCoder(n_self_training=0).fit(minilm.encode(texts), BARRIER_CATEGORIES, minilm)
    assert np.mean(coder.labels_ == np.array(gold)) >= 0.75


@pytest.mark.parametrize("description, parts", [
    ("Potholes. Broken kerbs; cracked paving", ["Potholes.", "Broken kerbs", "cracked paving"]),
    ("Repairs, e.g. potholes and kerbs.", ["Repairs, e.g. potholes and kerbs."]),
    ("", []),
])
def test_mapping_category_items_are_label_description_parts_and_keywords(fake, description, parts):
    category = Category("roads", "Road repairs", description=description, keywords=("potholes", " "))
    items = embed_categories([category], fake)[0]
    assert list(items.texts) == ["Road repairs", *parts, "potholes"]
    assert items.vectors.shape == (len(items.texts), 256)
    assert np.allclose(np.linalg.norm(items.vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_mapping_real_model_off_list_detector_agrees_with_the_mapper_on_clear_themes(minilm):
    themes, assignments, embeddings = build_themes(minilm, THEME_SENTENCES)
    labels = np.array([a.theme_id for a in assignments])
    detector = OffListDetector().fit(embeddings, BARRIER_CATEGORIES, minilm)
    off = detector.off_list(embeddings, labels, candidates=range(len(themes)))
    assert {themes[t].label for t in off} == {"politics", "timescale"}
    assert detector.off_list(embeddings, labels, candidates=[0, 99]) == set()  # capacity; an absent label


def test_mapping_off_list_detector_elevation_knob(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    labels = np.array([a.theme_id for a in assignments])
    strict = OffListDetector(min_elevation=50.0).fit(embeddings, SMALL_CATEGORIES, fake)
    lenient = OffListDetector(min_elevation=-50.0).fit(embeddings, SMALL_CATEGORIES, fake)
    assert strict.off_list(embeddings, labels, [0, 1]) == {0, 1}
    # with the elevation out of the way only the off-topic floor decides: on-topic themes are above it
    assert lenient.off_list(embeddings, labels, [0, 1]) == set()


@pytest.mark.parametrize("label, residual", [("Other", True), ("Other (please specify)", True), ("Can\u2019t tell", True),
                                             ("None of the above.", True), ("Other organisations", False),
                                             ("Road repairs", False)])
def test_mapping_catch_all_option_is_recognised_from_its_label(label, residual):
    from pipeline.categories import is_residual

    assert is_residual(Category("x", label)) is residual
    assert is_residual(Category("x", label, residual=not residual)) is (not residual)  # categories.yaml decides


def test_mapping_catch_all_option_is_never_scored_and_holds_the_emergent_themes(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    with_other = SMALL_CATEGORIES + [Category("other", "Other")]
    strict = CategoryMapper(min_elevation=10.0).fit(themes, assignments, embeddings, with_other, fake)
    assert all(t.emergent and t.category_id == "other" for t in strict.themes_)
    assert {s.category_id for s in strict.scores_} == {"roads", "bins", "parks"}
    assert {c.category_id for c in strict.unsupported_categories_} == {"roads", "bins", "parks"}
    plain = CategoryMapper().fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    again = CategoryMapper().fit(themes, assignments, embeddings, with_other, fake)
    assert [(t.category_id, t.emergent) for t in again.themes_] == [
        ("other" if t.emergent else t.category_id, t.emergent) for t in plain.themes_]


def test_mapping_emergent_theme_claims_no_confidence(fake):
    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapper = CategoryMapper(emergent_threshold=1.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert all(theme.emergent and theme.confidence is None for theme in mapper.themes_)
    assert set(mapper.support_) == {theme.theme_id for theme in mapper.themes_}  # the support is still measured


def test_mapping_keeps_a_seeded_themes_measured_confidence(fake):
    import dataclasses

    themes, assignments, embeddings = build_themes(fake, SMALL_THEMES)
    mapped = CategoryMapper(emergent_threshold=-1.0).fit(themes, assignments, embeddings, SMALL_CATEGORIES, fake)
    seeded = [dataclasses.replace(t, category_id=m.category_id, confidence=0.37)
              for t, m in zip(themes, mapped.themes_)]
    mapper = CategoryMapper().fit(seeded, assignments, embeddings, SMALL_CATEGORIES, fake)
    assert [t.confidence for t in mapper.themes_] == [0.37] * len(seeded)
