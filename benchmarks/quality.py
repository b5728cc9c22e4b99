"""Theme quality against gold labels: our pipeline beside BERTopic, k-means, LDA, two anchors and a ceiling.

Usage (from the repo root)::

    python -m benchmarks.quality                        # every set in ../shared/data, 3000 rows each
    python -m benchmarks.quality nhs-fft-phase1 --max-rows 300 --methods kmeans,lda,nearest-name
    python -m benchmarks.quality my.csv --text-col answer --label-col code

The gold labels' names are the closed categories (names only: no descriptions exist for these sets). Every method
gets the same embeddings (cached per text under ``outputs/.cache/embeddings``). Results go to
``benchmarks/results/quality-<set>.json``; the markdown tables are printed (and appended to ``--markdown``).
Metric conventions are in ``benchmarks/metrics.py`` and docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from benchmarks import metrics
from benchmarks.datasets import (
    DEFAULT_DATA_DIR,
    PSEUDO_RULES,
    LabelledSet,
    load_labelled,
    resolve_specs,
    stratified_sample,
)
from benchmarks.methods import METHODS, NEEDS_UMAP, SINGLE_SEED, Context, MethodRun
from pipeline.core.errors import PipelineError

REPO = Path(__file__).resolve().parents[1]
PREVIOUS_DEFAULT = "ours-previous"  # the defaults until 2026-11-28: clustered category themes, no "Other" option
ROLES = {"ours": "ours", "ours-previous": "ours, previous defaults", "ours-coder": "ours",
         "bertopic-default": "baseline", "kmeans": "baseline", "lda": "baseline (floor)", "nearest-name": "anchor", "bertopic-zeroshot": "anchor", "ceiling": "ceiling"}


def default_vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words="english")


def score_run(labelled: LabelledSet, run: MethodRun, vectorizer_factory: Callable[[], Any] = default_vectorizer,
              with_words: bool = True) -> dict[str, Any]:
    """Every score of one method run against the gold labels (see benchmarks/metrics.py for the rules)."""
    row: dict[str, Any] = {"n_themes": metrics.count_themes(run.labels),
                           "outlier_share": float(np.mean([label == metrics.UNASSIGNED for label in run.labels]))}
    row.update(metrics.partition_scores(labelled.first_labels, run.labels))
    for rule in ("any", "first"):
        scores = metrics.category_scores(labelled.gold, run.categories, rule)
        row[f"f1_{rule}"] = scores["macro_f1"]
        row[f"accuracy_{rule}"] = scores["accuracy"]
        row[f"classes_hit_{rule}"] = scores["classes_hit"]
        row["n_classes"] = scores["n_classes"]
        row["unassigned_share"] = scores["unassigned_share"]
    if run.forced_categories is not None:
        forced = metrics.category_scores(labelled.gold, run.forced_categories, "any")
        row["f1_any_forced"] = forced["macro_f1"]
        row["unassigned_forced"] = forced["unassigned_share"]
    majority = metrics.majority_categories(labelled.first_labels, run.labels)
    row["f1_majority_map"] = metrics.category_scores(labelled.gold, majority, "any")["macro_f1"]
    if with_words:
        vectorizer = vectorizer_factory()
        words = metrics.top_words(labelled.texts, run.labels, vectorizer)
        row["npmi"] = metrics.npmi_coherence(words, labelled.texts, vectorizer.build_analyzer())
        row["diversity"] = metrics.topic_diversity(words)
    row["theme_seconds"] = run.theme_seconds
    row["map_seconds"] = run.map_seconds
    return row


def _say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _warm_numba() -> float:
    """Compile UMAP/pynndescent's numba code once, so its cost is a column of its own, not the first method's."""
    from umap import UMAP

    start = time.perf_counter()
    UMAP(n_components=2, n_neighbors=5, random_state=0).fit_transform(np.random.default_rng(0).random((40, 8)))
    return time.perf_counter() - start


def embed_texts(texts: list[str], embedder_name: str, cache_dir: str | Path) -> tuple[Any, np.ndarray, dict]:
    """Load the embedder (timed) and embed through the content-addressed cache (timed, hits/misses)."""
    from pipeline.embed import EmbeddingCache, get_embedder

    start = time.perf_counter()
    embedder = get_embedder(embedder_name)
    if hasattr(embedder, "model"):
        embedder.model  # noqa: B018 -- loading is a cost of its own; every method needs it (category names)
    load = time.perf_counter() - start
    start = time.perf_counter()
    embeddings, stats = EmbeddingCache(cache_dir).embed(texts, embedder)
    embed = time.perf_counter() - start
    return embedder, embeddings, {"model_load_s": load, "embed_s": embed, "cache_hits": stats.hits,
                                  "cache_misses": stats.misses}


def benchmark_set(labelled: LabelledSet, methods: list[str], *, embedder_name: str = "minilm-local.v1",
                  cache_dir: str | Path = "outputs/.cache/embeddings", seed: int = 42, n_seeds: int = 2,
                  say: Callable[[str], None] = _say, theme_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every method on one labelled set with shared embeddings; return rows of scores and the timings."""
    say(f"{labelled.name}: {len(labelled)} rows, {len(labelled.categories)} categories; embedding")
    embedder, embeddings, timings = embed_texts(labelled.texts, embedder_name, cache_dir)
    if NEEDS_UMAP & set(methods):
        timings["numba_jit_s"] = _warm_numba()
    context = Context(list(labelled.texts), embeddings, embedder, list(labelled.categories),
                      labelled.first_labels, default_vectorizer, dict(theme_options or {}))
    rows, categories_of = [], {}
    for method in methods:
        seeds = [seed] if method in SINGLE_SEED else [seed + i for i in range(n_seeds)]
        runs: list[MethodRun] = []
        row: dict[str, Any] = {"method": method, "role": ROLES.get(method, "")}
        for run_seed in seeds:
            say(f"{labelled.name}: {method} seed {run_seed}")
            try:
                runs.append(METHODS[method](context, run_seed))
            except Exception as exc:  # noqa: BLE001 -- one failing baseline must not lose the others' results
                row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                say(f"{labelled.name}: {method} failed: {row['error']}")
                break
        if runs:
            categories_of[method] = runs[0].categories
            row.update(score_run(labelled, runs[0], with_words=method != "ceiling"))
            row["info"] = runs[0].info
            if len(runs) > 1:
                row["stability_ari"] = metrics.seed_stability(runs[0].labels, runs[1].labels)
                row["second_seed"] = {k: v for k, v in score_run(labelled, runs[1], with_words=False).items()
                                      if k in ("n_themes", "nmi", "ami", "f1_any", "f1_first", "unassigned_share")}
            row["total_seconds"] = (timings["model_load_s"] + timings["embed_s"] + row["theme_seconds"]
                                    + row["map_seconds"])
        rows.append(row)
    result = {"timings": timings, "rows": rows, "goals": goal_checks(rows)}
    if {"ours", PREVIOUS_DEFAULT} <= set(categories_of):
        # the change of default measured on the same rows: "ours" minus the previous default, paired bootstrap
        result["change_vs_previous"] = {"previous": PREVIOUS_DEFAULT, **metrics.paired_f1_difference(
            labelled.gold, categories_of["ours"], categories_of[PREVIOUS_DEFAULT], seed=seed)}
    return result


