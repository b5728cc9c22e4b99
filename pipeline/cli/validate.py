"""`pipeline validate sample|score`: blind coding sheets for analysts, and their agreement with the machine."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import code_summary, summary
from pipeline.cli.options import command, current, stdout
from pipeline.cli.quotes import RUN

app = typer.Typer(no_args_is_help=True, help="Measure agreement between the machine's coding and coders'.")


@app.command("sample")
@command
def sample(n: Optional[int] = typer.Option(None, "--n", min=1,
                                           help="Segments on the sheet (default: the run's validate.sample_size)."),
           run_dir: Optional[Path] = RUN,
           sheet: Optional[Path] = typer.Option(None, "--sheet",
                                                help="Where to write the sheet (default RUN/validation/coding_sheet.csv)."),
           force: bool = typer.Option(False, "--force",
                                      help="Overwrite a sheet that already has codes in it (and its key)."),
           next_n: Optional[int] = typer.Option(None, "--next", min=1, help="Instead: the N segments whose codes "
                                                "would most improve the trained coding (RUN/validation/next_K.csv; "
                                                "code them, then `pipeline code` it).")) -> None:
    """Write a blind coding sheet: segments stratified across themes, shuffled, without the machine's labels.
    A sheet that already has codes in it is never overwritten unless --force. With --next N instead: the segments
    worth coding next (uncertain, diverse, rare codes first, never asked twice)."""
    from pipeline.io.run_reader import latest_run

    if next_n is not None:
        code_summary.write_next_sheet(run_dir or latest_run(), next_n, out_console=stdout)
        return
    summary.write_sample_sheet(run_dir or latest_run(), n, sheet, seed=current().seed, out_console=stdout,
                               force=force)


@app.command("score")
@command
def score(sheets: list[Path] = typer.Argument(..., help="Filled coding sheet(s)."),
          run_dir: Optional[Path] = RUN) -> None:
    """Compare coders with the machine and with each other: kappa, alpha, per-theme F1, confusions."""
    from pipeline.io.run_reader import latest_run

    summary.score_sheets(run_dir or latest_run(), sheets, out_console=stdout)
