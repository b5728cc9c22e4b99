"""What each stage hands the next: one frozen, typed output per stage of ``pipeline.stages``.

Records (``pipeline.core.records``) describe single answers, segments and themes; these bundle one stage's records
with what it learned about them. Every output carries the warnings its stage raised, one line each, so a run's
warnings are simply its stages' warnings in stage order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.core.records import (
    Answer, Assignment, AttributeCell, Category, CategoryScore, CrosstabCell, LedgerEntry, Quote, Reassignment, Segment,
    SourceFile, Theme,
)


@dataclass(frozen=True)
class Categories:
    """The closed question's categories (categories.yaml); empty = themes only."""

    categories: tuple[Category, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def rating_columns(self) -> list[str]:
        return [c.rating_column for c in self.categories if c.rating_column]


@dataclass(frozen=True)
class Ingested:
    """Every answer read, with its provenance; records that could not be read are in ``ledger`` as dropped."""

    files: tuple[SourceFile, ...]
    answers: tuple[Answer, ...]
    ledger: tuple[LedgerEntry, ...]  # DROPPED entries for records read but unusable, and files not read (row 0)
    warnings: tuple[str, ...] = ()
    # file (or "file[sheet]") -> how many records its reader returned; what the ledger invariant counts against
    sources: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Cleaned:
    """Segments of the kept answers; ``ledger`` holds one entry per answer read (ingest's and clean's)."""

    segments: tuple[Segment, ...]
    ledger: tuple[LedgerEntry, ...]
    warnings: tuple[str, ...] = ()
    cache_hit: bool | None = None  # read from the stage cache (None: no cache in use)


@dataclass(frozen=True)
class Embedded:
    """One unit-length row per segment, in segment order, and the embedder that made them."""

    embeddings: np.ndarray
    embedder: Any = field(repr=False)
    cache_hits: int = 0
    cache_misses: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeFit:
    """The theme stage's result: themes, each segment's assignment (aligned with the segments), and how they were
    found. ``model`` is the fitted ``ThemeModel`` (for ``transform`` of new texts); ``id_map`` maps the model's
    theme ids to the stable ids used everywhere else (identity until ``stable_ids`` ran)."""

    themes: tuple[Theme, ...]
    assignments: tuple[Assignment, ...]
    reassignments: tuple[Reassignment, ...]
    selection: tuple[dict[str, Any], ...]  # how the number of themes was chosen
    method: dict[str, Any]  # how category and emergent themes were formed
    segment_categories: tuple[tuple[str, float], ...]  # per segment: its own closed category and score
    centroids: dict[int, np.ndarray]
    segment_off_list: tuple[float, ...] = ()  # per segment: calibrated P(no listed category), aligned
    model: Any = field(default=None, repr=False)
    reused: bool = False  # the saved fit matched and was reused instead of re-fitted
    id_map: dict[int, int] = field(default_factory=dict)
    previous_state: Any = None  # the previous run's theme state these ids were matched against (stable_ids)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Labelled:
    """Themes and assignments after the analyst's labels.yaml (renames, merges, noise, pins, recodes, splits)."""

    themes: tuple[Theme, ...]
    assignments: tuple[Assignment, ...]
    reassignments: tuple[Reassignment, ...]  # the fit's outlier moves plus every move the labels made
    warnings: tuple[str, ...] = ()
    codes: tuple[Category, ...] = ()  # the analyst's codes beyond the closed list (labels.yaml ``codes:``)
    merges: dict[int, tuple[int, ...]] = field(default_factory=dict)  # surviving theme -> the ids merged into it
    merged_categories: dict[int, tuple[str, ...]] = field(default_factory=dict)  # survivor -> its parts' categories
    renamed: frozenset[int] = frozenset()  # themes whose label the analyst gave (never relabelled downstream)


@dataclass(frozen=True)
class Mapped:
    """Themes with their closed category (or emergent) and the full theme x category score table."""

    themes: tuple[Theme, ...]
    scores: tuple[CategoryScore, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Named:
    """Themes as the reports show them: readable labels for themes found without the closed list (the analyst's
    and the categories' labels kept), keywords without names; each label's fit, and each segment's
    identifiability flags (aligned with the segments) from the run's one identifiability check."""

    themes: tuple[Theme, ...]
    label_fit: dict[int, dict[str, Any]] = field(default_factory=dict)
    segment_flags: tuple[tuple[str, ...], ...] = ()
    identifier: Any = field(default=None, repr=False)  # pipeline.analysis.identify.Identifier of this run
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Associations:
    """Themes against the structured ratings: the crosstab cells and the text-vs-rating disagreements."""

    crosstab: tuple[CrosstabCell, ...] = ()
    disagreements: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    attribute_cells: tuple[AttributeCell, ...] = ()  # theme x respondent attribute matrix
    attribute_columns: tuple[str, ...] = ()  # the respondent attributes carried into every output


@dataclass(frozen=True)
class Quotes:
    quotes: tuple[Quote, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    """The codebook rows and each theme's label quality."""

    rows: tuple[dict[str, Any], ...] = ()
    label_quality: dict[int, dict[str, Any]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Coded:
    """Each segment's code (aligned with the segments): ``(code id, source, confidence)``, source ``analyst``,
    ``trained`` or ``label-free``; the trained coder's probabilities and its accuracy report when the analyst has
    coded segments (``validate.coded_file``), else None."""

    codes: tuple[tuple[str, str, float], ...] = ()
    classes: tuple[str, ...] = ()  # code ids, the columns of ``proba``
    proba: Any = field(default=None, repr=False)  # ndarray (n_segments, n_codes) or None
    accuracy: Any = None  # pipeline.analyst.accuracy.AccuracyReport or None
    n_coded: int = 0
    warnings: tuple[str, ...] = ()
