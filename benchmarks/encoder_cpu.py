"""Encoder backends by CPU time, one thread each, interleaved in one process: a speed ratio a busy machine cannot bend.

Usage (from the repo root)::

    python -m benchmarks.encoder_cpu --size 1000 --rounds 2

``benchmarks.speed --encoders`` times each backend's wall clock in its own subprocess, which is what a user waits
for on an idle machine; on a shared machine the load changes between those subprocesses and multi-threaded
encoders lose time to waiting for each other, so the ratios move. Here every backend runs with one thread
(``OMP_NUM_THREADS=1``, ``torch.set_num_threads(1)``, onnxruntime's intra-op threads from the same variable), all
four are loaded first (and one text encoded, so the session and tokenizer are warm), then the same texts are
encoded backend after backend, ``--rounds`` times in turn, in shards of 512 as the embedding cache asks. Each
backend's **CPU seconds** (``time.process_time``) are summed over the rounds; texts per CPU-second and the ratio to
torch come from those. Wall seconds are shown beside them (they include waiting for the CPU).
Results: ``benchmarks/results/encoder-cpu.json`` and the table printed.
"""
from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # before torch / onnxruntime are imported
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]


def measure(size: int, rounds: int, backends: list[str], seed: int) -> dict:
    import torch

    from benchmarks.speed import ENCODERS_DIR, speed_texts, text_pool
    from pipeline.embed.backends import EmbedderSpec

    torch.set_num_threads(1)
    texts = speed_texts(text_pool(), size, seed)
    embedders = {b: EmbedderSpec("minilm-local.v1", backend=b, models_dir=ENCODERS_DIR).build() for b in backends}
    for embedder in embedders.values():
        embedder.encode(texts[:1])
    cpu = {b: 0.0 for b in backends}
    wall = {b: 0.0 for b in backends}
    for _ in range(rounds):
        for backend, embedder in embedders.items():
            c, w = time.process_time(), time.perf_counter()
            for start in range(0, len(texts), 512):
                embedder.encode(texts[start:start + 512])
            cpu[backend] += time.process_time() - c
            wall[backend] += time.perf_counter() - w
    encoded = size * rounds
    rows = [{"backend": b, "embedder": embedders[b].name, "cpu_s": round(cpu[b], 2), "wall_s": round(wall[b], 2),
             "texts_per_cpu_s": round(encoded / cpu[b], 1) if cpu[b] else None,
             "speedup_vs_torch_cpu": round(cpu["torch"] / cpu[b], 2) if "torch" in cpu and cpu[b] else None}
            for b in backends]
    return {"size": size, "rounds": rounds, "threads": 1, "rows": rows}


def markdown(result: dict) -> str:
    lines = [f"{result['size']:,} texts x {result['rounds']} rounds, one thread per backend, interleaved", "",
             "| backend | CPU s | texts per CPU-second | speed-up vs torch (CPU) | wall s (incl. waiting) |",
             "|---|---:|---:|---:|---:|"]
    for row in result["rows"]:
        speedup = "–" if row["speedup_vs_torch_cpu"] is None else f"{row['speedup_vs_torch_cpu']:.2f}x"
        lines.append(f"| {row['backend']} | {row['cpu_s']:.1f} | {row['texts_per_cpu_s']:,.0f} | {speedup} | "
                     f"{row['wall_s']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.quality import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", default="torch,onnx,onnx-int8,static")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "encoder-cpu.json"))
    args = parser.parse_args(argv)
    start_machine = machine()
    result = measure(args.size, args.rounds, args.backends.split(","), args.seed)
    result.update({"command": "python -m benchmarks.encoder_cpu " + " ".join(argv if argv is not None
                                                                             else sys.argv[1:]),
                   "machine": start_machine, "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
                   "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())})
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
