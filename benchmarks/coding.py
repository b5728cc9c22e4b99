"""Per-answer category coding against the nearest-category-name anchor (issue 12), names only and with a codebook.

    python -m benchmarks.coding                      # every shared set; "with codebook" where a set has one
    OPENSET_CACHE_DIR=... python -m benchmarks.coding napire-effects

Rows: the open-set harness's 2,000-row samples (``benchmarks.openset.load_set``). Methods, all on the same
embeddings: ``coder`` (the product's label-free ``CategoryCoder``, never coding to a catch-all option, as
segments.csv's ``category_id``); ``nearest-name`` (each answer to the category name with the highest cosine, one
plain vector per name, as benchmarks.quality); ``items-argmax`` (the coder's starting point: max over each category's
label templates, description clauses and keywords, no self-training). Macro-F1 over the gold classes ("any" rule:
a prediction among an answer's labels counts), with the paired bootstrap difference to nearest-name (a loss when
the whole 95% interval is below zero). ``reliability``: the coder's probability for its chosen category against
how often that category is right (expected calibration error over ten bins): what a category theme's confidence
(the mean of that probability over its segments) can be trusted to mean. Results:
``benchmarks/results/coding.json``.
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


def code_set(name: str, with_codebook: bool, seed: int = 42) -> dict:
    from pipeline.categories import CategoryCoder, embed_categories, item_similarity, topical

    data = openset.load_set(name)
    records = openset.category_records(data.categories, openset.load_codebook(name) if with_codebook else None)
    label = {r.category_id: r.label for r in records}
    topics = topical(records)
    embedder = openset.shared_embedder()
    coder = CategoryCoder(random_state=seed).fit(data.X, topics, embedder)
    coded = [label[topics[j].category_id] for j in coder.labels_]
    names = embedder.encode(data.categories)
    nearest = [data.categories[j] for j in (data.X @ names.T).argmax(axis=1)]
    argmax = [label[topics[j].category_id] for j in item_similarity(data.X, embed_categories(topics, embedder)).argmax(1)]
    out = {"set": name, "rows": len(data.texts), "codebook": with_codebook, "methods": {}}
    for method, predicted in (("coder", coded), ("nearest-name", nearest), ("items-argmax", argmax)):
        row = category_scores(data.gold, predicted, "any")
        if method != "nearest-name":
            row["vs_nearest_name"] = paired_f1_difference(data.gold, predicted, nearest, "any", 500, seed)
        out["methods"][method] = row
    probability = coder.scores_[np.arange(len(coded)), coder.labels_]
    correct = np.array([c in g for c, g in zip(coded, data.gold)], dtype=float)
    out["coder_reliability"] = reliability(probability, correct)
    return out


def render(results: list[dict]) -> str:
    lines = ["| set | list | coder F1 | nearest-name F1 | coder - nearest [95% CI] | items-argmax F1 | "
             "argmax - nearest [95% CI] | coder ECE (mean p / accuracy) |", "|---|---|---:|---:|---|---:|---|---|"]
    for r in results:
        m = r["methods"]
        ci = lambda d: f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"  # noqa: E731
        rel = r["coder_reliability"]
        lines.append(f"| {r['set']} | {'codebook' if r['codebook'] else 'names'} | {m['coder']['macro_f1']:.3f} | "
                     f"{m['nearest-name']['macro_f1']:.3f} | {ci(m['coder']['vs_nearest_name'])} | "
                     f"{m['items-argmax']['macro_f1']:.3f} | {ci(m['items-argmax']['vs_nearest_name'])} | "
                     f"{rel['ece']:.2f} ({rel['mean_confidence']:.2f} / {rel['accuracy']:.2f}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.datasets import SHARED_SETS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.coding", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="all")
    parser.add_argument("--out", default=str(openset.RESULTS_DIR / "coding.json"))
    args = parser.parse_args(argv)
    names = list(SHARED_SETS) if args.target == "all" else args.target.split(",")
    results = []
    for name in names:
        for with_codebook in (False, True):
            if with_codebook and not openset.load_codebook(name):
                continue
            results.append(code_set(name, with_codebook))
            openset.say(f"{name} {'codebook' if with_codebook else 'names'}: " + render(results[-1:]).splitlines()[-1])
    Path(args.out).write_text(json.dumps({"command": "python -m benchmarks.coding " + " ".join(argv or sys.argv[1:]),
                                          "results": results}, indent=1))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
