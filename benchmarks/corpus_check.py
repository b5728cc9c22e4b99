"""Sample-corpus check (issue 12): where each docs/corpus.md tag's answers go, at several seeds, on the corpus as
shipped and after a second wave of 40 answers (``benchmarks/data/corpus_wave2.csv``, written by us, with its tags
in ``corpus_wave2_tags.json``).

    python -m benchmarks.corpus_check                     # seeds 42,43,44; corpus and corpus + wave 2
    python -m benchmarks.corpus_check --seeds 42 --corpora base

An answer is "in" a theme when one of its segments is. Politics and timescale (not on the closed list): the
emergent theme with the best min(precision, recall) over answers. Listed tags: recall = share of the tag's answers
with a segment in the theme of (one of) its categories. Results: ``benchmarks/results/corpus-check.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
import warnings
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
TAG_CATEGORIES = {  # docs/corpus.md: the closed categories each tag maps to (none: emergent or not planted)
    "capacity": ["capacity"], "funding": ["social_care_funding", "nhs_funding"],
    "leadership and trust": ["leader_approach"], "accountability and regulation": ["national_incentives", "own_targets"],
    "timescale": [], "politics": [], "hospital activity": ["hospital_activity"], "footprints": ["footprints"],
    "public and staff engagement": [], "clinicians' self-interest": ["clinician_self_interest"],
    "shared data": ["leader_approach"], "estates and IT": [],
}
EMERGENT_TAGS = ("politics", "timescale")


def _tag_name(cell: str) -> str:
    cell = cell.strip().lower()
    if cell == "engagement":
        cell = "public and staff engagement"
    for name in TAG_CATEGORIES:
        if cell.startswith(name.lower()[:8]):
            return name
    raise KeyError(cell)


def corpus_tags(with_wave2: bool) -> dict[str, set[str]]:
    """respondent -> tags, from the table in docs/corpus.md (and the second wave's own tags)."""
    tags: dict[str, set[str]] = defaultdict(set)
    for line in (REPO / "docs" / "corpus.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"(\d{3} ?)+", cells[3]):
            for number in cells[3].split():
                tags[f"R{number}"].add(_tag_name(cells[0]))
    if with_wave2:
        for rid, names in json.loads((DATA / "corpus_wave2_tags.json").read_text()).items():
            tags[rid].update(_tag_name(n) for n in names)
    return tags


def corpus_folder(with_wave2: bool, work: Path) -> Path:
    if not with_wave2:
        return REPO / "corpus"
    folder = work / "corpus"
    shutil.copytree(REPO / "corpus", folder, ignore=shutil.ignore_patterns("labels.*"))
    shutil.copy(DATA / "corpus_wave2.csv", folder / "wave2.csv")
    return folder


def run_corpus(folder: Path, seed: int, cache_dir: str | None, overrides: dict | None = None):
    from pipeline.core.config import load_config
    from pipeline.runner import run

    config = load_config(folder / "pipeline.toml", {**(overrides or {}), "seed": seed})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(folder, config, None, until="report", cache_dir=cache_dir)


def score(result, tags: dict[str, set[str]]) -> dict:
    """Per tag: where its answers go (see the module docstring)."""
    respondent_of = {s.segment_id: s.respondent_id for s in result.segments}
    answers_in: dict[int, set[str]] = defaultdict(set)
    for a in result.assignments:
        answers_in[a.theme_id].add(respondent_of[a.segment_id])
    themes = {t.theme_id: t for t in result.themes}
    emergent = [t for t, th in themes.items() if th.emergent]
    present = set(respondent_of.values())
    in_emergent = set().union(*[answers_in[t] for t in emergent] or [set()])
    out = {}
    for tag, wanted in TAG_CATEGORIES.items():
        have = {r for r in present if tag in tags.get(r, set())}
        if not have:
            continue
        row: dict = {"answers": len(have), "in_any_emergent": round(len(have & in_emergent) / len(have), 3)}
        if not wanted:
            best = (0.0, 0.0, None)
            for t in emergent:
                hit = len(answers_in[t] & have)
                p, r = hit / max(len(answers_in[t]), 1), hit / len(have)
                if best[2] is None or min(p, r) > min(best[0], best[1]):
                    best = (p, r, t)
            row.update(precision=round(best[0], 3), recall=round(best[1], 3),
                       theme=themes[best[2]].label if best[2] is not None else None)
        else:
            inside = set().union(*[answers_in[t] for t, th in themes.items()
                                   if not th.emergent and th.category_id in wanted] or [set()])
            row["category_recall"] = round(len(inside & have) / len(have), 3)
        spread = sorted(((len(answers_in[t] & have), themes[t].label if t in themes else str(t)) for t in answers_in),
                        reverse=True)[:4]
        row["top_themes"] = [f"{label}: {k}" for k, label in spread if k]
        out[tag] = row
    return {"tags": out, "emergent_themes": {themes[t].label: len(answers_in[t]) for t in emergent}}


def goals(scored: dict) -> dict:
    tags = scored["tags"]
    return {"emergent_ok": all(tags[t]["precision"] >= 0.7 and tags[t]["recall"] >= 0.7
                               for t in EMERGENT_TAGS if t in tags),
            "listed_ok": all(row["category_recall"] >= 0.7 for row in tags.values() if "category_recall" in row)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus_check", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--corpora", default="base,wave2")
    parser.add_argument("--cache-dir", default=str(REPO / "outputs" / ".cache"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "corpus-check.json"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. themes.off_list_rule=score (repeatable)")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:  # a TOML value (0.5, true, "x"); a bare word is a string
            overrides[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key] = value
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for corpus in args.corpora.split(","):
            folder = corpus_folder(corpus == "wave2", Path(work))
            tags = corpus_tags(corpus == "wave2")
            for seed in [int(s) for s in args.seeds.split(",")]:
                scored = score(run_corpus(folder, seed, args.cache_dir, overrides), tags)
                entry = {"corpus": corpus, "seed": seed, **scored, "goals": goals(scored)}
                runs.append(entry)
                t = scored["tags"]
                print(f"{corpus} seed {seed}: " + "; ".join(
                    f"{k} P {t[k]['precision']:.2f} R {t[k]['recall']:.2f}" for k in EMERGENT_TAGS if k in t)
                    + " | listed recall " + " ".join(f"{k[:8]} {v['category_recall']:.2f}" for k, v in t.items()
                                                     if "category_recall" in v) + f" | {entry['goals']}", flush=True)
    command = " ".join(["python -m benchmarks.corpus_check", *(argv if argv is not None else sys.argv[1:])])
    Path(args.out).write_text(json.dumps({"command": command, "overrides": overrides, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
