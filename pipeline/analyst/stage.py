"""The analyst's stages: stable theme ids across runs, labels.yaml applied, and the codebook with label quality."""
from __future__ import annotations

import dataclasses

from pipeline.analyst.code_moves import code_audit, decided_codes, with_code_moves
from pipeline.analyst.codebook import build_codebook
from pipeline.analyst.coding_stage import run_labels
from pipeline.analyst.label_checks import merge_summary, renamed_themes, stale_entries
from pipeline.analyst.label_quality import label_quality
from pipeline.analyst.labels_file import analyst_codes, apply_labels, label_reassignments
from pipeline.analyst.stable_ids import load_theme_state, match_theme_ids, renumber
from pipeline.core.artifacts import Categories, Cleaned, Codebook, Coded, Embedded, Labelled, Named, ThemeFit
from pipeline.core.context import RunContext

THEME_STATE_FILE = "theme_state.json"


def stable_ids_stage(ctx: RunContext, themes: ThemeFit) -> ThemeFit:
    """The fit's themes renumbered with the ids of the previous run's matching themes (by centroid), so labels
    given to a theme keep their meaning when the corpus grows."""
    previous = load_theme_state(ctx.out_dir / THEME_STATE_FILE) if ctx.out_dir is not None else None
    match = match_theme_ids(previous, themes.centroids)
    renumbered, assignments, reassignments = renumber(themes.themes, themes.assignments, themes.reassignments, match)
    warnings: list[str] = []
    if match.new and previous is not None:
        warnings.append(f"new themes since the previous run: {', '.join(map(str, sorted(match.new)))}")
    if match.vanished:
        warnings.append("themes of the previous run that no longer appear: "
                        + ", ".join(map(str, sorted(match.vanished))))
    return dataclasses.replace(
        themes, themes=tuple(renumbered), assignments=tuple(assignments), reassignments=tuple(reassignments),
        centroids={match.mapping.get(k, k): v for k, v in themes.centroids.items()},
        id_map={k: match.mapping.get(k, k) for k in themes.centroids}, previous_state=previous,
        warnings=tuple(warnings))


def labels_stage(ctx: RunContext, stable_ids: ThemeFit, categories: Categories, coding: Coded | None = None
                 ) -> Labelled:
    """labels.yaml (or the labels given to the context) applied to every theme and assignment, after the segments
    whose code decides their theme were moved into it (``pipeline.analyst.code_moves``)."""
    labels = run_labels(ctx)
    codes = analyst_codes(labels, categories.categories)
    decided = decided_codes(coding, stable_ids.assignments, stable_ids.themes, labels,
                            ctx.config.validate.trained_theme_confidence)
    applied = with_code_moves(labels, decided, stable_ids.themes, [*categories.categories, *codes])
    themes, assignments, warnings = apply_labels(list(stable_ids.themes), list(stable_ids.assignments), applied,
                                                 list(categories.categories))
    moves, assignments = code_audit(label_reassignments(list(stable_ids.assignments), assignments, applied),
                                    assignments, decided)
    warnings += stale_entries(labels, stable_ids.themes, stable_ids.centroids, stable_ids.previous_state,
                              ctx.config.validate.labels_min_similarity)
    merges, merged_categories = merge_summary(stable_ids.themes, labels)
    return Labelled(tuple(themes), tuple(assignments), tuple(stable_ids.reassignments) + tuple(moves),
                    tuple(warnings), tuple(codes), merges=merges,
                    merged_categories=merged_categories, renamed=renamed_themes(stable_ids.themes, applied))


def codebook_stage(ctx: RunContext, clean: Cleaned, embed: Embedded, labels: Labelled, naming: Named,
                   categories: Categories) -> Codebook:
    """The codebook of the themes as the reports show them; examples never carry an identifiability flag."""
    themes, segments = list(naming.themes), list(clean.segments)
    quality = label_quality(themes, list(labels.assignments), segments, embed.embeddings,
                            random_state=ctx.config.seed)
    rows = build_codebook(themes, list(labels.assignments), segments, embed.embeddings,
                          [*categories.categories, *labels.codes], quality, flags=naming.segment_flags,
                          merges=labels.merges)
    return Codebook(tuple(rows), quality)
