"""`pipeline run --engine/--scheduler/--fast`: the flags set the config keys they name, and a bad value is a
one-line config error."""
from __future__ import annotations


import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


@pytest.mark.parametrize("args,engine,scheduler,backend", [
    ([], "local", None, "auto"),
    (["--engine", "dask"], "dask", None, "auto"),
    (["--scheduler", "tcp://10.0.0.5:8786"], "dask", "tcp://10.0.0.5:8786", "auto"),  # a scheduler means dask
    (["--fast"], "local", None, "static"),
])
def test_cli_run_scale_flags_set_their_keys(corpus, captured, args, engine, scheduler, backend):
    result = runner.invoke(app, ["run", str(corpus), *args])
    assert result.exit_code == 0, result.output
    (call,) = captured
    config = call["config"]
    assert (config.scale.engine, config.scale.scheduler, config.embed.backend) == (engine, scheduler, backend)


def test_cli_run_unknown_engine_is_a_config_error(corpus, captured):
    result = runner.invoke(app, ["run", str(corpus), "--engine", "spark"])
    assert result.exit_code == 1 and not captured
    assert "scale.engine must be one of local, dask, got 'spark'" in result.output
