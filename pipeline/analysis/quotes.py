"""Representative, quotable quotes per theme, with flags for anything that might identify a respondent.

Selection per theme (segments whose *primary* theme it is):

1. quotable only: a complete sentence (starts with a capital letter, digit or opening quote; ends with
   ``. ! ? ;``, optionally followed by a closing quote or bracket) of ``min_chars``..``max_chars`` characters;
2. maximal marginal relevance: repeatedly take the candidate maximising
   ``(1 - diversity) * centrality - diversity * (max cosine to the quotes already taken)``, where centrality is
   the cosine to the theme centroid (normalised mean of all the theme's segment embeddings);
3. never two quotes from one respondent, never the same wording twice (equal after lower-casing and dropping
   punctuation, or a difflib similarity ratio of at least ``NEAR_IDENTICAL``);
4. only the ``MAX_POOL_PER_SLOT * per_theme`` most central quotable segments are candidates (keeps MMR cheap
   on big themes);
5. unflagged candidates fill the slots first; flagged ones only fill what is left, so they rank after every
   unflagged quote. Flags travel with the quote: a flagged quote is never offered without them.

Flags come from ``pipeline.analysis.identify``.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np

from pipeline.analysis.identify import identifiability_flags
from pipeline.core.config import QuotesConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Quote, Segment, Theme
from pipeline.core.vectors import unit_rows

NEAR_IDENTICAL = 0.9  # difflib ratio at or above which two quotes count as the same wording
MAX_POOL_PER_SLOT = 40  # candidates considered per quote slot: the most central quotable segments

_QUOTABLE_START = re.compile(r"^[\"'“‘(]?[A-Z0-9]")
_QUOTABLE_END = re.compile(r"[.!?;][\"'”’)]?$")


def is_quotable(text: str, min_chars: int, max_chars: int) -> bool:
    """A complete sentence of acceptable length (see the module docstring)."""
    text = text.strip()
    return (min_chars <= len(text) <= max_chars and bool(_QUOTABLE_START.match(text))
            and bool(_QUOTABLE_END.search(text)))


def normalise_wording(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _same_wording(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b, autojunk=False).ratio() >= NEAR_IDENTICAL


def mmr_order(candidates: list[int], centrality: np.ndarray, vectors: np.ndarray, diversity: float,
              limit: int, chosen: list[int], allowed) -> list[int]:
    """Extend ``chosen`` (row indices) by maximal marginal relevance until ``limit``; ``allowed(row, chosen)``
    vetoes a candidate given what is already chosen. Returns the rows added, in order."""
    added: list[int] = []
    pool = list(candidates)
    while pool and len(chosen) < limit:
        if chosen:
            redundancy = (vectors[pool] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(pool))
        gain = (1 - diversity) * centrality[pool] - diversity * redundancy
        best = pool[int(np.argmax(gain))]  # first maximum: ties go to the earlier segment, deterministically
        pool.remove(best)
        if allowed(best, chosen):
            chosen.append(best)
            added.append(best)
    return added


class _ThemeRows:
    """A theme's rows of the embedding matrix as float64 unit vectors, indexed by their row in the whole matrix."""

    def __init__(self, rows: list[int], embeddings: np.ndarray):
        self.unit = unit_rows(np.asarray(embeddings[rows]), np.float64)
        self._position = {row: i for i, row in enumerate(rows)}

    def __getitem__(self, rows: list[int]) -> np.ndarray:
        return self.unit[[self._position[row] for row in rows]]


