"""Respondent attributes: which columns, first values, and the theme x attribute matrix checked by hand."""
from __future__ import annotations

import math

import pytest

from pipeline.analysis.attributes import attribute_columns, attribute_matrix, respondent_attributes
from pipeline.analysis.respondents import collect_respondents
from pipeline.core.config import IngestConfig
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Segment, Theme

# respondent -> (theme of their one segment or None for no kept text, role, region)
PEOPLE = {"R1": (0, "Chair", "North"), "R2": (0, "Chair", "South"), "R3": (0, "Finance lead", "North"),
          "R4": (1, "Chair", "North"), "R5": (1, "Finance lead", ""), "R6": (UNASSIGNED, "Chair", "South"),
          "R7": (None, "Finance lead", "North")}
THEMES = [Theme(0, "money", (), 3, 1.0), Theme(1, "staff", (), 2, 1.0), Theme(2, "set aside", (), 1, 1.0, noise=True)]


def build():
    answers, segments, assignments = [], [], []
    for row, (respondent, (theme, role, region)) in enumerate(PEOPLE.items(), start=1):
        answer_id = f"s.csv:{row}"
        answers.append(Answer(answer_id, "s.csv", row, respondent, "An answer.", meta={
            "role": role, "region": region, "submitted": f"2016-01-{row:02d}"}))
        if theme is not None:
            segments.append(Segment(f"{answer_id}#0", answer_id, respondent, "s.csv", row, 0, 0, 10, "An answer.",
                                    "An answer."))
            assignments.append(Assignment(f"{answer_id}#0", theme, 1.0))
    return answers, segments, assignments


def wilson(count, n, z=1.959963984540054):
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_attributes_default_to_every_non_text_non_rating_column():
    answers, _, _ = build()
    assert attribute_columns(answers, IngestConfig()) == (["role", "region", "submitted"], [])


def test_attributes_named_in_config_and_a_missing_one_is_warned_about():
    answers, _, _ = build()
    columns, warnings = attribute_columns(answers, IngestConfig(attribute_columns=["Region", "grade"]))
    assert columns == ["region"]
    assert len(warnings) == 1 and "'grade'" in warnings[0] and "role" in warnings[0]


def test_attributes_matrix_counts_and_shares_by_hand():
    answers, segments, assignments = build()
    people = collect_respondents(segments, assignments)
    values = respondent_attributes(answers, ["role", "region", "submitted"])
    cells, notes = attribute_matrix(people, values, ["role", "region", "submitted"], THEMES, max_levels=3)
    assert len(notes) == 1 and "submitted" in notes[0]  # 6 distinct dates: not tabulated
    by_key = {(c.theme_id, c.attribute, c.value): c for c in cells}
    assert {c.theme_id for c in cells} == {0, 1}  # the noise theme is not tabulated
    chair = by_key[(0, "role", "Chair")]  # theme 0: R1, R2 chairs, R3 finance; chairs with text: R1 R2 R4 R6
    assert (chair.n, chair.n_theme, chair.n_value, chair.n_total) == (2, 3, 4, 6)
    assert chair.row_share == pytest.approx(2 / 3) and chair.column_share == pytest.approx(2 / 4)
    assert (chair.row_low, chair.row_high) == pytest.approx(wilson(2, 3))
    assert (chair.column_low, chair.column_high) == pytest.approx(wilson(2, 4))
    north = by_key[(1, "region", "North")]  # theme 1: R4 North, R5 no region (left out); R7 has no kept text
    assert (north.n, north.n_theme, north.n_value, north.n_total) == (1, 1, 3, 5)
    assert [c.value for c in cells if c.theme_id == 0 and c.attribute == "region"] == ["North", "South"]
