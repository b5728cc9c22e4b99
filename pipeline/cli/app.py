"""The `pipeline` command: a thin wrapper over the library, one Typer app per command group joined here.

Errors are turned into one stderr line and an exit code in one place (``pipeline.cli.options.guarded``);
`--debug` shows the traceback instead. The global options are accepted before or after the command.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import code, export, quotes, run, serve, validate
from pipeline.cli.options import GLOBAL_OPTIONS, Options, set_global

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no model hub at run time, whatever the user's environment says
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Turn free-text survey answers into audited themes, mapped to the survey's closed categories.")
app.add_typer(run.app)
app.add_typer(quotes.app)
app.add_typer(validate.app, name="validate")
app.add_typer(code.app)
app.add_typer(serve.app)
app.add_typer(export.app, name="export")


@app.callback()
def main(config: Optional[Path] = GLOBAL_OPTIONS["config"][1], seed: Optional[int] = GLOBAL_OPTIONS["seed"][1],
         quiet: bool = GLOBAL_OPTIONS["quiet"][1], debug: bool = GLOBAL_OPTIONS["debug"][1]) -> None:
    set_global(Options(config=config, seed=seed, quiet=quiet, debug=debug))


if __name__ == "__main__":  # pragma: no cover
    app()
