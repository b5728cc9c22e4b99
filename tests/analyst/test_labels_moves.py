"""labels.yaml beyond theme entries: analyst codes, recodes of one segment or answer, splits, memos; and the
file written back by dump_labels."""
from __future__ import annotations

from collections import Counter

import pytest

from pipeline.analyst.labels_dump import dump_labels
from pipeline.analyst.labels_file import analyst_codes, apply_labels, label_reassignments, load_labels
from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Category, Theme

CATEGORIES = [Category("capacity", "Lack of staff capacity"), Category("footprints", "Footprint clashes")]

FULL = """\
themes:
  3: {label: Local politics, category: political_will, memo: "Check with the fieldwork team.\\nSecond line."}
  5: {merge_into: 3, memo: Merged after coding round 2.}
  1000: {memo: Estates work is its own thing.}
codes:
  political_will: {label: Political will, definition: Local politicians hesitate to back change.}
segments:
  "s.csv:1#0": {theme: 3}
  "s.csv:9": {theme: noise}
  "s.csv:4#0": {theme: political_will}
split:
  - {label: Estates, segments: ["s.csv:2#0", "s.csv:3#0"]}
  - {id: 1005, label: Parking, definition: Car parks and access., segments: ["s.csv:6#0"]}
"""


def themes() -> list[Theme]:
    return [Theme(1, "staff", ("staff",), 4, 0.9, category_id="capacity"),
            Theme(3, "councillors", ("councillors",), 2, 0.5),
            Theme(5, "politicians", ("politicians",), 2, 0.7, emergent=True),
            Theme(9, "boundaries", ("boundaries",), 2, 0.8, category_id="footprints")]


def assignments() -> list[Assignment]:
    return [Assignment("s.csv:1#0", 1, 0.6, ((3, 0.3),)), Assignment("s.csv:2#0", 1, 0.7),
            Assignment("s.csv:3#0", 1, 0.7), Assignment("s.csv:4#0", 1, 0.5),
            Assignment("s.csv:5#0", 3, 0.9), Assignment("s.csv:6#0", 3, 0.8),
            Assignment("s.csv:7#0", 5, 0.6), Assignment("s.csv:8#0", 5, 0.6),
            Assignment("s.csv:9#0", 9, 0.9), Assignment("s.csv:9#1", 9, 0.8)]


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(FULL, encoding="utf-8")
    return load_labels(path)


def test_labels_moves_load_reads_every_section(labels):
    assert labels.codes["political_will"].label == "Political will"
    assert {t: r.theme for t, r in labels.segments.items()} == {"s.csv:1#0": 3, "s.csv:9": "noise",
                                                                "s.csv:4#0": "political_will"}
    assert [(s.theme_id, s.label, s.segments) for s in labels.splits] == [
        (1000, "Estates", ("s.csv:2#0", "s.csv:3#0")), (1005, "Parking", ("s.csv:6#0",))]
    assert labels.themes[3].memo == "Check with the fieldwork team.\nSecond line."


def test_labels_moves_apply_recodes_splits_codes_and_memos(labels):
    new_themes, new_assignments, warnings = apply_labels(themes(), assignments(), labels, CATEGORIES)
    by_id = {t.theme_id: t for t in new_themes}
    theme_of = {a.segment_id: a.theme_id for a in new_assignments}
    assert warnings == []
    # recode to a theme, to a code (the theme pinned to it), to noise (a whole answer); splits take their segments
    assert theme_of["s.csv:1#0"] == 3 and theme_of["s.csv:4#0"] == 3
    assert theme_of["s.csv:9#0"] == theme_of["s.csv:9#1"] == UNASSIGNED
    assert theme_of["s.csv:2#0"] == theme_of["s.csv:3#0"] == 1000 and theme_of["s.csv:6#0"] == 1005
    # theme 5 merged into 3, carrying its segments and its memo
    assert theme_of["s.csv:7#0"] == 3 and 5 not in by_id
    assert by_id[3].memo == ("Check with the fieldwork team.\nSecond line.\n"
                             "(from theme 5) Merged after coding round 2.")
    assert (by_id[3].category_id, by_id[3].emergent, by_id[3].pinned) == ("political_will", False, True)
    assert by_id[1000].label == "Estates" and by_id[1000].memo == "Estates work is its own thing."
    assert by_id[1005].definition == "Car parks and access."
    counts = Counter(a.theme_id for a in new_assignments)
    assert {t.theme_id: t.size for t in new_themes} == {t: counts[t] for t in by_id}
    # the recoded segment lost the secondary it was moved into and carries the analyst's weight
    recoded = next(a for a in new_assignments if a.segment_id == "s.csv:1#0")
    assert recoded.weight == 1.0 and recoded.secondary == ()
    again = apply_labels(new_themes, new_assignments, labels, CATEGORIES)
    assert again[0] == new_themes and again[1] == new_assignments


