import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()

COMMANDS = [["run"], ["ingest"], ["themes"], ["report"], ["quotes"], ["validate"], ["validate", "sample"],
            ["validate", "score"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_cli_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    # the docstring's first line is shown, so every command says what it does
    assert re.search(r"\w{4,}", result.output.split("Usage", 1)[1])


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
