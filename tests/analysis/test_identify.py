"""The one identifiability check: names without titles, curly apostrophes, titles of nurses and nuns, names in
lower-case labels and keywords, and the optional trained NER. Every text here was written for these tests."""
from __future__ import annotations

import pytest

from pipeline.analysis.identify import Identifier, identifiability_flags, load_ner
from pipeline.analysis.names import NameFinder

CORPUS = [
    "Tracey on reception was lovely, and Sandra sorted the parking.",
    "Sister Bridget O'Connor ran the ward better than anyone.",
    "We still remember the closure at St Aldhelm’s Hospital.",
    "Goverance arrangments are a mess and nobody owns the plan.",
    "Healthwatch and NHS England both told us the timetable was unrealistic.",
    "The board meets in London every month.",
    "Our staff are exhausted and the deadline is too soon.",
]


@pytest.fixture(scope="module")
def identifier():
    return Identifier(terms=["St Aldhelm's Hospital", "Wexley"], public=["Healthwatch", "NHS England", "London"],
                      corpus_texts=CORPUS)


@pytest.mark.parametrize("text, expected", [
    ("Tracey on reception was lovely, and Sandra sorted the parking.", ("untitled-name",)),
    ("Ask for Sandra at the desk.", ("untitled-name",)),
    ("Sister Bridget O'Connor ran the ward better than anyone.", ("titled-name",)),
    ("Bridget O'Connor ran the ward.", ("untitled-name",)),
    ("We still remember the closure at St Aldhelm’s Hospital.", ("untitled-name", "named-organisation")),
    ("We still remember the closure at St Aldhelm's Hospital.", ("untitled-name", "named-organisation")),
    ("Goverance arrangments are a mess and nobody owns the plan.", ()),  # a typo at a sentence start, not a name
    ("Healthwatch and NHS England both told us the timetable was unrealistic.", ()),  # public bodies
    ("The board meets in London every month.", ()),
    ("Our staff are exhausted and the deadline is too soon.", ()),
    ("Nurse Patel said the same.", ("titled-name",)),
    ("Wexley people will not accept it.", ("untitled-name", "named-organisation")),
])
def test_identify_flags_names_without_titles_and_curly_apostrophes(identifier, text, expected):
    assert identifier.flags(text) == expected


@pytest.mark.parametrize("phrase, identifying", [
    ("dr okafor", True),  # a title in a keyword
    ("tracey / sandra", True),  # first names the corpus writes as names
    ("dr xxxx", True), ("xxxx", True),  # a redacted name is still a name's place
    ("o'connor", True), ("st aldhelm's hospital", True), ("wexley", True),
    ("staff capacity", False), ("deadline", False), ("nhs england", False), ("care option", False),
    ("sister organisations", False),  # "sister" is a title only before a name
    ("councillor", False), ("elected councillors", False),
])
def test_identify_names_in_lower_case_labels_and_keywords(identifier, phrase, identifying):
    assert identifier.names_in_phrase(phrase) is identifying


def test_identify_name_words_come_from_the_corpus(identifier):
    assert {"tracey", "sandra", "bridget", "o'connor", "aldhelm"} <= identifier.name_words
    assert not {"staff", "deadline", "healthwatch", "london", "goverance"} & identifier.name_words


def test_identify_a_word_the_corpus_writes_in_lower_case_is_not_a_name():
    finder = NameFinder(["The Hope Trust closed.", "There is no hope of agreement."])
    assert finder.names("The Hope Trust closed.") == []
    assert NameFinder(["The Okafor report closed."]).names("The Okafor report closed.") == ["Okafor"]


def test_identify_without_a_corpus_still_flags_titled_names_and_contacts():
    assert identifiability_flags("Dr Smith (jo@example.org) lives in LS11 5DT.") == (
        "email", "postcode", "titled-name")


def test_identify_ner_is_off_unless_configured_and_missing_pipeline_is_a_warning():
    assert load_ner(None) == (None, [])
    nlp, warnings = load_ner("en_pipeline_that_is_not_installed")
    assert nlp is None and len(warnings) == 1 and "en_pipeline_that_is_not_installed" in warnings[0]


def test_identify_uses_a_trained_ner_when_given():
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")  # stands in for a trained pipeline: the check reads doc.ents
    ruler.add_patterns([{"label": "GPE", "pattern": "Barchester"}])
    identifier = Identifier(corpus_texts=["We moved services out of barchester."], ner=nlp)
    assert "named-entity" in identifier.flags("We moved services out of Barchester.")
    assert "named-entity" not in identifier.flags("We moved services out of town.")
