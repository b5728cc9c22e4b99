"""Runs the stage graph (``pipeline.stages``) up to a checkpoint, times every stage, and writes the outputs of what
ran into the run directory (only when one is given: a library run keeps everything in memory)."""
from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.config import Config
from pipeline.core.context import RunContext, Say, Track
from pipeline.stages import CHECKPOINT_TABLES, CHECKPOINTS, STAGES, Stage, stages_until


@dataclass(frozen=True)
class RunResult:
    """What one run produced: each stage's typed output by stage name, and how long each stage took.

    The read-only properties below are views for the report and the terminal summary: each returns the latest
    stage's version of a record set (themes after mapping if it ran, else after labels, else as fitted)."""

    config: Config
    outputs: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    corpus_dir: Path | None = None
    out_dir: Path | None = None
    run_id: str = ""
    notes: tuple[str, ...] = ()  # what the run directory repaired or noticed before the run (one line each)

    def _latest(self, attribute: str, *stages: str, default: Any = ()) -> Any:
        for name in stages:
            if name in self.outputs:
                return getattr(self.outputs[name], attribute)
        return default

    @property
    def stages_run(self) -> list[str]:
        """The checkpoints (``ingest``, ``embed``, ``themes``, ``report``) whose stages have all run."""
        return [point for point, last in CHECKPOINTS.items() if last in self.outputs]

    @property
    def warnings(self) -> list[str]:
        return [*self.notes,
                *(w for stage in STAGES if stage.name in self.outputs for w in self.outputs[stage.name].warnings)]

    files = property(lambda self: self._latest("files", "ingest"))
    answers = property(lambda self: self._latest("answers", "ingest"))
    ledger = property(lambda self: self._latest("ledger", "clean", "ingest"))
    segments = property(lambda self: self._latest("segments", "clean"))
    categories = property(lambda self: self._latest("categories", "categories"))
    # the analyst's codes beyond the closed list (labels.yaml `codes:`): they name themes pinned to them
    analyst_codes = property(lambda self: self._latest("codes", "labels"))
    embeddings = property(lambda self: self._latest("embeddings", "embed", default=None))
    embedder = property(lambda self: self._latest("embedder", "embed", default=None))
    cache_hits = property(lambda self: self._latest("cache_hits", "embed", default=0))
    cache_misses = property(lambda self: self._latest("cache_misses", "embed", default=0))
    themes = property(lambda self: self._latest("themes", "naming", "mapping", "labels", "stable_ids", "themes"))
    assignments = property(lambda self: self._latest("assignments", "labels", "stable_ids", "themes"))
    reassignments = property(lambda self: self._latest("reassignments", "labels", "stable_ids", "themes"))
    merges = property(lambda self: self._latest("merges", "labels", default={}))
    merged_categories = property(lambda self: self._latest("merged_categories", "labels", default={}))
    theme_selection = property(lambda self: self._latest("selection", "themes"))
    theme_method = property(lambda self: self._latest("method", "themes", default={}))
    segment_categories = property(lambda self: self._latest("segment_categories", "themes"))
    segment_off_list = property(lambda self: self._latest("segment_off_list", "themes"))
    centroids = property(lambda self: self._latest("centroids", "stable_ids", "themes", default={}))
    theme_model_reused = property(lambda self: self._latest("reused", "themes", default=False))
    category_scores = property(lambda self: self._latest("scores", "mapping"))
    crosstab = property(lambda self: self._latest("crosstab", "association"))
    disagreements = property(lambda self: self._latest("disagreements", "association"))
    quotes = property(lambda self: self._latest("quotes", "quotes"))
    codebook = property(lambda self: self._latest("rows", "codebook"))
    label_quality = property(lambda self: self._latest("label_quality", "codebook", default={}))
    label_fit = property(lambda self: self._latest("label_fit", "naming", default={}))
    segment_flags = property(lambda self: self._latest("segment_flags", "naming"))
    attribute_cells = property(lambda self: self._latest("attribute_cells", "association"))
    attribute_columns = property(lambda self: self._latest("attribute_columns", "association"))
    coded = property(lambda self: self.outputs.get("coding"))  # each segment's code, source, confidence
    coding_accuracy = property(lambda self: self._latest("accuracy", "coding", default=None))


def default_out_dir(corpus_dir: str | Path) -> Path:
    return Path("outputs") / Path(corpus_dir).resolve().name


def default_model_dir(corpus_dir: str | Path) -> Path:
    return Path("models") / Path(corpus_dir).resolve().name


def execute(ctx: RunContext, stages: tuple[Stage, ...], outputs: dict[str, Any] | None = None,
            timings: dict[str, float] | None = None) -> tuple[dict[str, Any], dict[str, float]]:
    """Run ``stages`` in order; each gets the outputs of its input stages. ``outputs`` may hold stages already run
    (they are not run again)."""
    outputs = dict(outputs or {})
    timings = dict(timings or {})
    for stage in stages:
        if stage.name in outputs:
            continue
        ctx.say(f"{stage.name} ...")
        start = time.perf_counter()
        output = stage.run(ctx, **{name: outputs[name] for name in stage.inputs})
        if not isinstance(output, stage.output):
            raise TypeError(f"stage {stage.name!r} returned {type(output).__name__}, not {stage.output.__name__}")
        outputs[stage.name] = output
        if stage.check is not None:
            stage.check(outputs)
        timings[stage.name] = round(time.perf_counter() - start, 3)
    return outputs, timings


