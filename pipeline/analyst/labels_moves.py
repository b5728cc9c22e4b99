"""The parts of labels.yaml that move single segments: analyst codes, recodes and splits (see ``labels_file``).

``codes`` are analyst-defined codes beyond the closed list; ``segments`` recode one segment (its id
``<file>:<row>#<index>``) or every segment of one answer (its id ``<file>:<row>``); ``split`` takes segments out
of their themes into a new theme. :func:`apply_moves` applies the last two to the fit's assignments before the
theme-level entries (rename, merge, noise, pin) are applied to the result, so a segment recoded into a theme
follows that theme when it is merged, and a split theme can itself be renamed, pinned or merged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Theme

NOISE = "noise"
EMERGENT = "emergent"
SPLIT_BASE = 1000  # ids of themes the analyst creates (split) start here, far above the fit's ids
RESERVED_CODES = (EMERGENT, NOISE)


@dataclass(frozen=True, slots=True)
class CodeLabel:
    """An analyst-defined code beyond the closed list (a theme pinned to it is coded with it)."""

    code_id: str
    label: str
    definition: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Recode:
    """One segment (``target`` a segment id) or one answer (an answer id: all its segments) put in a theme:
    ``theme`` is a theme id, ``"noise"`` (set aside as unassigned) or a code id (the theme pinned to it; for a
    closed category without a pin, the fit's theme of that category)."""

    target: str
    theme: int | str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """Segments taken out of their themes into a new theme ``theme_id`` (``SPLIT_BASE`` and up by default)."""

    theme_id: int
    label: str
    segments: tuple[str, ...]
    definition: str | None = None
    category: str | None = None
    line: int | None = None


def _text(value: object, what: str, name: str, line: int | None, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
        raise PipelineError(f"{what} must be non-empty text, got {value!r}", file=name, row=line)
    return " ".join(str(value).split())


def _fields(value: object, known: tuple[str, ...], where: str, name: str, line: int | None) -> dict:
    if not isinstance(value, dict):
        raise PipelineError(f"{where}: expected a mapping of {', '.join(known)}", file=name, row=line)
    unknown = sorted(map(str, set(value) - set(known)))
    if unknown:
        raise PipelineError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}",
                            file=name, row=line)
    return value


def parse_codes(raw: object, lines: Mapping[str, int], name: str) -> dict[str, CodeLabel]:
    if not isinstance(raw, dict):
        raise PipelineError("'codes:' must map code ids to {label, definition}", file=name)
    codes = {}
    for key, value in raw.items():
        line = lines.get(str(key))
        code_id = _text(key, "code id", name, line, required=True)
        if code_id.casefold() in RESERVED_CODES or code_id.lstrip("-").isdigit():
            raise PipelineError(f"code id {code_id!r} is reserved; use a word such as 'political_will'",
                                file=name, row=line)
        value = {"label": value} if isinstance(value, str) else value
        value = _fields(value, ("label", "definition"), f"code {code_id}", name, line)
        codes[code_id] = CodeLabel(code_id, _text(value.get("label"), f"code {code_id}: label", name, line, True),
                                   _text(value.get("definition"), f"code {code_id}: definition", name, line) or "",
                                   line)
    return codes


def parse_recodes(raw: object, lines: Mapping[str, int], name: str) -> dict[str, Recode]:
    if not isinstance(raw, dict):
        raise PipelineError("'segments:' must map segment or answer ids to {theme: ...}", file=name)
    recodes = {}
    for key, value in raw.items():
        line = lines.get(str(key))
        target = _text(key, "segment id", name, line, required=True)
        if ":" not in target:
            raise PipelineError(f"{target!r} is not a segment id (<file>:<row>#<index>) or an answer id "
                                "(<file>:<row>)", file=name, row=line)
        value = {"theme": value} if not isinstance(value, dict) else value
        theme = _fields(value, ("theme",), f"segment {target}", name, line).get("theme")
        recodes[target] = Recode(target, _recode_theme(theme, f"segment {target}", name, line), line)
    return recodes


def _recode_theme(value: object, where: str, name: str, line: int | None) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, str) and value.strip():
        return NOISE if value.strip().casefold() == NOISE else value.strip()
    raise PipelineError(f"{where}: theme must be a theme id, 'noise' or a code id, got {value!r}",
                        file=name, row=line)


def parse_splits(raw: object, lines: Sequence[int], name: str) -> tuple[Split, ...]:
    if not isinstance(raw, list):
        raise PipelineError("'split:' must be a list of {label, segments}", file=name)
    known = ("id", "label", "definition", "category", "segments")
    given_ids = {entry.get("id") for entry in raw if isinstance(entry, dict)}
    next_id, splits, taken = SPLIT_BASE, [], set()
    for k, value in enumerate(raw):
        line = lines[k] if k < len(lines) else None
        value = _fields(value, known, f"split {k + 1}", name, line)
        theme_id = value.get("id")
        if theme_id is None:
            while next_id in given_ids or next_id in taken:
                next_id += 1
            theme_id = next_id
        elif isinstance(theme_id, bool) or not isinstance(theme_id, int) or theme_id < SPLIT_BASE:
            raise PipelineError(f"split {k + 1}: id must be a whole number >= {SPLIT_BASE}, got {theme_id!r}",
                                file=name, row=line)
        if theme_id in taken:
            raise PipelineError(f"split {k + 1}: id {theme_id} is used twice", file=name, row=line)
        taken.add(theme_id)
        segments = value.get("segments")
        if not isinstance(segments, list) or not segments:
            raise PipelineError(f"split {k + 1}: segments must be a non-empty list of segment ids",
                                file=name, row=line)
        splits.append(Split(theme_id, _text(value.get("label"), f"split {k + 1}: label", name, line, True),
                            tuple(_text(s, f"split {k + 1}: segment id", name, line, True) for s in segments),
                            _text(value.get("definition"), f"split {k + 1}: definition", name, line),
                            _text(value.get("category"), f"split {k + 1}: category", name, line), line))
    return tuple(splits)