def test_labels_moves_reassignments_name_the_kind_of_move(labels):
    _, after, _ = apply_labels(themes(), assignments(), labels, CATEGORIES)
    kinds = {r.segment_id: r.strategy for r in label_reassignments(assignments(), after, labels)}
    assert kinds == {"s.csv:1#0": "labels:recode", "s.csv:4#0": "labels:recode", "s.csv:9#0": "labels:recode",
                     "s.csv:9#1": "labels:recode", "s.csv:2#0": "labels:split", "s.csv:3#0": "labels:split",
                     "s.csv:6#0": "labels:split", "s.csv:7#0": "labels:merge", "s.csv:8#0": "labels:merge"}


def test_labels_moves_codes_become_categories_for_the_outputs(labels):
    codes = analyst_codes(labels, CATEGORIES)
    assert [(c.category_id, c.label, c.description) for c in codes] == [
        ("political_will", "Political will", "Local politicians hesitate to back change.")]


def test_labels_moves_targets_a_grown_corpus_lacks_are_warnings(labels):
    few = [a for a in assignments() if a.segment_id not in ("s.csv:1#0", "s.csv:2#0")]
    _, moved, warnings = apply_labels(themes(), few, labels, CATEGORIES)
    assert any("s.csv:1#0" in w and "no longer exists" in w for w in warnings)
    assert any("Estates" in w and "s.csv:2#0" in w for w in warnings)
    assert {a.segment_id: a.theme_id for a in moved}["s.csv:3#0"] == 1000


def test_labels_moves_dump_round_trips(labels, tmp_path):
    path = tmp_path / "again.yaml"
    path.write_text(dump_labels(labels, origin="written by a test"), encoding="utf-8")
    again = load_labels(path)
    strip = lambda entries: {k: (v.__class__.__name__, *[getattr(v, f) for f in v.__slots__ if f != "line"])
                             for k, v in entries.items()}
    assert strip(again.themes) == strip(labels.themes)
    assert strip(again.codes) == strip(labels.codes) and strip(again.segments) == strip(labels.segments)
    assert [(s.theme_id, s.label, s.segments, s.definition) for s in again.splits] == [
        (s.theme_id, s.label, s.segments, s.definition) for s in labels.splits]


@pytest.mark.parametrize("content, fragment", [
    ("codes:\n  emergent: {label: X}\n", "reserved"),
    ("codes:\n  pw: {definition: no label}\n", "label must be non-empty"),
    ("segments:\n  nocolon: {theme: 3}\n", "not a segment id"),
    ("segments:\n  \"s.csv:1#0\": {theme: [1]}\n", "theme must be a theme id"),
    ("split:\n  - {label: X, segments: []}\n", "non-empty list"),
    ("split:\n  - {id: 7, label: X, segments: [\"s.csv:1#0\"]}\n", "id must be a whole number >= 1000"),
    ("split:\n  - {label: X, segments: [\"a:1#0\"], colour: red}\n", "unknown field(s) colour"),
    ("codes:\n  pw: {label: A}\n  pw: {label: B}\n", "listed twice"),
])
def test_labels_moves_bad_entries_are_one_line_errors_naming_the_file(tmp_path, content, fragment):
    path = tmp_path / "labels.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        load_labels(path)
    assert fragment in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)
