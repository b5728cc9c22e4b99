"""The stage graph, as data: each stage a name, the stages whose outputs it takes, and its one typed output.

kedro's ``pipeline_registry.py`` is the model: a reader sees the whole flow here, in one screen, and the runner
(``pipeline.runner``) only walks this table. A stage's function takes the run context and, as keyword arguments
named after its input stages, their outputs (``themes_stage(ctx, clean=..., embed=..., categories=...)``).

    categories ─┬─> ingest ──> clean ──> embed ──> themes ──> stable_ids ──> coding ──> labels ──> mapping ──> naming ─┬─> association
                │                                                                                                  ├─> quotes
                └──────────────────────────────────(closed categories feed themes, coding, labels, mapping, naming)─┴─> codebook
    (coding: each segment's code, from the analyst's coded segments where there are any, pipeline.analyst.trained;
     labels then moves each segment the codes decide into its code's theme, so every later stage follows them)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.analysis.stage import association_stage, naming_stage, quotes_stage
from pipeline.analyst.coding_stage import coding_stage
from pipeline.analyst.stage import codebook_stage, labels_stage, stable_ids_stage
from pipeline.clean.stage import clean_stage
from pipeline.core.artifacts import (
    Associations, Categories, Cleaned, Codebook, Coded, Embedded, Ingested, Labelled, Mapped, Named, Quotes, ThemeFit,
)
from pipeline.core.invariants import check_ledger
from pipeline.embed.stage import embed_stage
from pipeline.ingest.stage import categories_stage, ingest_stage
from pipeline.mapping.stage import mapping_stage
from pipeline.themes.stage import themes_stage


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: tuple[str, ...]  # names of earlier stages whose outputs this one takes
    output: type  # the typed record it returns (pipeline.core.artifacts)
    run: Callable[..., Any]
    # an invariant over the outputs so far, run right after the stage on every run (raises if broken)
    check: Callable[[dict[str, Any]], None] | None = None


def _ledger_accounts_for_every_answer(outputs: dict[str, Any]) -> None:
    check_ledger(outputs["ingest"], outputs["clean"])


STAGES: tuple[Stage, ...] = (
    Stage("categories", (), Categories, categories_stage),
    Stage("ingest", ("categories",), Ingested, ingest_stage),
    Stage("clean", ("ingest",), Cleaned, clean_stage, check=_ledger_accounts_for_every_answer),
    Stage("embed", ("clean",), Embedded, embed_stage),
    Stage("themes", ("clean", "embed", "categories"), ThemeFit, themes_stage),
    Stage("stable_ids", ("themes",), ThemeFit, stable_ids_stage),
    Stage("coding", ("clean", "embed", "stable_ids", "categories"), Coded, coding_stage),
    Stage("labels", ("stable_ids", "categories", "coding"), Labelled, labels_stage),
    Stage("mapping", ("labels", "embed", "categories"), Mapped, mapping_stage),
    Stage("naming", ("clean", "embed", "labels", "mapping", "categories"), Named, naming_stage),
    Stage("association", ("ingest", "clean", "labels", "naming", "categories"), Associations, association_stage),
    Stage("quotes", ("ingest", "clean", "embed", "themes", "labels", "naming", "coding"), Quotes, quotes_stage),
    Stage("codebook", ("clean", "embed", "labels", "naming", "categories"), Codebook, codebook_stage),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)

# What the commands stop after, and which outputs each stopping point writes (the report writes everything).
# `themes` runs through naming, so its tables carry the labels every other output shows (labels.yaml, phrases).
CHECKPOINTS: dict[str, str] = {"ingest": "clean", "embed": "embed", "themes": "naming", "report": "codebook"}
CHECKPOINT_TABLES: dict[str, tuple[str, ...]] = {
    "ingest": ("ledger.csv", "segments.csv"),
    "embed": ("ledger.csv", "segments.csv"),
    "themes": ("ledger.csv", "segments.csv", "themes.csv", "assignments.csv", "reassignments.csv",
               "theme_selection.csv"),
}


def stages_until(last: str) -> tuple[Stage, ...]:
    """The stages up to and including ``last`` (a stage name), in order."""
    if last not in STAGE_NAMES:
        raise ValueError(f"unknown stage {last!r}; stages: {', '.join(STAGE_NAMES)}")
    return STAGES[:STAGE_NAMES.index(last) + 1]


def check_graph(stages: tuple[Stage, ...] = STAGES) -> None:
    """Every input names an earlier stage and every stage has a distinct name (run by the tests)."""
    seen: set[str] = set()
    for stage in stages:
        missing = [name for name in stage.inputs if name not in seen]
        if missing or stage.name in seen:
            raise ValueError(f"stage {stage.name!r}: inputs {missing} are not earlier stages, or the name repeats")
        seen.add(stage.name)
