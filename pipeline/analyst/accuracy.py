"""Accuracy a researcher can quote, from the analyst's own codes only (``TrainedCoder``'s out-of-fold predictions).

- Per code: cross-validated precision and recall with Wilson intervals (``scipy.stats.binomtest``), F1 with a
  bootstrap interval over the coded segments (``sklearn.metrics.precision_recall_fscore_support``).
- The share of machine codes that are right (on the segments the analyst did not code), by three estimators;
  the headline (``headline``) is ``cv_random`` when at least :data:`MIN_RANDOM` coded segments came from a random
  sample, else ``calibrated``, as measured on the shared sets (docs/benchmarks.md):
  ``cv_random``: the cross-validated accuracy of the segments coded at random (the blind sheet, and the audit
  rows every ``--next`` sheet mixes in; Wilson interval, ``n`` = how many it rests on); ``calibrated``: the mean calibrated probability of the assigned code, valid when the coded
  segments were chosen by their text (active learning) as far as the calibration holds; its interval re-fits the
  temperature on bootstrap samples of the coded segments and adds the binomial spread; ``cv``: the
  cross-validated accuracy of every coded segment, pessimistic when the active learner picked hard segments.
- A learning curve: accuracy on held-out coded segments when training on 25, 50, 75 and 100 % of the rest, and
  whether more coding still pays (the last quarter of the codes raised it by less than ``flat_gain``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import softmax
from scipy.stats import binomtest
from sklearn.metrics import precision_recall_fscore_support

from pipeline.analyst.trained import TrainedCoder, fit_temperature, stratified_folds

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
MIN_RANDOM = 10  # coded segments of a random sample needed before their cross-validated accuracy is the headline
FLAT_GAIN = 0.01  # less than one point of accuracy from the last quarter of the codes: the curve has flattened


def wilson(successes: int, n: int) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class AccuracyReport:
    """Per code (rows of ``per_code``), the machine's estimated accuracy and the learning curve."""

    per_code: tuple[dict[str, Any], ...]
    machine: dict[str, dict[str, float]]  # estimator -> {estimate, low, high, n}
    curve: tuple[dict[str, Any], ...] = ()
    advice: str = ""
    headline: str = "cv"  # the estimator of ``machine`` to quote


