"""Tests for pipeline/clean.py. All text here is invented for the tests."""
from __future__ import annotations

import re

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.clean import (
    Cleaner, CleanResult, compile_boilerplate, expand_acronyms, is_non_answer, normalize,
    split_segments,
)
from pipeline.clean.dedupe import find_near_duplicates
from pipeline.core.config import DEFAULT_ACRONYMS, DEFAULT_NON_ANSWERS, CleanConfig
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.records import DROPPED, KEPT, Answer


@pytest.fixture(scope="module")
def nlp():
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    return pipeline


@pytest.fixture(scope="module")
def cleaner():
    return Cleaner(CleanConfig())


def make_answers(texts, file="survey.csv"):
    return [Answer(answer_id=f"{file}:{i}", file=file, row=i, respondent_id=f"R{i:03d}", text=text)
            for i, text in enumerate(texts, start=1)]


def by_id(result: CleanResult):
    return {entry.answer_id: entry for entry in result.ledger}


# ---------------------------------------------------------------- normalisation rules

@pytest.mark.parametrize("raw, expected", [
    ("\uff2e\uff28\uff33 funding", "NHS funding"),  # full-width letters (NFKC)
    ("\ufb01nance work\ufb02ows", "finance workflows"),  # ligatures (NFKC)
    ("caf\u0065\u0301 culture", "caf\u00e9 culture"),  # combining accent composed
    ("\u201cjoined up\u201d care", '"joined up" care'),
    ("the council\u2019s plan, \u2018soon\u2019", "the council's plan, 'soon'"),
    ("\u00abtrop vite\u00bb", '"trop vite"'),
    ("<p>Too <b>little</b> time</p>", "Too little time"),
    ("one<br>two<br/>three", "one two three"),
    ("<div class='x'>funding</div>", "funding"),
    ("a <!-- hidden note --> b", "a b"),
    ("cost &gt; benefit &amp; risk", "cost > benefit & risk"),
    ("it&#39;s late&nbsp;again", "it's late again"),
    ("&amp;lt;b&amp;gt;bold", "bold"),  # double-escaped markup unescapes to a tag, which then goes
    ("x < y and z > w", "x < y and z > w"),  # comparison signs are not tags
    ("  lots   of\t\tspace \n\n here  ", "lots of space here"),
    ("zero\u200bwidth\u00adsoft\ufeff", "zerowidthsoft"),
    ("- first point\n- second point", "first point second point"),
    ("\u2022 dotted\n\u25aa square\n* star", "dotted square star"),
    ("1. one\n2) two\n(3) three", "one two three"),
    ("a) first\nb. second", "first second"),
    ("1. 2. numbered twice", "numbered twice"),
    ("1.5 million short", "1.5 million short"),  # a decimal is not a numbered point
    ("e.g. this stays", "e.g. this stays"),
    ("cut by -5% a year", "cut by -5% a year"),
])
def test_clean_normalize_rules(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["\uff1cb\uff1ex", "&amp;amp;lt;p&amp;amp;gt;", "-\n- -\n1. - x"])
def test_clean_normalize_is_idempotent_on_tricky_input(raw):
    once = normalize(raw)
    assert normalize(once) == once


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
       | st.lists(st.sampled_from(["<b>", "</p>", "&amp;", "&lt;", "&gt;", "li", "- ", "1. ", "\n", " ", "\u201c",
                                   "\uff1c", "x", "&#", "38;", "NHSE", "\u00a0", "\u200b", "\ufb01"]),
                  max_size=25).map("".join))
@settings(max_examples=300, deadline=None)
def test_clean_normalize_twice_equals_once(raw):
    once = normalize(raw)
    assert normalize(once) == once


# ---------------------------------------------------------------- acronyms

@pytest.mark.parametrize("raw, expected", [
    ("NHSE wants it", "NHS England wants it"),
    ("CCGs and the CCG", "clinical commissioning groups and the clinical commissioning group"),
    ("LAs, then LA", "local authorities, then local authority"),
    ("the LA's budget", "the local authority's budget"),
    ("OD/HR support", "organisational development/HR support"),
    ("A&E waits", "accident and emergency waits"),
    ("LAND and ISLAND", "LAND and ISLAND"),  # LA inside a word
    ("GOOD FOOD", "GOOD FOOD"),  # OD inside a word
    ("GPS signal", "GPS signal"),  # GP inside a word
    ("ccg and nhse", "ccg and nhse"),  # case-sensitive: lower case is left alone
    ("STP-level plans", "sustainability and transformation plan-level plans"),
    ("NHSEI", "NHSEI"),  # not in the glossary, and NHSE is only a prefix
])
def test_clean_expand_acronyms_whole_words(raw, expected):
    assert expand_acronyms(raw, DEFAULT_ACRONYMS) == expected


