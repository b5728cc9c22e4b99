"""Respondent-level crosstab and disagreements, checked against values computed by hand."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.stats import chi2

from pipeline.analysis.association import crosstab, odds_ratio, odds_ratio_interval, risk_difference_interval
from pipeline.analysis.disagreements import disagreements
from pipeline.analysis.ratings import read_ratings
from pipeline.core.config import MappingConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Category, Segment, Theme

CATEGORIES = [
    Category("funding", "Insufficient funding", rating_column="r_funding"),
    Category("capacity", "Lack of staff capacity", rating_column="r_capacity"),
    Category("unrated", "A category with no rating column"),
]
THEMES = [Theme(0, "money", ("money",), 4, 1.0, category_id="funding"),
          Theme(1, "staff", ("staff",), 4, 1.0, category_id="capacity")]

# respondent -> (segments as (primary theme, secondary themes), funding rating, capacity rating)
PEOPLE = {
    "R1": ([(0, ())], "Major barrier", "not a barrier"),
    "R2": ([(0, ())], "small barrier", "Major barrier"),
    "R3": ([(0, ())], "Not a barrier", ""),
    "R4": ([(1, (0,))], "major barrier", "major barrier"),
    "R5": ([(1, ())], "not a barrier", "small barrier"),
    "R6": ([(1, ())], "", "not a barrier"),
    "R7": ([(UNASSIGNED, ())], "Major  Barrier ", "Don't know"),
    "R8": ([(UNASSIGNED, ()), (1, ())], "not a barrier", "major barrier"),
    "R9": ([], "major barrier", "major barrier"),  # answer dropped in cleaning: no kept segment
    "R10": ([(UNASSIGNED, ())], "not a barrier", "not a barrier"),
}


def build(people=PEOPLE):
    answers, segments, assignments = [], [], []
    for row, (respondent, (parts, funding, capacity)) in enumerate(people.items(), start=1):
        answer_id = f"survey.csv:{row}"
        text = " ".join(f"Point {k} from {respondent}." for k in range(len(parts))) or "n/a"
        answers.append(Answer(answer_id, "survey.csv", row, respondent, text,
                              ratings={"r_funding": funding, "r_capacity": capacity}))
        offset = 0
        for index, (theme_id, secondary) in enumerate(parts):
            piece = f"Point {index} from {respondent}."
            segment_id = f"{answer_id}#{index}"
            segments.append(Segment(segment_id, answer_id, respondent, "survey.csv", row, index, offset,
                                    offset + len(piece), piece, piece))
            assignments.append(Assignment(segment_id, theme_id, 1.0, tuple((t, 0.5) for t in secondary)))
            offset += len(piece) + 1
    return answers, segments, assignments


def cell(cells, theme_id, category_id):
    return next(c for c in cells if c.theme_id == theme_id and c.category_id == category_id)


def wilson(count, n, z=1.959963984540054):
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def fisher_two_sided(a, b, c, d):
    """Sum of hypergeometric probabilities no larger than the observed table's."""
    row1, col1, total = a + b, a + c, a + b + c + d
    prob = lambda k: math.comb(col1, k) * math.comb(total - col1, row1 - k) / math.comb(total, row1)
    observed = prob(a)
    support = range(max(0, row1 + col1 - total), min(row1, col1) + 1)
    return sum(prob(k) for k in support if prob(k) <= observed * (1 + 1e-9))


@pytest.fixture(scope="module")
def cells():
    return crosstab(*build(), THEMES, CATEGORIES, MappingConfig())