def f1_counts(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """F1 per code counted directly: scikit-learn's numbers (nan where a code is neither given nor predicted),
    fast enough for a bootstrap."""
    tp = np.bincount(y[y == predicted], minlength=n_classes)
    total = np.bincount(y, minlength=n_classes) + np.bincount(predicted, minlength=n_classes)
    return np.where(total > 0, 2 * tp / np.maximum(total, 1), np.nan)


def per_code_rows(coder: TrainedCoder, labels: dict[str, str], n_bootstrap: int = 300, seed: int = 0) -> list[dict]:
    y, predicted = coder.coded_labels_, coder.oof_proba_.argmax(axis=1)
    n_classes = len(coder.classes_)
    everything = np.arange(n_classes)
    p, r, f, _ = precision_recall_fscore_support(y, predicted, labels=everything, zero_division=np.nan)
    rng = np.random.default_rng(seed)
    boots = np.full((n_bootstrap, n_classes), np.nan)
    for b in range(n_bootstrap):
        s = rng.integers(0, len(y), len(y))
        boots[b] = f1_counts(y[s], predicted[s], n_classes)
    machine = np.delete(np.arange(len(coder.labels_)), coder.coded_index_)
    shares = np.bincount(coder.labels_[machine], minlength=n_classes) / max(len(machine), 1)
    rows = []
    for j, code in enumerate(coder.classes_):
        tp = int(np.sum((y == j) & (predicted == j)))
        n_pred, n_true = int(np.sum(predicted == j)), int(np.sum(y == j))
        f_low, f_high = (np.nanquantile(boots[:, j], [0.025, 0.975]) if np.isfinite(boots[:, j]).any()
                         else (np.nan, np.nan))
        rows.append({"code": code, "label": labels.get(code, code), "n_coded": n_true,
                     "precision": p[j], "precision_low": wilson(tp, n_pred)[0] if n_pred else np.nan,
                     "precision_high": wilson(tp, n_pred)[1] if n_pred else np.nan,
                     "recall": r[j], "recall_low": wilson(tp, n_true)[0] if n_true else np.nan,
                     "recall_high": wilson(tp, n_true)[1] if n_true else np.nan,
                     "f1": f[j], "f1_low": float(f_low), "f1_high": float(f_high),
                     "machine_share": float(shares[j])})
    return rows


def _cv(right: np.ndarray) -> dict[str, float]:
    low, high = wilson(int(right.sum()), len(right))
    return {"estimate": float(right.mean()) if len(right) else 0.0, "low": low, "high": high, "n": len(right)}


def machine_accuracy(coder: TrainedCoder, n_bootstrap: int = 100, seed: int = 0,
                     random_rows: np.ndarray | None = None, min_random: int = MIN_RANDOM
                     ) -> dict[str, dict[str, float]]:
    """The share of machine codes that are right: ``cv``, ``cv_random`` (``random_rows``: mask over the coded
    segments of those from a random sample, when there are at least MIN_RANDOM) and ``calibrated``."""
    y, oof = coder.coded_labels_, coder.oof_proba_
    right = oof.argmax(axis=1) == y
    out = {"cv": _cv(right)}
    if random_rows is not None and np.sum(random_rows) >= max(min_random, 1):
        out["cv_random"] = _cv(right[np.asarray(random_rows, dtype=bool)])
    machine = np.delete(coder.proba_, coder.coded_index_, axis=0)
    if not len(machine) or not len(y):
        return out
    conf = machine.max(axis=1)
    rng = np.random.default_rng(seed)
    log_oof = np.log(np.clip(oof, 1e-12, 1)) * coder.temperature_  # back to the uncalibrated scores
    log_machine = np.log(np.clip(machine, 1e-12, 1)) * coder.temperature_
    spread = float(np.sqrt(np.sum(conf * (1 - conf)))) / len(conf)
    boots = []
    for _ in range(n_bootstrap):
        s = rng.integers(0, len(y), len(y))
        # refit the temperature only where the coder fitted one (one coded code: no cross-validation, T = 1)
        t = fit_temperature(log_oof[s], y[s]) if coder.calibrate and coder.cv_loss_ else coder.temperature_
        boots.append(float(softmax(log_machine / t, axis=1).max(axis=1).mean()) + rng.normal(0, spread))
    low, high = np.clip(np.quantile(boots, [0.025, 0.975]), 0.0, 1.0)
    out["calibrated"] = {"estimate": float(conf.mean()), "low": float(low), "high": float(high), "n": len(y)}
    return out


def learning_curve(coder: TrainedCoder, embeddings: np.ndarray, fractions=FRACTIONS) -> list[dict[str, Any]]:
    """Held-out accuracy (folds over the coded segments) when training on ``fractions`` of the other folds' codes,
    with the fitted prior weight and temperature (one regression per fraction and fold)."""
    L, y = coder.coded_index_, coder.coded_labels_
    if len(L) < 4 or len(np.unique(y)) < 2:
        return []
    X = np.asarray(embeddings, dtype=np.float32)
    rng = np.random.default_rng(coder.random_state)
    folds = stratified_folds(y, int(min(coder.cv, len(L))), rng)
    order = rng.permutation(len(L))
    log_prior = np.log(coder.prior_) * coder.prior_weight_
    hits = np.zeros(len(fractions))
    sizes = np.zeros(len(fractions))
    for f in np.unique(folds):
        pool = order[folds[order] != f]
        test = np.flatnonzero(folds == f)
        for i, fraction in enumerate(fractions):
            train = pool[:max(1, int(np.ceil(fraction * len(pool))))]
            model = coder._fit_model(X[L[train]], y[train], *coder._items)
            scores = coder._scores(model, X[L[test]]) + log_prior[L[test]]
            hits[i] += np.sum(scores.argmax(axis=1) == y[test])
            sizes[i] += len(train) / len(np.unique(folds))
    return [{"fraction": fr, "n_trained": int(round(sizes[i])), "accuracy": float(hits[i] / len(L)),
             "low": wilson(int(hits[i]), len(L))[0], "high": wilson(int(hits[i]), len(L))[1]}
            for i, fr in enumerate(fractions)]


def advice(curve: list[dict[str, Any]], n_coded: int, n_codes: int = 1, flat_gain: float = FLAT_GAIN,
           min_per_code: int = 5) -> str:
    """One line: does more coding still pay? (Not judged before ``min_per_code`` codes per code on average.)"""
    if len(curve) < 2 or n_coded < min_per_code * n_codes:
        return (f"{n_coded} segment(s) coded for {n_codes} codes: too early to tell whether more coding pays; "
                "code more (`pipeline validate sample --next N`)")
    gain = curve[-1]["accuracy"] - curve[-2]["accuracy"]
    if gain < flat_gain:
        return (f"the learning curve has flattened (the last quarter of the {n_coded} codes moved held-out accuracy "
                f"by {gain * 100:+.1f} points): more coding of the same kind stops paying; code rare or new codes")
    return (f"more coding still pays: the last quarter of the {n_coded} codes raised held-out accuracy by "
            f"{gain * 100:+.1f} points")


def accuracy_report(coder: TrainedCoder, embeddings: np.ndarray, labels: dict[str, str],
                    random_rows: np.ndarray | None = None) -> AccuracyReport:
    curve = learning_curve(coder, embeddings)
    machine = machine_accuracy(coder, seed=coder.random_state, random_rows=random_rows)
    headline = next(name for name in ("cv_random", "calibrated", "cv") if name in machine)
    return AccuracyReport(tuple(per_code_rows(coder, labels, seed=coder.random_state)), machine, tuple(curve),
                          advice(curve, len(coder.coded_index_), len(coder.classes_)), headline)


def headline_text(report: AccuracyReport) -> str:
    """The machine's estimated accuracy, its interval and what it rests on (one line)."""
    best = report.machine[report.headline]
    rests = {"cv_random": f"on {best['n']} segments coded at random (blind sheet, audit rows of --next sheets)",
             "calibrated": f"calibrated confidence, from {best['n']} analyst codes; no random sample of {MIN_RANDOM} coded yet "
                           "(code the audit rows of a --next sheet or the blind sheet to check it)",
             "cv": f"cross-validated on {best['n']} coded segments"}.get(report.headline, report.headline)
    return (f"{best['estimate']:.0%} (95% interval {best['low']:.0%}-{best['high']:.0%}; {rests}; see "
            "accuracy.csv)")
