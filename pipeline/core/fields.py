"""What a config field accepts: the value types the config is built from, a field's constraints read back from its
declaration (:func:`field_spec`, :func:`describe`), and a pydantic ``ValidationError`` as a one-line ConfigError
(:func:`config_error`). Generic over pydantic models: the config itself is :mod:`pipeline.core.config`.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo

from pipeline.core.errors import ConfigError

# ---------------------------------------------------------------- value types

SEED_MAX = 2**32 - 1  # numpy's and scikit-learn's seeds are unsigned 32-bit integers


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (``np.int64(3)`` is an int, ``np.bool_`` a bool, never a number)."""
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return value.item()
    return value


def as_list(value: Any) -> Any:
    """A tuple as a list (TOML only ever gives lists; Python callers may pass tuples); anything else unchanged."""
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Accepts:
    """Field metadata: what a field accepts, in words, where a validator of ours (not a range) decides it."""

    text: str


Int = Annotated[int, BeforeValidator(_plain)]
Float = Annotated[float, BeforeValidator(_plain)]
Bool = Annotated[bool, BeforeValidator(_plain)]
Str = Annotated[str, BeforeValidator(_plain)]
StrList = Annotated[list[str], BeforeValidator(as_list)]
Seed = Annotated[int, BeforeValidator(_plain), Field(ge=0, le=SEED_MAX)]
Similarity = Annotated[float, BeforeValidator(_plain), Field(ge=-1, le=1)]
Share = Annotated[float, BeforeValidator(_plain), Field(ge=0, le=1)]


# ---------------------------------------------------------------- what a field accepts

@dataclass(frozen=True)
class FieldSpec:
    """What a field accepts, read from its annotation and metadata (the one declaration)."""

    kind: str  # "int", "float", "bool", "str", "literal", "list", "dict", "section"
    optional: bool = False
    options: tuple[Any, ...] = ()
    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    min_length: int | None = None
    accepts: str | None = None  # an Accepts note, for a rule that is not a range


def field_spec(field: FieldInfo) -> FieldSpec:
    metadata = list(field.metadata)
    annotation = field.annotation
    args = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    optional = type(None) in args
    if args:
        (annotation,) = [arg for arg in args if arg is not type(None)]
    while typing.get_origin(annotation) is Annotated:
        metadata += annotation.__metadata__
        annotation = typing.get_args(annotation)[0]
    bounds: dict[str, Any] = {}
    for item in metadata:
        for inner in (item.metadata if isinstance(item, FieldInfo) else [item]):
            for name, kind in (("ge", annotated_types.Ge), ("gt", annotated_types.Gt), ("le", annotated_types.Le),
                               ("lt", annotated_types.Lt), ("min_length", annotated_types.MinLen)):
                if isinstance(inner, kind):
                    bounds[name] = getattr(inner, name)
            if isinstance(inner, Accepts):
                bounds["accepts"] = inner.text
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return FieldSpec("literal", optional, typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return FieldSpec("section", optional)
    kinds = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
    kind = kinds.get(origin or annotation)
    if kind is None:
        raise TypeError(f"no description for the annotation {annotation!r}")
    return FieldSpec(kind, optional, **bounds)


def _number(value: Any) -> str:
    return str(value)


def describe(field: FieldInfo) -> str:
    """What ``field`` accepts, as a phrase completing "must be ...": ``a number from 0 to 1``."""
    spec = field_spec(field)
    if spec.accepts:
        text = spec.accepts
    elif spec.kind == "literal":
        text = "one of " + ", ".join(str(option) for option in spec.options)
    else:
        text = {"int": "an integer", "float": "a number", "bool": "true or false", "list": "a list of strings",
                "dict": "a table of strings", "section": "a table",
                "str": "a non-empty string" if spec.min_length else "a string"}[spec.kind]
        low = ("at least", spec.ge) if spec.ge is not None else ("greater than", spec.gt)
        high = ("at most", spec.le) if spec.le is not None else ("less than", spec.lt)
        if spec.ge is not None and spec.le is not None:
            text += f" from {_number(spec.ge)} to {_number(spec.le)}"
        elif low[1] is not None and high[1] is not None:
            text += f" {low[0]} {_number(low[1])} and {high[0]} {_number(high[1])}"
        elif low[1] is not None or high[1] is not None:
            word, bound = low if low[1] is not None else high
            text += f" of {word} {_number(bound)}" if word.startswith("at") else f" {word} {_number(bound)}"
    return text + (", or unset" if spec.optional else "")


# ---------------------------------------------------------------- errors

_ITEM_TYPES = {"string_type": "a string", "int_type": "an integer", "float_type": "a number",
               "bool_type": "true or false", "list_type": "a list", "dict_type": "a table"}


def section_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model of a field that is a table of its own (a config section), else None."""
    annotation = field.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def config_error(exc: ValidationError, model: type[BaseModel], file: str | None = None) -> ConfigError:
    """The first problem of a pydantic ``ValidationError`` as a one-line ConfigError naming the dotted key."""
    error = exc.errors(include_url=False)[0]
    loc, given = error["loc"], error.get("input")
    parts = [model.section] if getattr(model, "section", "") else []
    current, field, depth = model, None, 0
    while depth < len(loc) and isinstance(loc[depth], str) and loc[depth] in current.model_fields:
        info = current.model_fields[loc[depth]]
        parts.append(loc[depth])
        depth += 1
        if section_model(info) is None:
            field = info
            break
        current = section_model(info)
    rest = loc[depth:]
    key = ".".join(parts)
    for part in rest:  # inside a value: list items as [i], table keys dotted ("[key]" marks a bad key itself)
        if part != "[key]":
            key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    kind = error["type"]
    if kind == "extra_forbidden":
        message = f"unknown config key '{key}'; known keys: {', '.join(sorted(current.model_fields))}"
    elif kind == "value_error":  # a rule of ours: its message completes the key, or (across fields) stands alone
        reason = str(error["ctx"]["error"])
        message = f"{key} {reason}" if field is not None else reason
    elif field is not None and not rest:
        message = f"{key} must be {describe(field)}, got {given!r}"
    elif field is not None:
        message = f"{key} must be {_ITEM_TYPES.get(kind, 'valid')}, got {given!r}"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"{key or 'the config'} must be a table, got {given!r}"
    else:
        message = f"{key or 'the config'}: {error['msg']}"
    return ConfigError(message, file=file)
