"""What fitting the themes on a sample costs: a sampled fit (``pipeline.themes.scaled``) against the fit on every
segment of the same corpus, same embeddings, same seed.

Usage (from the repo root)::

    python -m benchmarks.sampling --size 100000 --samples 10000,20000,30000,50000 --backend onnx

Texts: the speed benchmark's (``benchmarks.speed.speed_texts``: above the pool's 25k distinct texts, seeded pairs
of two pool texts), each one segment; categories: the 9 nhs-fft-phase1 names. Embeddings through the content
cache with the chosen backend. For each sample size: ARI between the sampled fit's theme of every segment and the
full fit's, the share of segments given the same closed category (the coder's), the number of themes of each,
and the seconds of each fit. Results: ``benchmarks/results/sampling-<size>.json`` and the table printed.
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


def _themes_config(seed: int):
    from pipeline.core.config import load_config

    return load_config(None, {"seed": seed}).themes.model_dump()


def compare(size: int, samples: list[int], backend: str, seed: int, cache_dir: str, batch_rows: int,
            save_dir: str | None = None) -> dict:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from benchmarks.datasets import DEFAULT_DATA_DIR, SHARED_SETS, load_labelled
    from benchmarks.speed import ENCODERS_DIR, SPEED_CATEGORIES_FROM, speed_texts, text_pool
    from pipeline.core.records import Category
    from pipeline.embed import EmbeddingCache
    from pipeline.embed.backends import EmbedderSpec
    from pipeline.themes import ThemeModel
    from pipeline.themes.scaled import fit_sampled

    texts = speed_texts(text_pool(), size, seed)
    names = load_labelled(SHARED_SETS[SPEED_CATEGORIES_FROM], DEFAULT_DATA_DIR).categories
    categories = [Category(f"c{i:02d}", name) for i, name in enumerate(names)]
    embedder = EmbedderSpec("minilm-local.v1", backend=backend, models_dir=ENCODERS_DIR).build()
    start = time.perf_counter()
    X, _ = EmbeddingCache(cache_dir).embed(texts, embedder)
    out: dict[str, Any] = {"size": size, "backend": embedder.name, "embed_s": round(time.perf_counter() - start, 1),
                           "seed": seed, "rows": []}
    ids = [f"s{i}" for i in range(size)]
    say = lambda message: print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)  # noqa: E731
    say(f"{size:,} texts embedded; full fit")
    saved = Path(save_dir) / f"full-{size}-{embedder.name}-{seed}.npz" if save_dir else None
    if saved is not None and saved.is_file():  # a full fit made before: its labels, never fitted twice
        with np.load(saved, allow_pickle=False) as data:
            full_themes, full_categories = data["themes"], [str(c) for c in data["categories"]]
            full_emergent = int(data["emergent"].sum())
            out["full"] = {"seconds": float(data["seconds"]), "n_themes": int(data["n_themes"]),
                           "reused": str(saved)}
    else:
        start = time.perf_counter()
        full = ThemeModel(**_themes_config(seed), random_state=seed).fit(texts, X, embedder, categories, ids)
        out["full"] = {"seconds": round(time.perf_counter() - start, 1), "n_themes": len(full.themes_)}
        full_themes = np.array([a.theme_id for a in full.assignments_])
        full_categories = [c for c, _ in full.segment_categories_]
        emergent_ids = [t.theme_id for t in full.themes_ if not t.category_id]
        full_emergent = int(np.isin(full_themes, emergent_ids).sum())
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.savez(saved, themes=full_themes, categories=np.array(full_categories),
                     emergent=np.isin(full_themes, emergent_ids), seconds=out["full"]["seconds"],
                     n_themes=len(full.themes_))
    for sample in samples:
        say(f"sample {sample:,}")
        start = time.perf_counter()
        model_dir = Path(save_dir) / f"sample-{size}-{sample}-{embedder.name}-{seed}" if save_dir else None
        fitted = model_dir is not None and (model_dir / "state.json").is_file()
        model = (ThemeModel.load(model_dir, embedder, with_topic_model=False) if fitted
                 else ThemeModel(**_themes_config(seed), random_state=seed))
        fit = fit_sampled(model, texts, X, embedder, categories, ids, sample_size=sample, batch_rows=batch_rows,
                          seed=seed, fitted=fitted)
        seconds = time.perf_counter() - start
        if model_dir is not None and not fitted:
            model.save(model_dir)
        themes = np.array([a.theme_id for a in fit.assignments])
        same_category = np.mean([a == b for a, (b, _) in zip(full_categories, fit.segment_categories)])
        out["rows"].append({"sample": sample, "seconds": round(seconds, 1), "n_themes": len(fit.themes),
                            "theme_ari_vs_full": round(float(adjusted_rand_score(full_themes, themes)), 4),
                            "category_agreement_vs_full": round(float(same_category), 4),
                            "emergent_share": round(fit.method.get("emergent_segments", 0) / size, 4),
                            "full_emergent_share": round(full_emergent / size, 4),
                            "sample_emergent_share": round(model.coding_.get("emergent_segments", 0) / sample, 4),
                            "reused_fit": fitted})
    return out


def markdown(result: dict) -> str:
    full = result["full"]
    lines = [f"{result['size']:,} segments, {result['backend']}; full fit {full['seconds']:.0f} s, "
             f"{full['n_themes']} themes", "",
             "| sample | fit + assign s | themes | theme ARI vs full fit | same category as full fit | "
             "emergent share (full) |", "|---:|---:|---:|---:|---:|---|"]
    for row in result["rows"]:
        lines.append(f"| {row['sample']:,} | {row['seconds']:.0f} | {row['n_themes']} | "
                     f"{row['theme_ari_vs_full']:.3f} | {row['category_agreement_vs_full']:.1%} | "
                     f"{row['emergent_share']:.1%} ({row['full_emergent_share']:.1%}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.quality import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--samples", default="10000,20000,30000,50000")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--cache-dir", default="outputs/.cache/embeddings")
    parser.add_argument("--results", default=None)
    parser.add_argument("--save-dir", default="outputs/sampling",
                        help="the full fit's labels and each sampled model are kept here and reused ('' = never)")
    args = parser.parse_args(argv)
    samples = [int(s) for s in args.samples.split(",") if s.strip()]
    machine_at_start = machine()
    result = compare(args.size, samples, args.backend, args.seed, args.cache_dir, args.batch_rows,
                     args.save_dir or None)
    result.update({"command": "python -m benchmarks.sampling " + " ".join(argv if argv is not None else sys.argv[1:]),
                   "machine": machine_at_start,
                   "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],  # a shared machine
                   "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())})
    path = Path(args.results or REPO / "benchmarks" / "results" / f"sampling-{args.size}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
