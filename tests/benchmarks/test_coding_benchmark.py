"""benchmarks/coding.py's pieces that need no data: the cross-validated ceiling and the reliability table."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.coding import ceiling, reliability


@pytest.mark.parametrize("seed", [0, 1])
def test_coding_ceiling_is_out_of_fold_and_learns_separable_gold(seed):
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 8) * 4
    X = np.vstack([c + rng.normal(size=(30, 8)) for c in centres])
    gold = [(name,) for name in ("a", "b", "c") for _ in range(30)]
    predicted = ceiling(X, gold, seed)
    assert len(predicted) == len(gold)
    assert np.mean([p == g[0] for p, g in zip(predicted, gold)]) > 0.9
    shuffled = [gold[i] for i in rng.permutation(len(gold))]  # gold unrelated to X: out-of-fold cannot learn it
    assert np.mean([p == g[0] for p, g in zip(ceiling(X, shuffled, seed), shuffled)]) < 0.6


@pytest.mark.parametrize("p", [0.25, 0.75])
def test_coding_reliability_gap_is_confidence_minus_accuracy(p):
    probability = np.full(100, p)
    correct = np.zeros(100)
    correct[:50] = 1
    table = reliability(probability, correct)
    assert table["ece"] == pytest.approx(abs(p - 0.5))
    assert table["bins"][0]["n"] == 100
