"""Phrase labels for themes found without the closed list: the members' own words, central and distinctive,
acronyms written out, never a name; the analyst's and the categories' labels are never replaced."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.analysis.identify import Identifier
from pipeline.analysis.naming import candidates, choose_label, label_fit, render
from pipeline.analysis.naming_stage import naming_stage, phrase_index
from pipeline.core.artifacts import Categories, Cleaned, Embedded, Labelled, Mapped
from pipeline.core.config import Config
from pipeline.core.context import RunContext
from pipeline.core.records import Assignment, Category, Segment, Theme

# theme 0: deadlines (emergent); theme 1: politics with a councillor named; theme 2: a category theme
TEXTS = {
    0: ["The deadline set by NHSE is far too soon for us.", "National deadlines leave no time for engagement.",
        "Another deadline from NHSE arrived this week.", "The deadline was set without asking anyone.",
        "We cannot meet the deadline and still consult."],
    1: ["Councillors will not back closures before an election.", "Cllr Hendry blocks every change we propose.",
        "Local councillors fear the next election.", "Councillors in the county oppose the plan.",
        "Our councillors want the hospital kept as it is."],
    2: ["There is no money for social care.", "Social care budgets fall every year.",
        "Money for care homes has run out.", "The council has cut social care again."],
}


def _encoder(texts):
    """A stand-in embedder: a phrase points the way of the theme whose members use its first word most."""
    out = []
    for text in texts:
        word = text.lower().split()[0]
        counts = [sum(word in t.lower() for t in TEXTS[k]) for k in sorted(TEXTS)]
        out.append(np.asarray(counts, dtype=float) + 0.01)
    return np.vstack(out)


class _Embedder:
    name = "stand-in"

    def encode(self, texts):
        return _encoder(list(texts))


@pytest.fixture(scope="module")
def run():
    segments, assignments, vectors = [], [], []
    for theme_id, texts in TEXTS.items():
        for text in texts:
            row = len(segments) + 1
            sid = f"s.csv:{row}#0"
            segments.append(Segment(sid, f"s.csv:{row}", f"R{row}", "s.csv", row, 0, 0, len(text), text, text))
            assignments.append(Assignment(sid, theme_id, 1.0))
            vectors.append(np.eye(3)[theme_id] + 0.05)
    themes = (Theme(0, "deadline / nhse", ("deadline", "nhse"), 5, 0.9, emergent=True),
              Theme(1, "councillor / cllr hendry", ("councillor", "cllr hendry", "election"), 5, 0.9, emergent=True),
              Theme(2, "Insufficient social care funding", ("social care",), 4, 0.9, category_id="care"))
    return segments, assignments, np.vstack(vectors), themes


def _stage(run, themes=None, renamed=frozenset()):
    segments, assignments, embeddings, fitted = run
    themes = themes or fitted
    config = Config()
    ctx = RunContext(config=config)
    categories = Categories((Category("care", "Insufficient social care funding", rating_column="r"),))
    return naming_stage(ctx, Cleaned(tuple(segments), ()), Embedded(embeddings, _Embedder()),
                        Labelled(themes, tuple(assignments), (), renamed=renamed), Mapped(themes), categories)


def test_naming_labels_are_the_members_own_words_never_a_name(run):
    named = {t.theme_id: t for t in _stage(run).themes}
    assert "deadline" in named[0].label.lower()
    assert "councillor" in named[1].label.lower() and "hendry" not in named[1].label.lower()
    assert named[2].label == "Insufficient social care funding"  # a category theme keeps its category's label
    assert "cllr hendry" not in named[1].keywords and "councillor" in named[1].keywords  # names left out


def test_naming_never_replaces_the_analysts_label(run):
    segments, assignments, embeddings, fitted = run
    themes = (dataclasses.replace(fitted[0], label="Timescale (analyst)"),) + fitted[1:]
    named = {t.theme_id: t for t in _stage(run, themes, renamed=frozenset({0})).themes}
    assert named[0].label == "Timescale (analyst)"


def test_naming_reports_fit_and_flags_each_segment(run):
    result = _stage(run)
    fit = result.label_fit[0]
    assert fit["source"] == "phrase" and fit["previous"] == "deadline / nhse"
    assert fit["coverage"] == pytest.approx(1.0) and fit["weak"] is False  # every member says "deadline"
    flagged = [i for i, flags in enumerate(result.segment_flags) if flags]
    assert flagged == [6]  # "Cllr Hendry blocks every change we propose."
    assert 2 not in result.label_fit  # the category theme was not relabelled


def test_naming_acronyms_are_written_out_as_the_glossary_writes_them():
    from pipeline.analysis.naming import Phrase

    phrases = [Phrase("nhse target", "NHSE targets", 0.5, 3.0, 1.0)]
    assert render(phrases, {"NHSE": "NHS England"}) == "NHS England targets"
    two = [Phrase("purdah", "purdah", 0.2, 4.0, 1.0), Phrase("local election", "local elections", 0.2, 4.0, 1.0)]
    assert render(two, {}) == "Purdah and local elections"


def test_naming_candidates_need_several_members_and_no_verb_or_adjective_heads():
    texts = ["Councillors rushed the local plan.", "Councillors rushed again.", "The plan is local."]
    index = phrase_index(texts, Identifier(corpus_texts=texts), [])
    keys = {p.key for p in candidates(index, [0, 1])}
    assert "councillor" in keys
    assert not keys & {"rush", "rushed", "local"}  # a verb form and an adjective head no label


def test_naming_label_fit_is_the_share_of_members_using_the_label():
    docs = [{"deadline"}, {"deadline", "pace"}, {"money"}, {"money"}]
    fit = label_fit({"deadline"}, [0, 1, 2], docs)
    assert fit["coverage"] == pytest.approx(2 / 3, abs=1e-3) and fit["lift"] == pytest.approx((2 / 3) / (2 / 4), abs=1e-2)
    assert fit["weak"] is True and "commoner" in fit["reason"]  # x1.3: barely commoner than elsewhere


def test_naming_picks_the_most_central_of_the_shortlist():
    texts = TEXTS[0] + TEXTS[1]
    index = phrase_index(texts, Identifier(corpus_texts=texts), [])
    members = list(range(5))
    chosen = choose_label(candidates(index, members), members, index, np.array([1.0, 0.0, 0.0]), _encoder)
    assert chosen[0].key == "deadline"
