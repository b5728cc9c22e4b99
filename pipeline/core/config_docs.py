"""The config reference: every table and key of pipeline.toml as commented TOML, rendered from the config model
(what docs/config.md holds; ``python -m pipeline.core.config_docs > docs/config.md`` writes it)."""
from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from pydantic.fields import FieldInfo

from pipeline.core.config import Config
from pipeline.core.fields import describe, field_spec, section_model


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value (strings, numbers, booleans and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's string escapes are TOML's basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML value for {value!r}")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=116, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False)


def _key_lines(name: str, value: Any) -> list[str]:
    if value is None:
        return [f"# {name} ="]
    line = f"{name} = {toml_value(value)}"
    if len(line) <= 118 or not isinstance(value, list):
        return [line]
    rows = [""]
    for item in (toml_value(item) + "," for item in value):  # as many whole items a row as fit
        rows[-1:] = [rows[-1], item] if rows[-1] and len(rows[-1]) + len(item) >= 112 else \
            [f"{rows[-1]} {item}".lstrip()]
    return [f"{name} = ["] + [f"    {row}" for row in rows] + ["]"]


def _field_lines(name: str, field: FieldInfo, value: Any, table: str | None = None) -> list[str]:
    default = field.get_default(call_default_factory=True)
    shown = "unset" if default is None else toml_value(default) if not isinstance(default, dict) else ""
    if len(shown) > 60 or not shown:
        shown = "as below" if value == default else "see docs/config.md"
    lines = _comment(field.description or "") + _comment(f"Accepts {describe(field)}. Default: {shown}.")
    if table is not None:
        return lines + [f"[{table}]"] + [f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()]
    return lines + _key_lines(name, value)


def render_reference(config: Config | None = None) -> str:
    """Every table and key of pipeline.toml as commented TOML: description, what it accepts, default, value.

    With ``config`` the keys are set to its values (the defaults otherwise); the text loads back as that config.
    """
    config = config if config is not None else Config()
    out = ["# pipeline.toml: every key, what it does, what it accepts and its default.",
           "# Generated from the config model (pipeline/core/config.py) by `python -m pipeline.core.config`.",
           "# A key left out keeps its default; a key whose default is unset is shown commented out.",
           "# Command-line flags (--seed) override the file."]
    sections = [(name, field) for name, field in Config.model_fields.items() if section_model(field)]
    for name, field in Config.model_fields.items():
        if not section_model(field):
            out += [""] + _field_lines(name, field, getattr(config, name))
    for section, section_field in sections:
        model, values = section_model(section_field), getattr(config, section)
        out += ["", ""] + _comment(f"[{section}]: {section_field.description}") + [f"[{section}]"]
        tables = []
        for name, field in model.model_fields.items():
            if field_spec(field).kind == "dict":
                tables.append((name, field))
            else:
                out += [""] + _field_lines(name, field, getattr(values, name))
        for name, field in tables:  # a table-valued key is its own sub-table, after the section's plain keys
            out += [""] + _field_lines(name, field, getattr(values, name), table=f"{section}.{name}")
    return "\n".join(out) + "\n"


def render_markdown() -> str:
    """docs/config.md: the reference wrapped in a short page."""
    return ("# Configuration reference\n\n"
            "A run reads `<corpus>/pipeline.toml` (or the file given with `--config`); every key is optional and\n"
            "command-line flags override the file. A bad value stops the run before any work, with one line naming\n"
            "the file, the key, the value and what is allowed. This page is generated from the config model\n"
            "(`pipeline/core/config.py`) by `python -m pipeline.core.config_docs > docs/config.md`, and a test checks that\n"
            "it is current. `corpus/pipeline.toml` is a worked example for the sample corpus.\n\n"
            "```toml\n" + render_reference() + "```\n")


def config_reference(config: Config | None = None) -> str:
    """Every table and key of pipeline.toml as commented TOML: description, what it accepts, default, value.

    With ``config`` the keys are set to its values (the defaults otherwise); the text loads back as that config.
    """
    return render_reference(config)


def config_markdown() -> str:
    """docs/config.md: the reference wrapped in a short page."""
    return render_markdown()


if __name__ == "__main__":
    print(config_markdown(), end="")
