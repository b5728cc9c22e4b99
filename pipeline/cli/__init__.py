"""The `pipeline` command: a thin Typer wrapper over the library."""
from pipeline.cli.app import app

__all__ = ["app"]
