import csv
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()

COMMANDS = [["run"], ["ingest"], ["themes"], ["report"], ["quotes"], ["validate"], ["validate", "sample"],
            ["validate", "score"], ["code"], ["serve"], ["export"], ["export", "qdpx"], ["export", "qdc"], ["export", "xlsx"]]


def _commands(group=None, path=()):
    """Every command of the click tree behind the Typer app, with its path of names."""
    import typer.main

    group = group or typer.main.get_command(app)
    for name, command in sorted(getattr(group, "commands", {}).items()):
        yield (*path, name), command
        yield from _commands(command, (*path, name))


def test_cli_the_command_list_is_the_one_documented():
    assert sorted(" ".join(path) for path, _ in _commands()) == sorted(" ".join(c) for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_cli_every_command_has_help(command):
    described = dict(_commands())[tuple(command)]
    assert described.help and len(described.help.split()) >= 5, f"{command} has no help text"
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    # the help text's first words are shown under the usage line
    shown = " ".join(result.output.split("Usage", 1)[1].split())
    assert " ".join(described.help.split()[:5]) in shown


@pytest.mark.parametrize("args,fragment", [
    (["ingest", "does/not/exist"], "corpus folder not found"),
    (["--config", "missing.toml", "ingest", "."], "config file not found"),
])
def test_cli_user_errors_are_one_line_and_exit_1(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert fragment in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_bad_config_value_names_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "answers.txt").write_text("Too little staff time.\n", encoding="utf-8")
    (corpus / "pipeline.toml").write_text("[themes]\nn_seeds = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(corpus)])
    assert result.exit_code == 1
    assert "themes.n_seeds" in result.output and "Traceback" not in result.output


FAKE_MODEL = '[embed]\nmodel = "fake-hash.v1"\ncache_dir = "cache"\n[themes]\nn_seeds = 2\n'
TOPICS = {
    "staff": ["We have too few staff with time to plan.", "Our managers have no time left for planning work.",
              "Staff time for planning is very short here."],
    "money": ["There is no money for social care packages.", "Council money for social care keeps falling.",
              "Social care money has been cut again."],
    "politics": ["Local councillors oppose every closure.", "Councillors fear the election and block change.",
                 "Local politicians will not back hard choices."],
    "deadline": ["The deadline for the plan is far too soon.", "National deadlines leave no time for engagement.",
                 "The plan deadline was set without asking us."],
}


def _corpus(tmp_path, files: dict[str, str]):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "pipeline.toml").write_text(FAKE_MODEL, encoding="utf-8")
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


def test_cli_too_little_text_is_one_clear_line_naming_the_corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = _corpus(tmp_path, {"answers.txt": "\n".join(s[0] for s in TOPICS.values()) + "\n"})
    result = runner.invoke(app, ["run", str(corpus)])
    assert result.exit_code == 1
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "too little text" in error_lines[0] and str(corpus) in error_lines[0]
    assert "Traceback" not in result.output
    assert '"status": "failed"' in (tmp_path / "outputs" / "corpus" / "run.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("repeat", [2])
def test_cli_plain_txt_folder_without_categories_gets_themes(tmp_path, monkeypatch, repeat):
    monkeypatch.chdir(tmp_path)
    lines = [f"{sentence} ({i})" for i in range(repeat) for texts in TOPICS.values() for sentence in texts]
    corpus = _corpus(tmp_path, {"answers.txt": "\n".join(lines) + "\n"})
    result = runner.invoke(app, ["-q", "run", str(corpus)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "outputs" / "corpus"
    ledger = (out / "ledger.csv").read_text(encoding="utf-8").splitlines()
    assert len(ledger) - 1 == len(lines)
    themes = list(csv.DictReader((out / "themes.csv").open(encoding="utf-8")))
    assert len(themes) >= 2
    assert {row["emergent"] for row in themes} == {"False"}  # no closed list: nothing is "not in the closed list"
    section = (out / "report.md").read_text(encoding="utf-8").split("\n## Themes\n", 1)[1].split("\n## ", 1)[0]
    assert section.count("\n| ") >= 2 and "emergent" not in section.lower()


def test_cli_missing_text_column_lists_available_columns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = _corpus(tmp_path, {"survey.csv": "id,answer\n1,Too few staff\n"})
    (corpus / "pipeline.toml").write_text(FAKE_MODEL + '[ingest]\ntext_column = "comments"\n', encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(corpus)])
    assert result.exit_code == 1
    assert "comments" in result.output and "answer" in result.output and "survey.csv" in result.output


def test_cli_broken_csv_row_is_a_warning_and_a_ledger_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = _corpus(tmp_path, {"survey.csv": 'id,answer\n1,Too few staff\n2,"one","two","three"\n3,No money\n'})
    result = runner.invoke(app, ["ingest", str(corpus)])
    assert result.exit_code == 0, result.output
    assert re.search(r"warning: \S*survey\.csv:2: ", result.output)
    ledger = (tmp_path / "outputs" / "corpus" / "ledger.csv").read_text(encoding="utf-8")
    assert re.search(r"^survey\.csv:2,survey\.csv,2,[^,]*,dropped,unreadable,", ledger, re.M)
    assert "answers read: 3" in result.output


def test_cli_category_list_of_only_a_catch_all_option_runs_as_themes_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [f"{sentence} ({i})" for i in range(2) for texts in TOPICS.values() for sentence in texts]
    corpus = _corpus(tmp_path, {"answers.txt": "\n".join(lines) + "\n",
                                "categories.yaml": "categories:\n  - id: other\n    label: Other\n"})
    result = runner.invoke(app, ["-q", "run", str(corpus)])
    assert result.exit_code == 0, result.output
    segments = (tmp_path / "outputs" / "corpus" / "segments.csv").read_text(encoding="utf-8")
    assert ",other," not in segments  # nothing is coded to the catch-all option by similarity
