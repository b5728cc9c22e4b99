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

Flags (``identifiability_flags``): ``email``, ``phone`` (UK numbers), ``postcode`` (UK, upper case as written on
mail), ``titled-name`` ("Dr Smith", "Mrs O'Neill", "Cllr Patel") and ``named-organisation`` (a configured
organisation or place term, whole word, any case).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np

from pipeline.config import QuotesConfig
from pipeline.errors import PipelineError
from pipeline.records import UNASSIGNED, Answer, Assignment, Quote, Segment, Theme
from pipeline.embed import unit_rows

NEAR_IDENTICAL = 0.9  # difflib ratio at or above which two quotes count as the same wording
MAX_POOL_PER_SLOT = 40  # candidates considered per quote slot: the most central quotable segments

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# a run that starts like a UK number; its digits are counted afterwards
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+\s?44\s?(?:\(0\)\s?)?|\(?0)[\d\s().-]{7,16}\d(?!\d)")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])")
_TITLES = r"Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Cllr|Councillor|Sir|Dame|Lord|Lady|Rev|Revd"
_TITLED_NAME = re.compile(rf"\b(?:{_TITLES})\.?\s+(?P<name>[A-Z][A-Za-z]*(?:['’-][A-Z]?[A-Za-z]+)*)")
_QUOTABLE_START = re.compile(r"^[\"'“‘(]?[A-Z0-9]")
_QUOTABLE_END = re.compile(r"[.!?;][\"'”’)]?$")

FLAG_ORDER = ("email", "phone", "postcode", "titled-name", "named-organisation")


def _is_uk_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip().startswith("+"):
        if not digits.startswith("44"):
            return False
        national = digits[2:]
        national = national.removeprefix("0")  # "+44 (0)20 ..."
    else:
        national = digits[1:]  # drop the trunk 0
    return len(national) in (9, 10) and national[0] in "12378"


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def identifiability_flags(text: str, terms: Sequence[str] = ()) -> tuple[str, ...]:
    """Which kinds of possibly identifying detail ``text`` contains, in ``FLAG_ORDER``."""
    found: set[str] = set()
    if _EMAIL.search(text):
        found.add("email")
    if any(_is_uk_phone(match.group()) for match in _PHONE_CANDIDATE.finditer(text)):
        found.add("phone")
    if _POSTCODE.search(text):
        found.add("postcode")
    stop_words = _stop_words()
    # "the Dr. Then we left" is a title ending a sentence, not a name
    if any(match.group("name").lower() not in stop_words for match in _TITLED_NAME.finditer(text)):
        found.add("titled-name")
    for term in terms:
        term = term.strip()
        if term and re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, flags=re.IGNORECASE):
            found.add("named-organisation")
            break
    return tuple(flag for flag in FLAG_ORDER if flag in found)


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


def select_quotes(themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment],
                  embeddings: np.ndarray, answers: Sequence[Answer], config: QuotesConfig) -> list[Quote]:
    """Up to ``config.per_theme`` quotes per theme (noise themes and the outlier column get none)."""
    if not (len(assignments) == len(segments) == len(embeddings)):
        raise PipelineError(f"quotes got {len(segments)} segments, {len(assignments)} assignments and "
                            f"{len(embeddings)} embeddings; they must be aligned")
    vectors = unit_rows(embeddings, np.float64) if len(embeddings) else np.zeros((0, 1))
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
        centroid = vectors[rows].mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        centrality = np.zeros(len(segments))
        centrality[rows] = vectors[rows] @ centroid
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
