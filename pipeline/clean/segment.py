"""Segments: points and prose found on the *original* text (markup masked by same-length blanks), so every
segment's offsets slice the respondent's own words."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.clean.normalize import MARKER, SOLID_BULLETS, mask_layout

_LINE_MARKERS_RE = re.compile(rf"[^\S\n]*(?:{MARKER}(?:[^\S\n]+|$))+")  # one or more markers at a line start
_INLINE_NUMBER_RE = re.compile(r"(?<!\S)\(?(\d{1,2})[.)](?=\s)")
_INLINE_BULLET_RE = re.compile(rf"(?<!\S)[{SOLID_BULLETS}](?=\s)")
_SENTENCE_END_RE = re.compile(r"[.!?\u2026;:][\"')\]]*\s*$")
_MAYBE_SEVERAL_SENTENCES_RE = re.compile(r"[.!?\u2026][\"')\]]*\s+\S")
_WRAPPED_LINE_MIN = 30
_WRAPPED_LINE_ALWAYS = 80  # this long, the next line carries on even if it starts with a capital
_LEAD_IN_MAX = 80  # "The barriers I see are:" before a list introduces it; it is not a point itself


@dataclass
class _Item:
    start: int
    end: int
    kind: str  # "point" (bullet, numbered) or "prose"


def _trim(masked: str, start: int, end: int) -> tuple[int, int]:
    while start < end and masked[start].isspace():
        start += 1
    while end > start and masked[end - 1].isspace():
        end -= 1
    return start, end


def _inline_points(masked: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """Marker spans of an inline list on one line ("1) x 2) y", "• x • y"), or None if there is none."""
    line = masked[start:end]
    numbered, expected = [], 1
    for m in _INLINE_NUMBER_RE.finditer(line):
        if int(m.group(1)) == expected:
            numbered.append((start + m.start(), start + m.end()))
            expected += 1
    if len(numbered) >= 2:
        return numbered
    bullets = [(start + m.start(), start + m.end()) for m in _INLINE_BULLET_RE.finditer(line)]
    return bullets if len(bullets) >= 2 else None


def _line_pieces(masked: str, start: int, end: int) -> list[_Item]:
    markers = _inline_points(masked, start, end)
    if markers:
        pieces = [_Item(start, markers[0][0], "prose")]
        bounds = [m[1] for m in markers] + [end]
        pieces += [_Item(bounds[i], markers[i + 1][0] if i + 1 < len(markers) else end, "point")
                   for i in range(len(markers))]
    else:
        marker = _LINE_MARKERS_RE.match(masked, start, end)
        pieces = [_Item(marker.end(), end, "point") if marker else _Item(start, end, "prose")]
    out = []
    for piece in pieces:
        piece.start, piece.end = _trim(masked, piece.start, piece.end)
        if piece.end > piece.start:
            out.append(piece)
    return out


def _continues(previous_line: str, line: str, after_point: bool) -> bool:
    """Whether an unmarked line carries on the previous line's sentence rather than starting a new point."""
    size = len(previous_line.strip())
    if _SENTENCE_END_RE.search(previous_line):
        return False
    first = line.lstrip()[:1]
    starts_lower = not (first.isupper() or first.isdigit())
    if after_point and (starts_lower or line[:1].isspace()):  # an indented or lower-case line wraps a bullet
        return True
    return size >= _WRAPPED_LINE_MIN and (starts_lower or size >= _WRAPPED_LINE_ALWAYS)


def layout_items(masked: str, boilerplate: Sequence[re.Pattern[str]]) -> list[_Item]:
    """Points and prose blocks of a masked text, as trimmed spans, boilerplate lines left out. A line ending
    in ":" right before a list ("Barriers:") is a lead-in, not a point, and is left out."""
    items: list[_Item] = []
    previous_line: str | None = None
    for m in re.finditer(r"[^\n]+", masked):
        line = m.group(0)
        if not line.strip():
            previous_line = None
            continue
        pieces = _line_pieces(masked, m.start(), m.end())
        if not pieces or any(p.fullmatch(masked[pieces[0].start:pieces[-1].end]) for p in boilerplate):
            previous_line = None
            continue
        first = pieces[0]
        if (first.kind == "prose" and items and previous_line is not None
                and _continues(previous_line, line, items[-1].kind == "point")):
            items[-1].end = first.end
            pieces = pieces[1:]
        items.extend(pieces)
        previous_line = line
    return [item for i, item in enumerate(items) if not _is_lead_in(masked, items, i)]


def _is_lead_in(masked: str, items: list[_Item], i: int) -> bool:
    item = items[i]
    return (item.kind == "prose" and i + 1 < len(items) and items[i + 1].kind == "point"
            and masked[item.end - 1] == ":" and item.end - item.start <= _LEAD_IN_MAX)


def group_sentences(sentences: Sequence[tuple[int, int]], min_chars: int, max_per_group: int) -> list[tuple[int, int]]:
    """Join each sentence shorter than ``min_chars`` to its neighbour, then group up to ``max_per_group``."""
    units: list[tuple[int, int]] = []
    for start, end in sentences:
        if units and (units[-1][1] - units[-1][0] < min_chars or end - start < min_chars):
            units[-1] = (units[-1][0], end)
        else:
            units.append((start, end))
    groups = [units[i:i + max_per_group] for i in range(0, len(units), max_per_group)]
    return [(group[0][0], group[-1][1]) for group in groups]


def sentence_spans(nlp: Any, masked: str, items: list[_Item]) -> list[list[tuple[int, int]]]:
    """Sentence spans (offsets into the answer) of each prose item, found by spaCy in one batch."""
    spans: list[list[tuple[int, int]]] = [[(it.start, it.end)] for it in items]
    todo = [i for i, it in enumerate(items)
            if it.kind == "prose" and _MAYBE_SEVERAL_SENTENCES_RE.search(masked, it.start, it.end)]
    for i, doc in zip(todo, nlp.pipe((masked[items[i].start:items[i].end] for i in todo), batch_size=256)):
        base = items[i].start
        sents = [_trim(masked, base + s.start_char, base + s.end_char) for s in doc.sents]
        spans[i] = [s for s in sents if s[1] > s[0]] or spans[i]
    return spans


def split_segments(text: str, nlp: Any, *, boilerplate: Sequence[re.Pattern[str]] = (), min_chars: int = 25,
                   max_sentences: int = 2) -> list[tuple[int, int]]:
    """(start, end) offsets into ``text`` of its segments: one per bullet or numbered point, otherwise groups
    of sentences. Markers, surrounding whitespace, tags at the edges and boilerplate lines are excluded."""
    masked = mask_layout(text)
    items = layout_items(masked, boilerplate)
    return segment_spans(items, sentence_spans(nlp, masked, items), min_chars, max_sentences)


def segment_spans(items: list[_Item], sentences: list[list[tuple[int, int]]], min_chars: int,
                   max_sentences: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for item, item_sentences in zip(items, sentences):
        if item.kind == "point":
            out.append((item.start, item.end))
        else:
            out.extend(group_sentences(item_sentences, min_chars, max_sentences))
    return out
