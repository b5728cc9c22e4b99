"""The theme stage: fit the themes, or reuse the saved fit when nothing it depends on changed.

The fit is deterministic, so a saved fit made on exactly these segments, with this theme config, seed, embedding
model, closed categories, theme-stage code and package versions gives the same result as fitting again.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict
from typing import Sequence

import numpy as np

from pipeline.core.artifacts import Categories, Cleaned, Embedded, ThemeFit
from pipeline.core.config import Config
from pipeline.core.context import RunContext
from pipeline.core.errors import PipelineError
from pipeline.core.records import Category, Segment
from pipeline.core.versions import THEME_PACKAGES, package_versions
from pipeline.io.atomic import atomic_write_text
from pipeline.io.stage_cache import code_digest
from pipeline.categories import OffListScorer, topical
from pipeline.embed import MemoEmbedder
from pipeline.themes.model import ThemeModel
from pipeline.themes.scaled import fit_on_sample, fit_sampled, sampled_fingerprint

# the modules whose code decides a theme fit: a changed version of any of them refits instead of reusing
THEME_CODE = ("pipeline.themes.model", "pipeline.themes.partition", "pipeline.themes.coded", "pipeline.themes.emergent",
              "pipeline.themes.clusters", "pipeline.themes.representation", "pipeline.themes.naming",
              "pipeline.themes.persist", "pipeline.themes.bertopic_adapter", "pipeline.categories.zeroshot", "pipeline.categories.coder",
              "pipeline.categories.offlist", "pipeline.categories.offlist_score", "pipeline.categories.items",
              "pipeline.categories.lemmas",
              "pipeline.categories.residual", "pipeline.categories.null_texts")
FINGERPRINT_FILE = "fingerprint.txt"
# what loading a damaged saved fit raises: truncated or edited JSON, missing keys, a cut centroids.npz
SAVED_FIT_DAMAGE = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile, PipelineError)


def fit_fingerprint(config: Config, embedder_name: str, segments: Sequence[Segment],
                    categories: Sequence[Category] | None = None) -> str:
    """What a theme fit depends on: theme config, seed, embedding model, the closed categories (they seed and code
    the themes), the theme-stage code, the versions of the packages it runs on, and the exact segments."""
    digest = hashlib.sha256(json.dumps({"themes": config.themes.model_dump(), "seed": config.seed,
                                        "model": embedder_name,
                                        "categories": [asdict(c) for c in categories or []],
                                        "code": code_digest(THEME_CODE),
                                        "packages": package_versions(THEME_PACKAGES)},
                                       sort_keys=True, default=list).encode())
    for segment in segments:
        digest.update(f"{segment.segment_id}\x00{segment.clean_text}\x01".encode())
    return digest.hexdigest()


def themes_stage(ctx: RunContext, clean: Cleaned, embed: Embedded, categories: Categories) -> ThemeFit:
    config, embedder = ctx.config, embed.embedder
    segments = clean.segments
    sample_size = fit_on_sample(len(segments), config.scale.fit_above, config.scale.fit_sample)
    if sample_size is not None:
        return _sampled_themes_stage(ctx, clean, embed, categories, sample_size)
    fingerprint = (fit_fingerprint(config, embedder.name, segments, categories.categories)
                   if ctx.model_dir is not None else None)
    model, damage = _reusable_fit(ctx, embedder, fingerprint)
    reused = model is not None
    if model is None:
        model = ThemeModel(**config.themes.model_dump(), random_state=config.seed)
        try:
            model.fit([s.clean_text for s in segments], embed.embeddings, embedder,
                      categories=list(categories.categories), segment_ids=[s.segment_id for s in segments])
        except PipelineError as exc:
            where = exc.file or (str(ctx.corpus_dir) if ctx.corpus_dir is not None else None)
            raise PipelineError(exc.message, file=where, row=exc.row) from None
        _save_fit(ctx, model, fingerprint)
    return ThemeFit(
        themes=tuple(model.themes_), assignments=tuple(model.assignments_),
        reassignments=tuple(model.reassignments_), selection=tuple(model.selection_),
        method=dict(getattr(model, "coding_", {})),
        # each segment's own closed category, from the coder the theme stage used (never the catch-all option)
        segment_categories=tuple(getattr(model, "segment_categories_", [])),
        segment_off_list=tuple(getattr(model, "segment_off_list_", [])),
        centroids=dict(model.centroids_), model=model, reused=reused,
        id_map={theme_id: theme_id for theme_id in model.centroids_},
        warnings=_damage_note(ctx, damage))


def _sampled_themes_stage(ctx: RunContext, clean: Cleaned, embed: Embedded, categories: Categories,
                          sample_size: int) -> ThemeFit:
    """The theme stage above ``scale.fit_above`` segments: fit on a stratified sample, assign the rest in batches
    on the run's engine (``pipeline.themes.scaled``); the saved fit is the sample's, reused as the full one is."""
    config, embedder, segments = ctx.config, embed.embedder, clean.segments
    fingerprint = sampled_fingerprint(fit_fingerprint(config, embedder.name, segments, categories.categories)
                                      if ctx.model_dir is not None else None, sample_size, config.scale.batch_rows)
    model, damage = _reusable_fit(ctx, embedder, fingerprint)
    reused = model is not None
    try:
        fit = fit_sampled(model or ThemeModel(**config.themes.model_dump(), random_state=config.seed),
                          [s.clean_text for s in segments], embed.embeddings, embedder, list(categories.categories),
                          [s.segment_id for s in segments], sample_size=sample_size,
                          batch_rows=config.scale.batch_rows, seed=config.seed, engine=ctx.engine, fitted=reused)
    except PipelineError as exc:
        where = exc.file or (str(ctx.corpus_dir) if ctx.corpus_dir is not None else None)
        raise PipelineError(exc.message, file=where, row=exc.row) from None
    if not reused:
        _save_fit(ctx, fit.model, fingerprint)
    return ThemeFit(themes=tuple(fit.themes), assignments=tuple(fit.assignments),
                    reassignments=tuple(fit.model.reassignments_), selection=tuple(fit.model.selection_),
                    method=fit.method, segment_categories=tuple(fit.segment_categories),
                    segment_off_list=_sampled_off_list(embed.embeddings, fit.sample, categories.categories,
                                                       embedder, config.seed),
                    centroids=dict(fit.model.centroids_), model=fit.model, reused=reused,
                    id_map={theme_id: theme_id for theme_id in fit.model.centroids_},
                    warnings=_damage_note(ctx, damage))


def _sampled_off_list(X, sample, categories: Sequence[Category], embedder, seed: int) -> tuple[float, ...]:
    """Every segment's off-list score from a scorer calibrated on the sample (as the sampled fit's own scores
    are), applied to the rows the fit did not see."""
    topics = topical(categories)
    if not topics:
        return ()
    scorer = OffListScorer(random_state=seed or 0).fit(np.asarray(X)[sample], topics, MemoEmbedder(embedder))
    return tuple(round(float(score), 4) for score in scorer.score_samples(X))


def _reusable_fit(ctx: RunContext, embedder, fingerprint: str | None) -> tuple[ThemeModel | None, str]:
    """The saved fit to reuse (or None) and what damage was found in it; errors where ``reuse_only`` cannot."""
    model, damage = _saved_fit(ctx, embedder, fingerprint)
    if damage and ctx.reuse_only:
        raise PipelineError(f"the saved theme fit is damaged ({damage}); run `pipeline run` to fit it again",
                            file=str(ctx.model_dir))
    if model is None and ctx.reuse_only:
        raise PipelineError("no current theme fit to rebuild the report from: the corpus, its categories, the "
                            "config or the code changed since the last fit (or there was none); run "
                            "`pipeline run` instead", file=str(ctx.model_dir))
    return model, damage


def _damage_note(ctx: RunContext, damage: str) -> tuple[str, ...]:
    return (f"{ctx.model_dir}: the saved theme fit is damaged ({damage}); fitted again",) if damage else ()


def _saved_fit(ctx: RunContext, embedder, fingerprint: str | None) -> tuple[ThemeModel | None, str]:
    """(the saved fit if it is current, else None; what is wrong with it if it is current but damaged)."""
    if ctx.model_dir is None or ctx.force_refit:
        return None, ""
    saved = ctx.model_dir / FINGERPRINT_FILE
    try:
        current = saved.is_file() and saved.read_text(encoding="utf-8").strip() == fingerprint
    except (OSError, UnicodeDecodeError):
        current = False
    if not current:
        return None, ""
    try:
        return ThemeModel.load(ctx.model_dir, embedder, with_topic_model=False), ""
    except SAVED_FIT_DAMAGE as exc:  # a truncated state.json made every `pipeline report` fail with JSONDecodeError
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:100]}"


def _save_fit(ctx: RunContext, model: ThemeModel, fingerprint: str | None) -> None:
    if ctx.model_dir is None or fingerprint is None:
        return
    saved = ctx.model_dir / FINGERPRINT_FILE
    saved.unlink(missing_ok=True)  # a half-saved model must not look current
    model.save(ctx.model_dir)
    atomic_write_text(saved, fingerprint + "\n")
