"""Every step of the trained coding timed on ~10k segments (nhs-fft-phase1, all rows): label-free prior, density,
retraining (TrainedCoder.fit with the prior reused), one active batch, the accuracy report.
``python -m benchmarks.trained_timing [--cache-dir DIR]`` -> benchmarks/results/trained-timing-10k.json."""
from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks import trained_scoring as sc
from benchmarks.datasets import SHARED_SETS, load_labelled
from benchmarks.trained import RESULTS, machine
from pipeline.analyst.accuracy import accuracy_report
from pipeline.analyst.active import ActiveSelector, density
from pipeline.analyst.trained import TrainedCoder
from pipeline.core.records import Category


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(argv=None) -> None:
    from pipeline.embed import CachedEmbedder, EmbeddingCache, get_embedder

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", default="outputs/.cache/embeddings")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    labelled = load_labelled(SHARED_SETS["nhs-fft-phase1"])
    cache, raw = EmbeddingCache(args.cache_dir), get_embedder("minilm-local.v1")
    (X, stats), embed_s = timed(lambda: cache.embed(labelled.texts, raw))
    X = np.asarray(X, dtype=np.float32)
    names = list(labelled.categories)
    y = np.array([names.index(g[0]) for g in labelled.gold])
    cats = [Category(f"c{i:02d}", n) for i, n in enumerate(names)]
    out = {"set": "nhs-fft-phase1 (every row)", "rows": len(X), "codes": len(names), "embed_s": embed_s,
           "cache_hits": stats.hits, "cache_misses": stats.misses, "threads": os.environ.get("OMP_NUM_THREADS")}
    prior, out["label_free_prior_s"] = timed(lambda: TrainedCoder().label_free_prior(X, cats, CachedEmbedder(raw, cache)))
    dense, out["density_s"] = timed(lambda: density(X))
    for k in (10, 20):
        L = sc.random_per_code(y, k, np.random.default_rng(0))
        codes = [cats[j].category_id for j in y[L]]
        coder, out[f"retrain_k{k}_s"] = timed(lambda: TrainedCoder().fit(X, cats, L, codes, prior=prior))
        _, out[f"select_batch_k{k}_s"] = timed(lambda: ActiveSelector().select(X, coder.proba_, L, 20, y[L],
                                                                               dense=dense))
        _, out[f"accuracy_report_k{k}_s"] = timed(lambda: accuracy_report(coder, X, {}))
        out[f"n_coded_k{k}"] = int(len(L))
    out["machine"] = machine()
    path = Path(RESULTS) / "trained-timing-10k.json"
    path.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
