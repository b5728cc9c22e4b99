"""scikit-learn's ``_parameter_constraints`` for the project's estimators, derived from the config fields.

``ThemeModel``, ``CategoryMapper`` and ``CategoryCoder`` are used from Python with keyword parameters as well as
from pipeline.toml, so their parameters are checked when ``fit`` runs, scikit-learn's habit. The constraints are not
written a second time: :class:`ParameterConstraints` reads them from the pydantic fields of the config section the
parameters mirror (a range or an allowed value is declared once, on the field), plus pydantic-annotated types for
the parameters no config key sets. It is a plain ``{name: [constraint, ...]}`` dict of scikit-learn constraints
(``Interval``, ``StrOptions``, ...), which ``sklearn.utils._param_validation.validate_parameter_constraints`` checks.
:func:`check_parameters` runs that check and the section's rules across fields and raises :class:`ParameterError`,
one line naming the parameter, its config key and what is accepted.
"""
from __future__ import annotations

from numbers import Integral, Real
from typing import Any

from pydantic.fields import FieldInfo
from sklearn.utils._param_validation import (
    InvalidParameterError, Interval, Options, StrOptions, validate_parameter_constraints,
)

from pipeline.core.config import _Section
from pipeline.core.errors import ConfigError
from pipeline.core.fields import describe, field_spec


class ParameterError(ConfigError, InvalidParameterError):
    """A bad estimator parameter: a ConfigError for the CLI, and scikit-learn's InvalidParameterError (a
    ValueError) for library callers."""


class _Number(Interval):
    """An ``Interval`` that, like the config, never takes a bool for a number."""

    def is_satisfied_by(self, val: Any) -> bool:
        return not isinstance(val, bool) and super().is_satisfied_by(val)


class _Strings(Options):
    """A list or tuple of strings (what the config's string lists accept)."""

    def __init__(self) -> None:
        super().__init__(object, set())

    def is_satisfied_by(self, val: Any) -> bool:
        return isinstance(val, (list, tuple)) and all(isinstance(item, str) for item in val)

    def __str__(self) -> str:
        return "a list of strings"


def sklearn_constraints(field: FieldInfo) -> list[Any]:
    """The scikit-learn constraints equivalent to what the pydantic ``field`` accepts."""
    spec = field_spec(field)
    constraints: list[Any] = [None] if spec.optional else []
    if spec.kind == "literal" and all(isinstance(option, str) for option in spec.options):
        constraints.append(StrOptions(set(spec.options)))
    elif spec.kind in ("int", "float"):
        left = spec.ge if spec.ge is not None else spec.gt
        right = spec.le if spec.le is not None else spec.lt
        closed = {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "neither"}[
            (spec.ge is not None, spec.le is not None)]
        constraints.append(_Number(Integral if spec.kind == "int" else Real, left, right, closed=closed))
    elif spec.kind == "bool":
        constraints.append("boolean")
    elif spec.kind == "list":
        constraints.append(_Strings())
    else:
        raise TypeError(f"no scikit-learn constraint for a {spec.kind} field")
    return constraints


class ParameterConstraints(dict):
    """``{parameter: [scikit-learn constraint, ...]}`` from a config section's fields and annotated extras.

    ``ParameterConstraints(ThemesConfig, random_state=Optional[Seed])``: every field of ``ThemesConfig`` plus
    ``random_state``; ``names=`` keeps only some of the section's fields. ``fields`` holds the pydantic field of
    each parameter (for the error message) and ``section`` the config section (for the key and its cross-field rules).
    """

    def __init__(self, section: type[_Section] | None = None, names: tuple[str, ...] | None = None, **extra: Any):
        fields = dict(section.model_fields) if section is not None else {}
        if names is not None:
            fields = {name: fields[name] for name in names}
        self.section = section
        self.fields: dict[str, FieldInfo] = {**fields, **{name: FieldInfo.from_annotation(annotation)
                                                          for name, annotation in extra.items()}}
        super().__init__({name: sklearn_constraints(field) for name, field in self.fields.items()})

    def config_key(self, name: str) -> str | None:
        if self.section is not None and name in self.section.model_fields:
            return f"{self.section.section}.{name}"
        return None


def check_parameters(estimator: Any) -> None:
    """Check ``estimator``'s parameters against its class's ``_parameter_constraints``; ParameterError if one fails."""
    constraints: ParameterConstraints = type(estimator)._parameter_constraints
    caller = type(estimator).__name__
    params = {name: getattr(estimator, name) for name in constraints}
    for name, value in params.items():
        try:
            validate_parameter_constraints({name: constraints[name]}, {name: value}, caller_name=caller)
        except InvalidParameterError:
            key = constraints.config_key(name)
            where = f" ({key} in pipeline.toml)" if key else ""
            raise ParameterError(f"{caller}: {name} must be {describe(constraints.fields[name])}, "
                                 f"got {value!r}{where}") from None
    section = constraints.section
    if section is not None and set(section.model_fields) <= set(params):
        try:
            section.check_rules({name: params[name] for name in section.model_fields})
        except ValueError as exc:
            raise ParameterError(f"{caller}: {exc}") from None
