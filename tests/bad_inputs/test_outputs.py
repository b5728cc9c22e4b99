"""Hostile text through a whole run (issue 15, defects 9-11): formulas in answers, ids and labels never reach a CSV
as a live formula (the exact text stays in segments.parquet), raw HTML in answers never renders from codebook.md
or the Markdown quote export, and terminal escapes and Rich markup in answers and labels never reach the terminal.
One `pipeline run` (fake embedder) on a corpus written here; each case checks one output."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.io.csv_safe import TRIGGERS
from tests.conftest import TINY_CATEGORIES, TINY_TOPICS

FORMULAS = ['=HYPERLINK("http://example.invalid/x","Money")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd",
            "\t=1+1 tab first", "-2+3 minus first", "=cmd|' /C notepad'!A1 and funding"]
HTML = ["<img src=x onerror=alert(1)> budget funding falls", "<svg onload=alert(2)> funding gap budget"]
ESCAPES = "\x1b[2J\x1b]8;;http://example.invalid\x1b\\Funding link\x1b]8;;\x1b\\ budget is short\x07"
LABELS = ["Money [/bold] problems", '=HYPERLINK("http://example.invalid","x")', "[link=http://example.invalid]x[/link]",
          "<img src=x onerror=alert(3)>", "@label", "+label"]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    texts = [t for group in TINY_TOPICS.values() for t in group] + FORMULAS + HTML + [ESCAPES]
    ratings = [f"rating_{cid}" for cid, _ in TINY_CATEGORIES]
    with (corpus / "survey.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment", *ratings])
        for i, text in enumerate(texts):
            marks = ["major barrier" if (i + k) % 3 else "not a barrier" for k in range(len(ratings))]
            writer.writerow([f"=ID{i}+1" if i % 5 == 0 else f"R{i}", text, *marks])
    (corpus / "pipeline.toml").write_text('[ingest]\ntext_column = "comment"\n[embed]\nmodel = "fake-hash.v1"\n'
                                          '[themes]\nn_seeds = 3\n', encoding="utf-8")
    categories = "".join(f"  - id: {cid}\n    label: \"@{label}\"\n    rating_column: rating_{cid}\n"
                         for cid, label in TINY_CATEGORIES)
    (corpus / "categories.yaml").write_text("categories:\n" + categories, encoding="utf-8")
    labels = "".join(f"  {i}: {json.dumps(label)}\n" for i, label in enumerate(LABELS))
    (corpus / "labels.yaml").write_text("themes:\n" + labels, encoding="utf-8")
    before = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, ["run", "corpus"])
    finally:
        os.chdir(before)
    return {"root": root, "out": root / "outputs" / "corpus", "result": result, "texts": texts}


def test_run_with_hostile_labels_and_answers_succeeds(hostile_run):
    """A label 'Money [/bold] problems' made run/report exit 2 after every output was written."""
    result = hostile_run["result"]
    assert result.exit_code == 0, result.output
    assert "Money [/bold] problems" in result.stdout  # printed as written, not parsed as markup


def _live_formula(cell: str) -> bool:
    return bool(cell) and cell[0] in TRIGGERS and not re.fullmatch(r"[+-]?\d+(\.\d+)?", cell)


CSV_NAMES = ["segments.csv", "codebook.csv", "disagreements.csv", "ledger.csv", "assignments.csv", "themes.csv",
             "crosstab.csv", "theme_category_map.csv", "quotes.csv", "reassignments.csv", "theme_selection.csv"]


@pytest.mark.parametrize("name", CSV_NAMES)
def test_no_csv_cell_is_a_live_formula(hostile_run, name):
    path = hostile_run["out"] / name
    with path.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert cells and not [cell for cell in cells if _live_formula(cell)]


def test_formula_answers_reach_the_csvs_and_stay_exact_in_parquet(hostile_run):
    import pyarrow.parquet as pq

    with (hostile_run["out"] / "segments.csv").open(encoding="utf-8", newline="") as handle:
        csv_texts = {row["text"] for row in csv.DictReader(handle)}
    exact = set(pq.read_table(hostile_run["out"] / "segments.parquet").column("text").to_pylist())
    formula_segments = {t for t in exact if t[:1] in TRIGGERS}
    assert formula_segments  # the hostile answers were kept and segmented
    assert {"'" + t for t in formula_segments} <= csv_texts
    assert all(t in hostile_run["texts"] or any(t in x for x in hostile_run["texts"]) for t in formula_segments)


def test_run_reads_its_own_neutralised_csvs_back_exactly(hostile_run):
    import pyarrow.parquet as pq

    from pipeline.io.run_reader import load_run

    themes, segments, _ = load_run(hostile_run["out"])
    assert {t.label for t in themes} & set(LABELS)  # labels.yaml renamed themes, formulas and markup included
    assert any(s.respondent_id.startswith("=ID") for s in segments)
    exact = pq.read_table(hostile_run["out"] / "segments.parquet").to_pylist()
    assert [(s.segment_id, s.respondent_id, s.text, s.clean_text) for s in segments] == \
        [(r["segment_id"], r["respondent_id"], r["text"], r["clean_text"]) for r in exact]


@pytest.mark.parametrize("name", ["codebook.md", "report.md"])
def test_markdown_outputs_render_no_raw_html(hostile_run, name):
    from markdown_it import MarkdownIt

    text = (hostile_run["out"] / name).read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").render(text)  # raw HTML allowed, as pandoc, MkDocs and Jekyll do
    assert not re.search(r"<(img|svg)\b", html, re.I), re.findall(r".{40}<(?:img|svg).{40}", html)


def test_quotes_print_no_escape_sequences_and_no_markup(hostile_run, tmp_path):
    """`pipeline quotes` printed answers' escape sequences raw (clear screen, OSC-8 links)."""
    from pipeline.io.atomic import write_csv
    from pipeline.io.run_reader import read_rows

    run = tmp_path / "run"
    shutil.copytree(hostile_run["out"], run)
    rows = read_rows(run / "quotes.csv")
    rows.append({**rows[0], "rank": "999", "text": ESCAPES, "respondent_id": "R\x1b[31mX", "flagged": "False"})
    write_csv(run / "quotes.csv", rows, list(rows[0]))
    result = CliRunner().invoke(app, ["quotes", "--theme", rows[0]["theme_id"], "--n", "999", "--run", str(run)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "Funding link budget is short\\x07" in result.stdout  # the text stays; the bell is shown, not rung
    assert "respondent RX" in result.stdout


def _node_markdown(quote: dict) -> str:
    from pipeline.report.html import JS

    stub = ("var document = {getElementById: function () { return {textContent: '[]', addEventListener: "
            "function () {}}; }, querySelectorAll: function () { return []; }, body: {getAttribute: function () "
            "{ return 'run-x'; }}}; var window = {};\n")
    script = stub + JS + f"\nprocess.stdout.write(window.pipelineReport.toMarkdown([{json.dumps(quote)}]));"
    return subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the report's script")
@pytest.mark.parametrize("text", HTML + ["<script>alert(4)</script> plain"])
def test_report_markdown_quote_export_escapes_raw_html(text):
    from markdown_it import MarkdownIt

    quote = {"theme_id": 1, "theme": "<b>label</b>", "text": text, "respondent_id": "<i>R1</i>",
             "source": "s.csv:1", "flags": [], "ratings": ""}
    exported = _node_markdown(quote)
    html = MarkdownIt("commonmark").render(exported)
    assert not re.search(r"<(img|svg|script|b|i)\b", html), html
    assert "onerror" not in exported or "\\<img" in exported


def _filled_sheet(run: Path, encoding: str) -> Path:
    """The run's coding sheet with every item coded as the machine coded it, saved in ``encoding``."""
    key = json.loads((run / "validation" / "coding_key.json").read_text(encoding="utf-8"))
    machine = {item["item"]: item["machine_code"] for item in key["items"]}
    with (run / "validation" / "coding_sheet.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sheet = run / f"coder_{encoding}.csv"
    delimiter = "\t" if encoding == "utf-16" else ","  # Excel's "Unicode text" is UTF-16, tab-separated
    with sheet.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows([{**row, "code": machine[int(row["item"])]} for row in rows])
    return sheet


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_validate_score_prints_codes_as_written_and_reads_utf16_sheets(hostile_run, tmp_path, encoding):
    """Codes are theme labels: 'Money [/bold] problems' broke the Rich table; a UTF-16 sheet was blamed for its
    header."""
    run = tmp_path / "run"
    shutil.copytree(hostile_run["out"], run)
    sampled = CliRunner().invoke(app, ["validate", "sample", "--n", "20", "--run", str(run)])
    assert sampled.exit_code == 0, sampled.output
    scored = CliRunner().invoke(app, ["validate", "score", str(_filled_sheet(run, encoding)), "--run", str(run)])
    assert scored.exit_code == 0, scored.output
    assert "Money [/bold] problems" in scored.stdout or "Money [/bold]" in scored.stdout.replace("\n", " ")
    agreement = (run / "validation" / "agreement.md").read_text(encoding="utf-8")
    from markdown_it import MarkdownIt

    assert not re.search(r"<img\b", MarkdownIt("commonmark").render(agreement))
