"""Value checks of single config fields (a regular expression, an encoding, a language code, an acronym table)
and how dotted overrides are laid over a loaded config, for :mod:`pipeline.core.config`."""
from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from pipeline.core.fields import section_model


def check_regex(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"must be a valid regular expression ({exc}), got {pattern!r}") from None
    return pattern


def check_not_above(values: Mapping[str, Any], section: str, low: str, high: str) -> None:
    """A rule across two fields of one table: ``low`` must not exceed ``high``."""
    if values[low] > values[high]:
        raise ValueError(f"{section}.{low} must not exceed {section}.{high} ({values[high]}), got {values[low]!r}")


def check_encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"must be an encoding Python knows, such as utf-8, cp1252 or latin-1, got {name!r}") from None
    return name


def check_language(code: str) -> str:
    if code and not re.fullmatch(r"[a-z]{2,3}", code):
        raise ValueError(f'must be a lower-case ISO 639 language code such as "en" or "de", or "" for any language, '
                         f"got {code!r}")
    return code


def check_acronyms(table: dict[str, str]) -> dict[str, str]:
    for key in table:
        if not key.strip():
            raise ValueError(f"must map non-empty acronyms to their expansions, got {key!r}")
    return table


def nested_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                target[parent] = {}
            target = target[parent]
        target[leaf] = value
    return nested


def merged_tables(base: dict[str, Any], extra: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """``extra`` laid over ``base`` table by table (a table-valued key such as clean.acronyms is replaced whole)."""
    out = dict(base)
    for key, value in extra.items():
        section = section_model(model.model_fields[key]) if key in model.model_fields else None
        if section is not None and isinstance(out.get(key), dict) and isinstance(value, Mapping):
            out[key] = merged_tables(out[key], value, section)
        else:
            out[key] = value
    return out
