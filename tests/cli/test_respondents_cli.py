"""A whole run on a small survey written for this test (fake embedder): respondent attributes reach every output,
extra rating columns give crosstab rows, `pipeline quotes --n` is honoured beyond quotes.per_theme, and
`pipeline validate sample` never overwrites coded work without --force."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()

CONFIG = """[ingest]
text_column = "answer"
rating_columns = ["confidence"]
[embed]
model = "fake-hash.v1"
cache_dir = "cache"
[themes]
n_seeds = 2
[quotes]
per_theme = 2
min_chars = 20
confident_share = 1.0
[mapping.rating_scales]
confidence = ["very low", "low", "high", "very high"]
"""
CATEGORIES = """categories:
  - id: staff
    label: Lack of staff capacity
    keywords: [staff, managers, time, capacity]
    rating_column: rating_staff
  - id: money
    label: Insufficient social care money
    keywords: [money, social care, council budget]
    rating_column: rating_money
"""
STAFF = ["We have too few staff with time to plan the work.", "Our managers have no time left for planning.",
         "Staff time for planning is very short in this area.", "Nobody on the staff has time to think ahead.",
         "The planning team is two managers and no analysts.", "Capacity of our staff is gone after the cuts.",
         "Our staff are exhausted and the managers have left.", "Too few managers are left to run the planning."]
MONEY = ["There is no money left for social care packages.", "Council money for social care keeps falling.",
         "Social care money has been cut again this year.", "The council budget for care is far too small.",
         "Money for care homes has dried up in the county.", "Social care funding from the council is shrinking."]
ROLES, REGIONS = ["Chair", "Finance lead"], ["North", "South", "London"]


def _survey() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["respondent_id", "role", "region", "rating_staff", "rating_money", "confidence", "answer"])
    for i, text in enumerate(STAFF + MONEY, start=1):
        staff = i <= len(STAFF)
        writer.writerow([f"P{i:02d}", ROLES[i % 2], REGIONS[i % 3],
                         "major barrier" if staff else ("Don't know" if i % 4 == 0 else "small barrier"),
                         "not a barrier" if staff else "major barrier", ["low", "high", "very high"][i % 3], text])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    work = tmp_path_factory.mktemp("respondents")
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "pipeline.toml").write_text(CONFIG, encoding="utf-8")
    (corpus / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    (corpus / "survey.csv").write_text(_survey(), encoding="utf-8")
    previous = os.getcwd()
    os.chdir(work)
    try:
        result = runner.invoke(app, ["run", "corpus"], catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    return work / "outputs" / "corpus", work


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_cli_attributes_reach_segments_quotes_and_the_answer_table(run_dir):
    out, _ = run_dir
    segments = read(out / "segments.csv")
    assert {"attr_role", "attr_region"} <= set(segments[0]) and "attr_confidence" not in segments[0]  # a rating now
    p03 = next(s for s in segments if s["respondent_id"] == "P03")
    assert (p03["attr_role"], p03["attr_region"]) == ("Finance lead", "North")
    quotes = read(out / "quotes.csv")
    assert all("role=" in q["attributes"] and q["answer"] for q in quotes)
    answers = read(out / "theme_answers.csv")
    assert {"rating:rating_staff", "rating:confidence", "attr_role", "answer"} <= set(answers[0])
    dont_know = [a for a in answers if a["respondent_id"] == "P12"]
    assert dont_know and all(a["rating:rating_staff"] == "" for a in dont_know)  # not rated, as in the crosstab


def test_cli_theme_attribute_matrix_counts_respondents(run_dir):
    out, _ = run_dir
    cells = read(out / "theme_attributes.csv")
    assert {c["attribute"] for c in cells} == {"role", "region"}
    themes = {c["theme_id"] for c in cells}
    for theme in themes:
        for attribute in ("role", "region"):
            mine = [c for c in cells if c["theme_id"] == theme and c["attribute"] == attribute]
            assert sum(int(c["n"]) for c in mine) == int(mine[0]["n_theme"])
            assert all(float(c["row_low"]) <= float(c["row_share"]) <= float(c["row_high"]) for c in mine)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="attribute-role"' in html and 'id="attribute-region"' in html


def test_cli_extra_rating_column_gives_crosstab_rows(run_dir):
    out, _ = run_dir
    rows = [r for r in read(out / "crosstab.csv") if r["category_id"] == "confidence"]
    assert rows and {r["family"] for r in rows} == {"exploratory"}
    assert {r["levels"] for r in rows} == {"very low; low; high; very high"}
    assert "No structured ratings" not in (out / "report.md").read_text(encoding="utf-8")


def test_cli_quotes_n_is_honoured_beyond_what_the_run_stored(run_dir, monkeypatch):
    out, work = run_dir
    monkeypatch.chdir(work)
    stored = read(out / "quotes.csv")
    # every theme stores quotes.per_theme quotes, so take the largest theme with stored quotes (ties by id, never by
    # set order, which PYTHONHASHSEED changes): it is the one with material for 5
    sizes = {t["theme_id"]: int(t["size"]) for t in read(out / "themes.csv") if t["noise"] != "True"}
    theme = max(sorted({q["theme_id"] for q in stored} & set(sizes)), key=lambda t: (sizes[t], -int(t)))
    assert sum(q["theme_id"] == theme and q["flagged"] == "False" for q in stored) == 2  # quotes.per_theme
    result = runner.invoke(app, ["quotes", "--theme", theme, "--n", "5", "--run", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    printed = [line for line in result.output.splitlines() if line.startswith("\u201c")]
    assert len(printed) == 5 and "chosen on demand" in result.output
    assert len(set(printed)) == 5


def test_cli_validate_sample_refuses_to_overwrite_codes_unless_forced(run_dir, monkeypatch):
    out, work = run_dir
    monkeypatch.chdir(work)
    assert runner.invoke(app, ["validate", "sample", "--run", str(out), "--n", "6"]).exit_code == 0
    sheet = out / "validation" / "coding_sheet.csv"
    rows = read(sheet)
    rows[0]["code"] = "1"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    key = (out / "validation" / "coding_key.json").read_text(encoding="utf-8")
    refused = runner.invoke(app, ["validate", "sample", "--run", str(out), "--n", "8"])
    assert refused.exit_code == 1 and "1 of 6 items already have a code" in refused.output
    assert read(sheet)[0]["code"] == "1" and (out / "validation" / "coding_key.json").read_text() == key
    forced = runner.invoke(app, ["validate", "sample", "--run", str(out), "--n", "8", "--force"])
    assert forced.exit_code == 0 and len(read(sheet)) == 8
    assert json.loads((out / "validation" / "coding_key.json").read_text())["items"][0]["item"] == 1
