"""What every stage may read besides its inputs: the config, where things live, and how to report progress.

A stage never decides a path on its own: a folder that is None here means "do not read or write it" (a notebook
run keeps everything in memory), so outputs appear only where the caller asked for them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.config import Config
from pipeline.core.errors import ConfigError

Say = Callable[[str], None]  # one progress line
Track = Callable[[str, int, int], None]  # (step, done, total) for a progress bar


def _quiet(message: str) -> None:
    return None


@dataclass(frozen=True)
class RunContext:
    config: Config
    corpus_dir: Path | None = None  # where the answers came from (names errors; categories/labels files)
    out_dir: Path | None = None  # outputs; also holds theme_state.json for stable ids across runs
    model_dir: Path | None = None  # the saved theme fit, reused when nothing it depends on changed
    cache_dir: Path | None = None  # the embedding cache (embed.cache_dir); the cleaning cache sits beside it
    labels: Any = None  # an analyst's labels (LabelsFile) given directly instead of corpus_dir/labels_file
    force_refit: bool = False  # fit the themes even when the saved fit is current
    reuse_only: bool = False  # never fit: the saved fit must be current (`pipeline report`)
    engine: Any = field(default=None, repr=False)  # pipeline.compute engine for partitioned work; None = local
    say: Say = field(default=_quiet, repr=False)
    track: Track | None = field(default=None, repr=False)

    def corpus_file(self, name: str) -> Path | None:
        """``name`` (categories_file, labels_file) relative to the corpus folder; None without a corpus folder."""
        return None if self.corpus_dir is None else self.corpus_dir / name

    def configured_file(self, key: str, default: str) -> Path | None:
        """The file the config's ``key`` (categories_file, labels_file) names in the corpus folder. A missing file
        is fine under its default name (no categories, no labels), but a name the user set that does not exist is
        a mistyped name: an error, not silently themes without categories."""
        name = getattr(self.config, key)
        path = self.corpus_file(name)
        if path is not None and name != default and not path.is_file():
            raise ConfigError(f"{key} = {name!r} (set in the config) is not a file in the corpus folder",
                              file=str(self.corpus_dir))
        return path
