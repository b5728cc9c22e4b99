"""Exit codes and one-line errors of every kind, options after the command, and the commands that read a finished
run (quotes, validate) against a missing, incomplete or damaged one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.config import Config

runner = CliRunner()


def _raising(monkeypatch, exception):
    def fail(*args, **kwargs):
        raise exception
    monkeypatch.setattr("pipeline.runner.run", fail)


@pytest.mark.parametrize("args", [
    ["run", "corpus", "--seed", "7", "--config", "other.toml", "--quiet"],
    ["--seed", "7", "--config", "other.toml", "-q", "run", "corpus"],
    ["--seed", "3", "run", "corpus", "--seed", "7", "--config", "other.toml", "-q"],  # after the command wins
], ids=["after", "before", "both"])
def test_cli_global_options_before_or_after_the_command(corpus, captured, args):
    Path("other.toml").write_text('[report]\ntitle = "From other.toml"\n', encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (call,) = captured
    assert call["config"].seed == 7 and call["config"].report.title == "From other.toml"
    assert call["out_dir"] == Path("outputs") / "corpus"


@pytest.mark.parametrize("flag_position", ["before", "after"])
def test_cli_internal_error_is_one_line_exit_2_and_debug_shows_it(corpus, monkeypatch, flag_position):
    _raising(monkeypatch, RuntimeError("boom\nsecond line"))
    result = runner.invoke(app, ["run", "corpus"])
    assert result.exit_code == 2
    assert result.output.strip() == ("internal error: RuntimeError: boom second line (re-run with --debug for "
                                     "the traceback)")
    debug = ["--debug", "run", "corpus"] if flag_position == "before" else ["run", "corpus", "--debug"]
    shown = runner.invoke(app, debug)
    assert isinstance(shown.exception, RuntimeError) and "internal error" not in shown.output


def test_cli_user_error_exit_1_and_debug_raises_it(corpus, monkeypatch):
    from pipeline.core.errors import PipelineError

    _raising(monkeypatch, PipelineError("bad row", file="corpus/answers.txt", row=2))
    result = runner.invoke(app, ["ingest", "corpus"])
    assert result.exit_code == 1 and result.output.strip() == "error: corpus/answers.txt:2: bad row"
    assert isinstance(runner.invoke(app, ["ingest", "corpus", "--debug"]).exception, PipelineError)


def test_cli_ctrl_c_exits_130_with_a_hint(corpus, monkeypatch):
    _raising(monkeypatch, KeyboardInterrupt())
    result = runner.invoke(app, ["run", "corpus"])
    assert result.exit_code == 130 and "interrupted" in result.output and "re-run" in result.output


def test_cli_report_never_refits(corpus, captured):
    assert runner.invoke(app, ["report", "corpus"]).exit_code == 0
    assert runner.invoke(app, ["themes", "corpus"]).exit_code == 0
    assert [(c["reuse_only"], c["force_refit"]) for c in captured] == [(True, False), (False, True)]


def _finished_run(folder: Path, finished: str, status: str = "complete", files: dict[str, str] | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"run_id": folder.name, "status": status, "finished": finished}),
                                     encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


THEMES_CSV = ("theme_id,label,keywords,size,share,stability,unstable,category_id,category_label,confidence,"
              "emergent,definition,n_respondents,noise\n0,Staff time,staff,1,1.0,1.0,False,,,,False,,1,False\n")
QUOTES_CSV = ("theme_id,theme_label,rank,segment_id,respondent_id,file,row,source,text,centrality,flagged,flags,"
              "ratings\n0,Staff time,1,a:1#0,R1,a,1,a:1,We have no staff time at all.,0.9,False,,\n")
SEGMENTS_CSV = ("segment_id,answer_id,respondent_id,file,row,index,start,end,text,clean_text,theme_id,theme_label,"
                "weight,secondary,category_id,category_score\na:1#0,a:1,R1,a,1,0,0,29,We have no staff time at all.,"
                "We have no staff time at all.,0,Staff time,1.0,,,\n")


@pytest.mark.parametrize("command", [["quotes", "--theme", "0"], ["validate", "sample"],
                                     ["validate", "score", "sheet.csv"]], ids=" ".join)
@pytest.mark.parametrize("state,fragment", [
    ("no outputs folder", "no completed run under outputs/"),
    ("only a running run", "no completed run under outputs/"),
    ("--run names a folder without a run", "no run found here"),
    ("--run names a running run", "not complete"),
    ("--run names a complete run missing its tables", "missing from the run folder"),
])
def test_cli_commands_reading_a_run_say_what_is_missing(tmp_path, monkeypatch, command, state, fragment):
    monkeypatch.chdir(tmp_path)
    Path("sheet.csv").write_text("item,segment_id,text,code\n", encoding="utf-8")
    args = list(command)
    if state == "only a running run":
        _finished_run(tmp_path / "outputs" / "survey", "", status="running")
    elif state.startswith("--run"):
        target = tmp_path / "elsewhere"
        target.mkdir()
        if "running" in state:
            _finished_run(target, "", status="running")
        elif "complete" in state:
            _finished_run(target, "2026-01-01T00:00:00+00:00")
        args += ["--run", str(target)]
    if command[:2] == ["validate", "score"] and "missing its tables" in state:
        fragment = "coding key not found; run `pipeline validate sample` first"  # what score reads is the key
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert fragment in result.output and len(result.output.strip().splitlines()) == 1


def test_cli_quotes_and_validate_default_to_the_most_recent_complete_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tables = {"themes.csv": THEMES_CSV.replace("Staff time", "Old theme"), "quotes.csv": QUOTES_CSV,
              "segments.csv": SEGMENTS_CSV}
    _finished_run(tmp_path / "outputs" / "a-old", "2026-01-01T00:00:00+00:00", files=tables)
    _finished_run(tmp_path / "outputs" / "b-new", "2026-02-01T00:00:00+00:00",
                  files={"themes.csv": THEMES_CSV, "quotes.csv": QUOTES_CSV, "segments.csv": SEGMENTS_CSV,
                         "manifest.json": json.dumps({"config": {"seed": 5, "validate": {"sample_size": 1}}})})
    _finished_run(tmp_path / "outputs" / "c-running", "", status="running")
    result = runner.invoke(app, ["quotes", "--theme", "staff"])
    assert result.exit_code == 0, result.output
    assert "Theme 0: Staff time" in result.output and "We have no staff time at all." in result.output
    sample = runner.invoke(app, ["validate", "sample"])
    assert sample.exit_code == 0, sample.output
    assert "coding sheet with 1 segments" in sample.output  # the run's validate.sample_size
    assert (tmp_path / "outputs" / "b-new" / "validation" / "coding_sheet.csv").is_file()
    assert not (tmp_path / "outputs" / "a-old" / "validation").exists()


def test_cli_validate_sample_draws_with_the_runs_seed_unless_given(tmp_path, monkeypatch):
    from pipeline.analyst import sheets

    monkeypatch.chdir(tmp_path)
    seeds = []
    original = sheets.sample_sheet
    monkeypatch.setattr(sheets, "sample_sheet", lambda *a, random_state, **k: (seeds.append(random_state),
                                                                                original(*a, random_state=random_state,
                                                                                         **k))[1])
    monkeypatch.setattr("pipeline.analyst.sample_sheet", sheets.sample_sheet)
    _finished_run(tmp_path / "outputs" / "r", "2026-02-01T00:00:00+00:00",
                  files={"themes.csv": THEMES_CSV, "segments.csv": SEGMENTS_CSV,
                         "manifest.json": json.dumps({"config": {"seed": 5, "validate": {"sample_size": 1}}})})
    assert runner.invoke(app, ["validate", "sample"]).exit_code == 0
    assert runner.invoke(app, ["validate", "sample", "--seed", "9"]).exit_code == 0
    assert seeds == [5, 9]


def test_cli_config_default_is_every_default(captured, corpus):
    assert runner.invoke(app, ["ingest", "corpus"]).exit_code == 0
    assert captured[0]["config"] == Config()
