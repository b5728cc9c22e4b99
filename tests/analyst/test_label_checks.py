"""What labels.yaml did and whether its entries still fit: merges keep their parts' categories, renamed themes
are recorded, and an entry carried over to a theme that changed is warned about (terminal and report)."""
from __future__ import annotations

import numpy as np

from pipeline.analyst.label_checks import merge_summary, renamed_themes, stale_entries
from pipeline.analyst.labels_file import LabelsFile, ThemeLabel
from pipeline.analyst.stable_ids import ThemeState
from pipeline.core.records import Theme

THEMES = [Theme(0, "Social care money", (), 10, 0.9, category_id="social_care_funding"),
          Theme(1, "NHS money", (), 8, 0.9, category_id="nhs_funding"),
          Theme(2, "councillor / election", (), 5, 0.5, emergent=True),
          Theme(3, "deadline / pace", (), 5, 0.5, emergent=True)]


def test_label_checks_merge_keeps_the_parts_categories():
    labels = LabelsFile(themes={1: ThemeLabel(1, merge_into=0), 3: ThemeLabel(3, merge_into=0),
                                2: ThemeLabel(2, label="Local politics")})
    merges, categories = merge_summary(THEMES, labels)
    assert merges == {0: (1, 3)}
    assert categories == {0: ("nhs_funding",)}  # the emergent part stands for no category
    assert renamed_themes(THEMES, labels) == frozenset({2})


def _state(centroids, labels):
    return ThemeState({k: np.asarray(v, dtype=np.float32) for k, v in centroids.items()}, labels, 5)


def test_label_checks_warn_when_the_marked_theme_moved_or_was_relabelled():
    labels = LabelsFile(path="corpus/labels.yaml", themes={
        2: ThemeLabel(2, noise=True, line=3), 3: ThemeLabel(3, label="Timescale", line=5),
        0: ThemeLabel(0, definition="Money councils lack.", line=7)})
    now = {0: [1.0, 0.0, 0.0], 2: [0.0, 1.0, 0.0], 3: [0.0, 0.0, 1.0]}
    before = _state({0: [1.0, 0.0, 0.0], 2: [0.0, 0.8, 0.6], 3: [0.0, 0.0, 1.0]},
                    {0: "Social care money", 2: "councillor / election", 3: "deadline / timetable"})
    warnings = stale_entries(labels, THEMES, now, before, min_similarity=0.95)
    assert len(warnings) == 2
    moved, relabelled = warnings
    assert moved.startswith("corpus/labels.yaml: theme 2 (line 3) (noise)") and "similarity 0.80" in moved
    assert "from 'deadline / timetable' to 'deadline / pace'" in relabelled and "line 5" in relabelled


def test_label_checks_nothing_to_warn_on_a_first_run_or_an_unchanged_theme():
    labels = LabelsFile(themes={2: ThemeLabel(2, noise=True)})
    now = {2: [0.0, 1.0]}
    assert stale_entries(labels, THEMES, now, None, 0.95) == []
    same = _state({2: [0.0, 1.0]}, {2: "councillor / election"})
    assert stale_entries(labels, THEMES, now, same, 0.95) == []