def _row(rows: list[dict], method: str) -> dict | None:
    return next((row for row in rows if row["method"] == method and "error" not in row), None)


def goal_checks(rows: list[dict]) -> dict[str, Any]:
    """The product goals of issue 6 and evaluation.md's ceiling target, as measured (None where not run)."""
    ours, bertopic, ceiling = _row(rows, "ours"), _row(rows, "bertopic-default"), _row(rows, "ceiling")

    def ratio(a: dict | None, b: dict | None, key: str) -> float | None:
        return a[key] / b[key] if a and b and b[key] > 0 else None

    goals = {
        "nmi_vs_bertopic": ratio(ours, bertopic, "nmi"), "nmi_vs_bertopic_target": 1.2,
        "f1_vs_bertopic": ratio(ours, bertopic, "f1_any"), "f1_vs_bertopic_target": 1.2,
        "unassigned_ours": ours["unassigned_share"] if ours else None, "unassigned_target": 0.05,
        "unassigned_bertopic": bertopic["unassigned_share"] if bertopic else None,
        "stability_ours": ours.get("stability_ari") if ours else None, "stability_target": 0.9,
        "f1_vs_ceiling_target": 0.8, "ami_vs_ceiling_target": 0.75,
    }
    for method in ("ours", "ours-coder", "nearest-name", "bertopic-zeroshot", "bertopic-default"):
        goals[f"f1_vs_ceiling[{method}]"] = ratio(_row(rows, method), ceiling, "f1_any")
        goals[f"ami_vs_ceiling[{method}]"] = ratio(_row(rows, method), ceiling, "ami")
    return goals


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(result: dict[str, Any]) -> str:
    """The tables for docs/benchmarks.md: one row per method, times in seconds, then the goal lines."""
    data, timings = result["dataset"], result["timings"]
    lines = [f"### {data['name']} ({data['n_scored']} rows scored, {data['n_classes']} gold classes"
             f"{', multi-label' if data['multi_label'] else ''})", "",
             f"Model load {timings['model_load_s']:.1f} s; embedding {timings['embed_s']:.1f} s "
             f"({timings['cache_misses']} encoded, {timings['cache_hits']} from cache); numba JIT warm-up "
             f"{_fmt(timings.get('numba_jit_s'), 1)} s.", "",
             "| method | role | themes | NMI | AMI | ARI | F1 any | F1 first | classes hit | unassigned "
             "| NPMI | diversity | seed ARI | theming s | mapping s | total s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['method']} | {row['role']} | failed: {row['error'][:80]} |" + " |" * 13)
            continue
        lines.append(" | ".join([
            f"| {row['method']}", row["role"], str(row["n_themes"]), _fmt(row["nmi"]), _fmt(row["ami"]),
            _fmt(row["ari"]), _fmt(row["f1_any"]), _fmt(row["f1_first"]),
            f"{row['classes_hit_any']}/{row['n_classes']}", f"{row['unassigned_share']:.1%}",
            _fmt(row.get("npmi")), _fmt(row.get("diversity")), _fmt(row.get("stability_ari")),
            _fmt(row["theme_seconds"], 1), _fmt(row["map_seconds"], 1), _fmt(row.get("total_seconds"), 1)]) + " |")
    lines += ["", "Mapping diagnostics (F1 any): as mapped; with every theme forced to its best category (no "
              "emergent themes); with each theme given its majority gold label (peeks at gold: an upper bound "
              "for the themes, not a result).", "",
              "| method | F1 mapped | F1 forced | outliers (theme -1) | F1 majority map | emergent themes "
              "| own theme stability |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        if "error" not in row and "f1_any_forced" in row:
            info = row.get("info", {})
            lines.append(f"| {row['method']} | {_fmt(row['f1_any'])} | {_fmt(row['f1_any_forced'])} | "
                         f"{row.get('outlier_share', row['unassigned_forced']):.1%} | {_fmt(row['f1_majority_map'])} | "
                         f"{info.get('emergent_themes', '–')}/{row['n_themes']} | "
                         f"{_fmt(info.get('own_stability_weighted'), 2)} |")
    goals = result["goals"]
    ours, bertopic = _row(result["rows"], "ours") or {}, _row(result["rows"], "bertopic-default") or {}
    lines += ["", f"Unassigned share (no category: outlier, or emergent theme when the list has no catch-all option): "
              f"ours {_pct(goals['unassigned_ours'])} (target < 5%; outliers {_pct(_outliers(ours))}), BERTopic "
              f"default {_pct(goals['unassigned_bertopic'])} (outliers {_pct(_outliers(bertopic))}). "
              + _emergent_note(ours, data),
              f"Ours vs BERTopic default: NMI x{_fmt(goals['nmi_vs_bertopic'], 2)}, macro-F1 (any) "
              f"x{_fmt(goals['f1_vs_bertopic'], 2)} (target x1.2 each); seed ARI "
              f"{_fmt(goals['stability_ours'], 2)} (target 0.9).",
              "Share of the ceiling (F1 any / AMI; target 0.8 / 0.75): " + "; ".join(
                  f"{m} {_fmt(goals[f'f1_vs_ceiling[{m}]'], 2)} / {_fmt(goals[f'ami_vs_ceiling[{m}]'], 2)}"
                  for m in ("ours", "ours-coder", "nearest-name", "bertopic-zeroshot", "bertopic-default")) + "."]
    change = result.get("change_vs_previous")
    if change:
        lines.append(f"Change of default (ours minus {change['previous']}, macro-F1 any, same rows): "
                     f"{change['difference']:+.3f}, 95% paired bootstrap interval [{change['low']:+.3f}, "
                     f"{change['high']:+.3f}] ({change['n_resamples']} resamples).")
    lines.append("")
    return "\n".join(lines)


def summary_markdown(results: list[dict[str, Any]]) -> str:
    """One line per set: where the product stands against the goals (issue 6) and the ceiling target."""
    lines = ["| set | rows | ours NMI / BERTopic | x | ours F1 / BERTopic | x | unassigned ours / BERTopic "
             "(outliers) | ours seed ARI | ours F1, AMI / ceiling | coder F1, AMI / ceiling "
             "| F1 change vs previous defaults [95% CI] |",
             "|---|---:|---|---:|---|---:|---|---:|---|---|---|"]
    for result in results:
        rows, goals = result["rows"], result["goals"]
        ours, bertopic = _row(rows, "ours") or {}, _row(rows, "bertopic-default") or {}
        lines.append(" | ".join([
            f"| {result['dataset']['name']}", str(result["dataset"]["n_scored"]),
            f"{_fmt(ours.get('nmi'))} / {_fmt(bertopic.get('nmi'))}", _fmt(goals["nmi_vs_bertopic"], 2),
            f"{_fmt(ours.get('f1_any'))} / {_fmt(bertopic.get('f1_any'))}", _fmt(goals["f1_vs_bertopic"], 2),
            f"{_pct(ours.get('unassigned_share'))} ({_pct(_outliers(ours))}) / "
            f"{_pct(bertopic.get('unassigned_share'))} ({_pct(_outliers(bertopic))})",
            _fmt(ours.get("stability_ari"), 2),
            f"{_fmt(goals['f1_vs_ceiling[ours]'], 2)}, {_fmt(goals['ami_vs_ceiling[ours]'], 2)}",
            f"{_fmt(goals['f1_vs_ceiling[ours-coder]'], 2)}, {_fmt(goals['ami_vs_ceiling[ours-coder]'], 2)}",
            _change(result.get("change_vs_previous"))]) + " |")
    return "\n".join(lines)


def _emergent_note(ours: dict, data: dict) -> str:
    """Ours: the share of segments in emergent themes, and the catch-all category they count under, if any."""
    from pipeline.categories import is_residual
    from pipeline.core.records import Category

    emergent = (ours.get("info") or {}).get("coding", {}).get("emergent_segments")
    if emergent is None or not data.get("n_scored"):
        return ""
    residual = [name for name in data.get("categories", []) if is_residual(Category("x", name))]
    where = (f"counted under the list's catch-all option \u201c{residual[0]}\u201d, so not unassigned" if residual
             else "no catch-all option in the list, so unassigned")
    return f"Ours puts {emergent / data['n_scored']:.1%} of segments in emergent themes ({where})."


def _change(change: dict | None) -> str:
    if not change:
        return "–"
    return f"{change['difference']:+.3f} [{change['low']:+.3f}, {change['high']:+.3f}]"


def _outliers(row: dict) -> float | None:
    return row.get("outlier_share", row.get("unassigned_forced"))


def render(results_dir: str | Path) -> str:
    """The markdown of every saved result, summary first (no re-run)."""
    results = [json.loads(path.read_text(encoding="utf-8"))
               for path in sorted(Path(results_dir).glob("quality-*.json"))]
    return "\n\n".join([summary_markdown(results)] + [markdown(result) for result in results])


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def machine() -> dict[str, Any]:
    import platform

    import sklearn

    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus_usable": len(os.sched_getaffinity(0)), "sklearn": sklearn.__version__}
    try:
        model = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        info["cpu"] = model[0].split(":", 1)[1].strip() if model else ""
        mem = [line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")]
        info["memory_gb"] = round(int(mem[0].split()[1]) / 1e6, 1) if mem else None
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    for package in ("torch", "sentence-transformers", "bertopic", "umap-learn", "hdbscan", "onnxruntime"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    # the machine is shared: the load when the run started (1, 5, 15 minutes), read beside every timing
    info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    info["started_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    return info


def parse_theme_options(items: list[str]) -> dict[str, Any]:
    """``["key=value", ...]`` -> ``{key: value}`` with TOML values, checked against ThemesConfig's fields."""
    import tomllib
    from pipeline.core.config import ThemesConfig

    known = set(ThemesConfig.model_fields)
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in known:
            raise PipelineError(f"--theme-option {item!r}: expected KEY=VALUE with KEY one of "
                                f"{', '.join(sorted(known))}")
        try:
            options[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            options[key.strip()] = value.strip()  # a bare word: a string
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", default="all",
                        help="a set name, a folder of ../shared/data, a labelled CSV/TSV, or 'all' (default)")
    parser.add_argument("--text-col")
    parser.add_argument("--label-col")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--max-rows", type=int, default=3000, help="seeded stratified sample per set (0 = all rows)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from: {', '.join(METHODS)}")
    parser.add_argument("--pseudo-labels", choices=PSEUDO_RULES, default="exclude",
                        help="pseudo-labels (non-answer codes): drop them, or keep them as a class")
    parser.add_argument("--embedder", default="minilm-local.v1")
    parser.add_argument("--cache-dir", default="outputs/.cache/embeddings")
    parser.add_argument("--results-dir", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--markdown", help="also append the tables to this file")
    parser.add_argument("--render", action="store_true", help="only print the tables of the saved results")
    parser.add_argument("--theme-option", action="append", default=[], metavar="KEY=VALUE",
                        help="override one [themes] setting for the ours methods (TOML value), e.g. "
                             "off_list_elevation=0.25; repeatable")
    args = parser.parse_args(argv)
    if args.render:
        print(render(args.results_dir))
        return 0
    warnings.filterwarnings("ignore", message="n_jobs value .* overridden")  # a seeded UMAP runs single-threaded
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    try:
        theme_options = parse_theme_options(args.theme_option)
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise PipelineError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
        specs = resolve_specs(args.target, args.text_col, args.label_col, args.data_dir)
        results_dir = Path(args.results_dir)
        results_dir.mkdir(parents=True, exist_ok=True)
        command = "python -m benchmarks.quality " + " ".join(argv if argv is not None else sys.argv[1:])
        for spec in specs:
            full = load_labelled(spec, args.data_dir, args.pseudo_labels)
            labelled = stratified_sample(full, args.max_rows or None, args.seed)
            started = time.perf_counter()
            result = benchmark_set(labelled, methods, embedder_name=args.embedder, cache_dir=args.cache_dir,
                                   seed=args.seed, theme_options=theme_options)
            result["dataset"] = {
                "name": labelled.name, "source": labelled.source, "n_read": labelled.n_read,
                "n_usable": len(full), "n_scored": len(labelled), "dropped": labelled.dropped,
                "categories": labelled.categories, "n_classes": len(set(labelled.first_labels)),
                "multi_label": labelled.multi_label, "pseudo_labels": spec.pseudo_labels,
                "pseudo_rule": labelled.pseudo_rule, "max_rows": args.max_rows, "sample_seed": args.seed,
                "note": labelled.note}
            result.update({"command": command, "theme_options": theme_options, "embedder": args.embedder,
                           "machine": machine(), "wall_seconds": time.perf_counter() - started,
                           "finished": datetime.now(UTC).isoformat(timespec="seconds")})
            out = results_dir / f"quality-{labelled.name}.json"
            out.write_text(json.dumps(_finite(result), indent=1, default=_json_default), encoding="utf-8")
            table = markdown(result)
            print(table, flush=True)
            if args.markdown:
                with open(args.markdown, "a", encoding="utf-8") as handle:
                    handle.write(table + "\n")
            _say(f"{labelled.name}: wrote {out}")
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _finite(value: Any) -> Any:
    """NaN (e.g. NPMI of a method with no multi-word theme) becomes null, so the file is strict JSON."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
