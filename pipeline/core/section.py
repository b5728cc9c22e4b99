"""The base of every config table (:mod:`pipeline.core.config`): strict, closed, validated on construction and on
assignment, failing with a one-line :class:`~pipeline.core.errors.ConfigError`."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from pipeline.core.fields import config_error

class ConfigSection(BaseModel):
    """A config table: strict, closed (unknown keys are errors), validated on construction and assignment.

    Building one with a bad value raises :class:`ConfigError` (never a pydantic ``ValidationError``), naming the
    dotted key; ``section`` is the table's name in pipeline.toml. (Pydantic calls a custom ``__init__`` for a
    nested table too, so a bad ``[themes]`` value surfaces as the ConfigError of ``ThemesConfig.__init__``.)
    """

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True, allow_inf_nan=False)
    section: ClassVar[str] = ""

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc, type(self)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        before = dict(self.__dict__)
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            self.__dict__.update(before)  # a rule across fields fails after the field was set: undo it
            raise config_error(exc, type(self)) from None

    @classmethod
    def ensure(cls, value: Any = None) -> Any:
        """``value`` (an instance, a mapping, or None for the defaults) validated afresh as this section.

        An instance is re-checked from its dump, so one changed in place (a list appended to) or built with
        ``model_construct`` cannot slip through.
        """
        data = value.model_dump(warnings=False) if isinstance(value, BaseModel) else dict(value or {})
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise config_error(exc, cls) from None

    @classmethod
    def check_rules(cls, values: Mapping[str, Any]) -> None:
        """Rules across fields: raise ``ValueError`` with the whole message. Per-field rules live on the fields."""

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Any:
        type(self).check_rules({name: getattr(self, name) for name in type(self).model_fields})
        return self

