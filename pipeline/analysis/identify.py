"""Details in a text that might identify a respondent, as flags a quote carries wherever it is shown.

``email``, ``phone`` (UK numbers), ``postcode`` (UK, upper case as written on mail), ``titled-name`` ("Dr Smith",
"Mrs O'Neill", "Cllr Patel") and ``named-organisation`` (a configured organisation or place term, whole word, any
case).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# a run that starts like a UK number; its digits are counted afterwards
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+\s?44\s?(?:\(0\)\s?)?|\(?0)[\d\s().-]{7,16}\d(?!\d)")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])")
_TITLES = r"Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Cllr|Councillor|Sir|Dame|Lord|Lady|Rev|Revd"
_TITLED_NAME = re.compile(rf"\b(?:{_TITLES})\.?\s+(?P<name>[A-Z][A-Za-z]*(?:['’-][A-Z]?[A-Za-z]+)*)")

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
