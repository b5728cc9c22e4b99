"""Everything report.md and report.html display, computed once from the run's records (``build_view``)."""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.core.records import DROPPED, FILE_ROW, KEPT, UNASSIGNED, Answer, Category, CrosstabCell, Theme
from pipeline.report.tables import as_row, is_significant, quote_rows, theme_rows


def top_associations(cells: Sequence[CrosstabCell], alpha: float, limit: int = 10) -> list[CrosstabCell]:
    """FDR-significant cells first, then by adjusted p and size of the difference."""
    def key(cell: CrosstabCell):
        p = cell.p_adjusted if cell.p_adjusted == cell.p_adjusted else 1.0
        return (not is_significant(cell, alpha), p, -abs(cell.share_with - cell.share_without))
    return sorted((c for c in cells if c.theme_id != UNASSIGNED), key=key)[:limit]


def barrier_shares(answers: Sequence[Answer], categories: Sequence[Category], barrier_values: Iterable[str],
                   cells: Sequence[CrosstabCell] = ()) -> dict[str, tuple[int, int]]:
    """category_id -> (respondents who rated it, of those rating it a barrier). One rating per respondent (the
    first non-empty one); categories without a rating column fall back to the crosstab's totals."""
    barrier = {value.strip().lower() for value in barrier_values}
    shares: dict[str, tuple[int, int]] = {}
    for category in categories:
        ratings: dict[str, str] = {}
        if category.rating_column:
            for answer in answers:
                value = str(answer.ratings.get(category.rating_column, "")).strip().lower()
                if value and answer.respondent_id not in ratings:
                    ratings[answer.respondent_id] = value
        if ratings:
            shares[category.category_id] = (len(ratings), sum(value in barrier for value in ratings.values()))
            continue
        cell = next((c for c in cells if c.category_id == category.category_id), None)
        if cell is not None and cell.n_with + cell.n_without:
            shares[category.category_id] = (cell.n_with + cell.n_without, cell.barrier_with + cell.barrier_without)
    return shares


def uncovered_categories(categories: Sequence[Category], themes: Sequence[Theme]) -> list[Category]:
    """Closed categories no (non-noise, non-emergent) theme maps to: nothing in the free text supports them."""
    covered = {t.category_id for t in themes if t.category_id and not t.emergent and not t.noise}
    return [category for category in categories if category.category_id not in covered]


def run_counts(result) -> dict[str, Any]:
    assigned = Counter(a.theme_id == UNASSIGNED for a in result.assignments)
    answers = [entry for entry in result.ledger if entry.row != FILE_ROW]  # row 0: a file not read at all
    dropped = Counter(entry.reason or "unspecified" for entry in answers if entry.status == DROPPED)
    real_themes = [t for t in result.themes if t.theme_id != UNASSIGNED]
    return {
        "files": len(result.files), "files_not_read": len(result.ledger) - len(answers), "answers_read": len(answers),
        "answers_kept": sum(entry.status == KEPT for entry in answers),
        "answers_dropped": sum(dropped.values()), "dropped_by_reason": dict(sorted(dropped.items())),
        "respondents": len({answer.respondent_id for answer in result.answers}),
        "segments": len(result.segments), "themes": len(real_themes),
        "emergent_themes": sum(t.emergent for t in real_themes), "unstable_themes": sum(t.unstable for t in real_themes),
        "unassigned_segments": assigned[True],
        "unassigned_share": assigned[True] / len(result.assignments) if result.assignments else 0.0,
        "categories": len(result.categories), "quotes": len(result.quotes),
        "flagged_quotes": sum(bool(q.flags) for q in result.quotes),
        "crosstab_cells": len(result.crosstab),
        "significant_cells": sum(is_significant(c, result.config.mapping.fdr_alpha) for c in result.crosstab),
        "cache_hits": result.cache_hits, "cache_misses": result.cache_misses, "warnings": len(result.warnings),
    }


def build_view(result, run_id: str, generated: str) -> dict[str, Any]:
    """Everything report.md and report.html display, computed once from the run's records."""
    config = result.config
    codes = tuple(getattr(result, "analyst_codes", ()))  # labels.yaml `codes:`: they name pinned themes only
    categories = {category.category_id: category for category in (*result.categories, *codes)}
    themes = theme_rows(result.themes, result.segments, result.assignments, [*result.categories, *codes])
    quotes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in quote_rows(result.quotes, result.themes):
        row["ratings_display"] = _ratings_display(row["ratings"], result.categories)
        quotes[row["theme_id"]].append(row)
    return {
        "title": config.report.title, "run_id": run_id, "generated": generated,
        "corpus": Path(str(result.corpus_dir)).name, "counts": run_counts(result),
        "files": [as_row(source) for source in result.files], "warnings": list(result.warnings),
        "themes": themes, "categories": list(result.categories), "category_by_id": categories,
        "top_keywords": config.report.top_keywords,
        "barrier_shares": barrier_shares(result.answers, result.categories, config.mapping.barrier_values,
                                         result.crosstab),
        "uncovered": uncovered_categories(result.categories, result.themes),
        "scores": {(s.theme_id, s.category_id): s.score for s in result.category_scores},
        "crosstab": {(c.theme_id, c.category_id): c for c in result.crosstab},
        "associations": top_associations(result.crosstab, config.mapping.fdr_alpha),
        "alpha": config.mapping.fdr_alpha, "quotes": quotes, "label_quality": dict(result.label_quality),
        "theme_method": theme_method_sentence(getattr(result, "theme_method", {})),
    }


def theme_method_sentence(method: dict[str, Any]) -> str:
    """One sentence on how the themes were formed (empty when the theme stage did not code categories)."""
    if not method.get("method"):
        return ""
    return (f"Themes: {method['method']}. {method.get('emergent_segments', 0)} segments are in "
            f"{method.get('emergent_themes', 0)} emergent theme(s).")


def _ratings_display(ratings: str, categories: Sequence[Category]) -> str:
    names = {category.rating_column: category.label for category in categories if category.rating_column}
    parts = [part.split("=", 1) for part in ratings.split("; ") if "=" in part]
    return "; ".join(f"{names.get(column, column)}: {value}" for column, value in parts)
