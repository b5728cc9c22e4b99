"""How free-text themes line up with the structured barrier ratings, respondent by respondent.

Who is counted: respondents with at least one kept segment. A respondent whose every answer was dropped (empty,
non-answer, duplicate, ...) wrote nothing we could theme, so they are outside the table (they are in ledger.csv).

A respondent *carries* a theme when any of their segments has it as primary or secondary theme. The
``UNASSIGNED`` column holds respondents who carry no theme at all: every segment of theirs is an outlier with no
secondary theme. (A respondent with one themed and one outlier segment carries the themed one only.)

Ratings: a respondent's rating of a category is the first non-blank value in that category's ``rating_column``
across their answers, in input order. Blank values and ``MappingConfig.unrated_values`` ("don't know", ...) count
as not rated; those respondents are left out of that category's cells. A rating is a barrier when it is one of
``MappingConfig.barrier_values`` (compared case-insensitively, spaces collapsed).

Per theme x category, the 2x2 table is (carries theme / does not) x (barrier / not a barrier):

- shares with Wilson 95% intervals (statsmodels ``proportion_confint(method="wilson")``);
- the odds ratio, with the Haldane-Anscombe correction (0.5 added to all four cells) when any cell is 0, so it
  stays finite; NaN when either row is empty;
- Fisher's exact test (two-sided) when any expected count is below ``min_cell`` (then ``small_cell`` is True),
  otherwise chi-square with Yates' continuity correction; no test (``test="none"``, NaN p) when a row or column
  of the table is empty, since there is nothing to compare;
- Benjamini-Hochberg adjusted p-values across every tested cell of the table.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency, fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from pipeline.core.config import MappingConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import (
    UNASSIGNED,
    Answer,
    Assignment,
    Category,
    CrosstabCell,
    Segment,
    Theme,
)

EXCERPT_CHARS = 200


def _norm(value: str | None) -> str:
    return " ".join(str(value or "").lower().split())


@dataclass
class Respondents:
    """Per respondent in the table: themes carried, segments by theme, and ratings."""

    order: list[str]  # respondent ids, first-seen order of their kept segments
    themes: dict[str, set[int]]  # respondent -> themes carried (empty = unassigned)
    segments: dict[str, list[Segment]]  # respondent -> kept segments
    theme_segments: dict[tuple[str, int], list[Segment]]  # (respondent, theme) -> segments carrying it
    ratings: dict[str, dict[str, str]]  # respondent -> rating column -> first non-blank raw value


def collect_respondents(answers: Sequence[Answer], segments: Sequence[Segment], assignments: Sequence[Assignment],
                        config: MappingConfig) -> Respondents:
    if len(segments) != len(assignments):
        raise PipelineError(f"association got {len(segments)} segments but {len(assignments)} assignments; "
                            "they must be aligned")
    unrated = {_norm(v) for v in config.unrated_values}
    order: list[str] = []
    themes: dict[str, set[int]] = {}
    by_respondent: dict[str, list[Segment]] = defaultdict(list)
    theme_segments: dict[tuple[str, int], list[Segment]] = defaultdict(list)
    for segment, assignment in zip(segments, assignments):
        if assignment.segment_id != segment.segment_id:
            raise PipelineError(f"assignment for {assignment.segment_id} is aligned with segment "
                                f"{segment.segment_id}", file=segment.file, row=segment.row)
        respondent = segment.respondent_id
        if respondent not in themes:
            order.append(respondent)
            themes[respondent] = set()
        by_respondent[respondent].append(segment)
        carried = {assignment.theme_id, *(theme_id for theme_id, _ in assignment.secondary)} - {UNASSIGNED}
        themes[respondent] |= carried
        for theme_id in carried:
            theme_segments[(respondent, theme_id)].append(segment)
    ratings: dict[str, dict[str, str]] = {respondent: {} for respondent in order}
    for answer in answers:
        if answer.respondent_id not in ratings:
            continue
        held = ratings[answer.respondent_id]
        for column, value in answer.ratings.items():
            if column not in held and _norm(value) and _norm(value) not in unrated:
                held[column] = str(value).strip()
    return Respondents(order, themes, dict(by_respondent), dict(theme_segments), ratings)


def wilson_interval(count: int, nobs: int) -> tuple[float, float]:
    if nobs == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    return float(low), float(high)


def odds_ratio(table: np.ndarray) -> float:
    """Cross-product ratio a*d / (b*c); 0.5 added to every cell when any is 0 (Haldane-Anscombe)."""
    if table[0].sum() == 0 or table[1].sum() == 0:
        return float("nan")
    table = table.astype(float)
    if (table == 0).any():
        table = table + 0.5
    return float(table[0, 0] * table[1, 1] / (table[0, 1] * table[1, 0]))


def independence_test(table: np.ndarray, min_cell: int) -> tuple[float, str, bool]:
    """(p-value, test name, small_cell) for a 2x2 table of counts [[a, b], [c, d]]."""
    rows, cols, total = table.sum(axis=1), table.sum(axis=0), table.sum()
    if total == 0 or (rows == 0).any() or (cols == 0).any():
        return float("nan"), "none", True
    expected = np.outer(rows, cols) / total
    if (expected < min_cell).any():
        return float(fisher_exact(table, alternative="two-sided").pvalue), "fisher", True
    return float(chi2_contingency(table, correction=True).pvalue), "chi2", False


def _columns(themes: Iterable[Theme]) -> list[int]:
    return [theme.theme_id for theme in themes if theme.theme_id != UNASSIGNED] + [UNASSIGNED]


def crosstab(answers: Sequence[Answer], segments: Sequence[Segment], assignments: Sequence[Assignment],
             themes: Sequence[Theme], categories: Sequence[Category], config: MappingConfig) -> list[CrosstabCell]:
    """One cell per (theme, plus the UNASSIGNED column) x category that has a rating column.

    See the module docstring for who is counted and how each statistic is computed.
    """
    rated_categories = [c for c in categories if c.rating_column]
    if not rated_categories:
        return []
    people = collect_respondents(answers, segments, assignments, config)
    barrier = {_norm(v) for v in config.barrier_values}
    cells: list[dict] = []
    for theme_id in _columns(themes):
        carries = {r for r in people.order
                   if (theme_id in people.themes[r] if theme_id != UNASSIGNED else not people.themes[r])}
        for category in rated_categories:
            column = category.rating_column
            raters = [r for r in people.order if column in people.ratings[r]]
            is_barrier = {r: _norm(people.ratings[r][column]) in barrier for r in raters}
            with_theme = [r for r in raters if r in carries]
            without = [r for r in raters if r not in carries]
            a = sum(is_barrier[r] for r in with_theme)
            c = sum(is_barrier[r] for r in without)
            table = np.array([[a, len(with_theme) - a], [c, len(without) - c]])
            p_value, test, small = independence_test(table, config.min_cell)
            with_low, with_high = wilson_interval(a, len(with_theme))
            without_low, without_high = wilson_interval(c, len(without))
            cells.append(dict(
                theme_id=theme_id, category_id=category.category_id,
                n_with=len(with_theme), barrier_with=a, n_without=len(without), barrier_without=c,
                share_with=a / len(with_theme) if with_theme else float("nan"),
                share_with_low=with_low, share_with_high=with_high,
                share_without=c / len(without) if without else float("nan"),
                share_without_low=without_low, share_without_high=without_high,
                odds_ratio=odds_ratio(table), p_value=p_value, p_adjusted=float("nan"), test=test, small_cell=small,
            ))
    tested = [i for i, cell in enumerate(cells) if not np.isnan(cell["p_value"])]
    if tested:
        adjusted = multipletests([cells[i]["p_value"] for i in tested], alpha=config.fdr_alpha, method="fdr_bh")[1]
        for i, p_adjusted in zip(tested, adjusted):
            cells[i]["p_adjusted"] = float(p_adjusted)
    return [CrosstabCell(**cell) for cell in cells]


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1].rstrip() + "…"


def disagreements(answers: Sequence[Answer], segments: Sequence[Segment], assignments: Sequence[Assignment],
                  themes: Sequence[Theme], categories: Sequence[Category], config: MappingConfig) -> list[dict]:
    """Where what respondents wrote and how they rated disagree, for themes mapped to a rated category.

    - ``wrote-not-rated``: the respondent carries a theme mapped to the category but rated the category as not
      a barrier (a non-blank rating outside ``barrier_values``); one row per (respondent, theme), with the first
      segment carrying the theme as excerpt.
    - ``rated-not-wrote``: the respondent rated the category a major barrier (``major_barrier_values``) but
      carries none of the themes mapped to it; one row per (respondent, category), ``theme_id`` being the first
      mapped theme, ``mapped_themes`` all of them, and the excerpt the start of what they did write.

    Emergent and noise themes are mapped to no category, so they produce no rows. Respondents are those in the
    crosstab (at least one kept segment).
    """
    by_id = {c.category_id: c for c in categories if c.rating_column}
    mapped: dict[str, list[int]] = defaultdict(list)
    for theme in themes:
        if theme.category_id in by_id and not theme.emergent and not theme.noise and theme.theme_id != UNASSIGNED:
            mapped[theme.category_id].append(theme.theme_id)
    if not mapped:
        return []
    people = collect_respondents(answers, segments, assignments, config)
    barrier = {_norm(v) for v in config.barrier_values}
    major = {_norm(v) for v in config.major_barrier_values}
    rows: list[dict] = []
    for category_id, theme_ids in mapped.items():
        column = by_id[category_id].rating_column
        for respondent in people.order:
            rating = people.ratings[respondent].get(column)
            if rating is None:
                continue
            carried = [t for t in theme_ids if t in people.themes[respondent]]
            if carried and _norm(rating) not in barrier:
                for theme_id in carried:
                    segment = people.theme_segments[(respondent, theme_id)][0]
                    rows.append(_row(respondent, theme_id, category_id, "wrote-not-rated", rating, segment,
                                     theme_ids))
            elif not carried and _norm(rating) in major:
                rows.append(_row(respondent, theme_ids[0], category_id, "rated-not-wrote", rating,
                                 people.segments[respondent][0], theme_ids))
    return rows


def _row(respondent: str, theme_id: int, category_id: str, kind: str, rating: str, segment: Segment,
         theme_ids: list[int]) -> dict:
    return {
        "respondent_id": respondent, "theme_id": theme_id, "category_id": category_id, "kind": kind,
        "rating": rating, "mapped_themes": ";".join(str(t) for t in theme_ids), "segment_id": segment.segment_id,
        "file": segment.file, "row": segment.row, "excerpt": _excerpt(segment.text),
    }
