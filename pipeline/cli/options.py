"""What every command shares: the global options (accepted before or after the command), the consoles, and the
one place errors become exit codes.

Everything printed that holds user text (answers, ids, labels, file names) goes through ``pipeline.core.safe_text``
with Rich markup off: an answer's escape sequences (clear screen, OSC-8 links) are removed and a label such as
``Money [/bold] problems`` is printed as written, never parsed as markup."""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console

from pipeline.core.errors import PipelineError
from pipeline.core.safe_text import one_line

err = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)

EXIT_USER_ERROR, EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED = 1, 2, 130


@dataclass(frozen=True)
class Options:
    config: Optional[Path] = None
    seed: Optional[int] = None
    quiet: bool = False
    debug: bool = False


_current = Options()  # set by the root callback, then by the command's own copies of the options


def current() -> Options:
    return _current


def set_global(options: Options) -> None:
    global _current  # the root callback runs before every command
    _current = options


# the same four options, declared once: on the root command (before the command name) and on every command
GLOBAL_OPTIONS = {
    "config": (Optional[Path], typer.Option(None, "--config", "-c",
                                            help="Config TOML (default: CORPUS_DIR/pipeline.toml).")),
    "seed": (Optional[int], typer.Option(None, "--seed", help="Seed for every random component (overrides config).")),
    "quiet": (bool, typer.Option(False, "--quiet", "-q", help="Only errors and the final summary.")),
    "debug": (bool, typer.Option(False, "--debug", help="Show full tracebacks.")),
}


def command(function: Callable) -> Callable:
    """A CLI command: accepts the global options after its name too (``pipeline run corpus/ --seed 7``), and
    turns errors into one stderr line and an exit code (1 user error, 2 internal error, 130 interrupted)."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        given = {name: kwargs.pop(name) for name in GLOBAL_OPTIONS}
        set_global(replace(current(), **{name: value for name, value in given.items()
                                         if value is not None and value is not False}))
        return guarded(function)(*args, **kwargs)

    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)
             for name, (annotation, option) in GLOBAL_OPTIONS.items()]
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
    return wrapper


def guarded(function: Callable) -> Callable:
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except PipelineError as exc:
            if current().debug:
                raise
            err.print(f"error: {one_line(exc)}", markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR)
        except KeyboardInterrupt:
            err.print("interrupted: the output folder still holds the previous complete run, if any (run.json "
                      "says so); re-run to complete this one", markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERRUPTED)
        except Exception as exc:  # an internal bug: still one line unless --debug
            if current().debug:
                raise
            err.print(f"internal error: {type(exc).__name__}: {one_line(exc)} (re-run with --debug for the traceback)",
                      markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERNAL_ERROR)

    return wrapper


def say() -> Callable[[str], None]:
    """Progress lines on stderr, unless --quiet."""
    if current().quiet:
        return lambda message: None
    return lambda message: err.print(one_line(message), style="dim", markup=False, highlight=False)


def load(corpus_dir: Path, overrides: dict | None = None):
    """The config for ``corpus_dir``: --config, else CORPUS_DIR/pipeline.toml, then --seed and the command's own
    ``overrides`` (dotted keys; None = not given)."""
    from pipeline.core.config import load_config

    options = current()
    if not corpus_dir.exists():
        raise PipelineError("corpus folder not found", file=str(corpus_dir))
    if options.config and not options.config.is_file():
        raise PipelineError("config file not found", file=str(options.config))
    return load_config(options.config or corpus_dir / "pipeline.toml", {"seed": options.seed, **(overrides or {})})