@pytest.mark.parametrize("theme_id, category_id, counts", [
    # (n_with, major_with, n_without, major_without), counted by hand from PEOPLE; "small barrier" is not major
    (0, "funding", (4, 2, 4, 1)),  # R6 blank and R9 (no kept segment) out; R4 carries 0 as a secondary theme
    (1, "capacity", (4, 2, 3, 1)),  # R3 blank and R7 "don't know" are not rated
    (0, "capacity", (3, 2, 4, 1)),
    (UNASSIGNED, "funding", (2, 1, 6, 2)),  # R7 and R10 carry no theme; R8 has one themed segment
    (UNASSIGNED, "capacity", (1, 0, 6, 3)),
])
def test_association_counts_respondents_by_hand(cells, theme_id, category_id, counts):
    got = cell(cells, theme_id, category_id)
    assert (got.n_with, got.barrier_with, got.n_without, got.barrier_without) == counts
    assert got.share_with == pytest.approx(counts[1] / counts[0])
    assert got.share_without == pytest.approx(counts[3] / counts[2])
    assert (got.share_with_low, got.share_with_high) == pytest.approx(wilson(counts[1], counts[0]))
    assert (got.share_without_low, got.share_without_high) == pytest.approx(wilson(counts[3], counts[2]))
    assert sum(got.levels_with) == got.n_with and sum(got.levels_without) == got.n_without
    assert got.levels == ("not a barrier", "small barrier", "major barrier")
    assert got.levels_with[2] == got.barrier_with


def test_association_every_theme_plus_unassigned_by_rated_category(cells):
    assert {(c.theme_id, c.category_id) for c in cells} == {
        (t, k) for t in (0, 1, UNASSIGNED) for k in ("funding", "capacity")}


def test_association_primary_family_is_each_theme_against_its_own_category(cells):
    assert {(c.theme_id, c.category_id) for c in cells if c.family == "primary"} == {(0, "funding"), (1, "capacity")}


def test_association_fisher_on_major_vs_rest_matches_hypergeometric_sum(cells):
    got = cell(cells, 0, "funding")  # [[2, 2], [1, 3]]
    assert got.test == "fisher" and got.small_cell
    assert got.p_value == pytest.approx(fisher_two_sided(2, 2, 1, 3))
    assert got.odds_ratio == pytest.approx(3.0)


def test_association_odds_ratio_uses_haldane_correction_for_zero_cells(cells):
    got = cell(cells, UNASSIGNED, "capacity")  # [[0, 1], [3, 3]]
    assert got.odds_ratio == pytest.approx((0.5 * 3.5) / (1.5 * 3.5))


@pytest.mark.parametrize("table, expected", [
    ([[3, 1], [1, 3]], 9.0), ([[2, 2], [1, 4]], 4.0), ([[0, 3], [2, 2]], (0.5 * 2.5) / (3.5 * 2.5)),
    ([[0, 0], [2, 2]], float("nan")),
])
def test_association_odds_ratio_table(table, expected):
    got = odds_ratio(np.array(table))
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_association_odds_ratio_interval_is_woolfs():
    ratio, low, high = odds_ratio_interval(np.array([[12, 8], [5, 15]]))
    se = math.sqrt(1 / 12 + 1 / 8 + 1 / 5 + 1 / 15)
    assert ratio == pytest.approx(4.5)
    assert (low, high) == pytest.approx((4.5 * math.exp(-1.959964 * se), 4.5 * math.exp(1.959964 * se)), rel=1e-5)


