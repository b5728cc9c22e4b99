"""Pure text helpers of the clean stage (textacy's habit: one ``str -> str`` function per fix). None of them is used to
find segment offsets; those are read from the original text (``pipeline.clean.segment``)."""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache


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
SOLID_BULLETS = "\u2022\u25aa\u25cf\u25a0\u27a2\u27a4\u25ba\u2713\u2714\u25e6\u2023\u00b7"
MARKER = rf"(?:[-*>\u2013\u2014{SOLID_BULLETS}\u25a1\u25cb\u2192]+|\(?\d{{1,2}}[.)]|\(?[a-zA-Z]\)|[a-z]\.)"
_ALL_MARKERS_RE = re.compile(rf"^[^\S\n]*(?:{MARKER}[^\S\n]+)+(?=\S)", re.MULTILINE)  # "-" alone stays
_KEY_PUNCT_RE = re.compile(r"[^\w\s]|_")
# An unmarked line carries on the previous one (a wrapped sentence) when that line does not end a sentence and
# is at least this long; shorter lines ("funding\nfootprints") are a list typed without markers.
_MAX_PASSES = 64  # normalisation converges in two passes unless markup is escaped many times over


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
    return not key or key in phrase_keys(tuple(phrases))


@lru_cache(maxsize=16)
def phrase_keys(phrases: tuple[str, ...]) -> frozenset[str]:
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
    """Compile the default boilerplate regexes plus ``patterns`` (CleanConfig has checked that they compile)."""
    return [re.compile(p, re.IGNORECASE) for p in (*DEFAULT_BOILERPLATE, *patterns)]