@pytest.mark.parametrize("glossary, raw, expected", [
    ({"ICS": "integrated care system"}, "ICS and CCG", "integrated care system and CCG"),
    ({}, "NHSE", "NHSE"),
    ({"PCN": "primary care network", "PCNs": "primary care networks"}, "PCNs PCN",
     "primary care networks primary care network"),
])
def test_clean_expand_acronyms_uses_the_given_glossary(glossary, raw, expected):
    assert expand_acronyms(raw, glossary) == expected


# ---------------------------------------------------------------- non-answers

@pytest.mark.parametrize("text, expected", [
    ("N/A", True), ("n/a.", True), ("  None  ", True), ("Nothing!", True), ("no", True), ("-", True),
    ("???", True), ("See above.", True), ("Don\u2019t know", True), ("dont know", True), ("NO COMMENT", True),
    ("Not applicable", True), ("<p>n/a</p>", True), ("nil", True),
    ("No funding for social care", False), ("None of the partners trust each other", False),
    ("Nothing gets agreed on time", False), ("NA funding", False),
])
def test_clean_is_non_answer_table(text, expected):
    assert is_non_answer(text, DEFAULT_NON_ANSWERS) is expected


def test_clean_non_answers_are_configurable():
    assert is_non_answer("no further barriers", ["No further barriers!"])
    assert not is_non_answer("n/a", ["nothing"])


@pytest.mark.parametrize("texts, reason", [
    (["n/a"], "non-answer"), (["see above"], "non-answer"), (["ok"], "non-answer"),  # shorter than min_chars
    (["   "], "empty"), ([""], "empty"), (["<p>&nbsp;</p>"], "empty"), (["Sent from my iPhone"], "empty"),
    (["- \n- "], "non-answer"), (["-"], "non-answer"), (["- n/a"], "non-answer"), (["Kind regards"], "empty"),
])
def test_clean_drops_empty_and_non_answers_with_reason(cleaner, texts, reason):
    result = cleaner.transform(make_answers(texts))
    assert [(e.status, e.reason) for e in result.ledger] == [(DROPPED, reason)]
    assert result.segments == []


# ---------------------------------------------------------------- duplicates

def test_clean_exact_duplicates_recorded_against_the_kept_answer(cleaner):
    texts = ["Footprints were imposed by the centre without asking us.",
             "Nobody has the time to plan properly.",
             "  footprints were imposed by the centre, without asking us  ",
             "<p>Footprints were imposed by the centre without asking us!</p>"]
    ledger = by_id(cleaner.transform(make_answers(texts)))
    assert ledger["survey.csv:1"].status == KEPT
    for copy in ("survey.csv:3", "survey.csv:4"):
        assert (ledger[copy].status, ledger[copy].reason, ledger[copy].detail) == (DROPPED, "duplicate", "survey.csv:1")
    assert ledger["survey.csv:2"].status == KEPT


def test_clean_near_duplicates_recorded_against_the_kept_answer_with_score(cleaner):
    texts = [("Our local politicians are ambivalent about the whole plan, will not back the hard choices it needs, "
              "and change their minds whenever a hospital ward is mentioned in the papers."),
             ("Our local politicans are ambivalent about the whole plan, will not back the hard choices it needs, "
              "and change their minds whenever a hospital ward is mentioned in the paper."),
             "Money for social care keeps shrinking while demand rises every single year."]
    ledger = by_id(cleaner.transform(make_answers(texts)))
    near = ledger["survey.csv:2"]
    assert (near.status, near.reason) == (DROPPED, "near-duplicate")
    kept_id, score = near.detail.split("; jaccard=")
    assert kept_id == "survey.csv:1" and 0.9 <= float(score) < 1.0
    assert ledger["survey.csv:1"].status == KEPT and ledger["survey.csv:3"].status == KEPT


def test_clean_near_duplicate_threshold_is_configurable():
    texts = ["The deadline for the plan is far too soon for proper engagement.",
             "The deadline for the plan is much too soon for real engagement."]
    strict = by_id(Cleaner(CleanConfig(near_duplicate_threshold=0.95)).transform(make_answers(texts)))
    loose = by_id(Cleaner(CleanConfig(near_duplicate_threshold=0.5)).transform(make_answers(texts)))
    assert strict["survey.csv:2"].status == KEPT
    assert loose["survey.csv:2"].reason == "near-duplicate"


