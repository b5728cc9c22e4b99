"""categories.yaml: the survey's closed categories as ``Category`` records."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import ConfigError
from pipeline.core.records import Category

_CATEGORY_KEYS = ("id", "label", "group", "description", "keywords", "rating_column", "residual")


def load_categories(path: str | Path) -> list[Category]:
    """Read the closed categories from ``categories.yaml``; a missing file means no categories.

    Schema: a top-level ``categories:`` list of mappings with ``id`` and ``label`` (required) and ``group``,
    ``description``, ``keywords`` (a list, or one comma-separated string), ``rating_column`` and ``residual``
    (true for an "Other" option; unset = recognised from the label) (optional).
    Entries are numbered from 1 in error messages.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML: {problem}", file=str(path), row=mark.line + 1 if mark else None) from None
    if data is None:
        return []
    if not isinstance(data, dict) or "categories" not in data:
        raise ConfigError("expected a top-level 'categories:' list", file=str(path))
    entries = data["categories"] or []
    if not isinstance(entries, list):
        raise ConfigError("'categories:' must be a list of entries with id and label", file=str(path))
    categories: list[Category] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        categories.append(_category(entry, number, str(path)))
        category_id = categories[-1].category_id
        if category_id in first_seen:
            raise ConfigError(f"category entry {number}: duplicate id '{category_id}' "
                              f"(also entry {first_seen[category_id]})", file=str(path))
        first_seen[category_id] = number
    return categories


def _optional_bool(value: Any, where: str, file: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{where} must be true or false, got {value!r}", file=file)


def _category(entry: Any, number: int, file: str) -> Category:
    where = f"category entry {number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with id and label, got {entry!r}", file=file)
    unknown = [str(key) for key in entry if key not in _CATEGORY_KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}; known keys: {', '.join(_CATEGORY_KEYS)}",
                          file=file)
    for key in ("id", "label"):
        if entry.get(key) is None or not str(entry[key]).strip():
            raise ConfigError(f"{where}: missing '{key}'", file=file)
    keywords = entry.get("keywords") or []
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if not isinstance(keywords, list):
        raise ConfigError(f"{where}: keywords must be a list, got {keywords!r}", file=file)
    rating_column = str(entry.get("rating_column") or "").strip()
    return Category(
        category_id=str(entry["id"]).strip(),
        label=str(entry["label"]).strip(),
        group=str(entry.get("group") or "").strip(),
        description=str(entry.get("description") or "").strip(),
        keywords=tuple(str(k).strip() for k in keywords if str(k).strip()),
        rating_column=rating_column or None,
        residual=_optional_bool(entry.get("residual"), f"{where}: residual", file),
    )
