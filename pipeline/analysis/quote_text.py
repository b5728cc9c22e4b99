"""What an editor can print: a quote is whole sentences of one answer, never a fragment cut from it.

:func:`quote_span` turns a segment into the span of its answer to quote:

- an answer written as a list (lines starting ``- ``, ``• ``, ``1. ``, ``1) ``) is quoted whole or not at all: its
  items and the lines around them lean on each other ("All non-recurrent, ..." after a list of funds);
- a segment must start where a sentence starts and end where one ends;
- a segment opening with a word that points back ("Both can't be right", "This means", "But ...") takes in the
  sentences before it, as far as the answer allows within ``max_chars``; if it cannot, it is not quoted (an
  answer's own first sentence points at the question, so it stands).

:func:`is_quotable` then checks the span's shape and length.
"""
from __future__ import annotations

import re

from pipeline.core.records import Segment

_QUOTABLE_START = re.compile(r"^[\"'“‘(]?[A-Z0-9]")
_QUOTABLE_END = re.compile(r"[.!?;][\"'”’)]?$")
_LIST_LINE = re.compile(r"(?m)^\s*(?:[-•*–]|\d+[.)])\s+\S")
_SENTENCE_END = re.compile(r"[.!?;:][\"'”’)]*\s*$")
_BOUNDARY = re.compile(r"[.!?][\"'”’)]*\s+|\n\s*")
POINTS_BACK = re.compile(
    r"^[\"'“‘(]?(?:both|this|that|these|those|it|its|they|them|their|such|also|and|but|or|nor|so|which|however|"
    r"plus|then|hence|therefore|thus|again|otherwise|either|neither|meanwhile|instead|likewise|similarly)\b",
    re.IGNORECASE)


def is_quotable(text: str, min_chars: int, max_chars: int) -> bool:
    """A complete sentence (or several) of acceptable length: starts with a capital letter, digit or opening quote;
    ends with ``. ! ? ;``, optionally followed by a closing quote or bracket."""
    text = text.strip()
    return (min_chars <= len(text) <= max_chars and bool(_QUOTABLE_START.match(text))
            and bool(_QUOTABLE_END.search(text)))


def is_list_answer(text: str) -> bool:
    return bool(_LIST_LINE.search(text))


def _starts_sentence(answer: str, start: int) -> bool:
    before = answer[:start]
    return not before.strip() or bool(_SENTENCE_END.search(before))


def _previous_sentence_start(answer: str, start: int) -> int | None:
    """Where the sentence before ``start`` begins (None when ``start`` is the answer's first sentence)."""
    before = answer[:start].rstrip()
    if not before:
        return None
    cuts = [m.end() for m in _BOUNDARY.finditer(before) if m.end() < len(before)]
    return cuts[-1] if cuts else 0


def quote_span(answer: str, segment: Segment, max_chars: int) -> tuple[int, int] | None:
    """The (start, end) offsets of ``answer`` to quote for ``segment``, or None (see the module docstring)."""
    if is_list_answer(answer):
        stripped = answer.strip()
        start = answer.index(stripped[:1]) if stripped else 0
        return (start, start + len(stripped)) if stripped and len(stripped) <= max_chars else None
    start, end = segment.start, segment.end
    while answer[start:start + 1].isspace():
        start += 1
    if not _starts_sentence(answer, start):
        return None
    while POINTS_BACK.match(answer[start:end]):
        previous = _previous_sentence_start(answer, start)
        if previous is None:  # the answer's first words point at the question itself: quotable as they stand
            break
        if end - previous > max_chars:
            return None
        start = previous
    return start, end
