"""How free-text themes line up with the structured ratings, respondent by respondent (crosstab.csv).

Who is counted and who carries a theme: ``pipeline.analysis.respondents``. How ratings are read (first non-blank
value, "don't know" as not rated, the scale of each column): ``pipeline.analysis.ratings``, the one reading every
output shares.

Two families of hypotheses, each corrected on its own (Benjamini-Hochberg at ``mapping.fdr_alpha``):

- **primary**: each theme against the category it is mapped to (a merged theme: also the categories its parts
  were mapped to). This is the question a researcher asks first ("do those who write about X rate X a major
  barrier more often?"), so it is not diluted by the whole grid;
- **exploratory**: every other cell (each theme against every other rated category and the extra rating
  columns, and the ``UNASSIGNED`` column: respondents who carry no theme), with its own correction.

The test (``mapping.association_test``):

- ``"major-vs-rest"`` (default): the rating binarised as ``major_barrier_values`` vs every other rated value, and
  Fisher's exact test (two-sided) of carrying the theme against it. Why binarise: writing about a barrier
  unprompted goes with calling it *major*; "small barrier" is the modal answer for most categories, so "any
  barrier" leaves no room to differ (80-90% of respondents on the sample corpus), and the exact test stays valid
  for the small themes;
- ``"trend"``: the linear-by-linear association (Cochran-Armitage) test over the ordered levels, scored
  0, 1, 2, ... (statsmodels ``Table.test_ordinal_association``): uses all three levels, but assumes a monotone
  shift, which a respondent who writes about a barrier and rates it "not a barrier" breaks.

Unordered extra columns (no scale known) get a chi-square test of independence over their values and no
binarised effect. Cells with no one on a side, or one rated level only, are not tested (``test="none"``).

Effect sizes, always of the binarised share: the shares with Wilson 95% intervals, the risk difference with
Newcombe's 95% interval (statsmodels ``confint_proportions_2indep(method="newcomb")``), and the odds ratio with
Woolf's 95% interval (statsmodels ``Table2x2``; 0.5 added to every cell when one is 0, so it stays finite).
``small_cell``: an expected count of the binarised 2x2 table below ``mapping.min_cell``.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import chi2_contingency, fisher_exact
from statsmodels.stats.contingency_tables import Table, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from pipeline.analysis.ratings import Ratings, Scale, read_ratings
from pipeline.analysis.respondents import Respondents, collect_respondents
from pipeline.core.config import MappingConfig
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Category, CrosstabCell, Segment, Theme

NAN = float("nan")
PRIMARY, EXPLORATORY = "primary", "exploratory"


def wilson_interval(count: int, nobs: int) -> tuple[float, float]:
    if nobs == 0:
        return NAN, NAN
    low, high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    return float(low), float(high)


def odds_ratio(table: np.ndarray) -> float:
    """Cross-product ratio a*d / (b*c); 0.5 added to every cell when any is 0 (Haldane-Anscombe)."""
    return odds_ratio_interval(table)[0]


def odds_ratio_interval(table: np.ndarray) -> tuple[float, float, float]:
    """(odds ratio, low, high): Woolf's 95% interval, 0.5 added to every cell when any is 0; NaN for an empty row."""
    if table[0].sum() == 0 or table[1].sum() == 0:
        return NAN, NAN, NAN
    table = np.asarray(table, dtype=float)
    fitted = Table2x2(table + 0.5 if (table == 0).any() else table)
    low, high = fitted.oddsratio_confint(alpha=0.05)
    return float(fitted.oddsratio), float(low), float(high)


def risk_difference_interval(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float]:
    """(a/n1 - c/n2, low, high) with Newcombe's hybrid score interval; NaN when a side is empty."""
    if n1 == 0 or n2 == 0:
        return NAN, NAN, NAN
    low, high = confint_proportions_2indep(a, n1, c, n2, method="newcomb", compare="diff", alpha=0.05)
    return a / n1 - c / n2, float(low), float(high)


def _expected_small(table: np.ndarray, min_cell: int) -> bool:
    rows, cols, total = table.sum(axis=1), table.sum(axis=0), table.sum()
    return bool(total == 0 or (np.outer(rows, cols) / total < min_cell).any())


