"""Would a [themes] option be a safe default? The product ("ours", benchmarks.methods.run_ours) with its defaults
and with the option, on the same rows and embeddings of every shared set: macro-F1 ("any" rule) with a 95% paired
bootstrap interval of the difference, AMI and ARI against the first gold label, themes and unassigned share.

    python -m benchmarks.option_check --option emergent_grouping=co-association
    python -m benchmarks.option_check nhs-fft-phase1 --option emergent_recruit=true --max-rows 1000

An option "loses" on a set when the interval of its F1 difference lies wholly below zero. Results:
``benchmarks/results/option-check-<tag>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def compare_set(spec, options: dict, max_rows: int, seed: int, cache_dir: str) -> dict:
    from sklearn.metrics import adjusted_rand_score

    from benchmarks import metrics
    from benchmarks.datasets import DEFAULT_DATA_DIR, load_labelled, stratified_sample
    from benchmarks.methods import Context, run_ours
    from benchmarks.quality import default_vectorizer, embed_texts

    labelled = stratified_sample(load_labelled(spec, DEFAULT_DATA_DIR, "exclude"), max_rows or None, seed)
    embedder, X, _ = embed_texts(labelled.texts, "minilm-local.v1", cache_dir)
    out = {"set": labelled.name, "rows": len(labelled)}
    runs = {}
    for name, theme_options in (("default", {}), ("option", options)):
        context = Context(list(labelled.texts), X, embedder, list(labelled.categories), labelled.first_labels,
                          default_vectorizer, dict(theme_options))
        started = time.perf_counter()
        run = run_ours(context, seed)
        scores = metrics.category_scores(labelled.gold, run.categories, "any")
        runs[name] = run
        out[name] = {"f1_any": scores["macro_f1"], "unassigned_share": scores["unassigned_share"],
                     "ari": float(adjusted_rand_score(labelled.first_labels, run.labels)),
                     "n_themes": metrics.count_themes(run.labels),
                     **{k: v for k, v in metrics.partition_scores(labelled.first_labels, run.labels).items()
                        if k in ("ami", "nmi")},
                     "emergent_themes": run.info.get("coding", {}).get("emergent_themes"),
                     "seconds": round(time.perf_counter() - started, 1)}
    out["f1_difference"] = metrics.paired_f1_difference(labelled.gold, runs["option"].categories,
                                                        runs["default"].categories, seed=seed)
    out["loses"] = out["f1_difference"]["high"] < 0
    return out


def main(argv: list[str] | None = None) -> int:
    from benchmarks.datasets import resolve_specs
    from benchmarks.quality import parse_theme_options

    parser = argparse.ArgumentParser(prog="python -m benchmarks.option_check", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="all")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", required=True)
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-dir", default="outputs/.cache/embeddings")
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    options = parse_theme_options(args.option)
    from benchmarks.datasets import DEFAULT_DATA_DIR

    results = []
    for spec in resolve_specs(args.target, None, None, DEFAULT_DATA_DIR):
        row = compare_set(spec, options, args.max_rows, args.seed, args.cache_dir)
        d = row["f1_difference"]
        print(f"{row['set']}: F1 {row['default']['f1_any']:.3f} -> {row['option']['f1_any']:.3f} "
              f"({d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]), ARI {row['default']['ari']:.3f} -> "
              f"{row['option']['ari']:.3f}, AMI {row['default']['ami']:.3f} -> {row['option']['ami']:.3f}, "
              f"themes {row['default']['n_themes']} -> {row['option']['n_themes']}", flush=True)
        results.append(row)
    tag = args.tag or "-".join(f"{k}-{v}" for k, v in options.items())
    path = REPO / "benchmarks" / "results" / f"option-check-{tag}.json"
    path.write_text(json.dumps({"command": "python -m benchmarks.option_check " + " ".join(
        argv if argv is not None else sys.argv[1:]), "options": options, "finished": datetime.now(UTC).isoformat(
        timespec="seconds"), "sets": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
