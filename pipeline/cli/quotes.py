"""`pipeline quotes`: representative quotes of one theme from a completed run."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import summary
from pipeline.cli.options import command, stdout

app = typer.Typer()

RUN = typer.Option(None, "--run", help="A completed run's output folder (default: the most recent run under outputs/).")


@app.command()
@command
def quotes(theme: str = typer.Option(..., "--theme", "-t", help="Theme id or label (a unique prefix is enough)."),
           n: int = typer.Option(5, "--n", min=1, help="How many quotes."),
           run_dir: Optional[Path] = RUN,
           include_flagged: bool = typer.Option(True, help="Also list quotes flagged as possibly identifying.")) -> None:
    """Print representative quotes for one theme from a completed run."""
    from pipeline.io.run_reader import latest_run

    summary.print_quotes(run_dir or latest_run(), theme, n, include_flagged, out_console=stdout)
