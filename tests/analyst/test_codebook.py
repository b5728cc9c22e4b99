"""Label quality (NPMI coherence, distinctiveness, cohesion) and the codebook export, on hand-built themes."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from pipeline.analyst.codebook import CODEBOOK_COLUMNS, build_codebook, codebook_markdown, write_codebook
from pipeline.analyst.label_quality import (
    content_words, label_quality, lemma_tokens, npmi_coherence, random_coherence,
)
from pipeline.core.records import UNASSIGNED, Assignment, Category, Segment, Theme

DIM = 7


def axis(*pairs: tuple[int, float]) -> np.ndarray:
    v = np.zeros(DIM)
    for k, x in pairs:
        v[k] += x
    return v / np.linalg.norm(v)


# (theme, text, embedding). Theme 1 sits on axis 0, theme 2 on axis 1, theme 3 just beside theme 2, theme 4
# spread over axes 3-5; theme 5 is noise. Two members of theme 1 lean towards themes 2 and 4 (the borderline ones).
ROWS = [
    (1, "Staff have no time left to plan together.", axis((0, 1), (6, 0.01))),
    (1, "Our staff lack the time and the skills.", axis((0, 1), (6, 0.05))),
    (1, "Too few staff with time for planning work.", axis((0, 1), (6, 0.1))),
    (1, "Staff time goes on keeping services running.", axis((0, 1), (6, 0.2))),
    (1, "Staff posts are frozen because money is short.", axis((0, 1), (1, 0.6))),
    (1, "Staff in the borough have other worries.", axis((0, 1), (3, 0.4))),
    (2, "Council budgets keep shrinking each year.", axis((1, 1))),
    (2, "Budgets for social care are cut again.", axis((1, 1), (6, 0.05))),
    (2, "The councils have little money to spare.", axis((1, 1), (6, -0.05))),
    (3, "Funding pressure sits on every council.", axis((1, 1), (2, 0.1))),
    (3, "Funding gaps widen between partners.", axis((1, 1), (2, 0.1), (6, 0.02))),
    (4, "The weather stopped the workshop.", axis((3, 1))),
    (4, "Parking at the venue was hard.", axis((4, 1))),
    (4, "Meetings ran late into the evening.", axis((5, 1))),
    (5, "Thanks for running this survey.", axis((6, 1))),
    (UNASSIGNED, "Not sure what else to say here.", axis((6, 1), (2, 1))),
]

THEMES = [
    Theme(1, "staff time", ("staff", "time"), 6, 0.9, category_id="capacity", confidence=0.8),
    Theme(2, "council budgets", ("budgets", "councils"), 3, 0.8, emergent=True, definition="Money councils lack."),
    Theme(3, "funding pressure", ("funding", "pressure", "gaps"), 2, 0.7),
    Theme(4, "weather parking", ("weather", "parking"), 3, 0.3, unstable=True),
    Theme(5, "thanks survey", ("thanks", "survey"), 1, 0.5, noise=True),
]
CATEGORIES = [Category("capacity", "Lack of organisational or staff capacity")]


def segment(k: int, text: str) -> Segment:
    return Segment(f"s.csv:{k}#0", f"s.csv:{k}", f"r{k}", "s.csv", k, 0, 0, len(text), text, text)


@pytest.fixture
def corpus():
    segments = [segment(k, text) for k, (_, text, _) in enumerate(ROWS, 1)]
    assignments = [Assignment(s.segment_id, theme, 1.0) for s, (theme, _, _) in zip(segments, ROWS)]
    embeddings = np.array([e for _, _, e in ROWS], dtype=np.float32)
    return segments, assignments, embeddings


@pytest.mark.parametrize("text, lemmas", [
    ("Councils' BUDGETS were cut", ["council", "budget", "be", "cut"]),
    ("Staff are running 2 services", ["staff", "be", "run", "service"]),
])
def test_codebook_lemma_tokens_lowercase_lookup_lemmas(text, lemmas):
    assert lemma_tokens([text]) == [lemmas]


@pytest.mark.parametrize("docs, expected", [
    ([{"a", "b"}, {"a", "b"}, {"c"}, {"c"}], math.log(0.5 / 0.25) / -math.log(0.5)),  # always together: 1
    ([{"a"}, {"b"}, {"c"}, {"c"}], -1.0),  # never together
    ([{"a", "b"}, {"a"}, {"b"}, {"c"}], math.log(0.25 / (0.5 * 0.5)) / -math.log(0.25)),  # as by chance: 0
    ([{"a", "b"}, {"a"}, {"c"}, {"c"}, {"c"}, {"c"}],
     math.log((1 / 6) / ((2 / 6) * (1 / 6))) / -math.log(1 / 6)),
])
def test_codebook_npmi_matches_hand_computation(docs, expected):
    assert npmi_coherence(["a", "b"], docs) == pytest.approx(expected)


def test_codebook_npmi_multiword_keyword_needs_all_its_words():
    docs = [{"social", "care", "fund"}, {"social", "fund"}, {"care"}, {"other"}]
    # "social care" occurs only in doc 0, together with "fund": p=1/4, p_fund=2/4
    expected = math.log(0.25 / (0.25 * 0.5)) / -math.log(0.25)
    assert npmi_coherence(["social care", "fund"], docs) == pytest.approx(expected)


def test_codebook_label_quality_scores_and_flags_weak_themes(corpus):
    segments, assignments, embeddings = corpus
    quality = label_quality(THEMES, assignments, segments, embeddings, min_coherence=0.0, min_cohesion=0.6)
    assert sorted(quality) == [1, 2, 3, 4]  # noise theme left out
    n = len(ROWS)
    # "staff" is in 6 segments, "time" in 4, always with "staff"
    assert quality[1]["coherence"] == pytest.approx(math.log((4 / n) / ((6 / n) * (4 / n))) / -math.log(4 / n))
    assert quality[1]["weak"] is False and quality[1]["weak_reason"] == ""
    # lemmas join "budgets"/"budget" and "councils"/"council": together once; budget twice, council three times
    assert quality[2]["coherence"] == pytest.approx(math.log((1 / n) / ((2 / n) * (3 / n))) / -math.log(1 / n))
    # themes 2 and 3 are nearly the same direction
    assert quality[2]["distinctiveness"] < 0.05 and quality[3]["distinctiveness"] < 0.05
    assert "distinctiveness" in quality[2]["weak_reason"] and quality[3]["weak"]
    # three orthogonal members: each at 1/sqrt(3) from the centroid; keywords never together
    assert quality[4]["cohesion"] == pytest.approx(1 / math.sqrt(3))
    assert quality[4]["coherence"] == pytest.approx(-1.0)
    assert quality[4]["weak_reason"] == "coherence -1.00 not above 0.00; cohesion 0.58 < 0.60"


@pytest.mark.parametrize("keywords, words", [
    (("social care", "the budgets", "care"), ["social", "care", "budget"]),
    (("staff", "staff time", "of", "a b"), ["staff", "time"]),
])
def test_codebook_content_words_split_phrases_and_drop_stop_words(keywords, words):
    assert content_words(keywords) == words


def test_codebook_coherence_floor_is_calibrated_on_the_corpus(corpus):
    segments, assignments, embeddings = corpus
    rng = np.random.default_rng(5)
    filler = [f"filler{chr(97 + k)}" for k in range(20)]
    # 16 documents, one per segment: theme 1's words always together, theme 4's never, random filler everywhere
    tokens = [set(rng.choice(filler, 3, replace=False)) for _ in ROWS]
    for k in range(0, 6):
        tokens[k] |= {"staff", "time"}
    tokens[11].add("weather")
    tokens[12].add("parking")
    floor = random_coherence(tokens, 2, random_state=0)
    assert -1.0 < floor < 1.0 and floor == random_coherence(tokens, 2, random_state=0)
    quality = label_quality(THEMES, assignments, segments, embeddings, tokenized_docs=tokens, random_state=0)
    assert quality[1]["coherence"] == pytest.approx(1.0) and quality[1]["coherence_floor"] == pytest.approx(floor)
    assert "coherence" not in quality[1]["weak_reason"]
    assert quality[4]["weak_reason"].startswith(f"coherence -1.00 not above {floor:.2f}")


def test_codebook_label_quality_uses_given_tokens(corpus):
    segments, assignments, embeddings = corpus
    tokens = [["staff", "time"] if theme == 4 else ["other"] for theme, _, _ in ROWS]
    quality = label_quality(THEMES, assignments, segments, embeddings, tokenized_docs=tokens)
    assert quality[4]["coherence"] == pytest.approx(-1.0)  # "weather"/"parking" are in none of the given docs
    assert quality[1]["coherence"] == pytest.approx(1.0)  # "staff"/"time" now always together (theme 4's docs)


def test_codebook_rows_have_typical_and_borderline_examples(corpus):
    segments, assignments, embeddings = corpus
    quality = label_quality(THEMES, assignments, segments, embeddings)
    rows = build_codebook(THEMES, assignments, segments, embeddings, CATEGORIES, quality)
    assert [(r["theme_id"], r["status"]) for r in rows] == [(1, "code"), (2, "code"), (3, "code"), (4, "code"),
                                                            (5, "noise")]  # the noise theme listed last
    assert rows[-1]["typical_1"] == "" and rows[-1]["category"].startswith("noise")
    staff = rows[0]
    assert set(staff) == set(CODEBOOK_COLUMNS)
    assert staff["category"] == "Lack of organisational or staff capacity" and staff["category_id"] == "capacity"
    assert {staff["typical_1"], staff["typical_2"], staff["typical_3"]} == {text for _, text, _ in ROWS[:3]}
    assert (staff["borderline_1"], staff["borderline_1_vs"]) == (ROWS[4][1], "council budgets")
    assert (staff["borderline_2"], staff["borderline_2_vs"]) == (ROWS[5][1], "weather parking")
    assert rows[1]["category"] == "emergent" and rows[1]["definition"] == "Money councils lack."
    assert rows[2]["typical_2"] and rows[2]["borderline_1"] == ""  # two members: both typical, none left over
    assert staff["coherence"] == round(quality[1]["coherence"], 3)


def test_codebook_markdown_and_files(tmp_path, corpus):
    segments, assignments, embeddings = corpus
    rows = build_codebook(THEMES, assignments, segments, embeddings, CATEGORIES,
                          label_quality(THEMES, assignments, segments, embeddings))
    text = codebook_markdown(rows, title="Barriers codebook")
    assert text.startswith("# Barriers codebook")
    assert "## 2. council budgets" in text and "**Definition.** Money councils lack." in text
    assert "> Staff have no time left to plan together." in text and "_(close to: council budgets)_" in text
    assert "## 5. thanks survey" in text and "**Marked noise** in labels.yaml" in text
    assert "**Weak label:** distinctiveness" in text
    csv_path, md_path = write_codebook(tmp_path, rows)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert [r["label"] for r in read] == [r["label"] for r in rows]
    assert read[0]["borderline_1"] == ROWS[4][1] and read[0]["keywords"] == "staff, time"
    assert md_path.read_text(encoding="utf-8") == codebook_markdown(rows)


def test_codebook_names_merges_and_never_shows_a_flagged_example(corpus):
    segments, assignments, embeddings = corpus
    flags = [("titled-name",) if k == 0 else () for k in range(len(segments))]
    rows = build_codebook(THEMES, assignments, segments, embeddings, CATEGORIES, flags=flags, merges={1: (7, 9)})
    staff = rows[0]
    assert staff["merged_from"] == "7, 9"
    shown = [staff[f"typical_{i}"] for i in (1, 2, 3)] + [staff["borderline_1"], staff["borderline_2"]]
    assert segments[0].text not in shown and all(shown)
    assert "**Merged from** theme(s) 7, 9" in codebook_markdown(rows)


@pytest.mark.parametrize("theme_id, expected", [(1, 0.8), (2, ""), (3, "")])
def test_codebook_category_confidence_only_for_category_themes(corpus, theme_id, expected):
    segments, assignments, embeddings = corpus
    rows = {r["theme_id"]: r for r in build_codebook(THEMES, assignments, segments, embeddings, CATEGORIES)}
    assert rows[theme_id]["category_confidence"] == expected
    text = codebook_markdown(list(rows.values()))
    section = text.split(f"## {theme_id}. ")[1].split("\n## ")[0]
    assert ("confidence 0.80" in section) is (expected != "")
