"""`pipeline run --engine/--scheduler/--fast`: the flags set the config keys they name, and a bad value is a
one-line config error."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.runner import RunResult

runner = CliRunner()


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "answers.txt").write_text("Too little staff time.\nNo money for care.\n", encoding="utf-8")
    return folder


@pytest.fixture
def captured(monkeypatch):
    calls = []

    def fake_run(corpus_dir, config, out_dir=None, **kwargs):
        calls.append(config)
        return RunResult(config, {}, {}, Path(corpus_dir), Path(out_dir))

    monkeypatch.setattr("pipeline.runner.run", fake_run)
    return calls


@pytest.mark.parametrize("args,engine,scheduler,backend", [
    ([], "local", None, "auto"),
    (["--engine", "dask"], "dask", None, "auto"),
    (["--scheduler", "tcp://10.0.0.5:8786"], "dask", "tcp://10.0.0.5:8786", "auto"),  # a scheduler means dask
    (["--fast"], "local", None, "static"),
])
def test_cli_run_scale_flags_set_their_keys(corpus, captured, args, engine, scheduler, backend):
    result = runner.invoke(app, ["run", str(corpus), *args])
    assert result.exit_code == 0, result.output
    (config,) = captured
    assert (config.scale.engine, config.scale.scheduler, config.embed.backend) == (engine, scheduler, backend)


def test_cli_run_unknown_engine_is_a_config_error(corpus, captured):
    result = runner.invoke(app, ["run", str(corpus), "--engine", "spark"])
    assert result.exit_code == 1 and not captured
    assert "scale.engine must be one of local, dask, got 'spark'" in result.output
