"""Representative, quotable quotes per theme, with flags for anything that might identify a respondent.

Selection per theme (segments whose *primary* theme it is):

1. confidently coded only (``quotes.confident_share``): for a theme standing for closed categories, segments the
   coder put in one of them, the surest ``confident_share`` of them by the coder's score (the run's calibrated
   confidence when it has one); for a theme found without the closed list, the surest share by membership weight;
2. quotable only: whole sentences of the answer (``pipeline.analysis.quote_text.quote_span``: never a fragment,
   a sentence pointing back takes its antecedent in, a list answer is quoted whole) of ``min_chars``..``max_chars``;
3. maximal marginal relevance: repeatedly take the candidate maximising
   ``(1 - diversity) * centrality - diversity * (max cosine to the quotes already taken)``, where centrality is
   the cosine to the theme centroid (normalised mean of all the theme's segment embeddings);
4. never two quotes from one respondent, never the same wording twice (equal after lower-casing and dropping
   punctuation, or a difflib similarity ratio of at least ``NEAR_IDENTICAL``);
5. only the ``MAX_POOL_PER_SLOT * n`` most central candidates are considered (keeps MMR cheap on big themes);
6. a flagged quote competes like any other and is shown with its flags: selection goes on until ``n`` unflagged
   quotes are taken, so an editor always has ``n`` printable quotes and sees what was flagged among the best.

Flags come from the run's :class:`~pipeline.analysis.identify.Identifier`, on the quoted text itself.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np

from pipeline.analysis.identify import Identifier
from pipeline.analysis.quote_text import is_quotable, quote_span
from pipeline.core.config import QuotesConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Quote, Segment, Theme
from pipeline.core.vectors import unit_rows

NEAR_IDENTICAL = 0.9  # difflib ratio at or above which two quotes count as the same wording
MAX_POOL_PER_SLOT = 40  # candidates considered per quote slot: the most central quotable segments


def normalise_wording(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _same_wording(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b, autojunk=False).ratio() >= NEAR_IDENTICAL


@dataclass
class QuoteInputs:
    """What quote selection reads besides the themes, assignments, segments and embeddings (all optional)."""

    answers: Sequence[Answer] = ()
    identifier: Identifier | None = None
    segment_scores: Sequence[tuple[str, float | None]] = ()  # per segment: its own category and coder score
    standing: Mapping[int, Sequence[str]] = field(default_factory=dict)  # theme -> categories it stands for
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # respondent -> attribute -> value


def confident_rows(rows: list[int], theme: Theme, assignments: Sequence[Assignment], inputs: QuoteInputs,
                   share: float) -> tuple[list[int], dict[int, float | None]]:
    """The surest ``share`` of a theme's member rows (see the module docstring), and each row's score."""
    categories = set(inputs.standing.get(theme.theme_id, ()))
    if categories and inputs.segment_scores:
        pool = [r for r in rows if inputs.segment_scores[r][0] in categories]
        score = {r: inputs.segment_scores[r][1] for r in pool}
    else:
        pool, score = list(rows), {r: None for r in rows}
    key = (lambda r: -(score[r] if score[r] is not None else -1.0)) if categories and inputs.segment_scores \
        else (lambda r: -assignments[r].weight)
    keep = math.ceil(share * len(pool)) if share < 1 else len(pool)
    return sorted(pool, key=key)[:keep], score


def mmr_order(candidates: list[int], centrality: np.ndarray, vectors: np.ndarray, diversity: float,
              enough, chosen: list[int], allowed) -> list[int]:
    """Extend ``chosen`` (row indices) by maximal marginal relevance until ``enough(chosen)``; ``allowed(row,
    chosen)`` vetoes a candidate given what is already chosen. Returns the rows added, in order."""
    added: list[int] = []
    pool = list(candidates)
    while pool and not enough(chosen):
        redundancy = (vectors[pool] @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(pool))
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


def _spans(rows: list[int], segments: Sequence[Segment], texts: Mapping[str, str], config: QuotesConfig
           ) -> dict[int, str]:
    """row -> the text to quote (whole sentences of its answer), for the quotable rows."""
    out = {}
    for r in rows:
        segment = segments[r]
        answer = texts.get(segment.answer_id)
        if answer is None:  # no answer text at hand: the segment is all there is
            text = segment.text.strip()
        else:
            span = quote_span(answer, segment, config.max_chars)
            text = answer[span[0]:span[1]].strip() if span else ""
        if text and is_quotable(text, config.min_chars, config.max_chars):
            out[r] = text
    return out


def theme_quotes(theme: Theme, rows: list[int], segments: Sequence[Segment], assignments: Sequence[Assignment],
                 embeddings: np.ndarray, inputs: QuoteInputs, config: QuotesConfig, n: int) -> list[Quote]:
    """The quotes of one theme: ``n`` unflagged ones, and the flagged ones that ranked among them."""
    vectors = _ThemeRows(rows, embeddings)  # this theme's unit rows only, never a copy of the whole matrix
    centroid = unit_rows(vectors.unit.mean(axis=0))
    centrality = np.zeros(len(segments))
    centrality[rows] = vectors.unit @ centroid
    confident, score = confident_rows(rows, theme, assignments, inputs, config.confident_share)
    texts = _spans(sorted(confident, key=lambda r: -centrality[r])[:MAX_POOL_PER_SLOT * n], segments,
                   {a.answer_id: a.text for a in inputs.answers}, config)
    pool = sorted(texts)
    identifier = inputs.identifier or Identifier(config.identifying_terms, config.public_names, texts.values())
    flags = {r: identifier.flags(texts[r]) for r in pool}
    wording = {r: normalise_wording(texts[r]) for r in pool}

    def allowed(row: int, chosen: list[int]) -> bool:
        return all(segments[row].respondent_id != segments[other].respondent_id
                   and not _same_wording(wording[row], wording[other]) for other in chosen)

    chosen: list[int] = []
    mmr_order(pool, centrality, vectors, config.diversity, lambda c: sum(not flags[r] for r in c) >= n, chosen,
              allowed)
    ratings = {a.answer_id: a.ratings for a in inputs.answers}
    return [Quote(theme_id=theme.theme_id, rank=rank, segment_id=segments[row].segment_id,
                  respondent_id=segments[row].respondent_id, file=segments[row].file, row=segments[row].row,
                  text=texts[row], centrality=round(float(centrality[row]), 6), flags=flags[row],
                  ratings=ratings.get(segments[row].answer_id, {}),
                  attributes=inputs.attributes.get(segments[row].respondent_id, {}),
                  answer_id=segments[row].answer_id,
                  confidence=None if score.get(row) is None else round(float(score[row]), 6))
            for rank, row in enumerate(chosen, start=1)]


def select_quotes(themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment],
                  embeddings: np.ndarray, answers: Sequence[Answer], config: QuotesConfig,
                  inputs: QuoteInputs | None = None, n: int | None = None,
                  only: int | None = None) -> list[Quote]:
    """``n`` (default ``quotes.per_theme``) unflagged quotes per theme, plus any flagged ones that ranked among
    them (noise themes and the outlier column get none); ``only`` limits it to one theme id."""
    if not (len(assignments) == len(segments) == len(embeddings)):
        raise PipelineError(f"quotes got {len(segments)} segments, {len(assignments)} assignments and "
                            f"{len(embeddings)} embeddings; they must be aligned")
    inputs = inputs or QuoteInputs()
    if not inputs.answers:
        inputs = QuoteInputs(answers, inputs.identifier, inputs.segment_scores, inputs.standing, inputs.attributes)
    rows_by_theme: dict[int, list[int]] = {}
    for row, assignment in enumerate(assignments):
        rows_by_theme.setdefault(assignment.theme_id, []).append(row)
    quotes: list[Quote] = []
    for theme in themes:
        rows = rows_by_theme.get(theme.theme_id, [])
        if theme.theme_id == UNASSIGNED or theme.noise or not rows or (only is not None and theme.theme_id != only):
            continue
        quotes += theme_quotes(theme, rows, segments, assignments, embeddings, inputs, config, n or config.per_theme)
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
    """The best ``n`` quotes of one theme (by id or label), in rank order, as ranked by ``select_quotes``."""
    if n < 1:
        raise PipelineError(f"--n must be at least 1, got {n}")
    target = resolve_theme(themes, theme)
    return sorted((q for q in quotes if q.theme_id == target.theme_id), key=lambda q: q.rank)[:n]
