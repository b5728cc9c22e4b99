"""Scoring for benchmarks/trained.py: macro-F1 under the "any"/"first" gold rules, per-code gold P/R/F1, a paired
bootstrap of two codings, the random-per-code draw, the plain logistic-regression anchor and the summary."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.categories import is_residual

METHODS = ("trained", "anchor", "label_free", "themes")  # themes: trained code above the theme threshold, else label-free
SELECTORS = ("random-per-code", "random", "active", "active-no-audit")


def effective_truth(gold_sets, y_first, pred, rule):
    """Rule "first": the first gold label; "any": the prediction when it is any gold label, else the first."""
    if rule == "first":
        return np.asarray(y_first)
    return np.array([p if p in g else f for g, p, f in zip(gold_sets, pred, y_first)])


def macro_f1_from(truth, pred, n_classes):
    """Macro-F1 over the gold classes present (a class never predicted scores 0)."""
    classes = np.unique(truth)
    tp = np.bincount(truth[truth == pred], minlength=n_classes)
    t = np.bincount(truth, minlength=n_classes)
    p = np.bincount(pred[pred >= 0], minlength=n_classes)
    f1 = np.where(tp > 0, 2 * tp / np.maximum(t + p, 1), 0.0)
    return float(f1[classes].mean())


def scores(gold_sets, y_first, pred, n_classes):
    out = {}
    pred = np.asarray(pred)
    for rule in ("any", "first"):
        truth = effective_truth(gold_sets, y_first, pred, rule)
        out[f"f1_{rule}"] = macro_f1_from(truth, pred, n_classes)
        out[f"acc_{rule}"] = float(np.mean(truth == pred))
    return out


def per_code_gold(truth, pred, n_classes):
    """(n_classes, 3): precision, recall, F1 against gold (first label); nan where undefined."""
    rows = []
    for j in range(n_classes):
        tp = np.sum((truth == j) & (pred == j))
        fp = np.sum((truth != j) & (pred == j))
        fn = np.sum((truth == j) & (pred != j))
        rows.append((tp / (tp + fp) if tp + fp else np.nan, tp / (tp + fn) if tp + fn else np.nan,
                     2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else np.nan))
    return np.array(rows)


def paired_bootstrap(gold_sets, y_first, a, b, n_classes, n_resamples=1000, seed=0, rule="any"):
    """Macro-F1(a) - macro-F1(b) on the same rows, 95% paired bootstrap (rows resampled together)."""
    a, b = np.asarray(a), np.asarray(b)
    ta, tb = effective_truth(gold_sets, y_first, a, rule), effective_truth(gold_sets, y_first, b, rule)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n_resamples)
    for r in range(n_resamples):
        s = rng.integers(0, len(a), len(a))
        diffs[r] = macro_f1_from(ta[s], a[s], n_classes) - macro_f1_from(tb[s], b[s], n_classes)
    low, high = np.quantile(diffs, [0.025, 0.975])
    return {"difference": macro_f1_from(ta, a, n_classes) - macro_f1_from(tb, b, n_classes), "low": float(low),
            "high": float(high)}


def random_per_code(y, k, rng):
    """k rows of every code drawn at random (all of a code's rows when it has fewer)."""
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        idx.extend(rng.choice(rows, size=min(k, len(rows)), replace=False).tolist())
    return np.array(sorted(idx), dtype=int)


def anchor_predict(X, L, yL):
    """The issue's anchor: LogisticRegression(C=10, balanced) on the coded rows only."""
    if len(np.unique(yL)) < 2:
        return np.full(len(X), yL[0] if len(yL) else 0)
    model = LogisticRegression(C=10, class_weight="balanced", max_iter=2000).fit(X[L], yL)
    return model.classes_[model.predict_proba(X).argmax(axis=1)]


def withheld_codes(y, categories, n=2, seed=0):
    """A seeded choice of ``n`` listed codes with >= 30 rows, never the catch-all option."""
    counts = np.bincount(y, minlength=len(categories))
    eligible = [j for j in range(len(categories)) if counts[j] >= 30 and not is_residual(categories[j])]
    return sorted(np.random.default_rng(seed).choice(eligible, size=min(n, len(eligible)), replace=False).tolist())


def summarise(per_seed, ks):
    """Mean and spread over seeds of the headline numbers per selector and k."""
    out = {}
    for selector in SELECTORS:
        out[selector] = {}
        for k in ks:
            runs = [s[selector][k] for s in per_seed if k in s.get(selector, {})]
            if not runs:
                continue
            row = {"n_coded": float(np.mean([r["n_coded"] for r in runs]))}
            for method in (m for m in METHODS if m in runs[0]):
                for m in ("share_any", "share_first", "f1_any"):
                    vals = [r[method][m] for r in runs]
                    row[f"{method}_{m}"], row[f"{method}_{m}_sd"] = float(np.mean(vals)), float(np.std(vals))
            row["vs_label_free_low_min"] = float(min(r["vs_label_free"]["low"] for r in runs))
            row["fit_s"] = float(np.mean([r["fit_s"] for r in runs]))
            for name in ("calibrated", "cv", "audit", "cv_random", "headline"):
                covers = [r["accuracy"][name]["covers"] for r in runs if name in r["accuracy"]]
                row[f"{name}_covers"] = float(np.mean(covers)) if covers else None
            out[selector][k] = row
    return out
