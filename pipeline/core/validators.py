"""Validators of single config values that a range cannot express (regular expressions, encodings, language
codes, acronym tables); each raises ``ValueError`` with the whole message, which the config names the key in."""
from __future__ import annotations

import codecs
import re


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"must be a valid regular expression ({exc}), got {pattern!r}") from None
    return pattern


def _encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"must be an encoding Python knows, such as utf-8, cp1252 or latin-1, got {name!r}") from None
    return name


def _language(code: str) -> str:
    if code and not re.fullmatch(r"[a-z]{2,3}", code):
        raise ValueError(f'must be a lower-case ISO 639 language code such as "en" or "de", or "" for any language, '
                         f"got {code!r}")
    return code


def _acronyms(table: dict[str, str]) -> dict[str, str]:
    for key in table:
        if not key.strip():
            raise ValueError(f"must map non-empty acronyms to their expansions, got {key!r}")
    return table
