"""report.py / outputs.py: the tables say what the records say, the HTML is self-contained and escaped, and
outputs are written atomically with an honest run.json."""
from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import pytest

from pipeline.core.artifacts import Cleaned, Quotes
from pipeline.core.config import Config
from pipeline.io.rundir import RunDirectory, read_run_status
from pipeline.core.records import (
    DROPPED, UNASSIGNED, Answer, Category, Quote,
    Theme,
)
from pipeline.report import build_view, render_markdown, write_ingest_outputs, write_report
from pipeline.report.tables import EMERGENT_TEXT, crosstab_rows, quote_rows, segment_rows, theme_rows
from pipeline.report.association_view import barrier_shares, exploratory_cells, primary_cells, uncovered_categories
from pipeline.report.html import render_html
from pipeline.runner import RunResult
from tests.report.sample_run import SCRIPT_TEXT, build_result, with_outputs

@pytest.fixture
def result(tmp_path: Path) -> RunResult:
    return build_result(tmp_path / "corpus", tmp_path / "out")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def written(result: RunResult, tmp_path: Path) -> dict[str, Path]:
    return write_report(result, tmp_path / "out")


def test_report_ledger_lists_every_answer_read(result, written):
    rows = read_csv(written["ledger.csv"])
    assert [r["answer_id"] for r in rows] == [a.answer_id for a in result.answers]
    dropped = {r["respondent_id"]: r["reason"] for r in rows if r["status"] == DROPPED}
    assert dropped == {"R7": "non-answer", "R8": "duplicate"}


def test_report_segments_carry_theme_and_exact_offsets(result, written):
    rows = read_csv(written["segments.csv"])
    assert len(rows) == len(result.segments)
    texts = {a.answer_id: a.text for a in result.answers}
    for row in rows:
        assert texts[row["answer_id"]][int(row["start"]):int(row["end"])] == row["text"]
    labels = {r["segment_id"]: r["theme_label"] for r in rows}
    assert labels["survey.csv:4#1"] == "unassigned"
    assert labels["survey.csv:2#1"] == "Footprint boundaries"
    assert next(r for r in rows if r["segment_id"] == "survey.csv:1#0")["secondary"] == "1:0.200"


def test_report_themes_table_labels_emergent_and_counts_respondents(result, written):
    rows = {r["label"]: r for r in read_csv(written["themes.csv"])}
    political = rows["Local political will"]
    assert political["emergent"] == "True" and political["category_label"] == EMERGENT_TEXT
    assert political["unstable"] == "True"
    assert rows["Staff capacity & time"]["category_label"] == "Lack of organisational or staff capacity"
    # 6 respondents have kept text; R3, R5, R6 carry the political theme
    assert float(political["share"]) == pytest.approx(3 / 6, abs=1e-6)
    assert float(rows["Footprint boundaries"]["share"]) == pytest.approx(1 / 6, abs=1e-6)
    assert list(rows) == ["Local political will", "Staff capacity & time", "Footprint boundaries"]  # largest first


def test_report_quotes_csv_matches_quote_records(result, written):
    rows = read_csv(written["quotes.csv"])
    assert [(r["segment_id"], r["text"]) for r in rows] == [(q.segment_id, q.text) for q in
                                                           sorted(result.quotes, key=lambda q: (q.theme_id, q.rank))]
    flagged = {r["respondent_id"]: r["flags"] for r in rows if r["flagged"] == "True"}
    assert flagged == {"R4": "phone", "R3": "named-organisation"}
    assert next(r for r in rows if r["respondent_id"] == "R1")["source"] == "survey.csv:1"


@pytest.mark.parametrize("name, n_rows", [("assignments.csv", 8), ("reassignments.csv", 1),
                                          ("theme_selection.csv", 2), ("theme_category_map.csv", 12),
                                          ("crosstab.csv", 4), ("disagreements.csv", 1)])
def test_report_tables_have_one_row_per_record(written, name, n_rows):
    assert len(read_csv(written[name])) == n_rows


