"""Peak memory of `pipeline ingest` on templated answers (issue 15, defect 12: near-duplicate detection used
4.7 GB at 50,000 templated answers and 20.6 GB at 200,000).

Usage (from the repo root)::

    python -m benchmarks.ingest_memory                    # 200,000 answers
    python -m benchmarks.ingest_memory --sizes 50000,200000

Each size writes a CSV of templated answers into a temporary folder (written here: a few sentence templates
filled with words from small lists, so many answers are near-duplicates of each other, as a survey's templated
or copy-pasted answers are), runs `pipeline ingest` on it in a fresh subprocess, and reports that subprocess's
peak RSS (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) and wall time. Results:
``benchmarks/results/ingest_memory.json``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = (
    "The {a} for {b} is {c}, and that makes {d} hard for us.",
    "We do not have enough {a} to deal with {b}; {c} {d} is the real barrier.",
    "{a} and {b} both stand in the way. Honestly {c} is {d}.",
    "Nothing will change until {a} improves; {b} depends on it and {c} is {d}.",
)
WORDS = {
    "a": ["funding", "staff time", "capacity", "leadership", "trust", "data", "estates", "money", "support",
          "training", "transport", "IT", "clarity", "governance"],
    "b": ["social care", "primary care", "the hospital", "the council", "our partners", "the plan", "the footprint",
          "mental health", "community services", "general practice"],
    "c": ["too little", "far too slow", "unclear", "shrinking", "patchy", "not joined up", "years behind",
          "out of our hands", "a constant worry"],
    "d": ["planning", "change", "integration", "recruitment", "delivery", "prevention", "engagement"],
}


def templated_answers(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(TEMPLATES).format(**{k: rng.choice(v) for k, v in WORDS.items()}) + f" ({i % 97})"
            for i in range(n)]


def measure(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        with (corpus / "answers.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["respondent_id", "answer"])
            writer.writerows([f"R{i}", text] for i, text in enumerate(templated_answers(n)))
        size = (corpus / "answers.csv").stat().st_size
        env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pipeline", "--quiet", "ingest", str(corpus), "--out",
                               str(Path(tmp) / "out")], cwd=tmp, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
        if done.returncode != 0:
            raise SystemExit(f"ingest failed: {done.stderr[-500:]}")
    return {"answers": n, "csv_mb": round(size / 2**20, 1), "peak_rss_mb": round(peak_kb / 1024),
            "seconds": round(seconds, 1), "note": "" if peak_kb > before else "peak not above an earlier child's"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000")
    args = parser.parse_args()
    results = [measure(int(size)) for size in args.sizes.split(",")]  # increasing sizes: each peak is its own
    for row in results:
        print(json.dumps(row))
    out = REPO / "benchmarks" / "results" / "ingest_memory.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
