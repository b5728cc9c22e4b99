"""Clean answers, set aside the ones that carry no analysable text, and cut the rest into segments.

Segment spans are found on the *original* text (never on a cleaned copy), so ``Segment.text`` is always
``answer.text[start:end]`` and an editor can quote it verbatim. HTML tags are masked by same-length blanks
before layout is read, so offsets survive them. ``Segment.clean_text`` is the normalised span with
acronyms expanded: that is what gets embedded.

Every answer given to :meth:`Cleaner.transform` gets exactly one ledger entry: kept (with its number of
segments) or dropped with a reason, checked in this order: ``empty``, ``non-answer``, ``non-english``,
``duplicate``, ``near-duplicate``. Duplicates are only ever recorded against an answer that was kept.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.config import CleanConfig
from pipeline.dedupe import find_near_duplicates
from pipeline.errors import ConfigError, PipelineError
from pipeline.records import DROPPED, KEPT, Answer, LedgerEntry, Segment

# Lines that are never part of an answer. Matched (case-insensitively) against a whole line, marker removed.
DEFAULT_BOILERPLATE: tuple[str, ...] = (
    r"sent from my [\w ]{1,30}",
    r"get outlook for \w+",
    r"[\[(]?\s*(redacted|removed|deleted|name removed|text removed)\s*[\])]?",
    r"((many|kind|best|warm) )?(thanks|thank you|regards|wishes)( (again|very much))?[.!,]*",
    r"this (e-?mail|message)\b.{0,300}\b(confidential|intended)\b.*",
)

_BLOCK_TAGS = "p|br|div|li|ul|ol|tr|td|th|table|tbody|thead|h[1-6]|blockquote|hr|section|article"
_INLINE_TAGS = "b|i|u|em|strong|span|font|a|small|big|sup|sub|s|strike|mark|code|abbr|cite|q|ins|del|o:p"
_TAG_RE = re.compile(rf"<!--.*?-->|<(/?)({_BLOCK_TAGS}|{_INLINE_TAGS})\b[^<>]*>", re.IGNORECASE | re.DOTALL)
_BLANK_ENTITY_RE = re.compile(r"&(nbsp|ensp|emsp|thinsp|#160|#xa0|#8203|#x200b);", re.IGNORECASE)
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CHAR_MAP = str.maketrans(
    {**{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u2039\u203a`"},
     **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
     **{c: "" for c in _INVISIBLE}, "\u2028": "\n", "\u2029": "\n"}
)
_SOLID_BULLETS = "\u2022\u25aa\u25cf\u25a0\u27a2\u27a4\u25ba\u2713\u2714\u25e6\u2023\u00b7"
_MARKER = rf"(?:[-*>\u2013\u2014{_SOLID_BULLETS}\u25a1\u25cb\u2192]+|\(?\d{{1,2}}[.)]|\(?[a-zA-Z]\)|[a-z]\.)"
_LINE_MARKERS_RE = re.compile(rf"[^\S\n]*(?:{_MARKER}(?:[^\S\n]+|$))+")  # one or more markers at a line start
_ALL_MARKERS_RE = re.compile(rf"^[^\S\n]*(?:{_MARKER}[^\S\n]+)+(?=\S)", re.MULTILINE)  # "-" alone stays
_INLINE_NUMBER_RE = re.compile(r"(?<!\S)\(?(\d{1,2})[.)](?=\s)")
_INLINE_BULLET_RE = re.compile(rf"(?<!\S)[{_SOLID_BULLETS}](?=\s)")
_SENTENCE_END_RE = re.compile(r"[.!?\u2026;:][\"')\]]*\s*$")
_MAYBE_SEVERAL_SENTENCES_RE = re.compile(r"[.!?\u2026][\"')\]]*\s+\S")
_KEY_PUNCT_RE = re.compile(r"[^\w\s]|_")
# An unmarked line carries on the previous one (a wrapped sentence) when that line does not end a sentence and
# is at least this long; shorter lines ("funding\nfootprints") are a list typed without markers.
_WRAPPED_LINE_MIN = 30
_WRAPPED_LINE_ALWAYS = 80  # this long, the next line carries on even if it starts with a capital
_LEAD_IN_MAX = 80  # "The barriers I see are:" before a list introduces it; it is not a point itself
_MAX_PASSES = 64  # normalisation converges in two passes unless markup is escaped many times over


@dataclass(frozen=True)
class CleanResult:
    segments: list[Segment]  # kept answers' segments, in input order
    ledger: list[LedgerEntry]  # exactly one entry per answer given, in input order
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- pure text helpers

def normalize(text: str) -> str:
    """NFKC, straight quotes, HTML tags removed and entities unescaped, list markers and invisible characters
    removed, whitespace collapsed. Repeated until nothing changes, so ``normalize`` is idempotent even for
    escaped markup such as ``&amp;lt;b&amp;gt;``."""
    for _ in range(_MAX_PASSES):
        cleaned = _normalize_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _TAG_RE.sub(lambda m: " " if m.group(2) and m.group(2).lower() in _BLOCK_SET else "", text)
    text = html.unescape(text).translate(_CHAR_MAP)
    text = _CONTROL_RE.sub("", text)
    text = _ALL_MARKERS_RE.sub("", text)
    return " ".join(text.split())


_BLOCK_SET = set(_BLOCK_TAGS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))


def expand_acronyms(text: str, glossary: dict[str, str]) -> str:
    """Replace each glossary acronym standing as a whole word (case-sensitive) by its expansion."""
    pattern = _acronym_pattern(tuple(sorted(glossary, key=len, reverse=True)))
    if pattern is None:
        return text
    return pattern.sub(lambda m: glossary[m.group(0)], text)


@lru_cache(maxsize=16)
def _acronym_pattern(keys: tuple[str, ...]) -> re.Pattern[str] | None:
    keys = tuple(k for k in keys if k)
    if not keys:
        return None
    return re.compile(r"(?<![\w&])(?:" + "|".join(map(re.escape, keys)) + r")(?![\w&])")


def answer_key(text: str) -> str:
    """Case- and punctuation-blind form of a normalised text, used for non-answers and duplicates."""
    return " ".join(_KEY_PUNCT_RE.sub("", text.casefold()).split())


def is_non_answer(text: str, phrases: Sequence[str]) -> bool:
    """True if the whole text is one of ``phrases`` (or only punctuation), ignoring case and punctuation."""
    key = answer_key(normalize(text))
    return not key or key in _phrase_keys(tuple(phrases))


@lru_cache(maxsize=16)
def _phrase_keys(phrases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(answer_key(normalize(p)) for p in phrases)


def mask_layout(text: str) -> str:
    """Same-length copy of ``text`` in which markup is blanked: block tags become line breaks, ``<li>`` a bullet,
    other tags, blank entities and invisible characters spaces. Layout is read from this copy."""
    def blank(m: re.Match[str]) -> str:
        size = len(m.group(0))
        name = (m.group(2) or "").lower()
        if name == "li" and not m.group(1):
            return ("\n\u2022" + " " * size)[:size]
        if name in _BLOCK_SET:
            return "\n" + " " * (size - 1)
        return " " * size

    masked = _TAG_RE.sub(blank, text)
    masked = _BLANK_ENTITY_RE.sub(lambda m: " " * len(m.group(0)), masked)
    return masked.translate({ord(c): " " for c in _INVISIBLE} | {ord("\r"): "\n", 0x2028: "\n", 0x2029: "\n"})


def compile_boilerplate(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    """Compile the default boilerplate regexes plus ``patterns``; a bad regex is a ConfigError naming it."""
    compiled = [re.compile(p, re.IGNORECASE) for p in DEFAULT_BOILERPLATE]
    for i, pattern in enumerate(patterns):
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"clean.boilerplate[{i}] is not a valid regex ({exc}): {pattern!r}") from None
    return compiled


# ---------------------------------------------------------------- layout: points and prose on the original text

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


def _sentence_spans(nlp: Any, masked: str, items: list[_Item]) -> list[list[tuple[int, int]]]:
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
    return _segment_spans(items, _sentence_spans(nlp, masked, items), min_chars, max_sentences)


def _segment_spans(items: list[_Item], sentences: list[list[tuple[int, int]]], min_chars: int,
                   max_sentences: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for item, item_sentences in zip(items, sentences):
        if item.kind == "point":
            out.append((item.start, item.end))
        else:
            out.extend(group_sentences(item_sentences, min_chars, max_sentences))
    return out


# ---------------------------------------------------------------- language

@lru_cache(maxsize=1)
def _language_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_ENGLISH_FUNCTION_WORDS = frozenset(
    "the and of to in is are was were that this it for not with be by as at from have has but or our their they "
    "we there which would will can been too more very".split())


def clearly_english(text: str) -> bool:
    """True when English function words make up at least 30% of eight or more words: no need to ask the
    language model, which is the slow part of cleaning."""
    words = [w.strip(".,;:!?\"'()[]") for w in text.lower().split()]
    return len(words) >= 8 and sum(w in _ENGLISH_FUNCTION_WORDS for w in words) >= 0.3 * len(words)


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) from py3langid."""
    language, probability = _language_identifier().classify(text)
    return str(language), float(probability)


