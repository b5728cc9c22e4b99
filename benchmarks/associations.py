"""Does the crosstab find the rating associations planted in the sample corpus?

docs/corpus.md tags every sample answer with its themes and says how the ratings were drawn: writing about a
category goes with rating it a major barrier, for eight of the nine categories (social care funding is the planned
"no association" case). This script runs the product's own association code (``pipeline.analysis``) twice:

1. **tags**: the themes are docs/corpus.md's tags (membership read from its table), each tag standing for the
   closed categories the table maps it to (funding for both funding columns, accountability for targets and
   incentives), over the respondents the product counts (kept free text, after ingest and clean);
2. **product**: the themes of a real run, read from its crosstab.csv (``--run outputs/corpus``).

Usage (from the repo root; the tags part needs no model, about 20 s)::

    python -m benchmarks.associations                       # tags only
    python -m benchmarks.associations --run outputs/corpus  # and a completed run's own themes

Results: ``benchmarks/results/associations.json`` and the markdown tables printed.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CORPUS_DOC = REPO / "docs" / "corpus.md"
RESULTS = REPO / "benchmarks" / "results" / "associations.json"

_TAG_ROW = re.compile(r"^\| (?P<tag>[^|]+?) \| (?P<n>\d+) \| (?P<maps>[^|]+?) \| (?P<ids>[\d ]+) \|$")
_RATING_ROW = re.compile(r"^\| (?P<category>[a-z_]+) \| (?P<n>\d+) \| (?P<major>[\d.]+) \| \d+ \| (?P<base>[\d.]+) \|$")
_EXCEPTION = re.compile(r"The exception is `rating_(?P<category>[a-z_]+)`")


def read_tags(text: str) -> list[dict[str, Any]]:
    """docs/corpus.md's theme table: each tag's respondents and the category ids it maps to (backticked)."""
    tags = []
    for line in text.splitlines():
        match = _TAG_ROW.match(line.strip())
        if match:
            tags.append({"tag": match["tag"], "n": int(match["n"]),
                         "categories": re.findall(r"`([a-z_]+)`", match["maps"]),
                         "respondents": [f"R{number}" for number in match["ids"].split()]})
    return tags


def planted(text: str) -> tuple[list[str], str | None]:
    """(categories of the ratings table, the one docs/corpus.md names as the no-association case)."""
    categories = [m["category"] for line in text.splitlines() if (m := _RATING_ROW.match(line.strip()))]
    exception = _EXCEPTION.search(text)
    return categories, exception["category"] if exception else None


def kept_text(corpus: Path):
    """The sample corpus through the product's ingest and clean stages (no model): its RunResult."""
    from pipeline.core.config import load_config
    from pipeline.runner import run

    return run(corpus, load_config(corpus / "pipeline.toml"), until="ingest")


def tag_run(result, tags: list[dict[str, Any]], test: str):
    """The crosstab of the tags as themes over ``result`` (:func:`kept_text`), through the product's own
    association code: (cells, theme labels, respondents with kept text)."""
    from pipeline.analysis.association import crosstab
    from pipeline.core.records import UNASSIGNED, Assignment, Theme

    config = result.config.mapping.model_copy(update={"association_test": test})
    themes, merged = [], {}
    for theme_id, tag in enumerate(tags):
        first = tag["categories"][0] if tag["categories"] else None
        themes.append(Theme(theme_id, tag["tag"], (), tag["n"], 1.0, category_id=first, emergent=first is None))
        if len(tag["categories"]) > 1:
            merged[theme_id] = tuple(tag["categories"][1:])
    carried: dict[str, list[int]] = {}
    for theme_id, tag in enumerate(tags):
        for respondent in tag["respondents"]:
            carried.setdefault(respondent, []).append(theme_id)
    assignments = []
    for segment in result.segments:
        ids = carried.get(segment.respondent_id, [])
        primary = ids[0] if ids else UNASSIGNED
        assignments.append(Assignment(segment.segment_id, primary, 1.0, tuple((t, 1.0) for t in ids[1:])))
    cells = crosstab(result.answers, result.segments, assignments, themes, result.categories, config, merged)
    return cells, {t.theme_id: t.label for t in themes}, len({s.respondent_id for s in result.segments})


def primary_table(cells, labels: dict[int, str], alpha: float) -> list[dict[str, Any]]:
    rows = []
    for cell in cells:
        if cell.family != "primary":
            continue
        rows.append({"theme": labels.get(cell.theme_id, str(cell.theme_id)), "category": cell.category_id,
                     "n_with": cell.n_with, "major_with": cell.barrier_with, "n_without": cell.n_without,
                     "major_without": cell.barrier_without, "risk_difference": round(cell.risk_difference, 3),
                     "rd_low": round(cell.risk_difference_low, 3), "rd_high": round(cell.risk_difference_high, 3),
                     "odds_ratio": round(cell.odds_ratio, 2), "p": cell.p_value, "p_adjusted": cell.p_adjusted,
                     "test": cell.test, "small_cell": cell.small_cell,
                     "found": cell.p_adjusted == cell.p_adjusted and cell.p_adjusted < alpha})
    return rows