def test_clean_copies_of_a_near_duplicate_point_at_the_kept_answer(cleaner):
    original = "Trust between the partners is low and the data nobody believes in makes it worse."
    variant = "Trust between the partners is low, and the data nobody believes in makes it worse still."
    ledger = by_id(cleaner.transform(make_answers([original, variant, variant])))
    assert ledger["survey.csv:2"].reason == "near-duplicate"
    assert ledger["survey.csv:3"].reason == "near-duplicate"
    assert ledger["survey.csv:3"].detail.startswith("survey.csv:1;")


def _brute_force_near_duplicates(texts, threshold):
    shingles = [{text[k:k + 5] for k in range(len(text) - 4)} for text in texts]
    kept, out = [], []
    for j in range(len(texts)):
        scores = [(len(shingles[i] & shingles[j]) / len(shingles[i] | shingles[j]), -i)
                  for i in kept] if shingles[j] else []
        best = max((s for s in scores if s[0] >= threshold), default=None)
        out.append(None if best is None else -best[1])
        if best is None:
            kept.append(j)
    return out


@given(st.lists(st.lists(st.sampled_from(["staff", "time", "funding", "plan", "trust", "the", "council", "x"]),
                         min_size=1, max_size=9).map(" ".join), min_size=2, max_size=40),
       st.sampled_from([0.6, 0.8, 0.9]))
@settings(max_examples=100, deadline=None)
def test_clean_find_near_duplicates_matches_brute_force(texts, threshold):
    found = [None if m is None else m[0] for m in find_near_duplicates(texts, threshold)]
    # MinHash banding may miss a pair at the threshold with probability < 1e-3; these sets are tiny.
    assert found == _brute_force_near_duplicates(texts, threshold)


# ---------------------------------------------------------------- language

WELSH = ("Nid oes gan y bwrdd iechyd lleol ddigon o staff i gynllunio gwasanaethau newydd, "
         "ac mae'r amserlen yn llawer rhy fyr i siarad gyda'r cyhoedd.")
FRENCH = ("Les directeurs n'ont pas assez de temps pour participer aux r\u00e9unions de planification, "
          "et les budgets des collectivit\u00e9s locales diminuent chaque ann\u00e9e.")


@pytest.mark.parametrize("text, language", [(WELSH, "cy"), (FRENCH, "fr")])
def test_clean_sets_aside_other_languages_with_the_code(cleaner, text, language):
    result = cleaner.transform(make_answers([text]))
    assert [(e.status, e.reason, e.detail) for e in result.ledger] == [(DROPPED, "non-english", language)]


@pytest.mark.parametrize("text", [
    "OD support from NHSE: nil",
    "LA and CCG footprints clash",
    "STP too fast; CCGs & LAs not aligned",
    "NHSE/NHSI regs, CQC, PbR, QIPP targets!",
    "Footprint set by NHSE not by the CCGs or LAs, so no one owns it",
])
def test_clean_keeps_short_english_with_acronyms(cleaner, text):
    assert cleaner.transform(make_answers([text])).ledger[0].status == KEPT


def test_clean_language_check_can_be_switched_off():
    result = Cleaner(CleanConfig(language="")).transform(make_answers([WELSH]))
    assert result.ledger[0].status == KEPT


# ---------------------------------------------------------------- segmentation

def spans_text(text, spans):
    return [text[s:e] for s, e in spans]


@pytest.mark.parametrize("text, expected", [
    ("- Not enough staff time\n- Footprints that make no sense\n-   Politics",
     ["Not enough staff time", "Footprints that make no sense", "Politics"]),
    ("\u2022 Funding\n\u2022 Trust between partners", ["Funding", "Trust between partners"]),
    ("1. Money is short\n2) Time is shorter\n(3) Goodwill is shortest",
     ["Money is short", "Time is shorter", "Goodwill is shortest"]),
    ("Main barriers:\n* capacity\n* the council", ["capacity", "the council"]),  # short lead-in left out
    ("1) funding gaps 2) staff churn 3) no shared data", ["funding gaps", "staff churn", "no shared data"]),
    ("Three things: 1. money 2. people", ["money", "people"]),
    ("The three things that matter most here: 1. money 2. people", ["money", "people"]),
    ("Everything comes back to two things that nobody in the system will talk about openly, namely: 1. money 2. time",
     ["Everything comes back to two things that nobody in the system will talk about openly, namely:", "money",
      "time"]),
    ("\u2022 one thing \u2022 another thing", ["one thing", "another thing"]),
    ("<ul><li>Boundaries clash</li><li>Deadlines</li></ul>", ["Boundaries clash", "Deadlines"]),
    ("- wrapped bullet that\n  carries on here\n- next", ["wrapped bullet that\n  carries on here", "next"]),
    ("Funding\nStaff capacity\nPolitics", ["Funding", "Staff capacity", "Politics"]),
    ("funding\nfootprints\nthe acute trust's self interest",
     ["funding", "footprints", "the acute trust's self interest"]),
    ("The footprint we were given is far too\nbig for anyone to manage.",
     ["The footprint we were given is far too\nbig for anyone to manage."]),
    ("Capacity is stretched thin.\n\nSent from my iPhone", ["Capacity is stretched thin."]),
    ("Kind regards\n- Councillors will not commit to closures.", ["Councillors will not commit to closures."]),
])
def test_clean_split_segments_points(nlp, text, expected):
    spans = split_segments(text, nlp, boilerplate=compile_boilerplate([]))
    assert spans_text(text, spans) == expected


