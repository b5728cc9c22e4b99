"""Scoring of benchmarks/trained.py on small arrays we wrote (no data, no model)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from benchmarks import trained_scoring as sc


@pytest.mark.parametrize("seed", [0, 1])
def test_trained_benchmark_macro_f1_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    truth, pred = rng.integers(0, 4, 200), rng.integers(0, 5, 200)  # code 4 is predicted, never gold
    expected = f1_score(truth, pred, labels=np.unique(truth), average="macro")
    assert sc.macro_f1_from(truth, pred, 5) == pytest.approx(expected)


def test_trained_benchmark_any_rule_credits_a_second_gold_label():
    gold = [frozenset({0, 1}), frozenset({1}), frozenset({2})]
    first = np.array([0, 1, 2])
    pred = np.array([1, 1, 0])
    assert sc.effective_truth(gold, first, pred, "any").tolist() == [1, 1, 2]
    assert sc.scores(gold, first, pred, 3)["acc_any"] == pytest.approx(2 / 3)
    assert sc.scores(gold, first, pred, 3)["acc_first"] == pytest.approx(1 / 3)


def test_trained_benchmark_random_per_code_takes_k_of_each_or_all():
    y = np.array([0] * 10 + [1] * 3 + [2] * 8)
    chosen = sc.random_per_code(y, 5, np.random.default_rng(0))
    assert np.bincount(y[chosen]).tolist() == [5, 3, 5] and len(set(chosen.tolist())) == len(chosen)


def test_trained_benchmark_paired_bootstrap_holds_the_difference():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 300)
    good = np.where(rng.random(300) < 0.8, truth, rng.integers(0, 3, 300))
    bad = rng.integers(0, 3, 300)
    out = sc.paired_bootstrap([frozenset({t}) for t in truth], truth, good, bad, 3, n_resamples=200)
    assert out["low"] <= out["difference"] <= out["high"] and out["low"] > 0
