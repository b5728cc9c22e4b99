"""labels.yaml parsing and application, stable theme ids across runs, and the theme state file."""
from __future__ import annotations

import dataclasses
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.errors import PipelineError
from pipeline.analyst.labels_file import (
    LabelsFile, ThemeLabel, apply_labels, label_reassignments, load_labels,
)
from pipeline.mapping.stage import keep_pins
from pipeline.analyst.stable_ids import load_theme_state, match_theme_ids, renumber, save_theme_state, theme_centroids
from pipeline.core.records import UNASSIGNED, Assignment, Category, Reassignment, Theme

CATEGORIES = [Category("capacity", "Lack of organisational or staff capacity"),
              Category("footprints", "Confusion or clashes over planning footprints")]


def make_themes() -> list[Theme]:
    return [
        Theme(1, "staff time skills", ("staff", "time", "skills"), 3, 0.9, category_id="capacity", confidence=0.7),
        Theme(3, "councillors elections", ("councillors", "elections", "votes"), 2, 0.5, unstable=True),
        Theme(5, "politicians local", ("politicians", "local", "votes"), 2, 0.7),
        Theme(7, "thanks survey", ("thanks", "survey"), 1, 0.4, unstable=True),
        Theme(9, "boundaries areas", ("boundaries", "areas"), 1, 0.8, category_id="footprints", confidence=0.6),
    ]


def make_assignments() -> list[Assignment]:
    return [
        Assignment("a#0", 1, 0.8, ((3, 0.1),)),
        Assignment("b#0", 1, 0.7),
        Assignment("c#0", 1, 0.6, ((7, 0.2),)),
        Assignment("d#0", 3, 0.5, ((5, 0.3), (1, 0.1))),
        Assignment("e#0", 3, 0.9),
        Assignment("f#0", 5, 0.6, ((3, 0.3),)),
        Assignment("g#0", 5, 0.6),
        Assignment("h#0", 7, 0.5, ((1, 0.2),)),
        Assignment("i#0", 9, 0.9),
        Assignment("j#0", UNASSIGNED, 0.0),
    ]


def labels_of(entries: dict[int, dict], path: str = "labels.yaml") -> LabelsFile:
    return LabelsFile(path=path, themes={k: ThemeLabel(k, **v) for k, v in entries.items()})


