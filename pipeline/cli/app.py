"""Command line: a thin wrapper over the library. Errors are caught in one place (`_guarded`) and printed as
one line on stderr; `--debug` shows the traceback instead."""
from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console

from pipeline.core.errors import PipelineError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Turn free-text survey answers into audited themes, mapped to the survey's closed categories.")
validate_app = typer.Typer(no_args_is_help=True, help="Measure agreement between the machine's coding and coders'.")
app.add_typer(validate_app, name="validate")

err = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


@dataclass
class Options:
    config: Optional[Path] = None
    seed: Optional[int] = None
    quiet: bool = False
    debug: bool = False


_OPTIONS = Options()


@app.callback()
def main(         config: Optional[Path] = typer.Option(None, "--config", "-c", help="Config TOML (default: CORPUS_DIR/pipeline.toml)."),
         seed: Optional[int] = typer.Option(None, "--seed", help="Seed for every random component (overrides config)."),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the final summary."),
         debug: bool = typer.Option(False, "--debug", help="Show full tracebacks.")) -> None:
    global _OPTIONS  # the callback runs before every command; commands read the global options from here
    _OPTIONS = Options(config=config, seed=seed, quiet=quiet, debug=debug)


def _guarded(command: Callable) -> Callable:
    """The one place user errors become a single stderr line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except PipelineError as exc:
            if _OPTIONS.debug:
                raise
            err.print(f"error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(1)
        except KeyboardInterrupt:
            err.print("interrupted: the run directory is marked failed; re-run to complete it", markup=False,
                      soft_wrap=True)
            raise typer.Exit(130)
        except Exception as exc:  # an internal bug: still one line unless --debug
            if _OPTIONS.debug:
                raise
            err.print(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for the traceback)",
                      markup=False, soft_wrap=True)
            raise typer.Exit(2)

    return wrapper


def _options() -> Options:
    return _OPTIONS


def _load(corpus_dir: Path):
    from pipeline.core.config import load_config

    options = _options()
    if not corpus_dir.exists():
        raise PipelineError("corpus folder not found", file=str(corpus_dir))
    config_path = options.config or corpus_dir / "pipeline.toml"
    if options.config and not options.config.is_file():
        raise PipelineError("config file not found", file=str(options.config))
    return load_config(config_path, {"seed": options.seed})


def _say() -> Callable[[str], None]:
    options = _options()
    return (lambda message: None) if options.quiet else (lambda message: err.print(f"[dim]{message}[/dim]"))


def _run(corpus_dir: Path, out: Optional[Path], until: str, force_refit: bool = False):
    from pipeline import runner
    from pipeline.cli import summary

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    config = _load(corpus_dir)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=_options().quiet) as bars:
        tasks: dict[str, int] = {}

        def track(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=total)
            bars.update(tasks[step], completed=done)

        result = runner.run(corpus_dir, config, out or runner.default_out_dir(corpus_dir), until=until,
                            model_dir=runner.default_model_dir(corpus_dir), force_refit=force_refit, say=_say(),
                            track=track)
    for warning in result.warnings:
        if not _options().quiet:
            err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    summary.print_summary(result, out_console=stdout)
    return result


CORPUS = typer.Argument(..., help="Folder of survey exports (CSV, TSV, XLSX, JSONL, TXT, MD).")
OUT = typer.Option(None, "--out", "-o", help="Output folder (default: outputs/<corpus-name>/).")


@app.command()
@_guarded
def run(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Run every stage: ingest, clean, embed, themes, mapping, quotes, report."""
    _run(corpus_dir, out, "report")


@app.command()
@_guarded
def ingest(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Read and clean the corpus; write ledger.csv and segments.csv and print the counts."""
    _run(corpus_dir, out, "ingest")


@app.command()
@_guarded
def themes(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Re-fit the themes (embeddings come from the cache) and write themes.csv and assignments.csv."""
    _run(corpus_dir, out, "themes", force_refit=True)


@app.command()
@_guarded
def report(corpus_dir: Path = CORPUS, out: Optional[Path] = OUT) -> None:
    """Rebuild mapping, crosstab, quotes and report, re-applying labels.yaml (reuses the saved theme model)."""
    _run(corpus_dir, out, "report")


@app.command()
@_guarded
def quotes(theme: str = typer.Option(..., "--theme", "-t", help="Theme id or label (a unique prefix is enough)."),
           n: int = typer.Option(5, "--n", min=1, help="How many quotes."),
           run_dir: Path = typer.Option(Path("outputs/corpus"), "--run", help="A completed run's output folder."),
           include_flagged: bool = typer.Option(True, help="Also list quotes flagged as possibly identifying.")) -> None:
    """Print representative quotes for one theme from a completed run."""
    from pipeline.cli import summary

    summary.print_quotes(run_dir, theme, n, include_flagged, out_console=stdout)


@validate_app.command("sample")
@_guarded
def validate_sample(n: int = typer.Option(60, "--n", min=1, help="Number of segments on the sheet."),
                    run_dir: Path = typer.Option(Path("outputs/corpus"), "--run", help="A completed run's output folder."),
                    sheet: Optional[Path] = typer.Option(None, "--sheet", help="Where to write the sheet (default RUN/coding_sheet.csv).")) -> None:
    """Write a blind coding sheet: segments stratified across themes, shuffled, without the machine's labels."""
    from pipeline.cli import summary

    summary.write_sample_sheet(run_dir, n, sheet, seed=_options().seed, out_console=stdout)


@validate_app.command("score")
@_guarded
def validate_score(sheets: list[Path] = typer.Argument(..., help="Filled coding sheet(s)."),
                   run_dir: Path = typer.Option(Path("outputs/corpus"), "--run", help="The run the sheets were drawn from.")) -> None:
    """Compare coders with the machine and with each other: kappa, alpha, per-theme F1, confusions."""
    from pipeline.cli import summary

    summary.score_sheets(run_dir, sheets, out_console=stdout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
