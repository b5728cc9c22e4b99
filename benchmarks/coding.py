"""Per-answer category coding against the nearest-category-name anchor (issue 12), names only and with a codebook.

    python -m benchmarks.coding                      # every shared set; "with codebook" where a set has one
    OPENSET_CACHE_DIR=... python -m benchmarks.coding napire-effects

Rows: the open-set harness's 2,000-row samples (``benchmarks.openset.load_set``). Methods, all on the same
embeddings: ``coder`` (the product's label-free ``CategoryCoder`` at its defaults, never coding to a catch-all option,
as segments.csv's ``category_id``); ``coder-previous`` (the coder before issue 12's second round: two unanchored
self-training rounds, no calibration); ``nearest-name`` (each answer to the category name with the highest cosine,
one plain vector per name, as benchmarks.quality); ``items-argmax`` (the coder's starting point: max over each
category's label templates, description clauses and keywords, no self-training); ``ceiling`` (5-fold cross-validated
LogisticRegression C=10, balanced, on the first gold label of every row: how far these embeddings can go, never a
competitor). Macro-F1 over the gold classes ("any" rule: a prediction among an answer's labels counts), with the
paired bootstrap difference to nearest-name (a loss when the whole 95% interval is below zero) and the share of the
ceiling's macro-F1. ``reliability``: each coder's probability for its chosen category against how often that
category is right (expected calibration error over ten bins): what a category theme's confidence (the mean of that
probability over its segments) can be trusted to mean. Results: ``benchmarks/results/coding.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from benchmarks import openset
from benchmarks.metrics import category_scores, paired_f1_difference


def reliability(probability: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> dict:
    bins = np.minimum((probability * n_bins).astype(int), n_bins - 1)
    ece, rows = 0.0, []
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            gap = abs(float(probability[inside].mean()) - float(correct[inside].mean()))
            ece += inside.mean() * gap
            rows.append({"bin": f"{b / n_bins:.1f}-{(b + 1) / n_bins:.1f}", "n": int(inside.sum()),
                         "confidence": round(float(probability[inside].mean()), 3),
                         "accuracy": round(float(correct[inside].mean()), 3)})
    return {"ece": round(ece, 4), "mean_confidence": round(float(probability.mean()), 4),
            "accuracy": round(float(correct.mean()), 4), "bins": rows}


PREVIOUS = {"n_self_training": 2, "prior_weight": 0.0, "calibrate": False}
CALIBRATED = {"calibrate": True}  # the label-free temperature (agreement of two views), reported for its ECE only  # the coder's defaults before this round


def ceiling(X: np.ndarray, gold: list[tuple[str, ...]], seed: int = 42) -> list[str]:
    """5-fold cross-validated predictions of a classifier trained on the first gold label (as benchmarks.methods)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    first = np.array([g[0] for g in gold], dtype=object)
    folds = max(2, min(5, int(np.unique(first, return_counts=True)[1].min())))
    model = LogisticRegression(C=10, class_weight="balanced", max_iter=2000)
    return list(cross_val_predict(model, X, first, cv=StratifiedKFold(folds, shuffle=True, random_state=seed)))


