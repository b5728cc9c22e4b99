"""Encoder backends on the quality benchmark: macro-F1 of each backend beside torch's, same rows, paired bootstrap.

Usage (from the repo root)::

    python -m benchmarks.backends                               # every shared set, every backend
    python -m benchmarks.backends --sets airline --backends torch,static --methods ours

For every shared set (the same seeded 3000-row stratified samples as ``benchmarks.quality``) and every backend of
``pipeline.embed.backends`` the texts are embedded through the content cache, and the product's methods
(``ours``: the whole theme stage and mapper; ``ours-coder``: the per-segment coder; ``nearest-name``: the
anchor) run on those embeddings with the same seed. The score is the headline macro-F1 ("any gold label" rule,
unassigned counted wrong); each backend's difference from torch comes with the 95% paired bootstrap interval of
``benchmarks.metrics.paired_f1_difference`` (rows resampled together, 1000 resamples). The rule for
``embed.backend = "auto"`` (docs/benchmarks.md): a backend is *within noise* of torch on a set when that interval
contains zero or lies above it; "auto" is the fastest backend within noise on every set for ``ours``.

Results: ``benchmarks/results/backends.json`` and the table printed (``--render`` prints it from the file).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "backends.json"
METHODS = ("ours", "ours-coder", "nearest-name")


def _counts(gold, predicted, classes: dict[str, int]):
    """One-hot (rows x classes) of each row's effective gold ("any" rule) and of its prediction."""
    import numpy as np

    from benchmarks import metrics

    truth = metrics.effective_gold(gold, predicted, "any")
    T = np.zeros((len(truth), len(classes)))
    G = np.zeros((len(truth), len(classes)))
    T[np.arange(len(truth)), [classes[t] for t in truth]] = 1
    for row, guess in enumerate(predicted):
        if guess in classes:
            G[row, classes[guess]] = 1
    return T, G


def _macro_f1(W, T, G):
    """Macro-F1 ("any") of each row of resample weights ``W`` over the classes present in that resample's gold:
    ``benchmarks.metrics.category_scores`` computed for many resamples at once."""
    import numpy as np

    tp = W @ (T * G)
    support = W @ T
    fp, fn = W @ G - tp, support - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    present = support > 0
    return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def paired_f1_difference(gold, a, b, n_resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """``benchmarks.metrics.paired_f1_difference`` (same resamples from the same seed, same numbers), vectorised:
    each resample is a row of counts instead of two calls of scikit-learn's f1_score."""
    import numpy as np

    gold = [tuple(labels) for labels in gold]
    classes = {c: i for i, c in enumerate(sorted({label for labels in gold for label in labels}))}
    (Ta, Ga), (Tb, Gb) = _counts(gold, a, classes), _counts(gold, b, classes)
    rng = np.random.default_rng(seed)
    W = np.vstack([np.bincount(rng.integers(0, len(gold), len(gold)), minlength=len(gold))
                   for _ in range(n_resamples)]).astype(float)
    diffs = _macro_f1(W, Ta, Ga) - _macro_f1(W, Tb, Gb)
    ones = np.ones((1, len(gold)))
    point = float((_macro_f1(ones, Ta, Ga) - _macro_f1(ones, Tb, Gb))[0])
    low, high = np.quantile(diffs, [0.025, 0.975])
    return {"difference": point, "low": float(low), "high": float(high), "n_resamples": n_resamples}


def embed(texts: list[str], backend: str, cache_dir: str, models_dir: str):
    from pipeline.embed import EmbeddingCache
    from pipeline.embed.backends import EmbedderSpec

    embedder = EmbedderSpec("minilm-local.v1", backend=backend, models_dir=models_dir).build()
    start = time.perf_counter()
    vectors, stats = EmbeddingCache(cache_dir).embed(texts, embedder)
    return embedder, vectors, {"embed_s": round(time.perf_counter() - start, 2), "encoded": stats.misses}


def run_set(name: str, backends: list[str], methods: list[str], args) -> dict[str, Any]:
    from benchmarks import metrics
    from benchmarks.datasets import DEFAULT_DATA_DIR, SHARED_SETS, load_labelled, stratified_sample
    from benchmarks.methods import METHODS as RUNNERS, Context
    from benchmarks.quality import default_vectorizer

    labelled = stratified_sample(load_labelled(SHARED_SETS[name], DEFAULT_DATA_DIR), args.max_rows, args.seed)
    out: dict[str, Any] = {"set": name, "rows": len(labelled), "backends": {}}
    predictions: dict[str, dict[str, list]] = {}
    for backend in backends:
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {backend}", file=sys.stderr, flush=True)
        embedder, vectors, timing = embed(list(labelled.texts), backend, args.cache_dir, args.models_dir)
        context = Context(list(labelled.texts), vectors, embedder, list(labelled.categories), labelled.first_labels,
                          default_vectorizer, {})
        scores: dict[str, Any] = {**timing}
        for method in methods:
            run = RUNNERS[method](context, args.seed)
            predictions.setdefault(method, {})[backend] = list(run.categories)
            scores[method] = round(metrics.category_scores(labelled.gold, run.categories, "any")["macro_f1"], 4)
        out["backends"][backend] = scores
    for method in methods:
        reference = predictions[method].get("torch")
        for backend in backends:
            if backend == "torch" or reference is None:
                continue
            diff = paired_f1_difference(labelled.gold, predictions[method][backend], reference, seed=args.seed)
            diff["verdict"] = "loss" if diff["high"] < 0 else "gain" if diff["low"] > 0 else "within noise"
            out["backends"][backend][f"{method}_vs_torch"] = {k: round(v, 4) if isinstance(v, float) else v
                                                             for k, v in diff.items()}
    return out


def markdown(results: dict[str, Any]) -> str:
    methods = results["methods"]
    lines = ["| set | backend | " + " | ".join(f"{m} F1 | {m} - torch [95% CI]" for m in methods) + " |",
             "|---|---|" + "---:|---|" * len(methods)]
    for entry in results["sets"]:
        for backend, scores in entry["backends"].items():
            cells = []
            for method in methods:
                diff = scores.get(f"{method}_vs_torch")
                if method not in scores:  # not run on this set
                    cells += ["not run", "–"]
                    continue
                cells += [f"{scores[method]:.3f}", "–" if diff is None else
                          f"{diff['difference']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}] {diff['verdict']}"]
            lines.append(f"| {entry['set']} | {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.datasets import SHARED_SETS
    from pipeline.embed.backends import BACKENDS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(SHARED_SETS))
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-dir", default="outputs/.cache/embeddings")
    parser.add_argument("--models-dir", default="models/encoders")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--render", action="store_true", help="print the table from --results, run nothing")
    args = parser.parse_args(argv)
    if args.render:
        print(markdown(json.loads(Path(args.results).read_text(encoding="utf-8"))))
        return 0
    from benchmarks.quality import machine

    backends, methods = args.backends.split(","), args.methods.split(",")
    results: dict[str, Any] = {"command": "python -m benchmarks.backends " + " ".join(argv if argv is not None
                                                                                      else sys.argv[1:]),
                               "machine": machine(), "methods": methods, "sets": []}
    for name in args.sets.split(","):
        results["sets"].append(run_set(name, backends, methods, args))
        results["sets"][-1]["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]  # a shared machine
        results["sets"][-1]["finished_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        Path(args.results).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
