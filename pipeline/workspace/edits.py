"""The workspace's edits as pure functions on a ``LabelsFile``: each returns the new labels and a one-line
description for the audit trail. The store (``pipeline.workspace.store``) saves the result and regenerates
labels.yaml; the labels stage applies it to every output, exactly as it applies a hand-written file.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from pipeline.analyst.labels_file import LabelsFile, ThemeLabel
from pipeline.analyst.labels_moves import EMERGENT, NOISE, SPLIT_BASE, CodeLabel, Recode, Split
from pipeline.core.errors import PipelineError

CODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")


def _clean(text: Any, what: str, required: bool = True) -> str | None:
    value = " ".join(str(text or "").split())
    if required and not value:
        raise PipelineError(f"{what} must not be empty")
    return value or None


def _entry(labels: LabelsFile, theme_id: int) -> ThemeLabel:
    return labels.themes.get(theme_id) or ThemeLabel(theme_id)


def _set(labels: LabelsFile, theme_id: int, **changes: Any) -> LabelsFile:
    entry = dataclasses.replace(_entry(labels, theme_id), line=None, **changes)
    themes = dict(labels.themes)
    if entry == ThemeLabel(theme_id):
        themes.pop(theme_id, None)
    else:
        themes[theme_id] = entry
    return dataclasses.replace(labels, themes=themes)


def rename(labels: LabelsFile, theme_id: int, label: str) -> tuple[LabelsFile, str]:
    label = _clean(label, "the label")
    return _set(labels, theme_id, label=label), f"theme {theme_id} renamed to '{label}'"


def define(labels: LabelsFile, theme_id: int, definition: str) -> tuple[LabelsFile, str]:
    definition = _clean(definition, "the definition", required=False)
    return (_set(labels, theme_id, definition=definition),
            f"theme {theme_id} defined: {definition}" if definition else f"theme {theme_id}: definition removed")


def memo(labels: LabelsFile, theme_id: int, text: str) -> tuple[LabelsFile, str]:
    text = str(text or "").strip().replace("\r\n", "\n") or None
    return _set(labels, theme_id, memo=text), f"theme {theme_id}: memo {'saved' if text else 'removed'}"


def merge(labels: LabelsFile, theme_id: int, into: int) -> tuple[LabelsFile, str]:
    if into == theme_id:
        raise PipelineError(f"theme {theme_id} cannot merge into itself")
    survivor, seen = into, {theme_id}
    while survivor is not None:  # the new link must not close a cycle
        if survivor in seen:
            raise PipelineError(f"merging theme {theme_id} into {into} would make a merge cycle")
        seen.add(survivor)
        survivor = _entry(labels, survivor).merge_into
    # a merged theme keeps only its memo (its label, definition, pin and noise mark would be lost: load rejects them)
    merged = _set(labels, theme_id, merge_into=into, label=None, definition=None, category=None, noise=False)
    return merged, f"theme {theme_id} merged into theme {into}"


def unmerge(labels: LabelsFile, theme_id: int) -> tuple[LabelsFile, str]:
    return _set(labels, theme_id, merge_into=None), f"theme {theme_id} no longer merged"


def noise(labels: LabelsFile, theme_id: int, on: bool) -> tuple[LabelsFile, str]:
    return _set(labels, theme_id, noise=bool(on)), f"theme {theme_id} {'marked' if on else 'no longer'} noise"


def pin(labels: LabelsFile, theme_id: int, category: str | None) -> tuple[LabelsFile, str]:
    category = _clean(category, "the category", required=False)
    return (_set(labels, theme_id, category=category),
            f"theme {theme_id} pinned to {category}" if category else f"theme {theme_id}: pin removed")


def promote(labels: LabelsFile, theme_id: int, code_id: str, label: str, definition: str,
            closed: set[str] = frozenset()) -> tuple[LabelsFile, str]:
    """An analyst code (``code_id``, label, definition) beyond the closed list, and the theme pinned to it."""
    code_id = _clean(code_id, "the code id")
    if not CODE_ID.match(code_id) or code_id.casefold() in (EMERGENT, NOISE):
        raise PipelineError(f"code id {code_id!r}: use a short word of letters, digits, _ or - such as "
                            "'political_will' (not 'emergent' or 'noise')")
    if code_id in closed:
        raise PipelineError(f"code id {code_id!r} is already a category of categories.yaml; pin the theme to it")
    code = CodeLabel(code_id, _clean(label, "the code's label"), _clean(definition, "the definition", False) or "")
    promoted = dataclasses.replace(labels, codes={**labels.codes, code_id: code})
    promoted = _set(promoted, theme_id, category=code_id)
    return promoted, f"theme {theme_id} promoted to code {code_id} '{code.label}'"


def next_split_id(labels: LabelsFile) -> int:
    used = {split.theme_id for split in labels.splits} | {t for t in labels.themes if t >= SPLIT_BASE}
    return max(used, default=SPLIT_BASE - 1) + 1


def split(labels: LabelsFile, segment_ids: list[str], label: str,
          definition: str | None = None) -> tuple[LabelsFile, str, int]:
    """A new theme holding ``segment_ids`` (taken out of any earlier split); returns its id too."""
    segment_ids = list(dict.fromkeys(s for s in segment_ids if s))
    if not segment_ids:
        raise PipelineError("select at least one segment to split off")
    theme_id = next_split_id(labels)
    chosen = set(segment_ids)
    kept = tuple(dataclasses.replace(s, segments=tuple(x for x in s.segments if x not in chosen), line=None)
                 for s in labels.splits)
    new = Split(theme_id, _clean(label, "the new theme's label"), tuple(segment_ids),
                _clean(definition, "the definition", required=False))
    recodes = {t: r for t, r in labels.segments.items() if t not in chosen}  # the split is the newer word
    result = dataclasses.replace(labels, splits=tuple(s for s in kept if s.segments) + (new,), segments=recodes)
    return result, f"{len(segment_ids)} segment(s) split off into new theme {theme_id} '{new.label}'", theme_id


def recode(labels: LabelsFile, target: str, theme: int | str) -> tuple[LabelsFile, str]:
    """Segment or answer ``target`` put in ``theme`` (a theme id, ``noise`` or a code id)."""
    target = _clean(target, "the segment id")
    if isinstance(theme, str) and theme.strip().lstrip("-").isdigit():
        theme = int(theme)
    if isinstance(theme, int) and theme < 0:
        theme = NOISE
    what = "answer" if "#" not in target else "segment"
    recodes = {**labels.segments, target: Recode(target, theme)}
    if what == "answer":  # the answer's own word replaces earlier recodes of its segments
        recodes = {t: r for t, r in recodes.items() if t.rpartition("#")[0] != target}
    return (dataclasses.replace(labels, segments=recodes),
            f"{what} {target} recoded to {'noise' if theme == NOISE else f'theme {theme}'}")


def uncode(labels: LabelsFile, target: str) -> tuple[LabelsFile, str]:
    recodes = {t: r for t, r in labels.segments.items() if t != target}
    return dataclasses.replace(labels, segments=recodes), f"recode of {target} removed (the machine's theme again)"