def test_association_risk_difference_interval_is_newcombes_from_wilson_intervals():
    difference, low, high = risk_difference_interval(12, 20, 5, 20)
    (l1, u1), (l2, u2) = wilson(12, 20), wilson(5, 20)
    p1, p2 = 12 / 20, 5 / 20
    assert difference == pytest.approx(p1 - p2)
    assert low == pytest.approx(p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    assert high == pytest.approx(p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _bh(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    m, adjusted, running = len(p), [0.0] * len(p), 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        adjusted[i] = running
    return adjusted


@pytest.mark.parametrize("family", ["primary", "exploratory"])
def test_association_bh_adjustment_within_each_family_only(cells, family):
    tested = [c for c in cells if c.family == family and not math.isnan(c.p_value)]
    assert len(tested) >= 2
    assert [c.p_adjusted for c in tested] == pytest.approx(_bh([c.p_value for c in tested]))
    everything = [c for c in cells if not math.isnan(c.p_value)]
    if family == "primary":  # corrected over the whole grid, it would be larger
        pooled = dict(zip(map(id, everything), _bh([c.p_value for c in everything])))
        assert all(c.p_adjusted <= pooled[id(c)] + 1e-12 for c in tested)


def _people(n_with, with_levels, n_without, without_levels):
    """Respondents carrying theme 0 (then not), rated on the funding column level by level."""
    people, values = {}, ["not a barrier", "small barrier", "major barrier"]
    for group, (n, levels) in enumerate(((n_with, with_levels), (n_without, without_levels))):
        ratings = [values[k] for k, count in enumerate(levels) for _ in range(count)]
        assert len(ratings) == n
        for i, rating in enumerate(ratings):
            people[f"G{group}-{i}"] = ([(0 if group == 0 else 1, ())], rating, "")
    return people


def test_association_trend_test_is_linear_by_linear_over_the_levels():
    people = _people(20, (3, 5, 12), 30, (10, 12, 8))
    got = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig(association_test="trend")), 0, "funding")
    rows = [(1.0 if key.startswith("G0") else 0.0, ["not a barrier", "small barrier", "major barrier"].index(v[1]))
            for key, v in people.items()]
    x, y = np.array(rows).T
    r = np.corrcoef(x, y)[0, 1]
    assert got.test == "trend"
    assert got.p_value == pytest.approx(chi2.sf((len(x) - 1) * r * r, df=1), rel=1e-6)
    assert got.levels_with == (3, 5, 12) and got.levels_without == (10, 12, 8)


def test_association_trend_and_major_vs_rest_differ_where_only_the_middle_moves():
    # the same share rates it major on both sides; carriers move from "not" to "small" only
    people = _people(30, (1, 19, 10), 30, (19, 1, 10))
    trend = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig(association_test="trend")), 0, "funding")
    binary = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig()), 0, "funding")
    assert trend.p_value < 0.01 < binary.p_value
    assert binary.risk_difference == pytest.approx(0.0)


@pytest.mark.parametrize("min_cell, small", [(1, False), (3, True)])
def test_association_small_cell_flag_follows_min_cell(min_cell, small):
    people = {f"P{i}": ([(0 if i < 4 else 1, ())], "major barrier" if i % 2 else "not a barrier", "")
              for i in range(8)}
    got = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig(min_cell=min_cell)), 0, "funding")
    assert got.small_cell is small
    assert got.test == "fisher"


def test_association_empty_row_is_not_tested():
    people = {f"P{i}": ([(1, ())], "major barrier" if i % 2 else "not a barrier", "") for i in range(6)}
    got = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig()), 0, "funding")
    assert got.n_with == 0 and got.test == "none"
    assert math.isnan(got.p_value) and math.isnan(got.p_adjusted) and math.isnan(got.odds_ratio)


def test_association_no_rating_anywhere_gives_empty_table():
    answers, segments, assignments = build()
    bare = [dataclasses.replace(a, ratings={}) for a in answers]
    assert crosstab(bare, segments, assignments, THEMES, [CATEGORIES[2]], MappingConfig()) == []


def test_association_misaligned_inputs_raise():
    answers, segments, assignments = build()
    with pytest.raises(PipelineError, match="aligned"):
        crosstab(answers, segments, assignments[:-1], THEMES, CATEGORIES, MappingConfig())


def test_association_merged_theme_stands_for_its_parts_categories_too():
    themes = [Theme(0, "money and staff", ("money",), 8, 1.0, category_id="funding"), THEMES[1]]
    cells = crosstab(*build(), themes, CATEGORIES, MappingConfig(), merged_categories={0: ("capacity",)})
    assert {(c.theme_id, c.category_id) for c in cells if c.family == "primary"} == {
        (0, "funding"), (0, "capacity"), (1, "capacity")}
    pinned = [dataclasses.replace(themes[0], pinned=True), THEMES[1]]  # the analyst's pin decides alone
    cells = crosstab(*build(), pinned, CATEGORIES, MappingConfig(), merged_categories={0: ("capacity",)})
    assert {(c.theme_id, c.category_id) for c in cells if c.family == "primary"} == {(0, "funding"), (1, "capacity")}


