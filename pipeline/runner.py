"""Runs the stages in order, times them, and bundles what they produced into one RunResult."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pipeline.core.config import Config
from pipeline.core.errors import PipelineError
from pipeline.core.records import (
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
    theme_method: dict[str, Any] = field(default_factory=dict)  # how category and emergent themes were formed
    category_scores: list[CategoryScore] = field(default_factory=list)
    segment_categories: list[tuple[str, float]] = field(default_factory=list)  # per segment: closed category, score
    crosstab: list[CrosstabCell] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    label_quality: dict[int, dict[str, Any]] = field(default_factory=dict)  # theme id -> coherence, weak, ...
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    stages_run: list[str] = field(default_factory=list)
    run_id: str = ""
    centroids: dict[int, np.ndarray] = field(default_factory=dict)  # stable theme id -> centroid
    codebook: list[dict[str, Any]] = field(default_factory=list)
    theme_model_reused: bool = False  # the saved theme model matched and was reused instead of re-fitted
    theme_matching: Any = None  # how this run's themes matched the previous run's (validate.IdMatch)
    embedder: Any = field(default=None, repr=False)


STAGES = ("ingest", "embed", "themes", "report")
THEME_TABLES = ("ledger.csv", "segments.csv", "themes.csv", "assignments.csv", "reassignments.csv",
                "theme_selection.csv")

Progress = Callable[[str], None]
Track = Callable[[str, int, int], None]  # (step, done, total) for a progress bar


class _Timer:
    def __init__(self, timings: dict[str, float], name: str, say: Progress):
        self.timings, self.name, self.say = timings, name, say

    def __enter__(self):
        self.start = time.perf_counter()
        self.say(f"{self.name} ...")
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.start, 3)


def default_out_dir(corpus_dir: str | Path) -> Path:
    return Path("outputs") / Path(corpus_dir).resolve().name


def default_model_dir(corpus_dir: str | Path) -> Path:
    return Path("models") / Path(corpus_dir).resolve().name


def run(corpus_dir: str | Path, config: Config, out_dir: str | Path | None = None, *, until: str = "report",
        model_dir: str | Path | None = None, force_refit: bool = False, say: Progress | None = None,
        track: Track | None = None) -> RunResult:
    """Run the stages up to and including ``until`` and write their outputs.

    The saved theme model is reused when it was fitted on exactly these segments with this theme config, seed and
    embedding model (the fit is deterministic, so the result is the same); ``force_refit`` fits anyway.
    """
    if until not in STAGES:
        raise ValueError(f"until must be one of {STAGES}")
    from pipeline import ingest, report
    from pipeline.io.rundir import RunDirectory

    say = say or (lambda message: None)
    corpus_dir = Path(corpus_dir)
    out_dir = Path(out_dir) if out_dir else default_out_dir(corpus_dir)
    model_dir = Path(model_dir) if model_dir else default_model_dir(corpus_dir)
    result = RunResult(corpus_dir=corpus_dir, out_dir=out_dir, config=config)
    timings = result.timings

    with RunDirectory(out_dir) as run_dir:
        result.run_id = run_dir.run_id
        with _Timer(timings, "ingest", say):
            result.categories = ingest.load_categories(corpus_dir / config.categories_file)
            rating_columns = [c.rating_column for c in result.categories if c.rating_column]
            read = ingest.read_corpus(corpus_dir, config.ingest, rating_columns=rating_columns)
            cleaned = _clean(read.answers, config)
            result.files, result.answers = read.files, read.answers
            result.ledger = _ordered_ledger(read.ledger + cleaned.ledger)
            result.segments = cleaned.segments
            result.warnings = list(read.warnings) + list(getattr(cleaned, "warnings", []))
        result.stages_run.append("ingest")
        if until == "ingest":
            report.write_ingest_outputs(result, out_dir)
            return result

        with _Timer(timings, "embed", say):
            _embed(result, config, track)
        result.stages_run.append("embed")
        if until == "embed":
            report.write_ingest_outputs(result, out_dir)
            return result

        _themes(result, config, model_dir, force_refit, say)
        result.stages_run.append("themes")
        if until == "themes":
            report.write_tables(result, out_dir, THEME_TABLES)
            return result

        _analyse(result, config, say)
        with _Timer(timings, "report", say):
            from pipeline.analyst import write_codebook

            write_codebook(out_dir, result.codebook, title=f"Codebook: {config.report.title}")
            report.write_report(result, out_dir, run_id=run_dir.run_id)
        result.stages_run.append("report")
    return result


def _ordered_ledger(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    return sorted(entries, key=lambda e: (e.file, e.row))


def _embed(result: RunResult, config: Config, track: Track | None = None) -> None:
    from pipeline.embed import EmbeddingCache, get_embedder

    embedder = get_embedder(config.embed.model, device=config.embed.device, batch_size=config.embed.batch_size)
    result.embedder = embedder
    cache = EmbeddingCache(config.embed.cache_dir)
    texts = [segment.clean_text for segment in result.segments]
    progress = (lambda done, total: track("embedding", done, total)) if track else None
    embeddings, stats = cache.embed(texts, embedder, progress=progress)
    result.embeddings, result.cache_hits, result.cache_misses = embeddings, stats.hits, stats.misses


CLEAN_CODE = ("pipeline.clean.cleaner", "pipeline.clean.normalize", "pipeline.clean.segment", "pipeline.clean.language",
              "pipeline.clean.dedupe", "pipeline.core.records")


def _clean(answers: list[Answer], config: Config):
    """Cleaning and segmentation, read from the stage cache when these answers, this clean config and this code
    were cleaned before (``pipeline.stage_cache``)."""
    from pipeline import clean
    from pipeline.io.stage_cache import StageCache

    cache = StageCache(Path(config.embed.cache_dir).parent / "cleaned",
                       code_modules=CLEAN_CODE)
    answer_keys = [(a.answer_id, a.file, a.row, a.respondent_id, a.text) for a in answers]
    return cache.get([config.clean, answer_keys], lambda: clean.Cleaner(config.clean).transform(answers))


# the modules whose code decides a theme fit: a changed version of any of them refits instead of reusing
THEME_CODE = ("pipeline.themes.model", "pipeline.themes.coded", "pipeline.themes.clusters",
              "pipeline.themes.bertopic_adapter", "pipeline.categories.zeroshot", "pipeline.categories.coder",
              "pipeline.categories.offlist", "pipeline.categories.items", "pipeline.categories.lemmas",
              "pipeline.categories.residual", "pipeline.categories.null_texts")


def fit_fingerprint(config: Config, embedder_name: str, segments: list[Segment],
                    categories: list[Category] | None = None) -> str:
    """What a theme fit depends on: theme config, seed, embedding model, the closed categories (they seed and code
    the themes), the theme-stage code and the exact segments."""
    import hashlib
    import json
    from dataclasses import asdict

    from pipeline.io.stage_cache import code_digest

    digest = hashlib.sha256(json.dumps({"themes": config.themes.model_dump(), "seed": config.seed,
                                        "model": embedder_name,
                                        "categories": [asdict(c) for c in categories or []],
                                        "code": code_digest(THEME_CODE)},
                                       sort_keys=True, default=list).encode())
    for segment in segments:
        digest.update(f"{segment.segment_id}\x00{segment.clean_text}\x01".encode())
    return digest.hexdigest()


def _themes(result: RunResult, config: Config, model_dir: Path, force_refit: bool, say: Progress) -> None:
    from pipeline import analyst as validate
    from pipeline.io.atomic import atomic_write_text
    from pipeline.themes import ThemeModel

    embedder = result.embedder
    segment_ids = [segment.segment_id for segment in result.segments]
    texts = [segment.clean_text for segment in result.segments]
    fingerprint = fit_fingerprint(config, embedder.name, result.segments, result.categories)
    saved = model_dir / "fingerprint.txt"
    with _Timer(result.timings, "themes", say):
        model = None
        if not force_refit and saved.is_file() and saved.read_text(encoding="utf-8").strip() == fingerprint:
            # same segments, config, seed and model: the fit is deterministic, so reuse it
            model = ThemeModel.load(model_dir, embedder, with_topic_model=False)
            result.theme_model_reused = True
        if model is None:
            model = ThemeModel(**config.themes.model_dump(), random_state=config.seed)
            try:
                model.fit(texts, result.embeddings, embedder, categories=result.categories, segment_ids=segment_ids)
            except PipelineError as exc:
                raise PipelineError(exc.message, file=exc.file or str(result.corpus_dir), row=exc.row) from None
            saved.unlink(missing_ok=True)  # a half-saved model must not look current
            model.save(model_dir)
            atomic_write_text(saved, fingerprint + "\n")
        themes, assignments, reassignments = model.themes_, model.assignments_, model.reassignments_
        state_path = result.out_dir / "theme_state.json"
        previous = validate.load_theme_state(state_path)
        match = validate.match_theme_ids(previous, model.centroids_)
        themes, assignments, reassignments = validate.renumber(themes, assignments, reassignments, match)
        result.theme_matching = match
        if match.new and previous is not None:
            result.warnings.append(f"new themes since the previous run: {', '.join(map(str, sorted(match.new)))}")
        if match.vanished:
            result.warnings.append("themes of the previous run that no longer appear: "
                                   + ", ".join(map(str, sorted(match.vanished))))
        centroids = {match.mapping.get(k, k): v for k, v in model.centroids_.items()}
        validate.save_theme_state(state_path, themes, centroids, previous=previous)
        result.themes, result.assignments, result.reassignments = themes, assignments, reassignments
        result.theme_selection = list(model.selection_)
        result.theme_method = dict(getattr(model, "coding_", {}))
        # each segment's own closed category, from the coder the theme stage used (never the catch-all option)
        result.segment_categories = list(getattr(model, "segment_categories_", []))
        result.centroids = centroids


def _analyse(result: RunResult, config: Config, say: Progress) -> None:
    from pipeline import analyst as validate
    from pipeline.analysis import association, quotes
    from pipeline.embed import CachedEmbedder, EmbeddingCache
    from pipeline.mapping import CategoryMapper

    # category items and calibration sentences go through the content cache: a re-run never loads the model
    embedder = CachedEmbedder(result.embedder, EmbeddingCache(config.embed.cache_dir))
    labels = validate.load_labels(result.corpus_dir / config.labels_file)
    themes, assignments, warnings = validate.apply_labels(result.themes, result.assignments, labels,
                                                          result.categories)
    result.reassignments = result.reassignments + validate.label_reassignments(result.assignments, assignments)
    result.warnings.extend(warnings)
    with _Timer(result.timings, "mapping", say):
        if result.categories:
            mapper = CategoryMapper(keyword_weight=config.mapping.keyword_weight,
                                    emergent_threshold=config.mapping.emergent_threshold,
                                    min_elevation=config.mapping.min_elevation,
                                    min_support=config.mapping.min_support, random_state=config.seed)
            mapper.fit(themes, assignments, result.embeddings, result.categories, embedder)
            themes = validate.keep_pins(mapper.themes_, themes)
            result.category_scores = mapper.scores_
        result.themes, result.assignments = themes, assignments
        result.crosstab = association.crosstab(result.answers, result.segments, assignments, themes,
                                               result.categories, config.mapping)
        result.disagreements = association.disagreements(result.answers, result.segments, assignments, themes,
                                                         result.categories, config.mapping)
    with _Timer(result.timings, "quotes", say):
        result.quotes = quotes.select_quotes(themes, assignments, result.segments, result.embeddings,
                                             result.answers, config.quotes)
        result.label_quality = validate.label_quality(themes, assignments, result.segments, result.embeddings,
                                                      random_state=config.seed)
        result.codebook = validate.build_codebook(themes, assignments, result.segments, result.embeddings,
                                                  result.categories, result.label_quality)