def code_theme(labels: Any, code_id: str) -> int | None:
    """The theme carrying analyst code ``code_id`` (pinned to it by ``themes:`` or a split), lowest id first."""
    carriers = [t for t, entry in labels.themes.items() if entry.category == code_id and entry.merge_into is None]
    carriers += [split.theme_id for split in labels.splits if split.category == code_id]
    return min(carriers) if carriers else None


def fit_carrier(themes: Sequence[Theme], code_id: str) -> int | None:
    """The fit's theme of closed category ``code_id`` (lowest id; never an emergent or noise theme)."""
    ids = [t.theme_id for t in themes if t.category_id == code_id and not t.emergent and not t.noise]
    return min(ids) if ids else None


def apply_moves(themes: Sequence[Theme], assignments: Sequence[Assignment], labels: Any,
                where: str) -> tuple[list[Theme], list[Assignment], list[str]]:
    """Splits then recodes applied to the assignments; split themes added; sizes moved with their segments.
    Targets the run lacks (a segment that is gone, a theme that is gone) give warnings."""
    warnings: list[str] = []
    by_id = {theme.theme_id: theme for theme in themes}
    segment_ids = {a.segment_id for a in assignments}
    answers: dict[str, list[str]] = {}
    for assignment in assignments:
        answers.setdefault(assignment.segment_id.rpartition("#")[0], []).append(assignment.segment_id)
    moves: dict[str, int] = {}
    for split in labels.splits:
        line = f" (line {split.line})" if split.line else ""
        missing = [s for s in split.segments if s not in segment_ids]
        if missing:
            warnings.append(f"{where}split '{split.label}'{line}: {len(missing)} segment(s) no longer exist: "
                            + ", ".join(missing[:5]))
        moves.update({s: split.theme_id for s in split.segments if s in segment_ids})
    # answer-level recodes first, so a segment-level recode of one of its segments wins
    for recode in sorted(labels.segments.values(), key=lambda r: "#" in r.target):
        line = f" (line {recode.line})" if recode.line else ""
        targets = [recode.target] if recode.target in segment_ids else answers.get(recode.target, [])
        theme = _resolve(recode.theme, labels, by_id)
        if not targets:
            warnings.append(f"{where}segment {recode.target}{line} no longer exists; its recode is ignored")
        elif theme is None:
            warnings.append(f"{where}segment {recode.target}{line}: no theme {recode.theme!r} in this run "
                            "(a theme id, 'noise', or a code some theme is pinned to); recode ignored")
        else:
            moves.update(dict.fromkeys(targets, theme))
    # a segment already set aside in a theme marked noise stays where it is (keeps applying idempotent)
    moves = {s: t for s, t in moves.items() if not (t in by_id and by_id[t].noise)}
    new_themes = list(themes) + [_split_theme(split, themes, assignments, moves) for split in labels.splits
                                 if split.theme_id not in by_id]
    moved, deltas = _moved(assignments, moves)
    return ([dataclasses.replace(t, size=t.size + deltas[t.theme_id]) if deltas.get(t.theme_id) else t
             for t in new_themes], moved, warnings)


def _resolve(theme: int | str, labels: Any, by_id: Mapping[int, Theme]) -> int | None:
    if theme == NOISE:
        return UNASSIGNED
    if isinstance(theme, int):
        split_ids = {split.theme_id for split in labels.splits}
        return theme if theme in by_id or theme in split_ids else None
    if theme in labels.codes:
        return code_theme(labels, theme)
    # a closed category's id: the theme pinned to it, else the fit's theme of that category
    pinned = code_theme(labels, theme)
    return pinned if pinned is not None else fit_carrier(list(by_id.values()), theme)


def _split_theme(split: Split, themes: Sequence[Theme], assignments: Sequence[Assignment],
                 moves: Mapping[str, int]) -> Theme:
    """A new theme for a split: stability is the size-weighted mean of the themes its segments came from."""
    stability = {t.theme_id: t.stability for t in themes}
    origins = [a.theme_id for a in assignments if moves.get(a.segment_id) == split.theme_id]
    known = [stability[t] for t in origins if t in stability]
    return Theme(split.theme_id, split.label, (), 0, sum(known) / len(known) if known else 0.0,
                 definition=split.definition or "")


def _moved(assignments: Sequence[Assignment], moves: Mapping[str, int]) -> tuple[list[Assignment], dict[int, int]]:
    out, deltas = [], {}
    for assignment in assignments:
        target = moves.get(assignment.segment_id)
        if target is None or target == assignment.theme_id:
            out.append(assignment)
            continue
        deltas[assignment.theme_id] = deltas.get(assignment.theme_id, 0) - 1
        deltas[target] = deltas.get(target, 0) + 1
        secondary = tuple((t, w) for t, w in assignment.secondary if t != target)
        out.append(dataclasses.replace(assignment, theme_id=target, weight=1.0 if target != UNASSIGNED else 0.0,
                                       secondary=secondary))
    return out, deltas