def select_quotes(themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment],
                  embeddings: np.ndarray, answers: Sequence[Answer], config: QuotesConfig) -> list[Quote]:
    """Up to ``config.per_theme`` quotes per theme (noise themes and the outlier column get none)."""
    if not (len(assignments) == len(segments) == len(embeddings)):
        raise PipelineError(f"quotes got {len(segments)} segments, {len(assignments)} assignments and "
                            f"{len(embeddings)} embeddings; they must be aligned")
    ratings = {answer.answer_id: answer.ratings for answer in answers}
    rows_by_theme: dict[int, list[int]] = {}
    for row, assignment in enumerate(assignments):
        rows_by_theme.setdefault(assignment.theme_id, []).append(row)
    texts = [segment.text.strip() for segment in segments]
    wording = [normalise_wording(text) for text in texts]
    quotes: list[Quote] = []
    for theme in themes:
        rows = rows_by_theme.get(theme.theme_id, [])
        if theme.theme_id == UNASSIGNED or theme.noise or not rows:
            continue
        vectors = _ThemeRows(rows, embeddings)  # this theme's unit rows only, never a copy of the whole matrix
        centroid = vectors.unit.mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        centrality = np.zeros(len(segments))
        centrality[rows] = vectors.unit @ centroid
        quotable = [r for r in rows if is_quotable(texts[r], config.min_chars, config.max_chars)]
        # MMR is quadratic in the pool; the best quotes come from the central part of a theme anyway
        quotable = sorted(quotable, key=lambda r: -centrality[r])[:MAX_POOL_PER_SLOT * max(config.per_theme, 1)]
        quotable.sort()
        flags = {r: identifiability_flags(texts[r], config.identifying_terms) for r in quotable}

        def allowed(row: int, chosen: list[int]) -> bool:
            return all(segments[row].respondent_id != segments[other].respondent_id
                       and not _same_wording(wording[row], wording[other]) for other in chosen)

        chosen: list[int] = []
        for flagged in (False, True):
            tier = [r for r in quotable if bool(flags[r]) == flagged]
            mmr_order(tier, centrality, vectors, config.diversity, config.per_theme, chosen, allowed)
        for rank, row in enumerate(chosen, start=1):
            segment = segments[row]
            quotes.append(Quote(
                theme_id=theme.theme_id, rank=rank, segment_id=segment.segment_id,
                respondent_id=segment.respondent_id, file=segment.file, row=segment.row, text=texts[row],
                centrality=round(float(centrality[row]), 6), flags=flags[row],
                ratings=ratings.get(segment.answer_id, {}),
            ))
    return quotes


def resolve_theme(themes: Sequence[Theme], theme: str | int) -> Theme:
    """The theme with this id; else, in order, the one whose label is this (any case), starts with it, contains
    it as a word, or is mapped to a category with this id, whichever first matches exactly one theme."""
    listing = "; ".join(f"{t.theme_id} {t.label}" for t in themes) or "none"
    key = str(theme).strip()
    if re.fullmatch(r"-?\d+", key):
        for candidate in themes:
            if candidate.theme_id == int(key):
                return candidate
        raise PipelineError(f"no theme with id {key}; themes: {listing}")
    lowered = key.lower()
    exact = [t for t in themes if t.label.lower() == lowered]
    if len(exact) == 1:
        return exact[0]
    word = re.compile(rf"\b{re.escape(lowered)}\b") if lowered else None
    matches = exact
    for rule in (lambda t: t.label.lower().startswith(lowered), lambda t: bool(word.search(t.label.lower())),
                 lambda t: (t.category_id or "").lower() == lowered):
        if matches or not lowered:
            break
        matches = [t for t in themes if rule(t)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = "; ".join(f"{t.theme_id} {t.label}" for t in matches)
        raise PipelineError(f"theme '{key}' is ambiguous, it matches: {names}; give the id")
    raise PipelineError(f"unknown theme '{key}'; themes: {listing}")


def quotes_for_theme(quotes: Sequence[Quote], themes: Sequence[Theme], theme: str | int, n: int) -> list[Quote]:
    """The best ``n`` quotes of one theme (by id or label), flagged ones last, as ranked by ``select_quotes``."""
    if n < 1:
        raise PipelineError(f"--n must be at least 1, got {n}")
    target = resolve_theme(themes, theme)
    return sorted((q for q in quotes if q.theme_id == target.theme_id), key=lambda q: q.rank)[:n]
