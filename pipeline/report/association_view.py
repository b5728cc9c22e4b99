"""What the reports show of the crosstab: the primary hypotheses, the strongest exploratory cells, how the rating
was read and tested (in words), the share rating each category a major barrier, and the categories no theme
supports. Every rating goes through ``pipeline.analysis.ratings`` (the crosstab's own reading)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.analysis.association import theme_categories
from pipeline.analysis.ratings import read_ratings
from pipeline.core.config import MappingConfig
from pipeline.core.records import UNASSIGNED, Answer, Category, CrosstabCell, Theme
from pipeline.report.tables import is_significant

EXPLORATORY_SHOWN = 10


def _p(cell: CrosstabCell) -> float:
    return cell.p_adjusted if cell.p_adjusted == cell.p_adjusted else 2.0


def primary_cells(cells: Sequence[CrosstabCell]) -> list[CrosstabCell]:
    """Every primary hypothesis (tested or not), most significant first."""
    return sorted((c for c in cells if c.family == "primary"), key=lambda c: (_p(c), c.theme_id, c.category_id))


def exploratory_cells(cells: Sequence[CrosstabCell], alpha: float, limit: int = EXPLORATORY_SHOWN
                      ) -> list[CrosstabCell]:
    """The strongest exploratory cells: significant within their family first, then by adjusted p and effect."""
    def key(cell: CrosstabCell):
        effect = cell.risk_difference if cell.risk_difference == cell.risk_difference else 0.0
        return (not is_significant(cell, alpha), _p(cell), -abs(effect))
    return sorted((c for c in cells if c.family != "primary" and c.theme_id != UNASSIGNED), key=key)[:limit]


def barrier_shares(answers: Sequence[Answer], categories: Sequence[Category], config: MappingConfig
                   ) -> dict[str, tuple[int, int]]:
    """category_id -> (respondents who rated it, of those how many rated it a major barrier): every respondent
    (the closed question's own result), ratings read as the crosstab reads them ("don't know" is not rated)."""
    ratings = read_ratings(answers, categories, config)
    shares = {}
    for category in categories:
        column = category.rating_column
        if not column or column not in ratings.scales:
            continue
        raters = ratings.raters(column)
        if raters:
            shares[category.category_id] = (len(raters), sum(bool(ratings.is_high(r, column)) for r in raters))
    return shares


def uncovered_categories(categories: Sequence[Category], themes: Sequence[Theme],
                         merged_categories: Mapping[int, Sequence[str]] | None = None) -> list[Category]:
    """Closed categories no theme stands for (mapped, or a merged theme's part): no free text supports them."""
    covered = {c for ids in theme_categories(themes, merged_categories).values() for c in ids}
    return [category for category in categories if category.category_id not in covered]


def test_sentence(config: MappingConfig, n_primary: int, n_exploratory: int) -> str:
    """How the ratings were read and tested, and why, in the words the report prints."""
    high = " or ".join(f"\u201c{v}\u201d" for v in config.major_barrier_values)
    levels = " < ".join(config.rating_levels)
    read = (f"Ratings are read once for every output: the first rating a respondent gave, with blanks and "
            f"{', '.join(repr(v) for v in config.unrated_values[:3])} … left out as not rated. ")
    if config.association_test == "trend":
        test = (f"Test: the linear-by-linear (Cochran-Armitage) trend test over {levels}, which uses every level. "
                f"Shares and effects are of rating the category {high}. ")
    else:
        test = (f"The rating is binarised as {high} against any other rating, for a stated reason: writing about a "
                "barrier unprompted goes with calling it major, while the middle answer is the commonest for most "
                "categories, so \u201cany barrier\u201d leaves little room to differ. Test: Fisher\u2019s exact "
                "(two-sided). ")
    return (read + test + f"Primary hypotheses (each theme against the category it stands for, {n_primary} tested) "
            f"are corrected on their own (Benjamini-Hochberg, \u03b1 = {config.fdr_alpha}); the other "
            f"{n_exploratory} cells are exploratory, with their own correction. Effect: the difference in share "
            "with Newcombe\u2019s 95% interval, and the odds ratio with its 95% interval.")


def association_view(result) -> dict[str, Any]:
    config = result.config.mapping
    cells = list(result.crosstab)
    labels = {c.category_id: c.label for c in result.categories}
    columns = list(dict.fromkeys(c.category_id for c in cells))
    tested = [c for c in cells if c.p_value == c.p_value]
    merged = getattr(result, "merged_categories", {}) or {}
    return {
        "primary": primary_cells(cells), "exploratory": exploratory_cells(cells, config.fdr_alpha),
        "test_sentence": test_sentence(config, sum(c.family == "primary" for c in tested),
                                       sum(c.family != "primary" for c in tested)) if cells else "",
        "column_labels": {column: labels.get(column, column) for column in columns}, "columns": columns,
        "barrier_shares": barrier_shares(result.answers, result.categories, config),
        "uncovered": uncovered_categories(result.categories, result.themes, merged),
        "standing": theme_categories(result.themes, merged),
        "high_label": " or ".join(config.major_barrier_values),
    }
