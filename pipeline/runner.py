"""Runs the stages in order, times them, and bundles what they produced into one RunResult."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Config
from pipeline.records import (
    Answer, Assignment, Category, CategoryScore, CrosstabCell, LedgerEntry, Quote, Reassignment, Segment,
    SourceFile, Theme,
)


@dataclass
class RunResult:
    """Everything one run produced; the report stage writes it out."""

    corpus_dir: Path
    out_dir: Path
    config: Config
    files: list[SourceFile] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)  # one entry per answer read
    segments: list[Segment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    embeddings: np.ndarray | None = None  # (n_segments, d), rows aligned with `segments`
    cache_hits: int = 0
    cache_misses: int = 0
    themes: list[Theme] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)  # aligned with `segments`
    reassignments: list[Reassignment] = field(default_factory=list)
    theme_selection: list[dict[str, Any]] = field(default_factory=list)  # how the number of themes was chosen
    category_scores: list[CategoryScore] = field(default_factory=list)
    crosstab: list[CrosstabCell] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    label_quality: dict[int, dict[str, float]] = field(default_factory=dict)  # theme id -> coherence etc.
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    stages_run: list[str] = field(default_factory=list)