def _with_extra(column, values):
    answers, segments, assignments = build()
    answers = [dataclasses.replace(a, ratings={**a.ratings, column: v}) for a, v in zip(answers, values)]
    return answers, segments, assignments


def test_association_extra_rating_column_on_the_barrier_scale_gives_exploratory_rows():
    values = ["major barrier", "not a barrier", "small barrier", "major barrier", "not a barrier", "major barrier",
              "not a barrier", "small barrier", "major barrier", "not a barrier"]
    cells = crosstab(*_with_extra("r_estates", values), THEMES, CATEGORIES, MappingConfig())
    got = cell(cells, 0, "r_estates")
    assert got.family == "exploratory" and got.rating_column == "r_estates" and got.test == "fisher"
    assert (got.n_with, got.barrier_with) == (4, 2)  # R1 major, R2 not, R3 small, R4 major


def test_association_extra_rating_column_with_its_own_scale_is_binarised_at_the_upper_half():
    values = ["very high", "high", "low", "very low", "high", "low", "very low", "high", "low", "very high"]
    config = MappingConfig(rating_scales={"confidence": ["very low", "low", "high", "very high"]},
                           association_test="trend")
    got = cell(crosstab(*_with_extra("confidence", values), THEMES, CATEGORIES, config), 0, "confidence")
    assert got.levels == ("very low", "low", "high", "very high") and got.test == "trend"
    assert (got.n_with, got.barrier_with) == (4, 2)  # R1 very high, R2 high, R3 low, R4 very low


def test_association_unordered_extra_column_gets_chi_square_and_no_binary_effect():
    values = ["north", "south", "north", "east", "south", "north", "east", "south", "north", "east"]
    got = cell(crosstab(*_with_extra("region", values), THEMES, CATEGORIES, MappingConfig()), 0, "region")
    assert got.test == "chi2" and math.isnan(got.share_with) and math.isnan(got.risk_difference)
    assert got.levels == ("east", "north", "south")


def test_association_values_off_the_scale_are_not_rated_and_warned_about():
    answers, segments, assignments = build()
    answers[0] = dataclasses.replace(answers[0], ratings={**answers[0].ratings, "r_funding": "Majr barrier"})
    ratings = read_ratings(answers, CATEGORIES, MappingConfig())
    assert ratings.get("R1", "r_funding") is None and ratings.get("R2", "r_funding") == "small barrier"
    assert ratings.get("R7", "r_capacity") is None and ratings.unrated["r_capacity"] == 1  # "Don't know"
    (warning,) = ratings.warnings()
    assert "r_funding" in warning and "'majr barrier' (1)" in warning


def test_association_disagreements_both_kinds():
    rows = disagreements(*build(), THEMES, CATEGORIES, MappingConfig())
    got = {(r["respondent_id"], r["kind"], r["category_id"], r["theme_id"]) for r in rows}
    assert got == {
        ("R3", "wrote-not-rated", "funding", 0),
        ("R6", "wrote-not-rated", "capacity", 1),
        ("R7", "rated-not-wrote", "funding", 0),  # R9 also rated it major, but has no kept segment
        ("R2", "rated-not-wrote", "capacity", 1),
    }
    r3 = next(r for r in rows if r["respondent_id"] == "R3")
    assert r3["rating"] == "Not a barrier" and r3["excerpt"] == "Point 0 from R3."
    assert (r3["file"], r3["row"]) == ("survey.csv", 3)


def test_association_disagreements_skip_emergent_and_unmapped_themes():
    themes = [Theme(0, "money", ("money",), 4, 1.0, category_id=None, emergent=True),
              Theme(1, "staff", ("staff",), 4, 1.0)]
    assert disagreements(*build(), themes, CATEGORIES, MappingConfig()) == []
