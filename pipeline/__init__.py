"""Turn free-text survey answers into defensible, audited themes mapped to the survey's closed categories.

Library first: ``from pipeline import Pipeline, load_config`` (see ``pipeline.api``); the ``pipeline`` command is
a thin wrapper over the same code. Names are imported on first use, so ``pipeline --help`` stays fast.
"""
from __future__ import annotations

from importlib import import_module, metadata
from typing import Any

try:
    __version__ = metadata.version("pipeline")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {"Pipeline": "pipeline.api", "RunResult": "pipeline.runner", "run": "pipeline.runner",
         "Config": "pipeline.core.config", "load_config": "pipeline.core.config",
         "PipelineError": "pipeline.core.errors", "ConfigError": "pipeline.core.errors"}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