def run(corpus_dir: str | Path, config: Config, out_dir: str | Path | None = None, *, until: str = "report",
        model_dir: str | Path | None = None, cache_dir: str | Path | None = None, labels: Any = None,
        force_refit: bool = False, reuse_only: bool = False, say: Say | None = None,
        track: Track | None = None, same_corpus: bool = False, engine: Any = None) -> RunResult:
    """Run the stages up to the checkpoint ``until`` (ingest, embed, themes or report) over a corpus folder.

    Outputs go to ``out_dir`` (written into a staging folder and swapped in when complete, see
    ``pipeline.io.rundir``) and the theme fit to ``model_dir``; either None writes nothing there. Each is locked
    for the run: a second run on the same folder stops with a one-line error naming the first. ``cache_dir`` is
    the embedding cache (default: ``config.embed.cache_dir`` when writing outputs, none otherwise). The saved
    theme fit is reused when it was fitted on exactly what it depends on; ``force_refit`` fits anyway;
    ``reuse_only`` never fits (an error when the saved fit is not current). ``same_corpus``: an ``out_dir``
    holding another corpus folder's outputs is an error (the default out_dir is named after the corpus folder
    alone, so two corpora called "survey" would share it). ``engine`` (``pipeline.compute``) runs the partitioned
    work; default: the one ``[scale]`` asks for, started for this run and closed after it.
    """
    if until not in CHECKPOINTS:
        raise ValueError(f"until must be one of {', '.join(CHECKPOINTS)}")
    out = Path(out_dir) if out_dir is not None else None
    if cache_dir is None and out is not None:
        cache_dir = config.embed.cache_dir
    own_engine = engine is None
    if own_engine:
        from pipeline.compute import engine_for

        engine = engine_for(config.scale)
    ctx = RunContext(config=config, corpus_dir=Path(corpus_dir), out_dir=out,
                     model_dir=Path(model_dir) if model_dir is not None else None,
                     cache_dir=Path(cache_dir) if cache_dir is not None else None, labels=labels,
                     force_refit=force_refit, reuse_only=reuse_only, say=say or (lambda message: None), track=track,
                     engine=engine)
    try:
        return _run(ctx, out, until, same_corpus)
    finally:
        if own_engine:
            engine.close()


def _run(ctx: RunContext, out: Path | None, until: str, same_corpus: bool) -> RunResult:
    config = ctx.config
    stages = stages_until(CHECKPOINTS[until])
    models = ctx.model_dir if any(stage.name == "themes" for stage in stages) else None  # only a fit touches it
    if out is None:
        with model_lock(models):
            outputs, timings = execute(ctx, stages)
        return RunResult(config, outputs, timings, ctx.corpus_dir)
    from pipeline.io.rundir import RunDirectory

    with RunDirectory(out, corpus=ctx.corpus_dir, same_corpus=same_corpus) as run_dir, \
            model_lock(models, run_dir.run_id):
        outputs, timings = execute(ctx, stages)
        result = RunResult(config, outputs, timings, ctx.corpus_dir, out, run_dir.run_id, tuple(run_dir.notes))
        ctx.say("report ..." if until == "report" else "writing ...")
        start = time.perf_counter()
        write_outputs(result, until, run_dir.path)
        seconds = round(time.perf_counter() - start, 3)
    return dataclasses.replace(result, timings={**timings, "report" if until == "report" else "write": seconds})


def model_lock(model_dir: Path | None, run_id: str = ""):
    """The saved theme fit's lock for the run (two runs with different --out share models/<corpus name>/), or
    nothing when no model folder is used."""
    if model_dir is None:
        return contextlib.nullcontext()
    from pipeline.io.lock import FolderLock

    return FolderLock(model_dir, run_id, what="model folder")


def write_outputs(result: RunResult, until: str, out: Path) -> None:
    """The files of a run stopped at ``until``, written into ``out`` (the run directory's ``path``): the
    checkpoint's tables, or (``report``) every table, the codebook, manifest.json, report.md and, last,
    report.html."""
    from pipeline import report
    from pipeline.analyst import save_theme_state, write_codebook
    from pipeline.analyst.stage import THEME_STATE_FILE

    if "stable_ids" in result.outputs:
        fit = result.outputs["stable_ids"]
        save_theme_state(out / THEME_STATE_FILE, fit.themes, fit.centroids, previous=fit.previous_state)
    if until != "report":
        report.write_tables(result, out, CHECKPOINT_TABLES[until])
        return
    write_codebook(out, result.codebook, title=f"Codebook: {result.config.report.title}")
    report.write_report(result, out, run_id=result.run_id)