# ---------------------------------------------------------------- the stage

class Cleaner:
    """Clean, filter and segment answers.

    Parameters
    ----------
    config : CleanConfig
        Acronym glossary, non-answer phrases, boilerplate regexes, thresholds and segmentation settings.

    Attributes
    ----------
    nlp_ : spacy.Language
        The sentence splitter, built on first use.
    """

    def __init__(self, config: CleanConfig | None = None):
        self.config = config

    def _check_config(self) -> CleanConfig:
        config = self.config if self.config is not None else CleanConfig()
        rules = [
            (0.0 < config.near_duplicate_threshold <= 1.0, "clean.near_duplicate_threshold must be in (0, 1]"),
            (config.min_chars >= 0, "clean.min_chars must not be negative"),
            (config.language_min_chars >= 0, "clean.language_min_chars must not be negative"),
            (0.0 < config.language_confidence <= 1.0, "clean.language_confidence must be in (0, 1]"),
            (config.segment_min_chars >= 0, "clean.segment_min_chars must not be negative"),
            (config.max_sentences_per_segment >= 1, "clean.max_sentences_per_segment must be at least 1"),
            (all(isinstance(k, str) and k.strip() and isinstance(v, str) for k, v in config.acronyms.items()),
             "clean.acronyms must map non-empty acronyms to text"),
        ]
        for ok, message in rules:
            if not ok:
                raise ConfigError(message)
        return config

    def _build_nlp(self, config: CleanConfig, warnings: list[str]) -> Any:
        if getattr(self, "nlp_", None) is not None:
            return self.nlp_
        import spacy

        nlp = None
        if config.spacy_model:
            try:
                nlp = spacy.load(config.spacy_model, exclude=["ner", "lemmatizer", "textcat", "attribute_ruler"])
            except OSError:
                warnings.append(f"spaCy model {config.spacy_model!r} is not installed; splitting sentences with "
                                "spaCy's rule-based sentencizer instead")
        if nlp is None:
            nlp = spacy.blank("en")
        if not any(nlp.has_pipe(name) for name in ("parser", "senter", "sentencizer")):
            nlp.add_pipe("sentencizer")
        self.nlp_ = nlp
        return nlp

    def transform(self, answers: Sequence[Answer]) -> CleanResult:
        """Segments of the kept answers and one ledger entry per answer, both in input order."""
        config = self._check_config()
        answers = list(answers)
        _check_answers(answers)
        warnings: list[str] = []
        boilerplate = compile_boilerplate(config.boilerplate)
        masked = [mask_layout(a.text) for a in answers]
        items = [layout_items(m, boilerplate) for m in masked]
        whole = [" ".join(filter(None, (normalize(a.text[it.start:it.end]) for it in its)))
                 for a, its in zip(answers, items)]
        drops = [self._first_check(config, text, a.text) for text, a in zip(whole, answers)]
        self._mark_duplicates(config, whole, drops, answers)

        kept = [i for i, drop in enumerate(drops) if drop is None]
        nlp = self._build_nlp(config, warnings) if kept else None
        segments: list[Segment] = []
        n_segments: dict[int, int] = {}
        for i in kept:
            answer = answers[i]
            spans = _segment_spans(items[i], _sentence_spans(nlp, masked[i], items[i]), config.segment_min_chars,
                                   config.max_sentences_per_segment)
            made = [(s, e, expand_acronyms(normalize(answer.text[s:e]), config.acronyms)) for s, e in spans]
            made = [m for m in made if m[2]] or [(items[i][0].start, items[i][-1].end, whole[i])]
            for index, (start, end, clean_text) in enumerate(made):
                segments.append(Segment(
                    segment_id=f"{answer.answer_id}#{index}", answer_id=answer.answer_id,
                    respondent_id=answer.respondent_id, file=answer.file, row=answer.row, index=index,
                    start=start, end=end, text=answer.text[start:end], clean_text=clean_text))
            n_segments[i] = len(made)
        ledger = [
            LedgerEntry(answer_id=a.answer_id, file=a.file, row=a.row, respondent_id=a.respondent_id,
                        status=KEPT if drop is None else DROPPED, reason=drop[0] if drop else "",
                        detail=drop[1] if drop else "", n_segments=n_segments.get(i, 0))
            for i, (a, drop) in enumerate(zip(answers, drops))
        ]
        return CleanResult(segments=segments, ledger=ledger, warnings=warnings)

    def _first_check(self, config: CleanConfig, text: str, raw: str) -> tuple[str, str] | None:
        if not text:  # nothing left; but "-" or "n/a" in a bullet is a non-answer rather than empty
            raw = normalize(raw)
            return ("non-answer", "") if raw and is_non_answer(raw, config.non_answers) else ("empty", "")
        key = answer_key(text)
        if len(text) < config.min_chars or not key or key in _phrase_keys(tuple(config.non_answers)):
            return ("non-answer", "")
        if config.language and len(text) >= config.language_min_chars and not (
                config.language == "en" and clearly_english(text)):
            language, probability = detect_language(expand_acronyms(text, config.acronyms)[:600])
            if language != config.language and probability >= config.language_confidence:
                return ("non-english" if config.language == "en" else "other-language", language)
        return None

    @staticmethod
    def _mark_duplicates(config: CleanConfig, whole: list[str], drops: list[tuple[str, str] | None],
                         answers: list[Answer]) -> None:
        """Exact duplicates by key first; near-duplicates among the distinct keys; copies follow their original."""
        first_with_key: dict[str, int] = {}
        copies: list[tuple[int, int]] = []
        for i, drop in enumerate(drops):
            if drop is None:
                key = answer_key(whole[i])
                if key in first_with_key:
                    copies.append((i, first_with_key[key]))
                else:
                    first_with_key[key] = i
        originals = list(first_with_key.values())
        near = find_near_duplicates([answer_key(whole[i]) for i in originals], config.near_duplicate_threshold)
        for i, match in zip(originals, near):
            if match is not None:
                drops[i] = ("near-duplicate", f"{answers[originals[match[0]]].answer_id}; jaccard={match[1]:.3f}")
        for i, original in copies:
            drops[i] = drops[original] or ("duplicate", answers[original].answer_id)


def _check_answers(answers: list[Answer]) -> None:
    seen: set[str] = set()
    for position, answer in enumerate(answers, start=1):
        if not isinstance(answer, Answer):
            raise PipelineError(f"clean: item {position} is a {type(answer).__name__}, not an Answer")
        if not isinstance(answer.text, str):
            raise PipelineError(f"answer text is {type(answer.text).__name__}, not text", file=answer.file,
                                row=answer.row)
        if answer.answer_id in seen:
            raise PipelineError(f"answer id {answer.answer_id!r} occurs twice", file=answer.file, row=answer.row)
        seen.add(answer.answer_id)
