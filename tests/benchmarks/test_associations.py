"""The planted rating associations of the sample corpus (docs/corpus.md), found by the product's own association
code with the tags as themes: the claim docs/benchmarks.md makes, checked on every test run (no model)."""
from __future__ import annotations

import pytest

from benchmarks.associations import (
    CORPUS_DOC, found_categories, kept_text, planted, primary_table, read_tags, tag_run,
)

TEXT = CORPUS_DOC.read_text(encoding="utf-8")


def test_associations_benchmark_reads_the_tag_table_of_docs_corpus():
    tags = read_tags(TEXT)
    assert len(tags) == 12
    assert all(len(tag["respondents"]) == tag["n"] for tag in tags)  # the table's own counts
    by_name = {tag["tag"].split(" (")[0]: tag for tag in tags}
    assert by_name["funding"]["categories"] == ["social_care_funding", "nhs_funding"]
    assert by_name["politics"]["categories"] == [] and "R040" in by_name["politics"]["respondents"]
    categories, exception = planted(TEXT)
    assert len(categories) == 9 and exception == "social_care_funding"


@pytest.fixture(scope="module")
def sample():
    return kept_text(CORPUS_DOC.parents[1] / "corpus")


@pytest.mark.parametrize("test", ["major-vs-rest", "trend"])
def test_associations_tags_as_themes_find_the_planted_signal(sample, test):
    categories, exception = planted(TEXT)
    expected = [c for c in categories if c != exception]
    cells, labels, n_respondents = tag_run(sample, read_tags(TEXT), test)
    rows = primary_table(cells, labels, 0.05)
    assert len(rows) == 9  # one primary hypothesis per mapped category
    assert len(found_categories(rows, expected)) >= 7
    assert n_respondents == 212  # respondents with kept text (docs/corpus.md: 212 kept answers)
