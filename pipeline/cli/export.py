"""`pipeline export qdpx|qdc|xlsx`: a completed run for QDA tools (REFI-QDA) and spreadsheets."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.options import command, stdout
from pipeline.cli.quotes import RUN

app = typer.Typer(no_args_is_help=True, help="Export a completed run for QDA tools and spreadsheets.")
OUT = typer.Option(None, "--out", "-o", help="File to write (default: RUN/export/<corpus>.<kind>).")


def _export(kind: str, run_dir: Optional[Path], out: Optional[Path]) -> None:
    from pipeline.export import EXPORTERS
    from pipeline.io.run_reader import latest_run

    run_dir = run_dir or latest_run()
    path = EXPORTERS[kind](run_dir, out or run_dir / "export" / f"{run_dir.name}.{kind}")
    stdout.print(f"written: {path}", markup=False, soft_wrap=True)


@app.command("qdpx")
@command
def qdpx(run_dir: Optional[Path] = RUN, out: Optional[Path] = OUT) -> None:
    """A REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA or QualCoder: answers as sources, respondents as
    cases with their attributes, themes and categories as codes, segments coded at their offsets."""
    _export("qdpx", run_dir, out)


@app.command("qdc")
@command
def qdc(run_dir: Optional[Path] = RUN, out: Optional[Path] = OUT) -> None:
    """A REFI-QDA codebook (.qdc): categories, analyst codes and themes with their definitions."""
    _export("qdc", run_dir, out)


@app.command("xlsx")
@command
def xlsx(run_dir: Optional[Path] = RUN, out: Optional[Path] = OUT) -> None:
    """An Excel workbook: the themes, the codebook, then one sheet per theme with every segment and its answer."""
    _export("xlsx", run_dir, out)