@pytest.mark.parametrize("max_sentences, expected", [
    (1, ["The timescale is unrealistic for us.", "There is no room left for engagement.",
         "Regulators still judge each trust alone.", "Nobody owns the system view."]),
    (2, ["The timescale is unrealistic for us. There is no room left for engagement.",
         "Regulators still judge each trust alone. Nobody owns the system view."]),
    (4, [("The timescale is unrealistic for us. There is no room left for engagement. "
          "Regulators still judge each trust alone. Nobody owns the system view.")]),
])
def test_clean_split_segments_groups_sentences(nlp, max_sentences, expected):
    text = ("The timescale is unrealistic for us. There is no room left for engagement. "
            "Regulators still judge each trust alone. Nobody owns the system view.")
    assert spans_text(text, split_segments(text, nlp, max_sentences=max_sentences)) == expected


@pytest.mark.parametrize("text, expected", [
    ("Money. The budget has not grown in line with demand at all.",
     ["Money. The budget has not grown in line with demand at all."]),
    ("The budget has not grown in line with demand at all. Sadly.",
     ["The budget has not grown in line with demand at all. Sadly."]),
])
def test_clean_split_segments_joins_short_sentences(nlp, text, expected):
    assert spans_text(text, split_segments(text, nlp, min_chars=25, max_sentences=1)) == expected


def test_clean_segments_carry_provenance_and_offsets(cleaner):
    text = "Barriers:\n  - Lack of OD support from NHSE\n  - LA finances are <b>shrinking</b> fast\n\nThanks"
    answer = Answer(answer_id="wave2.csv:7", file="wave2.csv", row=7, respondent_id="R-77", text=text)
    result = cleaner.transform([answer])
    assert [s.segment_id for s in result.segments] == ["wave2.csv:7#0", "wave2.csv:7#1"]
    first, second = result.segments
    assert (first.respondent_id, first.file, first.row, first.index) == ("R-77", "wave2.csv", 7, 0)
    assert first.text == text[first.start:first.end] == "Lack of OD support from NHSE"
    assert first.clean_text == "Lack of organisational development support from NHS England"
    assert second.text == text[second.start:second.end] == "LA finances are <b>shrinking</b> fast"
    assert second.clean_text == "local authority finances are shrinking fast"
    assert result.ledger[0].n_segments == 2


def test_clean_custom_boilerplate_lines_are_excluded():
    config = CleanConfig(boilerplate=[r"response id: \d+"])
    text = "Response ID: 4411\nThe plan ignores the council's own priorities."
    result = Cleaner(config).transform(make_answers([text]))
    assert [s.text for s in result.segments] == ["The plan ignores the council's own priorities."]


# ---------------------------------------------------------------- stage contract and bad input

def test_clean_init_only_stores_config():
    config = CleanConfig()
    cleaner = Cleaner(config)
    assert cleaner.config is config and not hasattr(cleaner, "nlp_")


def test_clean_output_is_deterministic_and_in_input_order(cleaner):
    texts = ["Zebra crossings aside, the roads budget is gone.", "n/a", "Apples: the plan wants more of them.",
             "Zebra crossings aside, the roads budget is gone."]
    first, second = cleaner.transform(make_answers(texts)), cleaner.transform(make_answers(texts))
    assert first == second
    assert [e.answer_id for e in first.ledger] == [f"survey.csv:{i}" for i in range(1, 5)]
    assert [s.answer_id for s in first.segments] == ["survey.csv:1", "survey.csv:3"]


