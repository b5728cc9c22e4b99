"""The codes decide the themes (issue 13, item 5): a segment's code moves it into the theme that carries the code, so
themes, quotes, crosstab, codebook and report follow the analyst's codes (and the trained coder's sure ones).

Which codes move a segment (the ``coding`` stage's codes, applied by the ``labels`` stage):

- an **analyst** code (corpus coded.csv from `pipeline code`, or a labels.yaml recode to a code) always;
- a **trained** code when its calibrated confidence is above ``validate.trained_theme_confidence`` (default 0.5:
  more likely right than every other code together) and the segment sits in a category theme, one the fit coded
  to a closed category. Segments of emergent themes stay: the trained coder knows the listed codes and the
  analyst's, not what is off the list; an analyst's code moves them;
- otherwise the label-free code the themes were fitted with stands (its segments stay where the fit put them).

The theme that carries a code: a theme labels.yaml pins to it (``themes: {9: {category: political_will}}``, or a
split with that category), else the fit's theme of that closed category (lowest id). A code no theme carries gets
a new theme, id ``CODE_THEME_BASE`` + the code's position in the code list, labelled with the code's label and
definition and pinned to the code, made as a labels.yaml split is (``pipeline.analyst.labels_moves``).

The analyst's explicit word on a segment wins over its code: a labels.yaml ``segments:`` entry (segment or its
answer) or a ``split`` that names it is applied as written. The moves are recodes added to the labels the run
applies, so merges, noise marks and pins then act on the moved segments as on any recoded one; the audit
(reassignments.csv) names them ``coding:analyst`` or ``coding:trained``, and a trained move's weight is the
trained coder's confidence (an analyst's is 1).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pipeline.analyst.labels_file import LabelsFile
from pipeline.analyst.labels_moves import Recode, Split, code_theme, fit_carrier
from pipeline.analyst.trained import ANALYST, TRAINED
from pipeline.core.artifacts import Coded
from pipeline.core.records import Assignment, Category, Reassignment, Theme

CODE_THEME_BASE = 2000


def decided_codes(coded: Coded | None, assignments: Sequence[Assignment], themes: Sequence[Theme],
                  labels: LabelsFile, min_confidence: float) -> dict[str, tuple[str, str, float]]:
    """segment id -> (code, source, confidence) for every segment whose code decides its theme (module docstring)."""
    if coded is None or not coded.codes:
        return {}
    by_id = {theme.theme_id: theme for theme in themes}
    explicit = set(labels.segments) | {s for split in labels.splits for s in split.segments}
    decided = {}
    for assignment, (code, source, confidence) in zip(assignments, coded.codes, strict=True):
        segment = assignment.segment_id
        if segment in explicit or segment.rpartition("#")[0] in explicit:
            continue
        theme = by_id.get(assignment.theme_id)
        in_category_theme = theme is not None and bool(theme.category_id) and not theme.emergent and not theme.noise
        if source == ANALYST or (source == TRAINED and confidence > min_confidence and in_category_theme):
            decided[segment] = (code, source, float(confidence))
    return decided


def with_code_moves(labels: LabelsFile, decided: dict[str, tuple[str, str, float]], themes: Sequence[Theme],
                    code_list: Sequence[Category]) -> LabelsFile:
    """``labels`` plus one recode per decided segment and a new theme (a split) for each code no theme carries."""
    if not decided:
        return labels
    codes = {c.category_id: c for c in code_list}
    taken = {t.theme_id for t in themes} | {s.theme_id for s in labels.splits}
    new_splits = []
    for position, code in enumerate(codes):
        if code not in {c for c, _, _ in decided.values()}:
            continue
        if code_theme(labels, code) is None and fit_carrier(themes, code) is None:
            theme_id = CODE_THEME_BASE + position
            while theme_id in taken:
                theme_id += len(codes)
            taken.add(theme_id)
            category = codes[code]
            new_splits.append(Split(theme_id, category.label or code, (), category.description or None, code))
    recodes = {segment: Recode(segment, code) for segment, (code, _, _) in decided.items()}
    return dataclasses.replace(labels, segments={**recodes, **labels.segments}, splits=labels.splits + tuple(new_splits))


def code_audit(moves: Sequence[Reassignment], assignments: Sequence[Assignment],
               decided: dict[str, tuple[str, str, float]]) -> tuple[list[Reassignment], list[Assignment]]:
    """The audit names code moves ``coding:<source>``; a trained move's weight is the coder's confidence."""
    if not decided:
        return list(moves), list(assignments)
    audit = [dataclasses.replace(m, strategy=f"coding:{decided[m.segment_id][1]}") if m.segment_id in decided else m
             for m in moves]
    moved = {m.segment_id for m in audit if m.strategy == f"coding:{TRAINED}"}
    weighted = [dataclasses.replace(a, weight=round(decided[a.segment_id][2], 4)) if a.segment_id in moved else a
                for a in assignments]
    return audit, weighted
