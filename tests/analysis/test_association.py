"""Respondent-level crosstab and disagreements, checked against values computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from pipeline.analysis.association import crosstab, disagreements, odds_ratio
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
    # (n_with, barrier_with, n_without, barrier_without), counted by hand from PEOPLE
    (0, "funding", (4, 3, 4, 1)),  # R6 blank and R9 (no kept segment) out; R4 carries 0 as a secondary theme
    (1, "capacity", (4, 3, 3, 1)),  # R3 blank and R7 "don't know" are not rated
    (0, "capacity", (3, 2, 4, 2)),
    (UNASSIGNED, "funding", (2, 1, 6, 3)),  # R7 and R10 carry no theme; R8 has one themed segment
    (UNASSIGNED, "capacity", (1, 0, 6, 4)),
])
def test_association_counts_respondents_by_hand(cells, theme_id, category_id, counts):
    got = cell(cells, theme_id, category_id)
    assert (got.n_with, got.barrier_with, got.n_without, got.barrier_without) == counts
    assert got.share_with == pytest.approx(counts[1] / counts[0])
    assert got.share_without == pytest.approx(counts[3] / counts[2])
    assert (got.share_with_low, got.share_with_high) == pytest.approx(wilson(counts[1], counts[0]))
    assert (got.share_without_low, got.share_without_high) == pytest.approx(wilson(counts[3], counts[2]))


def test_association_every_theme_plus_unassigned_by_rated_category(cells):
    assert {(c.theme_id, c.category_id) for c in cells} == {
        (t, k) for t in (0, 1, UNASSIGNED) for k in ("funding", "capacity")}


def test_association_fisher_for_small_tables_matches_hypergeometric_sum(cells):
    got = cell(cells, 0, "funding")  # [[3, 1], [1, 3]]: every expected count is 2
    assert got.test == "fisher" and got.small_cell
    assert got.p_value == pytest.approx(fisher_two_sided(3, 1, 1, 3))
    assert got.p_value == pytest.approx(34 / 70)
    assert got.odds_ratio == pytest.approx(9.0)


def test_association_odds_ratio_uses_haldane_correction_for_zero_cells(cells):
    got = cell(cells, UNASSIGNED, "capacity")  # [[0, 1], [4, 2]]
    assert got.odds_ratio == pytest.approx((0.5 * 2.5) / (1.5 * 4.5))


@pytest.mark.parametrize("table, expected", [
    ([[3, 1], [1, 3]], 9.0), ([[2, 2], [1, 4]], 4.0), ([[0, 3], [2, 2]], (0.5 * 2.5) / (3.5 * 2.5)),
    ([[0, 0], [2, 2]], float("nan")),
])
def test_association_odds_ratio_table(table, expected):
    got = odds_ratio(np.array(table))
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_association_bh_adjustment_across_table(cells):
    tested = [c for c in cells if not math.isnan(c.p_value)]
    p = sorted(c.p_value for c in tested)
    m = len(p)
    by_hand = [min(1.0, min(p[j] * m / (j + 1) for j in range(i, m))) for i in range(m)]
    got = sorted(c.p_adjusted for c in tested)
    assert got == pytest.approx(by_hand)
    for c in tested:
        assert c.p_adjusted >= c.p_value


def test_association_large_table_uses_chi_square_with_yates():
    people = {}
    for i in range(40):  # 20 carrying theme 0 (14 barrier), 20 not (6 barrier)
        theme = 0 if i < 20 else 1
        barrier = (i < 14) or (20 <= i < 26)
        people[f"P{i}"] = ([(theme, ())], "major barrier" if barrier else "not a barrier", "")
    cells = crosstab(*build(people), THEMES, CATEGORIES, MappingConfig(min_cell=5))
    got = cell(cells, 0, "funding")
    assert got.test == "chi2" and not got.small_cell
    a, b, c, d = 14, 6, 6, 14
    n = a + b + c + d
    statistic = n * (abs(a * d - b * c) - n / 2) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert got.p_value == pytest.approx(chi2.sf(statistic, df=1))
    assert got.odds_ratio == pytest.approx(a * d / (b * c))


@pytest.mark.parametrize("min_cell, small", [(1, False), (3, True)])
def test_association_small_cell_flag_follows_min_cell(min_cell, small):
    people = {f"P{i}": ([(0 if i < 4 else 1, ())], "major barrier" if i % 2 else "not a barrier", "")
              for i in range(8)}
    got = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig(min_cell=min_cell)), 0, "funding")
    assert got.small_cell is small
    assert got.test == ("fisher" if small else "chi2")


def test_association_empty_row_is_not_tested():
    people = {f"P{i}": ([(1, ())], "major barrier" if i % 2 else "not a barrier", "") for i in range(6)}
    got = cell(crosstab(*build(people), THEMES, CATEGORIES, MappingConfig()), 0, "funding")
    assert got.n_with == 0 and got.test == "none"
    assert math.isnan(got.p_value) and math.isnan(got.p_adjusted) and math.isnan(got.odds_ratio)


def test_association_no_rating_columns_gives_empty_table():
    assert crosstab(*build(), THEMES, [CATEGORIES[2]], MappingConfig()) == []


def test_association_misaligned_inputs_raise():
    answers, segments, assignments = build()
    with pytest.raises(PipelineError, match="aligned"):
        crosstab(answers, segments, assignments[:-1], THEMES, CATEGORIES, MappingConfig())


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