@pytest.mark.parametrize("options, message", [
    ({"near_duplicate_threshold": 0.0}, "clean.near_duplicate_threshold must be a number greater than 0 and at most 1"),
    ({"max_sentences_per_segment": 0}, "clean.max_sentences_per_segment must be an integer of at least 1"),
    ({"boilerplate": ["(unclosed"]}, "clean.boilerplate[0] must be a valid regular expression"),
    ({"acronyms": {"": "nothing"}}, "clean.acronyms must map non-empty acronyms"),
    ({"language_confidence": 1.5}, "clean.language_confidence must be a number greater than 0 and at most 1"),
])
def test_clean_rejects_bad_config(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):  # when the config is built, before any cleaning
        CleanConfig(**options)
    bypassed = CleanConfig.model_construct(**{**CleanConfig().model_dump(), **options})  # skips validation
    with pytest.raises(ConfigError, match=re.escape(message)):  # the Cleaner checks the model's rules again
        Cleaner(bypassed).transform(make_answers(["Enough words to keep this one."]))


def test_clean_rechecks_a_config_changed_in_place():
    config = CleanConfig()
    config.boilerplate.append("(unclosed")  # a list changed in place is not seen by assignment validation
    with pytest.raises(ConfigError, match=re.escape("clean.boilerplate[0] must be a valid regular expression")):
        Cleaner(config).transform(make_answers(["Enough words to keep this one."]))


def test_clean_rejects_repeated_answer_ids(cleaner):
    answers = make_answers(["first answer here", "second answer here"])
    with pytest.raises(PipelineError, match=r"survey\.csv:1: answer id 'survey\.csv:1' occurs twice"):
        cleaner.transform([answers[0], answers[0]])


def test_clean_rejects_non_text(cleaner):
    bad = Answer(answer_id="s.csv:3", file="s.csv", row=3, respondent_id="R3", text=None)  # type: ignore[arg-type]
    with pytest.raises(PipelineError, match=r"s\.csv:3: answer text is NoneType"):
        cleaner.transform([bad])


def test_clean_missing_spacy_model_falls_back_with_a_warning():
    config = CleanConfig(spacy_model="xx_not_installed_model", max_sentences_per_segment=1)
    text = "The plan is rushed beyond reason. Nobody has read it properly yet, and the council is not on board."
    result = Cleaner(config).transform(make_answers([text]))
    assert len(result.segments) == 2
    assert len(result.warnings) == 1 and "xx_not_installed_model" in result.warnings[0]


def test_clean_handles_no_answers(cleaner):
    assert cleaner.transform([]) == CleanResult(segments=[], ledger=[])


# ---------------------------------------------------------------- properties over whole answers

_PIECES = st.sampled_from([
    "Funding is short.", "Staff are exhausted", "NHSE", "LA", "n/a", "- ", "\u2022 ", "1. ", "2) ", "\n", "\n\n",
    "  ", "<p>", "</p>", "<li>", "&amp;", "&nbsp;", "\u201cquoted\u201d", "Sent from my iPhone", "Thanks",
    "The footprint does not match our boundaries.", "e.g. ", "Politics!", "\u200b", ":", "?",
])
_ANSWER_TEXT = st.lists(_PIECES, max_size=12).map("".join) | st.text(max_size=60)


@given(st.lists(_ANSWER_TEXT, max_size=12))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_clean_every_answer_is_accounted_for_and_offsets_hold(cleaner, texts):
    answers = make_answers(texts)
    result = cleaner.transform(answers)
    assert [e.answer_id for e in result.ledger] == [a.answer_id for a in answers]
    kept = {e.answer_id for e in result.ledger if e.status == KEPT}
    dropped = {e.answer_id for e in result.ledger if e.status == DROPPED}
    assert len(kept) + len(dropped) == len(answers) and all(e.reason for e in result.ledger if e.status == DROPPED)
    text_of = {a.answer_id: a.text for a in answers}
    for entry in result.ledger:
        mine = [s for s in result.segments if s.answer_id == entry.answer_id]
        assert entry.n_segments == len(mine) and (entry.status == KEPT) == bool(mine)
        assert [s.index for s in mine] == list(range(len(mine)))
    position = {a.answer_id: i for i, a in enumerate(answers)}
    for entry in result.ledger:
        if entry.reason in ("duplicate", "near-duplicate"):
            original = entry.detail.split("; jaccard=")[0]
            assert original in kept and position[original] < position[entry.answer_id]
    previous_end = {}
    for segment in result.segments:
        assert segment.text == text_of[segment.answer_id][segment.start:segment.end]
        assert segment.text and segment.text == segment.text.strip() and segment.clean_text
        assert segment.start >= previous_end.get(segment.answer_id, 0)
        previous_end[segment.answer_id] = segment.end