def code_set(name: str, with_codebook: bool, seed: int = 42, resamples: int = 500) -> dict:
    from pipeline.categories import CategoryCoder, embed_categories, item_similarity, topical

    data = openset.load_set(name)
    records = openset.category_records(data.categories, openset.load_codebook(name) if with_codebook else None)
    label = {r.category_id: r.label for r in records}
    topics = topical(records)
    embedder = openset.shared_embedder()
    coders = {"coder": CategoryCoder(random_state=seed).fit(data.X, topics, embedder),
              "coder-previous": CategoryCoder(random_state=seed, **PREVIOUS).fit(data.X, topics, embedder)}
    coded = {m: [label[topics[j].category_id] for j in c.labels_] for m, c in coders.items()}
    calibrated = CategoryCoder(random_state=seed, **CALIBRATED).fit(data.X, topics, embedder)
    names = embedder.encode(data.categories)
    nearest = [data.categories[j] for j in (data.X @ names.T).argmax(axis=1)]
    argmax = [label[topics[j].category_id] for j in item_similarity(data.X, embed_categories(topics, embedder)).argmax(1)]
    out = {"set": name, "rows": len(data.texts), "codebook": with_codebook, "methods": {}}
    predictions = {**coded, "nearest-name": nearest, "items-argmax": argmax, "ceiling": ceiling(data.X, data.gold)}
    top = category_scores(data.gold, predictions["ceiling"], "any")["macro_f1"]
    for method, predicted in predictions.items():
        row = category_scores(data.gold, predicted, "any")
        row["share_of_ceiling"] = row["macro_f1"] / top if top else None
        if method == "coder-previous" and predicted == coded["coder"]:  # the same codes: the same interval
            row["vs_nearest_name"] = out["methods"]["coder"]["vs_nearest_name"]
        elif method not in ("nearest-name", "ceiling"):
            row["vs_nearest_name"] = paired_f1_difference(data.gold, predicted, nearest, "any", resamples, seed)
        out["methods"][method] = row
    same = coded["coder"] == coded["coder-previous"]
    out["methods"]["coder"]["vs_previous"] = (
        {"difference": 0.0, "low": 0.0, "high": 0.0, "n_resamples": 0, "identical": True} if same else
        paired_f1_difference(data.gold, coded["coder"], coded["coder-previous"], "any", resamples, seed))
    for method, coder in {**coders, "coder-calibrated": calibrated}.items():
        coded.setdefault(method, [label[topics[j].category_id] for j in coder.labels_])
        correct = np.array([c in g for c, g in zip(coded[method], data.gold)], dtype=float)
        out[f"{method}_reliability"] = {**reliability(coder.confidence_, correct),
                                        "temperature": round(coder.temperature_, 4),
                                        "prior_agreement": round(coder.prior_agreement_, 4)}
    return out


def _ci(d: dict) -> str:
    return f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def _ece(rel: dict) -> str:
    return f"{rel['ece']:.2f} ({rel['mean_confidence']:.2f} / {rel['accuracy']:.2f})"


def render(results: list[dict]) -> str:
    lines = ["| set | list | ceiling F1 | nearest-name F1 | previous coder F1 | previous - nearest [95% CI] | coder F1 "
             "(x ceiling) | coder - nearest [95% CI] | coder - previous [95% CI] | unassigned | ECE previous | "
             "ECE coder (mean p / accuracy) | ECE agreement-calibrated |",
             "|---|---|---:|---:|---:|---|---:|---|---|---:|---|---|---|"]
    for r in results:
        m = r["methods"]
        lines.append(f"| {r['set']} | {'codebook' if r['codebook'] else 'names'} | {m['ceiling']['macro_f1']:.3f} | "
                     f"{m['nearest-name']['macro_f1']:.3f} | {m['coder-previous']['macro_f1']:.3f} | "
                     f"{_ci(m['coder-previous']['vs_nearest_name'])} | {m['coder']['macro_f1']:.3f} "
                     f"({m['coder']['share_of_ceiling']:.2f}x) | {_ci(m['coder']['vs_nearest_name'])} | "
                     f"{_ci(m['coder']['vs_previous'])} | {m['coder']['unassigned_share']:.1%} | "
                     f"{_ece(r['coder-previous_reliability'])} | {_ece(r['coder_reliability'])} | "
                     f"{_ece(r['coder-calibrated_reliability'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.datasets import SHARED_SETS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.coding", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="all")
    parser.add_argument("--out", default=str(openset.RESULTS_DIR / "coding.json"))
    parser.add_argument("--resamples", type=int, default=500, help="paired bootstrap resamples (default 500)")
    args = parser.parse_args(argv)
    names = list(SHARED_SETS) if args.target == "all" else args.target.split(",")
    results = []
    for name in names:
        for with_codebook in (False, True):
            if with_codebook and not openset.load_codebook(name):
                continue
            results.append(code_set(name, with_codebook, resamples=args.resamples))
            openset.say(f"{name} {'codebook' if with_codebook else 'names'}: " + render(results[-1:]).splitlines()[-1])
    Path(args.out).write_text(json.dumps({"command": "python -m benchmarks.coding " + " ".join(argv or sys.argv[1:]),
                                          "results": results}, indent=1))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