def level_test(counts: np.ndarray, scale: Scale, test: str) -> tuple[float, str]:
    """(p-value, test name) for a 2 x levels table of counts (row 0: carries the theme)."""
    used = counts[:, counts.sum(axis=0) > 0]
    if (counts.sum(axis=1) == 0).any() or used.shape[1] < 2:
        return NAN, "none"
    if not scale.ordered or not scale.binary:
        return float(chi2_contingency(used, correction=False).pvalue), "chi2"
    if test == "trend":
        scores = np.arange(len(scale.levels), dtype=float)[counts.sum(axis=0) > 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = Table(used).test_ordinal_association(row_scores=np.array([0.0, 1.0]), col_scores=scores)
        return float(result.pvalue), "trend"
    high = np.array([level in scale.high for level in scale.levels])
    binary = np.array([[counts[0, high].sum(), counts[0, ~high].sum()], [counts[1, high].sum(), counts[1, ~high].sum()]])
    if (binary.sum(axis=0) == 0).any():
        return NAN, "none"
    return float(fisher_exact(binary, alternative="two-sided").pvalue), "fisher"


def _cell(theme_id: int, category_id: str, carriers: set[str], raters: list[str], ratings: Ratings, scale: Scale,
          config: MappingConfig, family: str) -> dict:
    counts = np.zeros((2, len(scale.levels)), dtype=int)
    for respondent in raters:
        counts[0 if respondent in carriers else 1, scale.levels.index(ratings.get(respondent, scale.column))] += 1
    high = np.array([level in scale.high for level in scale.levels], dtype=bool)
    n_with, n_without = int(counts[0].sum()), int(counts[1].sum())
    a, c = int(counts[0, high].sum()), int(counts[1, high].sum())
    table = np.array([[a, n_with - a], [c, n_without - c]])
    p_value, test = level_test(counts, scale, config.association_test)
    binary = scale.binary
    ratio = odds_ratio_interval(table) if binary else (NAN, NAN, NAN)
    difference = risk_difference_interval(a, n_with, c, n_without) if binary else (NAN, NAN, NAN)
    with_interval, without_interval = wilson_interval(a, n_with), wilson_interval(c, n_without)
    return dict(
        theme_id=theme_id, category_id=category_id, n_with=n_with, barrier_with=a, n_without=n_without,
        barrier_without=c, share_with=a / n_with if n_with and binary else NAN,
        share_with_low=with_interval[0] if binary else NAN, share_with_high=with_interval[1] if binary else NAN,
        share_without=c / n_without if n_without and binary else NAN,
        share_without_low=without_interval[0] if binary else NAN,
        share_without_high=without_interval[1] if binary else NAN,
        odds_ratio=ratio[0], p_value=p_value, p_adjusted=NAN, test=test,
        small_cell=_expected_small(table if binary else counts, config.min_cell), family=family,
        rating_column=scale.column, levels=scale.levels, levels_with=tuple(int(x) for x in counts[0]),
        levels_without=tuple(int(x) for x in counts[1]), risk_difference=difference[0],
        risk_difference_low=difference[1], risk_difference_high=difference[2], odds_ratio_low=ratio[1],
        odds_ratio_high=ratio[2])


def adjust_within_families(cells: list[dict], alpha: float) -> None:
    """Benjamini-Hochberg adjusted p-values, each family on its own; untested cells keep NaN."""
    for family in (PRIMARY, EXPLORATORY):
        tested = [i for i, cell in enumerate(cells) if cell["family"] == family and not math.isnan(cell["p_value"])]
        if tested:
            adjusted = multipletests([cells[i]["p_value"] for i in tested], alpha=alpha, method="fdr_bh")[1]
            for i, p_adjusted in zip(tested, adjusted):
                cells[i]["p_adjusted"] = float(p_adjusted)


def theme_categories(themes: Sequence[Theme], merged_categories: Mapping[int, Sequence[str]] | None = None
                     ) -> dict[int, tuple[str, ...]]:
    """The closed categories each theme stands for: its mapped category, and for a merged theme (unless the
    analyst pinned its category) the categories its parts were mapped to. Noise and emergent themes: none."""
    merged_categories = merged_categories or {}
    out: dict[int, tuple[str, ...]] = {}
    for theme in themes:
        if theme.noise or theme.theme_id == UNASSIGNED or (theme.emergent and theme.pinned):
            out[theme.theme_id] = ()
            continue
        own = [theme.category_id] if theme.category_id and not theme.emergent else []
        parts = [] if theme.pinned else list(merged_categories.get(theme.theme_id, ()))
        out[theme.theme_id] = tuple(dict.fromkeys(own + parts))
    return out


def crosstab_cells(people: Respondents, ratings: Ratings, themes: Sequence[Theme], categories: Sequence[Category],
                   config: MappingConfig, primary: Mapping[int, Sequence[str]]) -> list[CrosstabCell]:
    """Every (non-noise theme, plus ``UNASSIGNED``) x rating column cell, both families corrected."""
    by_column = {c.rating_column: c.category_id for c in categories if c.rating_column}
    columns = list(ratings.scales)
    theme_ids = [t.theme_id for t in themes if t.theme_id != UNASSIGNED and not t.noise] + [UNASSIGNED]
    raters = {column: ratings.raters(column, people.order) for column in columns}
    cells: list[dict] = []
    for theme_id in theme_ids:
        carriers = people.carriers(theme_id)
        for column in columns:
            category_id = by_column.get(column, column)
            family = PRIMARY if category_id in primary.get(theme_id, ()) else EXPLORATORY
            cells.append(_cell(theme_id, category_id, carriers, raters[column], ratings, ratings.scales[column],
                               config, family))
    adjust_within_families(cells, config.fdr_alpha)
    return [CrosstabCell(**cell) for cell in cells]


def crosstab(answers: Sequence[Answer], segments: Sequence[Segment], assignments: Sequence[Assignment],
             themes: Sequence[Theme], categories: Sequence[Category], config: MappingConfig,
             merged_categories: Mapping[int, Sequence[str]] | None = None) -> list[CrosstabCell]:
    """One cell per (theme, plus the UNASSIGNED column) x rating column; see the module docstring."""
    people = collect_respondents(segments, assignments)
    ratings = read_ratings(answers, categories, config, people.order)
    if not ratings.scales:
        return []
    return crosstab_cells(people, ratings, themes, categories, config, theme_categories(themes, merged_categories))
