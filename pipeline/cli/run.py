"""`pipeline run`, `ingest`, `themes`, `report`: the stage graph up to a checkpoint over a corpus folder."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import summary
from pipeline.cli.options import command, current, err, load, say, stdout
from pipeline.core.safe_text import literal

app = typer.Typer()

CORPUS = typer.Argument(..., help="Folder of survey exports (CSV, TSV, XLSX, JSONL, TXT, MD).")
OUT = typer.Option(None, "--out", "-o", help="Output folder (default: outputs/<corpus-name>/).")
ENGINE = typer.Option(None, "--engine", help='"local" or "dask": embedding and theme assignment on dask workers '
                                             '(overrides scale.engine; pip install "pipeline[dask]").')
SCHEDULER = typer.Option(None, "--scheduler", help="Address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                                   "(default: a LocalCluster on this machine).")
FAST = typer.Option(False, "--fast", help='Fast mode for very large corpora: the static embedding backend '
                                          '(embed.backend = "static"; see docs/benchmarks.md for its quality cost).')


def run_checkpoint(corpus_dir: Path, out: Optional[Path], until: str, *, force_refit: bool = False,
                   reuse_only: bool = False, overrides: dict | None = None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from pipeline import runner

    config = load(corpus_dir, overrides)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=current().quiet) as bars:
        tasks: dict[str, int] = {}

        def track(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=total)
            bars.update(tasks[step], completed=done)

        # the default folder is named after the corpus folder alone: refuse one holding another corpus's run
        result = runner.run(corpus_dir, config, out or runner.default_out_dir(corpus_dir), until=until,
                            model_dir=runner.default_model_dir(corpus_dir), force_refit=force_refit,
                            reuse_only=reuse_only, say=say(), track=track, same_corpus=out is None)
    if not current().quiet:
        for warning in result.warnings:
            err.print(f"warning: {literal(warning)}", markup=False, soft_wrap=True)
    summary.print_summary(result, out_console=stdout)
    return result


@app.command()
@command
def run(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT, engine: Optional[str] = ENGINE,
        scheduler: Optional[str] = SCHEDULER, fast: bool = FAST) -> None:
    """Run every stage: ingest, clean, embed, themes, mapping, quotes, report."""
    if scheduler and engine is None:
        engine = "dask"
    run_checkpoint(corpus_dir, out, "report", overrides={"scale.engine": engine, "scale.scheduler": scheduler,
                                                         "embed.backend": "static" if fast else None})


@app.command()
@command
def ingest(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Read and clean the corpus; write ledger.csv and segments.csv and print the counts."""
    run_checkpoint(corpus_dir, out, "ingest")


@app.command()
@command
def themes(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Re-fit the themes (embeddings come from the cache) and write themes.csv and assignments.csv."""
    run_checkpoint(corpus_dir, out, "themes", force_refit=True)


@app.command()
@command
def report(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Re-apply labels.yaml and rebuild mapping, crosstab, quotes and the report from the saved theme fit.

    Never re-fits: if the corpus or config changed since the fit, it says so (then use `pipeline run`)."""
    run_checkpoint(corpus_dir, out, "report", reuse_only=True)