def test_report_category_map_marks_best_and_emergent(written):
    rows = read_csv(written["theme_category_map.csv"])
    best = {(r["theme_id"], r["category_id"]) for r in rows if r["best"] == "True"}
    assert best == {("0", "capacity"), ("1", "footprints")}
    assert all(r["emergent"] == "True" for r in rows if r["theme_id"] == "2")


def test_report_crosstab_significance_and_order(result):
    rows = crosstab_rows(result.crosstab, result.themes, result.categories, alpha=0.05)
    assert [r["significant"] for r in rows] == [True, False, False, False]
    assert rows[0]["share_difference"] == pytest.approx(1.0 - 2 / 6)
    assert [r["family"] for r in rows] == ["primary", "primary", "exploratory", "exploratory"]
    primary = primary_cells(result.crosstab)
    assert [(c.theme_id, c.category_id) for c in primary] == [(0, "capacity"), (1, "footprints")]
    exploratory = exploratory_cells(result.crosstab, alpha=0.05)
    assert [c.p_adjusted for c in exploratory] == sorted(c.p_adjusted for c in exploratory)
    assert all(c.family == "exploratory" for c in exploratory)


def test_report_barrier_shares_count_each_respondent_once_as_the_crosstab_reads_ratings(result):
    shares = barrier_shares(result.answers, result.categories, result.config.mapping)
    # capacity: R1..R8 all rated it; a major barrier for R1, R4, R7, R8 ("small barrier" is not major)
    assert shares["capacity"] == (8, 4)
    assert shares["footprints"] == (7, 1)  # R8 left it blank; only R2 rated it major


def test_report_barrier_shares_leave_dont_know_out_like_the_crosstab():
    from pipeline.core.config import MappingConfig

    category = Category("capacity", "Capacity", rating_column="q")
    answers = [Answer(f"s.csv:{i}", "s.csv", i, f"R{i}", "text", ratings={"q": value})
               for i, value in enumerate(["Major barrier", "Don’t know", "don't know", "not a barrier"])]
    assert barrier_shares(answers, [category], MappingConfig()) == {"capacity": (2, 1)}  # 50%, not 25%


def test_report_uncovered_categories_are_those_no_theme_maps_to(result):
    assert [c.category_id for c in uncovered_categories(result.categories, result.themes)] == ["funding", "targets"]


def test_report_manifest_records_provenance(result, written):
    manifest = json.loads(written["manifest.json"].read_text())
    assert manifest["seed"] == result.config.seed
    assert manifest["config"]["mapping"]["fdr_alpha"] == result.config.mapping.fdr_alpha
    assert manifest["input_files"][0]["sha256"] == "ab" * 32
    assert manifest["cache"] == {"hits": 5, "misses": 3}
    assert manifest["counts"]["answers_read"] == 8 and manifest["counts"]["dropped_by_reason"] == {
        "duplicate": 1, "non-answer": 1}
    assert manifest["packages"]["scikit-learn"]
    assert manifest["timings"] == {"ingest": 0.01, "themes": 1.5}


