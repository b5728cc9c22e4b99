"""A small survey written for the workspace and export tests (fixtures `finished_run` and `fresh_run` in
tests/conftest.py): run with the fake embedder, no model."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.conftest import TINY_TOPICS

HOSTILE_ANSWER = "Boards meet <script>alert('x')</script> and {{7*7}} nothing changes."
FORMULA_ANSWER = "=HYPERLINK(\"http://example.invalid\") staff time is short."
EMOJI_ANSWER = "Our team \U0001F642 has no staff time. The footprint boundary \U0001F30D is wrong too."
ROLES = ["Chair", "Finance lead", "Accountable officer"]
REGIONS = ["North", "South"]
RATINGS = ["major barrier", "small barrier", "not a barrier"]

CATEGORIES_YAML = """\
categories:
  - id: staff
    label: Lack of staff capacity
    description: Not enough staff time or capacity for the planning work.
    keywords: [staff, capacity, team]
    rating_column: rating_staff
  - id: footprint
    label: Clashes over planning footprints
    description: The footprint boundaries do not match councils or patient flows.
    keywords: [footprint, boundary]
    rating_column: rating_footprint
  - id: money
    label: Insufficient funding
    description: Budgets and social care funding are short.
    keywords: [funding, budget]
"""


def survey_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["respondent_id", "role", "region", "rating_staff", "rating_footprint", "other_barriers"])
    texts = [text for sentences in TINY_TOPICS.values() for text in sentences] + [HOSTILE_ANSWER, FORMULA_ANSWER, EMOJI_ANSWER]
    for k, text in enumerate(texts, 1):
        writer.writerow([f"R{k:02d}", ROLES[k % 3], REGIONS[k % 2], RATINGS[k % 3], RATINGS[(k + 1) % 3], text])
    return out.getvalue()


def write_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "survey.csv").write_text(survey_csv(), encoding="utf-8")
    (corpus / "categories.yaml").write_text(CATEGORIES_YAML, encoding="utf-8")
    (corpus / "pipeline.toml").write_text(
        '[ingest]\ntext_column = "other_barriers"\nid_column = "respondent_id"\n'
        f'[embed]\nmodel = "fake-hash.v1"\ncache_dir = "{(root / "cache").as_posix()}"\n'
        '[themes]\nn_seeds = 3\n', encoding="utf-8")
    return corpus


def run_corpus(root: Path):
    from pipeline import runner
    from pipeline.core.config import load_config

    corpus = root / "corpus"
    config = load_config(corpus / "pipeline.toml")
    runner.run(corpus, config, root / "outputs" / "corpus", until="report", model_dir=root / "models")
    return config




def make_workspace(run: dict, who: str = "tester"):
    from pipeline.workspace import Workspace

    return Workspace(run["out"], run["corpus"], run["config"], who, model_dir=run["models"])