def test_labels_load_example_schema(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(
        "themes:\n"
        "  3:\n"
        "    label: Political will\n"
        "    definition: Local   politicians hesitate to back unpopular changes.\n"
        "    category: emergent\n"
        "  '4': Footprint clashes\n"
        "  5: {merge_into: 3}\n"
        "  7: {noise: true}\n"
        "  9: ~\n", encoding="utf-8")
    labels = load_labels(path)
    assert labels.themes[3].label == "Political will"
    assert labels.themes[3].definition == "Local politicians hesitate to back unpopular changes."
    assert labels.themes[3].category == "emergent" and labels.themes[3].line == 2
    assert labels.themes[4].label == "Footprint clashes"
    assert labels.themes[5].merge_into == 3 and labels.themes[5].line == 7
    assert labels.themes[7].noise is True
    assert labels.themes[9] == ThemeLabel(9, line=9)


@pytest.mark.parametrize("content", ["", "# only a comment\n", "themes:\n"])
def test_labels_load_empty_or_missing_means_no_labels(tmp_path, content):
    path = tmp_path / "labels.yaml"
    path.write_text(content, encoding="utf-8")
    assert load_labels(path).themes == {}
    assert load_labels(tmp_path / "absent.yaml").themes == {}


@pytest.mark.parametrize("content, row, fragment", [
    ("themes:\n  3: {label: [unclosed\n", 3, "not valid YAML"),
    ("themes:\n  3: {labl: Politics}\n", 2, "unknown field(s) labl"),
    ("themes:\n  3: {merge_into: 3}\n", 2, "merges into itself"),
    ("themes:\n  1: Staff\n  3: {merge_into: 5, label: Politics}\n", 3, "label would be lost"),
    ("themes:\n  3: {merge_into: 5}\n  5: {merge_into: 3}\n", None, "merge cycle"),
    ("themes:\n  3: {noise: maybe}\n", 2, "noise must be true or false"),
    ("themes:\n  politics: {label: Politics}\n", 2, "is not a theme id"),
    ("themes:\n  3: {merge_into: politics}\n", 2, "merge_into 'politics' is not a theme id"),
    ("themes:\n  3: Politics\n  3: Power\n", 3, "listed twice"),
    ("themes:\n  3: {label: ''}\n", 2, "label must be non-empty text"),
    ("- 3\n- 4\n", 1, "top-level 'themes:'"),
    ("themes: [3, 4]\n", None, "must map theme ids"),
    ("theme:\n  3: Politics\n", 1, "unknown key(s) theme"),
])
def test_labels_load_rejects_bad_entries_naming_file_and_line(tmp_path, content, row, fragment):
    path = tmp_path / "labels.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError) as info:
        load_labels(path)
    assert str(path) in str(info.value) and fragment in str(info.value)
    if row is not None:
        assert info.value.row == row
    assert "\n" not in str(info.value)


def test_labels_apply_rename_and_merge_changes_themes_consistently():
    labels = labels_of({1: {"label": "Capacity", "definition": "Too few staff."}, 5: {"merge_into": 3},
                        3: {"label": "Political will"}})
    themes, assignments, warnings = apply_labels(make_themes(), make_assignments(), labels, CATEGORIES)
    by_id = {t.theme_id: t for t in themes}
    assert warnings == []
    assert sorted(by_id) == [1, 3, 7, 9]
    assert by_id[1].label == "Capacity" and by_id[1].definition == "Too few staff."
    assert by_id[3].label == "Political will" and by_id[3].size == 4
    assert by_id[3].keywords == ("councillors", "politicians", "elections")
    assert by_id[3].stability == pytest.approx((0.5 * 2 + 0.7 * 2) / 4)
    # every theme's size is still the number of segments whose primary theme it is
    counts = Counter(a.theme_id for a in assignments)
    assert all(by_id[t].size == counts[t] for t in by_id)
    assert all(5 not in (a.theme_id, *(t for t, _ in a.secondary)) for a in assignments)
    moved = {a.segment_id: a for a in assignments}
    assert moved["f#0"].theme_id == 3 and moved["f#0"].secondary == () and moved["f#0"].weight == pytest.approx(0.9)
    assert moved["d#0"].weight == pytest.approx(0.8) and moved["d#0"].secondary == ((1, 0.1),)
    assert [r.segment_id for r in label_reassignments(make_assignments(), assignments)] == ["f#0", "g#0"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_labels_apply_merge_chain_is_order_independent(seed):
    entries = [(5, {"merge_into": 3}), (3, {"merge_into": 1}), (9, {"merge_into": 5})]
    random.Random(seed).shuffle(entries)
    themes_in = make_themes()
    random.Random(seed).shuffle(themes_in)
    themes, assignments, _ = apply_labels(themes_in, make_assignments(), labels_of(dict(entries)), CATEGORIES)
    by_id = {t.theme_id: t for t in themes}
    assert sorted(by_id) == [1, 7]
    assert by_id[1].size == 3 + 2 + 2 + 1 and by_id[1].label == "staff time skills"
    assert {a.theme_id for a in assignments} == {1, 7, UNASSIGNED}
    assert all(t in (1, 7) for a in assignments for t, _ in a.secondary)


def test_labels_apply_is_idempotent():
    labels = labels_of({5: {"merge_into": 3}, 3: {"label": "Politics", "category": "emergent"}, 7: {"noise": True},
                        9: {"category": "footprints", "definition": "Areas that do not fit."}})
    once = apply_labels(make_themes(), make_assignments(), labels, CATEGORIES)
    twice = apply_labels(once[0], once[1], labels, CATEGORIES)
    assert twice[0] == once[0] and twice[1] == once[1]


def test_labels_apply_noise_keeps_theme_listed_and_unassigns_its_segments():
    labels = labels_of({7: {"noise": True}})
    themes, assignments, _ = apply_labels(make_themes(), make_assignments(), labels, CATEGORIES)
    noise = next(t for t in themes if t.theme_id == 7)
    assert noise.noise and noise.size == 1
    moved = {a.segment_id: a for a in assignments}
    assert moved["h#0"].theme_id == UNASSIGNED and moved["h#0"].secondary == ((1, 0.2),)
    assert moved["c#0"].secondary == ()
    assert label_reassignments(make_assignments(), assignments) == [
        Reassignment("h#0", 7, UNASSIGNED, "labels:noise", 0.0)]


@pytest.mark.parametrize("category, category_id, emergent",
                         [("emergent", None, True), ("footprints", "footprints", False)])
def test_labels_apply_pins_category_with_full_confidence(category, category_id, emergent):
    labels = labels_of({1: {"category": category}})
    themes, _, warnings = apply_labels(make_themes(), make_assignments(), labels, CATEGORIES)
    theme = next(t for t in themes if t.theme_id == 1)
    assert (theme.category_id, theme.emergent, theme.confidence) == (category_id, emergent, 1.0)
    assert warnings == []


@pytest.mark.parametrize("entries, fragment", [
    ({42: {"label": "Gone"}}, "theme 42 no longer exists"),
    ({3: {"merge_into": 42}}, "theme 3 merges into theme 42, which no longer exists"),
    ({1: {"category": "weather"}}, "unknown category 'weather'"),
    ({3: {"label": "Same"}, 5: {"label": "same"}}, "share the label"),
])
def test_labels_apply_warns_instead_of_failing_on_stale_entries(entries, fragment):
    themes, assignments, warnings = apply_labels(make_themes(), make_assignments(), labels_of(entries), CATEGORIES)
    assert any(fragment in w and "labels.yaml" in w for w in warnings), warnings
    assert len(themes) == 5 and [a.theme_id for a in assignments] == [a.theme_id for a in make_assignments()]
    assert next(t for t in themes if t.theme_id == 1).category_id == "capacity"


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def centroids(n: int, d: int = 8, seed: int = 0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: unit(np.eye(d)[k] + 0.05 * rng.standard_normal(d)) for k in range(n)}


@pytest.mark.parametrize("seed", [0, 3])
def test_labels_match_ids_carry_over_when_themes_are_permuted(seed):
    previous = {10 + k: c for k, c in centroids(5).items()}
    order = np.random.default_rng(seed).permutation(5)
    rng = np.random.default_rng(seed + 1)
    current = {int(j): unit(previous[10 + int(k)] + 0.02 * rng.standard_normal(8)) for j, k in enumerate(order)}
    match = match_theme_ids(previous, current)
    assert match.mapping == {j: 10 + int(k) for j, k in enumerate(order)}
    assert match.new == [] and match.vanished == [] and match.next_id == 15


def test_labels_match_ids_new_and_vanished():
    previous = centroids(4)
    current = {0: previous[2], 1: previous[0], 2: unit(np.eye(8)[7]), UNASSIGNED: np.zeros(8)}
    match = match_theme_ids(previous, current, min_similarity=0.8, next_id=20)
    assert match.mapping == {0: 2, 1: 0, 2: 20, UNASSIGNED: UNASSIGNED}
    assert match.new == [20] and match.vanished == [1, 3] and match.next_id == 21
    assert match.similarity[2] == pytest.approx(1.0)


def test_labels_match_ids_below_min_similarity_is_new():
    previous = {0: unit([1, 0, 0])}
    current = {0: unit([1, 1, 0])}  # cosine 0.71
    assert match_theme_ids(previous, current, min_similarity=0.8).mapping == {0: 1}
    assert match_theme_ids(previous, current, min_similarity=0.7).mapping == {0: 0}
    assert match_theme_ids({}, current).mapping == {0: 0}
    assert match_theme_ids(None, {5: unit([1, 0, 0])}).mapping == {5: 5}


def test_labels_renumber_rewrites_every_record():
    themes, assignments, reassignments = renumber(
        make_themes(), make_assignments(), [Reassignment("j#0", UNASSIGNED, 3, "embeddings", 0.4)],
        {1: 11, 3: 13, 5: 15, 7: 17, 9: 19})
    assert [t.theme_id for t in themes] == [11, 13, 15, 17, 19]
    assert assignments[3].theme_id == 13 and assignments[3].secondary == ((15, 0.3), (11, 0.1))
    assert assignments[-1].theme_id == UNASSIGNED
    assert (reassignments[0].from_theme, reassignments[0].to_theme) == (UNASSIGNED, 13)
    with pytest.raises(ValueError):
        renumber(make_themes(), [], [], {1: 1})


def test_labels_theme_state_round_trip(tmp_path):
    themes = make_themes()[:3]
    cents = {t.theme_id: c for t, c in zip(themes, centroids(3).values())}
    path = tmp_path / "theme_state.json"
    save_theme_state(path, themes, cents, next_id=12)
    state = load_theme_state(path)
    assert state.next_id == 12 and state.labels == {1: "staff time skills", 3: "councillors elections",
                                                    5: "politicians local"}
    assert all(np.allclose(state.centroids[k], cents[k], atol=1e-6) for k in cents)
    save_theme_state(path, themes, cents)
    assert load_theme_state(path).next_id == 6
    save_theme_state(path, themes, cents, previous=state)  # ids of vanished themes are never reused
    assert load_theme_state(path).next_id == 12
    assert load_theme_state(tmp_path / "none.json") is None


@pytest.mark.parametrize("content", ["not json", "{}", '{"next_id": 3, "themes": [{"theme_id": 1}]}'])
def test_labels_theme_state_unreadable_names_file(tmp_path, content):
    path = tmp_path / "theme_state.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError, match="theme_state.json: unreadable theme state"):
        load_theme_state(path)


def test_labels_match_ids_two_runs_through_the_state_file(tmp_path):
    """First run keeps the model's ids; the next run's permuted, grown themes get the stable ids back."""
    first = centroids(4)
    match = match_theme_ids(load_theme_state(tmp_path / "state.json"), first)
    assert match.mapping == {0: 0, 1: 1, 2: 2, 3: 3} and match.next_id == 4
    themes = [Theme(k, f"theme {k}", (), 1, 1.0) for k in range(4)]
    save_theme_state(tmp_path / "state.json", themes, first, next_id=match.next_id)
    second = {0: first[3], 1: first[1], 2: unit(np.eye(8)[6]), 3: first[0]}  # theme 2 vanished, one new
    match = match_theme_ids(load_theme_state(tmp_path / "state.json"), second)
    assert match.mapping == {0: 3, 1: 1, 2: 4, 3: 0} and match.vanished == [2] and match.new == [4]
    renumbered, _, _ = renumber([Theme(k, f"t{k}", (), 1, 1.0) for k in range(4)], [], [], match)
    assert [t.theme_id for t in renumbered] == [3, 1, 4, 0]


@pytest.mark.parametrize("pinned, kept", [(True, True), (False, False)])
def test_labels_keep_pins_restores_pinned_categories_after_mapping(pinned, kept):
    labelled = Theme(3, "Political will", (), 2, 0.5, category_id=None, emergent=True, confidence=1.0, pinned=pinned)
    mapped = dataclasses.replace(labelled, category_id="capacity", emergent=False, confidence=0.12)
    (result,) = keep_pins([mapped], [labelled])
    assert (result.emergent, result.category_id, result.confidence) == ((True, None, 1.0) if kept else
                                                                       (False, "capacity", 0.12))


def test_labels_theme_centroids_are_unit_means_of_primary_members():
    embeddings = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    assignments = [Assignment("a", 4, 1.0), Assignment("b", 4, 1.0), Assignment("c", UNASSIGNED, 0.0)]
    result = theme_centroids(assignments, embeddings)
    assert list(result) == [4] and np.allclose(result[4], unit([1, 1, 0]))


label_entries = st.dictionaries(
    st.sampled_from([1, 3, 5, 7, 9, 42]),
    st.one_of(st.builds(dict, merge_into=st.sampled_from([1, 3, 5, 7, 9, 42])), st.just({"noise": True}),
              st.builds(dict, label=st.sampled_from(["Money", "Time", "Politics"])),
              st.builds(dict, category=st.sampled_from(["capacity", "emergent", "weather"]))),
    max_size=6)


@settings(max_examples=150, deadline=None)
@given(entries=label_entries)
def test_labels_apply_properties_hold_for_any_labels_file(entries):
    entries = {k: v for k, v in entries.items() if v.get("merge_into") != k}
    labels = labels_of(entries)
    try:
        for theme_id in entries:
            labels.merge_target(theme_id)
    except PipelineError:
        return  # a merge cycle: load_labels rejects the file before it is applied
    themes, assignments, _ = apply_labels(make_themes(), make_assignments(), labels, CATEGORIES)
    ids = {t.theme_id for t in themes}
    # no segment lost, no theme id dangling, sizes still count primary assignments
    assert len(assignments) == len(make_assignments())
    assert all(a.theme_id in ids | {UNASSIGNED} and all(t in ids for t, _ in a.secondary) for a in assignments)
    assert sum(t.size for t in themes) == sum(t.size for t in make_themes())
    counts = Counter(a.theme_id for a in assignments)
    assert all(t.size == counts[t.theme_id] for t in themes if not t.noise)
    assert all(counts[t.theme_id] == 0 for t in themes if t.noise)
    again = apply_labels(themes, assignments, labels, CATEGORIES)
    assert again[0] == themes and again[1] == assignments
    reordered = labels_of(dict(reversed(list(entries.items()))))
    assert apply_labels(make_themes(), make_assignments(), reordered, CATEGORIES)[:2] == (themes, assignments)
