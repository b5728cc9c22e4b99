"""Everything report.md and report.html display, computed once from the run's records (``build_view``)."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pipeline.core.records import DROPPED, FILE_ROW, KEPT, UNASSIGNED
from pipeline.report.answer_tables import with_quote_extras, with_theme_extras
from pipeline.report.association_view import association_view
from pipeline.report.coding_section import coding_view
from pipeline.report.respondent_view import respondent_view
from pipeline.report.tables import as_row, is_significant, quote_rows, theme_rows


def run_counts(result) -> dict[str, Any]:
    assigned = Counter(a.theme_id == UNASSIGNED for a in result.assignments)
    answers = [entry for entry in result.ledger if entry.row != FILE_ROW]  # row 0: a file not read at all
    dropped = Counter(entry.reason or "unspecified" for entry in answers if entry.status == DROPPED)
    real_themes = [t for t in result.themes if t.theme_id != UNASSIGNED and not t.noise]
    return {
        "files": len(result.files), "files_not_read": len(result.ledger) - len(answers), "answers_read": len(answers),
        "answers_kept": sum(entry.status == KEPT for entry in answers),
        "answers_dropped": sum(dropped.values()), "dropped_by_reason": dict(sorted(dropped.items())),
        "respondents": len({answer.respondent_id for answer in result.answers}),
        "segments": len(result.segments), "themes": len(real_themes),
        "emergent_themes": sum(t.emergent for t in real_themes), "unstable_themes": sum(t.unstable for t in real_themes),
        "noise_themes": sum(t.noise for t in result.themes if t.theme_id != UNASSIGNED),
        "merged_themes": sum(len(ids) for ids in (getattr(result, "merges", {}) or {}).values()),
        "unassigned_segments": assigned[True],
        "unassigned_share": assigned[True] / len(result.assignments) if result.assignments else 0.0,
        "categories": len(result.categories), "quotes": len(result.quotes),
        "flagged_quotes": sum(bool(q.flags) for q in result.quotes),
        "crosstab_cells": len(result.crosstab),
        "significant_cells": sum(is_significant(c, result.config.mapping.fdr_alpha) for c in result.crosstab),
        "primary_cells": sum(c.family == "primary" for c in result.crosstab),
        "significant_primary": sum(c.family == "primary" and is_significant(c, result.config.mapping.fdr_alpha)
                                   for c in result.crosstab),
        "cache_hits": result.cache_hits, "cache_misses": result.cache_misses, "warnings": len(result.warnings),
    }


def build_view(result, run_id: str, generated: str) -> dict[str, Any]:
    """Everything report.md and report.html display, computed once from the run's records."""
    config = result.config
    codes = tuple(getattr(result, "analyst_codes", ()))  # labels.yaml `codes:`: they name pinned themes only
    categories = {category.category_id: category for category in (*result.categories, *codes)}
    themes = with_theme_extras(theme_rows(result.themes, result.segments, result.assignments,
                                          [*result.categories, *codes]), result)
    quotes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = with_quote_extras(quote_rows(result.quotes, result.themes), result)
    respondents = respondent_view(result, rows)
    for row in rows:
        quotes[row["theme_id"]].append(row)
    associations = association_view(result)
    return {
        **associations, **respondents,
        "title": config.report.title, "run_id": run_id, "generated": generated,
        "corpus": Path(str(result.corpus_dir)).name, "counts": run_counts(result),
        "files": [as_row(source) for source in result.files], "warnings": list(result.warnings),
        "themes": themes, "categories": list(result.categories), "category_by_id": categories,
        "top_keywords": config.report.top_keywords,
        "scores": {(s.theme_id, s.category_id): s.score for s in result.category_scores},
        "crosstab": {(c.theme_id, c.category_id): c for c in result.crosstab},
        "alpha": config.mapping.fdr_alpha, "quotes": quotes, "label_quality": dict(result.label_quality),
        "theme_method": theme_method_sentence(getattr(result, "theme_method", {}), result.themes,
                                              result.assignments),
        "coding": coding_view(result),
    }


def theme_method_sentence(method: dict[str, Any], themes=(), assignments=()) -> str:
    """One sentence on how the themes were formed (empty when the theme stage did not code categories). The
    counts are of the themes as they stand (after labels.yaml), not as fitted."""
    if not method.get("method"):
        return ""
    emergent = {t.theme_id for t in themes if t.emergent and not t.noise and t.theme_id != UNASSIGNED}
    segments = sum(a.theme_id in emergent for a in assignments)
    return f"Themes: {method['method']}. {segments} segments are in {len(emergent)} emergent theme(s)."