def _carriers(run_dir: Path) -> dict[str, set[str]]:
    """theme id -> respondents carrying it (primary or secondary), from the run's segments.csv."""
    carriers: dict[str, set[str]] = {}
    with (run_dir / "segments.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            ids = [row["theme_id"]] + [part.split(":")[0].strip() for part in row["secondary"].split(";") if part.strip()]
            for theme_id in ids:
                carriers.setdefault(theme_id, set()).add(row["respondent_id"])
    return carriers


def _number(text: str) -> float:
    return float(text) if text not in ("", "nan") else float("nan")


def product_table(run_dir: Path, tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A completed run's primary cells, from its crosstab.csv, with how well each theme's respondents match the
    tag that stands for the same category (precision and recall against docs/corpus.md's membership)."""
    with (run_dir / "crosstab.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    carriers = _carriers(run_dir)
    tag_of = {category: set(tag["respondents"]) for tag in tags for category in tag["categories"]}
    out = []
    for row in rows:
        if row.get("family") != "primary":
            continue
        mine, tagged = carriers.get(row["theme_id"], set()), tag_of.get(row["category_id"], set())
        out.append({"theme": row["theme_label"], "category": row["category_id"], "n_with": int(row["n_with"]),
                    "major_with": int(row["barrier_with"]), "n_without": int(row["n_without"]),
                    "major_without": int(row["barrier_without"]),
                    "risk_difference": round(_number(row["risk_difference"]), 3),
                    "rd_low": round(_number(row["risk_difference_low"]), 3),
                    "rd_high": round(_number(row["risk_difference_high"]), 3),
                    "p_adjusted": _number(row["p_adjusted"]), "test": row["test"],
                    "small_cell": row["small_cell"] == "True", "found": row["significant"] == "True",
                    "tag_precision": round(len(mine & tagged) / len(mine), 2) if mine else 0.0,
                    "tag_recall": round(len(mine & tagged) / len(tagged), 2) if tagged else 0.0})
    return out


def found_categories(rows: list[dict[str, Any]], expected: list[str]) -> list[str]:
    return sorted({r["category"] for r in rows if r["found"] and r["category"] in expected})


def markdown(rows: list[dict[str, Any]], title: str) -> str:
    lines = [f"**{title}**", "", "| theme | category | major with / without | difference [95% CI] | p (adj.) | found |",
             "|---|---|---|---|---:|---|"]
    with_tags = any("tag_recall" in r for r in rows)
    if with_tags:
        lines[2] += " respondents vs the tag (precision / recall) |"
        lines[3] += "---|"
    for r in rows:
        ci = f" [{r['rd_low']:+.2f}, {r['rd_high']:+.2f}]" if "rd_low" in r else ""
        small = " (small cell)" if r.get("small_cell") else ""
        tag = f" {r['tag_precision']:.2f} / {r['tag_recall']:.2f} |" if with_tags else ""
        lines.append(f"| {r['theme'][:40]} | {r['category']} | {r['major_with']}/{r['n_with']} vs "
                     f"{r['major_without']}/{r['n_without']} | {r['risk_difference']:+.2f}{ci} | "
                     f"{r['p_adjusted']:.2g} | {'yes' if r['found'] else 'no'}{small} |{tag}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--run", type=Path, default=None, help="a completed run of the sample corpus")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    text = CORPUS_DOC.read_text(encoding="utf-8")
    tags = read_tags(text)
    categories, exception = planted(text)
    expected = [c for c in categories if c != exception]
    report: dict[str, Any] = {"expected": expected, "no_association": exception, "tags": {}}
    prepared = kept_text(args.corpus)
    for test in ("major-vs-rest", "trend"):
        cells, labels, n_respondents = tag_run(prepared, tags, test)
        rows = primary_table(cells, labels, 0.05)
        found = found_categories(rows, expected)
        report["tags"][test] = {"respondents": n_respondents, "found": found, "n_found": len(found),
                                "exception_found": any(r["found"] and r["category"] == exception for r in rows),
                                "primary": rows}
        print(markdown(rows, f"Tags as themes, {test}: {len(found)} of {len(expected)} planted associations "
                             f"found ({n_respondents} respondents with kept text)"), end="\n\n")
    if args.run is not None:
        rows = product_table(args.run, tags)
        found = found_categories(rows, expected)
        report["product"] = {"run": str(args.run), "found": found, "n_found": len(found), "primary": rows}
        print(markdown(rows, f"Product themes ({args.run}): {len(found)} of {len(expected)} planted associations "
                             "found"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