def test_report_html_references_nothing_external(written):
    page = written["report.html"].read_text()
    assert not re.search(r"""(?:src|href|action|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "<link" not in page and "@import" not in page
    assert not re.search(r"<(?:img|iframe|object|embed)\b", page)


def test_report_html_escapes_user_text(written):
    page = written["report.html"].read_text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; nothing changes" in page
    assert len(re.findall(r"<script\b", page)) == 2  # the quote data block and the export code, nothing else
    data = re.search(r'<script type="application/json" id="quote-data">(.*?)</script>', page, re.S).group(1)
    assert SCRIPT_TEXT in [q["text"] for q in json.loads(data)]


def test_report_html_shows_themes_flags_and_checkbox_labels(result, written):
    page = written["report.html"].read_text()
    assert page.count('class="quote-select"') == len(result.quotes)
    for index in range(len(result.quotes)):
        assert f'<label for="quote-{index}">' in page
    assert page.count('class="flag-warning"') == 2
    assert EMERGENT_TEXT in page and "Insufficient social care funding" in page
    assert page.count('class="bar"') == 3 + 2 + 2  # 3 theme bars, 2 mapped-category bars, 2 uncovered categories
    assert 'role="img"' in page


def test_report_markdown_lists_themes_associations_and_quotes(result, written):
    text = written["report.md"].read_text()
    assert text.index("Staff capacity & time") < text.index("## Quotes")
    assert f"| Local political will | 3 | 3 (50%) | 0.42 ⚠ unstable | {EMERGENT_TEXT} |" in text
    significant = [line for line in text.splitlines() if "| significant; small cell" in line]
    assert len(significant) == 1 and significant[0].startswith("| Staff capacity & time |")
    assert "⚠ may identify the respondent: phone" in text
    assert "- Meeting organisations' own targets" in text
    assert "<script>" not in text and "Boards meet \\<script\\>alert" in text


def test_report_html_is_written_last(result, tmp_path, monkeypatch):
    from pipeline.report import tables, writer

    order = []
    for module, name in ((tables, "write_csv"), (tables, "atomic_write_bytes"), (writer, "write_json"),
                         (writer, "atomic_write_text")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda path, *a, _f=original, **k: (order.append(Path(path).name),
                                                                                 _f(path, *a, **k)))
    written = write_report(result, tmp_path / "out")
    assert order[-1] == "report.html" and sorted(order) == sorted(written)


def test_report_ingest_outputs_only_ledger_and_segments(result, tmp_path):
    written = write_ingest_outputs(result, tmp_path / "ingest")
    names = sorted(p.name for p in (tmp_path / "ingest").iterdir())
    assert names == ["ledger.csv", "segments.csv", "segments.parquet"]
    assert len(read_csv(written["segments.csv"])) == len(result.segments)


def test_report_run_directory_complete_lists_files_and_report_carries_run_id(result, tmp_path):
    out = tmp_path / "out"
    with RunDirectory(out) as run:
        assert read_run_status(run.path)["status"] == "running" and run.path != out  # a staging folder
        write_report(result, run.path)
    status = read_run_status(out)
    assert status["status"] == "complete" and status["run_id"] == run.run_id
    assert "report.html" in status["files"] and "ledger.csv" in status["files"]
    assert f'data-run-id="{run.run_id}"' in (out / "report.html").read_text()
    assert json.loads((out / "manifest.json").read_text())["run_id"] == run.run_id
    assert not list(out.glob(".*.tmp")) and sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_report_failed_run_keeps_the_previous_complete_run_and_says_so(result, tmp_path, monkeypatch):
    """A re-run deleted report.html and report.md at its start; when it then failed, the last report was gone."""
    out = tmp_path / "out"
    with RunDirectory(out) as first:
        write_report(result, first.path)  # a first, complete run
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "run.json"}

    from pipeline.report import writer

    def crash(*args, **kwargs):
        raise RuntimeError("disk full\nwhile writing")
    monkeypatch.setattr(writer, "write_json", crash)  # manifest.json: after the tables, before the report
    with pytest.raises(RuntimeError), RunDirectory(out) as second:
        write_report(result, second.path)
    status = read_run_status(out)
    assert status["status"] == "complete" and status["run_id"] == first.run_id  # the folder holds the first run
    assert status["last_attempt"] == {**status["last_attempt"], "status": "failed", "run_id": second.run_id,
                                      "error": "disk full while writing"}
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "run.json"} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]  # no staging folder left


def test_report_first_run_failing_leaves_a_failed_status_only(result, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), RunDirectory(out) as run:
        write_report(result, run.path)
        raise RuntimeError("boom")
    assert read_run_status(out)["status"] == "failed" and [p.name for p in out.iterdir()] == ["run.json"]


def test_report_atomic_write_failure_keeps_previous_file_and_no_temp(tmp_path, monkeypatch):
    import pipeline.io.atomic as outputs

    target = tmp_path / "table.csv"
    outputs.write_csv(target, [{"a": 1}])

    def broken_fsync(fd):
        raise OSError("device vanished")
    monkeypatch.setattr(outputs.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        outputs.write_csv(target, [{"a": 2}])
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_report_run_directory_removes_stale_temp_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".report.html.abc123.tmp").write_text("half a report")
    with RunDirectory(out):
        assert not list(out.glob(".*.tmp"))


@pytest.mark.parametrize("text", ["</script><script>alert(1)</script>", "a\u2028b & <b>c</b>", 'say "hi", ok'])
def test_report_quote_data_block_survives_hostile_text(result, text):
    quotes = (Quote(0, 1, "survey.csv:1#0", "R1", "survey.csv", 1, text, 0.9), *result.quotes[1:])
    page = render_html(build_view(with_outputs(result, quotes=Quotes(quotes)), "run-x", "now"))
    data = re.search(r'<script type="application/json" id="quote-data">(.*?)</script>', page, re.S).group(1)
    assert next(q["text"] for q in json.loads(data) if q["respondent_id"] == "R1") == text


def test_report_pure_builders_match_records(result):
    segments = segment_rows(result.segments, result.assignments, result.themes)
    assert {r["theme_id"] for r in segments} == {0, 1, 2, UNASSIGNED}
    themes = theme_rows(result.themes, result.segments, result.assignments, result.categories)
    assert sum(t["size"] for t in themes) == sum(a.theme_id != UNASSIGNED for a in result.assignments)
    quotes = quote_rows(result.quotes, result.themes)
    assert [q["flagged"] for q in quotes] == [False, True, False, True, False, False]
    assert render_markdown(build_view(result, "run-x", "now")).startswith("# Free-text themes\n")


@pytest.mark.parametrize("keep", ["nothing", "ledger only", "themes without categories"])
def test_report_writes_sparse_runs(result, tmp_path, keep):
    outputs = {}
    if keep != "nothing":
        outputs["ingest"] = result.outputs["ingest"]
        outputs["clean"] = Cleaned((), result.outputs["clean"].ledger)
    if keep == "themes without categories":
        outputs["clean"] = result.outputs["clean"]
        outputs["labels"] = result.outputs["labels"]
        outputs["quotes"] = result.outputs["quotes"]
    sparse = RunResult(Config(), outputs, {}, tmp_path / "c", tmp_path / "o")
    written = write_report(sparse, tmp_path / "o")
    page = written["report.html"].read_text()
    assert len(read_csv(written["ledger.csv"])) == len(sparse.ledger)
    assert page.count('class="quote-select"') == len(sparse.quotes)
    assert ("No theme–category scores" in page) == (not sparse.category_scores)


@pytest.mark.parametrize("with_categories", [True, False])
def test_report_segment_rows_carry_each_segments_own_category(result, with_categories):
    coded = [(f"cat{i % 2}", 0.5 + i / 100) for i in range(len(result.segments))] if with_categories else []
    rows = segment_rows(result.segments, result.assignments, result.themes, coded)
    if with_categories:
        assert [(r["category_id"], r["category_score"]) for r in rows] == coded
    else:
        assert {r["category_id"] for r in rows} == {""} and {r["category_score"] for r in rows} == {None}


def test_report_says_how_themes_were_formed_when_categories_were_coded(result, tmp_path):
    from pipeline.report import write_report

    fit = result.outputs["themes"]
    method = {"method": "each segment joins the theme of its own closed category", "emergent_segments": 3,
              "emergent_themes": 1}
    written = write_report(with_outputs(result, themes=dataclasses.replace(fit, method=method)),
                           tmp_path / "with-method")
    sentence = "Themes: each segment joins the theme of its own closed category. 3 segments are in 1 emergent theme(s)."
    assert sentence in written["report.md"].read_text()
    assert sentence in written["report.html"].read_text()
    assert json.loads(written["manifest.json"].read_text())["theme_method"]["emergent_themes"] == 1
    plain = write_report(with_outputs(result, themes=dataclasses.replace(fit, method={})), tmp_path / "without-method")
    assert "Themes: " not in plain["report.md"].read_text()


def test_report_emergent_theme_names_the_catch_all_option_it_counts_under():
    from pipeline.report.tables import EMERGENT_TEXT, theme_rows

    categories = [Category("roads", "Road repairs"), Category("other", "Other")]
    themes = [Theme(0, "councillors", ("council",), 2, 0.9, category_id="other", emergent=True),
              Theme(1, "potholes", ("pothole",), 1, 0.9, category_id="roads"),
              Theme(2, "weather", ("rain",), 1, 0.9, emergent=True)]
    rows = {row["theme_id"]: row["category_label"] for row in theme_rows(themes, [], [], categories)}
    assert rows == {0: f"{EMERGENT_TEXT} (counted under \u201cOther\u201d)", 1: "Road repairs", 2: EMERGENT_TEXT}


# --- every output agrees after labels.yaml (issue 14) ---------------------------------------------------------

def _labelled(result, **changes):
    return with_outputs(result, labels=dataclasses.replace(result.outputs["labels"], **changes))


def test_report_stale_label_entries_are_warned_about_in_both_reports(result, tmp_path):
    note = ("corpus/labels.yaml: theme 2 (line 3) (noise) was written for a theme that has changed since: its "
            "content moved (similarity 0.80 to the previous run's, below 0.95); check the entry still applies")
    written = write_report(_labelled(result, warnings=(note,)), tmp_path / "stale")
    html, md = written["report.html"].read_text(), written["report.md"].read_text()
    assert 'id="label-warnings"' in html and "similarity 0.80" in html[html.index('id="label-warnings"'):]
    assert "**Check labels.yaml:**" in md and "similarity 0.80" in md


def test_report_marks_noise_themes_and_counts_only_the_others(result, tmp_path):
    themes = tuple(dataclasses.replace(t, noise=True) if t.theme_id == 1 else t for t in result.themes)
    marked = with_outputs(result, mapping=dataclasses.replace(result.outputs["mapping"], themes=themes),
                          labels=dataclasses.replace(result.outputs["labels"], themes=themes))
    md = write_report(marked, tmp_path / "noise")["report.md"].read_text()
    assert "| Footprint boundaries (noise: set aside, its segments count as unassigned) |" in md
    assert "| Themes | 2 (1 emergent, 1 unstable); also 1 marked noise |" in md


def test_report_a_merged_theme_supports_its_parts_categories(result):
    assert "funding" in {c.category_id for c in uncovered_categories(result.categories, result.themes)}
    merged = _labelled(result, merged_categories={0: ("funding",)}, merges={0: (5,)})
    view = build_view(merged, "run", "now")
    assert "funding" not in {c.category_id for c in view["uncovered"]}
    assert view["standing"][0] == ("capacity", "funding")
    assert view["counts"]["merged_themes"] == 1


def test_report_quote_line_is_the_themes_own_category_rating_and_the_attributes(result, tmp_path):
    answers = tuple(dataclasses.replace(a, meta={"role": "Chair", "region": "North"}) for a in result.answers)
    quotes = tuple(dataclasses.replace(q, answer_id=q.segment_id.split("#")[0], attributes={"role": "Chair"},
                                       ratings={"q2_capacity": "major barrier", "q2_funding": "small barrier"})
                   for q in result.quotes)
    run = with_outputs(result, ingest=dataclasses.replace(result.outputs["ingest"], answers=answers),
                       quotes=Quotes(quotes))
    view = build_view(run, "run", "now")
    capacity = view["quotes"][0][0]
    assert capacity["ratings_display"] == "Lack of organisational or staff capacity: major barrier · role Chair"
    politics = view["quotes"][2][0]  # emergent: no category of its own, so no rating in its line
    assert politics["ratings_display"] == "role Chair"
    html = write_report(run, tmp_path / "line")["report.html"].read_text()
    assert "Insufficient social care funding: small barrier" not in html  # another category's rating is not shown
    assert html.count('class="full-answer"') == 2  # R2's and R4's quotes are a part of their answer


def test_report_emergent_count_is_of_the_themes_as_they_stand(result):
    from pipeline.report.view import theme_method_sentence

    method = {"method": "each segment joins the theme of its own closed category", "emergent_segments": 9,
              "emergent_themes": 3}  # as fitted, before labels.yaml pinned two of them to categories
    assert theme_method_sentence(method, result.themes, result.assignments).endswith(
        "3 segments are in 1 emergent theme(s).")
