"""The docs/benchmarks.md tables from benchmarks/results/trained-<set>.json (``python -m benchmarks.trained --render``)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ANCHOR_TABLE = {"airline": (0.63, 0.72, 0.75), "nhs-fft-phase1": (0.62, 0.70, 0.76)}  # the measured anchor


def _load(results_dir: Path, names) -> dict:
    out = {}
    for name in names:
        path = Path(results_dir) / f"trained-{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def _cell(values, suffix="x") -> str:
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "–"
    return f"{np.mean(values):.2f}{suffix}" + (f" ±{np.std(values):.2f}" if len(values) > 1 else "")


def _runs(result, selector, k):
    return [s[selector].get(str(k)) for s in result["per_seed"] if s.get(selector, {}).get(str(k))]


def headline(results: dict) -> str:
    lines = ["| set | rows / codes | ceiling F1 | label-free | LR anchor, k per code: k=5 / 10 / 20 | trained, k per "
             "code | trained, random sample | **trained, active (with audit rows)** | active without audit rows | "
             "active k=10, held-out rows |",
             "|---|---|---:|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        def series(selector, method):
            return " / ".join(_cell([x[method]["share_any"] for x in _runs(r, selector, k)]) for k in r["ks"])
        lf = _cell([x["label_free"]["share_any"] for x in _runs(r, "random-per-code", 10)])
        held = _cell([x["trained"]["test"]["share_any"] for x in _runs(r, "active", 10)])
        lines.append(f"| {name} | {r['rows']} / {r['codes']} | {r['ceiling']['f1_any']:.3f} | {lf} | "
                     f"{series('random-per-code', 'anchor')} | {series('random-per-code', 'trained')} | "
                     f"{series('random', 'trained')} | {series('active', 'trained')} | "
                     f"{series('active-no-audit', 'trained')} | {held} |")
    return "\n".join(lines)


def versus_label_free(results: dict) -> str:
    lines = ["| set | selector | k=5 | k=10 | k=20 |", "|---|---|---|---|---|"]
    for name, r in results.items():
        for selector in ("random-per-code", "random", "active", "active-no-audit"):
            cells = []
            for k in r["ks"]:
                runs = _runs(r, selector, k)
                if not runs:
                    continue
                low = min(x["vs_label_free"]["low"] for x in runs)
                diff = np.mean([x["vs_label_free"]["difference"] for x in runs])
                cells.append(f"{diff:+.3f} (lowest bound {low:+.3f})")
            if cells:
                lines.append(f"| {name} | {selector} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def accuracy_coverage(results: dict) -> str:
    lines = ["| set | selector | estimator | covers gold (share of seeds x k) | mean error (estimate - gold) |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        for selector in ("random", "active", "active-no-audit", "random-per-code"):
            runs = [x for k in r["ks"] for x in _runs(r, selector, k)]
            for est in ("headline", "cv_random", "calibrated", "cv", "audit"):
                got = [x["accuracy"][est] for x in runs if est in x["accuracy"]]
                if not got:
                    continue
                n = f" (n {min(g['n'] for g in got)}-{max(g['n'] for g in got)})" if est in ("cv_random", "headline") else ""
                lines.append(f"| {name} | {selector} | {est}{n} | {np.mean([g['covers'] for g in got]):.2f} "
                             f"({len(got)}) | {np.mean([g['estimate'] - g['truth_first'] for g in got]):+.3f} |")
    return "\n".join(lines)


def theme_codes(results: dict) -> str:
    lines = ["| set | selector | k | label-free | trained | themes (trained above the threshold, else label-free) | "
             "themes minus label-free (lowest 95% bound over seeds) |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        for selector in ("active", "random"):
            for k in r["ks"]:
                runs = [x for x in _runs(r, selector, k) if "themes" in x]
                if not runs:
                    continue
                low = min(x["themes_vs_label_free"]["low"] for x in runs)
                diff = np.mean([x["themes_vs_label_free"]["difference"] for x in runs])
                lines.append(f"| {name} | {selector} | {k} | "
                             + " | ".join(_cell([x[m]["share_any"] for x in runs]) for m in ("label_free", "trained",
                                                                                             "themes"))
                             + f" | {diff:+.3f} ({low:+.3f}) |")
    return "\n".join(lines)


def withheld(results: dict) -> str:
    lines = ["| set | code withheld from the list | F1 listed | added with its name as definition | added, "
             "examples only |", "|---|---|---|---|---|"]
    for name, r in results.items():
        for code in dict.fromkeys(row["code"] for row in r["withheld"] or ()):
            rows = [row for row in r["withheld"] if row["code"] == code]
            lines.append(f"| {name} | {code} | " + " | ".join(
                _cell([row[v] for row in rows], "") for v in ("listed", "added_with_definition",
                                                              "added_examples_only")) + " |")
    return "\n".join(lines)


def timings(results: dict) -> str:
    lines = ["| set | rows | label-free prior s | density s | retrain s (mean / max over the active run) | select one "
             "batch s | whole set s |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        curve = [step for c in r["curves"] for step in c]
        fits = [s["fit_s"] for s in curve]
        lines.append(f"| {name} | {r['rows']} | {r['timings']['label_free_prior_s']:.2f} | "
                     f"{r['timings']['density_s']:.2f} | {np.mean(fits):.2f} / {np.max(fits):.2f} | "
                     f"{np.mean([s['select_s'] for s in curve]):.3f} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def render(results_dir: Path, names) -> str:
    results = _load(results_dir, names)
    parts = [("Macro-F1 on the uncoded rows as a share of the ceiling (rule any; mean ±sd over seeds)", headline),
             ("Trained minus label-free macro-F1 (paired bootstrap, 95%)", versus_label_free),
             ("Does the estimated accuracy cover the accuracy measured with gold?", accuracy_coverage),
             ("The codes that decide the category themes", theme_codes),
             ("Codes beyond the list (k = 10 per code)", withheld), ("Times (2 cores, shared)", timings)]
    return "\n\n".join(f"#### {title}\n\n{build(results)}" for title, build in parts)
