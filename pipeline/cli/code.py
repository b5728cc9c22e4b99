"""`pipeline code SHEET...`: the analyst's coded sample trains the coding of every other segment."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import code_summary
from pipeline.cli.options import command, load, stdout
from pipeline.cli.quotes import RUN

app = typer.Typer()


@app.command("code")
@command
def code(sheets: list[Path] = typer.Argument(..., help="Coded sheet(s): the blind sheet, a `validate sample --next` "
                                                        "sheet, or any CSV of segment_id or answer_id with code "
                                                        "(optional coder column); one file per coder allowed."),
         run_dir: Optional[Path] = RUN,
         corpus: Optional[Path] = typer.Option(None, "--corpus", help="The run's corpus folder (default: the one "
                                                                      "its manifest.json names)."),
         adjudicate: Optional[str] = typer.Option(None, "--adjudicate", help="When coders disagree: majority (ties: "
                                                  "the sheet given first), first or unanimous (default: "
                                                  "validate.adjudication).")) -> None:
    """Learn from coded segments: analyst codes are kept, every other segment is coded by the trained coder; writes
    segments.csv (code, code_source, code_confidence), accuracy.csv, learning_curve.csv and the report."""
    from pipeline.io.run_reader import latest_run, require_complete_run
    from pipeline.workspace.session import corpus_of
    from pipeline.workspace.trained import code_from_sheets

    run_dir = run_dir or latest_run()
    require_complete_run(run_dir)
    corpus = corpus or corpus_of(run_dir)
    outcome = code_from_sheets(run_dir, sheets, corpus, load(corpus), adjudicate)
    code_summary.print_coding(outcome, out_console=stdout)
