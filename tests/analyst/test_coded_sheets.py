"""Coded sheets: adjudication rules, code spellings, neutralised cells read back, the coded file merged."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.analyst.accuracy import MIN_RANDOM, accuracy_report
from pipeline.analyst.coded_sheets import CodeBook, adjudicate, merge_store, read_coded_sheet, read_store
from pipeline.analyst.trained import TrainedCoder
from pipeline.core.errors import PipelineError
from pipeline.core.records import Category

BOOK = CodeBook.build([Category("staff", "Lack of staff"), Category("money", "=Funding"), Category("pol", "Politics")],
                      {"Staff theme (theme 3)": "staff", "Some emergent theme": None})
IDS = {"f.csv:1#0", "f.csv:2#0", "f.csv:2#1", "f.csv:3#0"}
ANSWERS = {"f.csv:1": ["f.csv:1#0"], "f.csv:2": ["f.csv:2#0", "f.csv:2#1"], "f.csv:3": ["f.csv:3#0"]}


@pytest.mark.parametrize("rule, expected", [
    ("majority", {"a": "x", "b": "y", "c": "z"}),  # b: tie between y (first sheet) and w
    ("first", {"a": "x", "b": "y", "c": "z"}),
    ("unanimous", {"c": "z"}),
])
def test_coded_sheets_adjudication_rules(rule, expected):
    sheets = [("ann", {"a": "x", "b": "y", "c": "z"}), ("bo", {"a": "x", "b": "w"}), ("cy", {"a": "q", "c": "z"})]
    result = adjudicate(sheets, rule, kinds=["random", "active", "analyst"])
    assert result.codes == expected
    assert result.disagreements == 2 and "adjudicated by rule" in result.warnings[0]
    assert all(result.chosen_by[s] == "random" for s in result.codes)


def test_coded_sheets_majority_beats_the_first_sheet():
    result = adjudicate([("ann", {"a": "x"}), ("bo", {"a": "y"}), ("cy", {"a": "y"})], "majority")
    assert result.codes == {"a": "y"} and result.coders["a"] == ("ann", "bo", "cy")


def test_coded_sheets_unknown_rule_is_an_error():
    with pytest.raises(PipelineError, match="one of majority, first, unanimous"):
        adjudicate([], "vote")


def test_coded_sheets_spellings_answers_and_neutralised_cells(tmp_path):
    sheet = tmp_path / "ann.csv"
    sheet.write_text("answer_id;code;coder\nf.csv:2;'=funding;Ann\nf.csv:1;STAFF theme (theme 3);Ann\n"
                     "f.csv:3;some emergent theme;Ann\n", encoding="utf-8")
    coded = read_coded_sheet(sheet, BOOK, ANSWERS, IDS)
    assert coded == {"Ann": {"f.csv:2#0": "money", "f.csv:2#1": "money", "f.csv:1#0": "staff"}}


def test_coded_sheets_store_merges_newer_codes(tmp_path):
    path = tmp_path / "coded.csv"
    merge_store(path, adjudicate([("ann", {"a": "x", "b": "y"})], kinds=["random"]))
    merge_store(path, adjudicate([("bo", {"b": "z", "c": "x"})], kinds=["active"]))
    rows = {r["segment_id"]: r for r in read_store(path)}
    assert {s: r["code"] for s, r in rows.items()} == {"a": "x", "b": "z", "c": "x"}
    assert rows["a"]["chosen_by"] == "random" and rows["b"]["chosen_by"] == "active" and rows["b"]["coders"] == "bo"


def test_accuracy_headline_uses_the_random_sample_when_there_is_one():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8)
    y = np.repeat(np.arange(3), 40)
    X = centres[y] + 0.4 * rng.normal(size=(len(y), 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    prior = (np.full((len(y), 3), 1 / 3), np.ones(3, dtype=bool), [])
    L = np.arange(0, len(y), 3)
    cats = [Category(f"c{j}", f"code {j}") for j in range(3)]
    coder = TrainedCoder().fit(X, cats, L, [f"c{j}" for j in y[L]], prior=prior)
    few = np.zeros(len(L), dtype=bool)
    few[:MIN_RANDOM - 1] = True
    assert accuracy_report(coder, X, {}, random_rows=few).headline == "calibrated"
    many = np.ones(len(L), dtype=bool)
    report = accuracy_report(coder, X, {}, random_rows=many)
    assert report.headline == "cv_random" and report.machine["cv_random"]["n"] == len(L)



@pytest.mark.parametrize("seed", [5, 6])
def test_accuracy_bootstrap_f1_counts_match_scikit_learn(seed):
    from sklearn.metrics import precision_recall_fscore_support

    from pipeline.analyst.accuracy import f1_counts

    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 4, 30), rng.integers(0, 5, 30)  # code 4 predicted, never given
    theirs = precision_recall_fscore_support(y, p, labels=np.arange(6), zero_division=np.nan)[2]
    assert np.allclose(f1_counts(y, p, 6), theirs, equal_nan=True)
