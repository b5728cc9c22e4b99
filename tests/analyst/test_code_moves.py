"""The codes decide the themes: analyst codes always move a segment into its code's theme, trained codes only above
the confidence threshold and only out of category themes; labels.yaml's explicit entries win; a code no theme carries
gets a theme of its own."""
from __future__ import annotations

import pytest

from pipeline.analyst.code_moves import CODE_THEME_BASE, code_audit, decided_codes, with_code_moves
from pipeline.analyst.labels_file import LabelsFile, apply_labels, label_reassignments
from pipeline.analyst.labels_moves import CodeLabel, Recode
from pipeline.core.artifacts import Coded
from pipeline.core.records import Assignment, Category, Theme

CATEGORIES = [Category("capacity", "Lack of staff capacity"), Category("footprints", "Footprint clashes"),
              Category("funding", "Insufficient funding", description="Budgets are short.")]
THEMES = [Theme(0, "Lack of staff capacity", (), 3, 0.9, category_id="capacity"),
          Theme(1, "Footprint clashes", (), 2, 0.9, category_id="footprints"),
          Theme(2, "councillors", (), 2, 0.5, emergent=True)]
ASSIGNMENTS = [Assignment("s.csv:1#0", 0, 0.8), Assignment("s.csv:2#0", 0, 0.8), Assignment("s.csv:3#0", 0, 0.8),
               Assignment("s.csv:4#0", 1, 0.8), Assignment("s.csv:5#0", 1, 0.8),
               Assignment("s.csv:6#0", 2, 0.8), Assignment("s.csv:7#0", 2, 0.8)]


def coded(*rows):
    """Codes for the seven segments: label-free (the theme's category) unless given as {index: (code, source, p)}."""
    base = [("capacity", "label-free", 0.3)] * 3 + [("footprints", "label-free", 0.3)] * 2 + \
        [("capacity", "label-free", 0.2)] * 2
    changes = dict(rows)
    return Coded(tuple(changes.get(i, row) for i, row in enumerate(base)))


def run(codes, labels=LabelsFile(), threshold=0.5):
    decided = decided_codes(codes, ASSIGNMENTS, THEMES, labels, threshold)
    applied = with_code_moves(labels, decided, THEMES, CATEGORIES + [Category(c, v.label, description=v.definition)
                                                                     for c, v in labels.codes.items()])
    themes, assignments, warnings = apply_labels(THEMES, ASSIGNMENTS, applied, CATEGORIES)
    moves, assignments = code_audit(label_reassignments(ASSIGNMENTS, assignments, applied), assignments, decided)
    return {t.theme_id: t for t in themes}, {a.segment_id: a for a in assignments}, moves, warnings


def test_code_moves_an_analyst_code_moves_the_segment_into_its_codes_theme():
    themes, assignments, moves, warnings = run(coded((0, ("footprints", "analyst", 1.0)),
                                                     (5, ("capacity", "analyst", 1.0))))
    assert assignments["s.csv:1#0"].theme_id == 1 and assignments["s.csv:1#0"].weight == 1.0
    assert assignments["s.csv:6#0"].theme_id == 0  # out of an emergent theme too: the analyst said so
    assert (themes[0].size, themes[1].size, themes[2].size) == (3, 3, 1)
    assert {(m.segment_id, m.strategy) for m in moves} == {("s.csv:1#0", "coding:analyst"),
                                                           ("s.csv:6#0", "coding:analyst")}
    assert not warnings


@pytest.mark.parametrize("confidence, moved", [(0.8, True), (0.5, False), (0.3, False)])
def test_code_moves_a_trained_code_moves_only_above_the_threshold(confidence, moved):
    _, assignments, moves, _ = run(coded((1, ("footprints", "trained", confidence))))
    assert (assignments["s.csv:2#0"].theme_id == 1) is moved
    if moved:  # its weight is the coder's confidence, and the audit says where the move came from
        assert assignments["s.csv:2#0"].weight == confidence and moves[0].strategy == "coding:trained"


def test_code_moves_a_trained_code_never_empties_an_emergent_theme():
    _, assignments, moves, _ = run(coded((5, ("footprints", "trained", 0.99)), (6, ("capacity", "trained", 0.99))))
    assert assignments["s.csv:6#0"].theme_id == 2 and assignments["s.csv:7#0"].theme_id == 2 and not moves


def test_code_moves_labels_yaml_wins_over_a_code():
    labels = LabelsFile(segments={"s.csv:1#0": Recode("s.csv:1#0", 2), "s.csv:2": Recode("s.csv:2", "footprints")})
    _, assignments, moves, _ = run(coded((0, ("footprints", "analyst", 1.0)), (1, ("capacity", "analyst", 1.0))),
                                   labels)
    assert assignments["s.csv:1#0"].theme_id == 2  # the recode to a theme id, not the sheet's code
    assert assignments["s.csv:2#0"].theme_id == 1  # a recode to a closed category's id: that category's theme
    assert {m.strategy for m in moves} == {"labels:recode"}


def test_code_moves_a_code_without_a_theme_gets_one():
    labels = LabelsFile(codes={"politics": CodeLabel("politics", "Political resistance", "Councillors resist.")})
    themes, assignments, _, _ = run(coded((2, ("funding", "analyst", 1.0)), (3, ("politics", "analyst", 1.0)),
                                          (4, ("politics", "trained", 0.9))), labels)
    funding, politics = CODE_THEME_BASE + 2, CODE_THEME_BASE + 3  # the code's position in the code list
    assert assignments["s.csv:3#0"].theme_id == funding
    assert themes[funding].category_id == "funding" and themes[funding].label == "Insufficient funding"
    assert themes[funding].pinned and themes[funding].definition == "Budgets are short." and themes[funding].size == 1
    assert {assignments["s.csv:4#0"].theme_id, assignments["s.csv:5#0"].theme_id} == {politics}
    assert themes[politics].label == "Political resistance" and themes[politics].category_id == "politics"


def test_code_moves_label_free_codes_move_nothing():
    themes, assignments, moves, _ = run(coded())
    assert not moves and [a.theme_id for a in assignments.values()] == [a.theme_id for a in ASSIGNMENTS]
    assert decided_codes(None, ASSIGNMENTS, THEMES, LabelsFile(), 0.5) == {}
