import pytest

from pipeline.core.config import Config, load_config
from pipeline.core.errors import ConfigError


def test_config_defaults_without_file(tmp_path):
    config = load_config(tmp_path / "missing.toml")
    assert config == Config()


def test_config_file_values_then_overrides(tmp_path):
    path = tmp_path / "pipeline.toml"
    path.write_text('seed = 7\n[themes]\nn_seeds = 3\n[quotes]\nmax_chars = 200\n', encoding="utf-8")
    config = load_config(path, {"themes.n_seeds": 2, "seed": None})
    assert (config.seed, config.themes.n_seeds, config.quotes.max_chars) == (7, 2, 200)


@pytest.mark.parametrize("text,fragment", [
    ("[themes]\nn_seed = 3\n", "themes.n_seed"),
    ("[themes]\nn_seeds = 'five'\n", "themes.n_seeds"),
    ("[clean]\nacronyms = 3\n", "clean.acronyms"),
    ("[themes]\nn_seeds = 0\n", "themes.n_seeds"),
    ("[themes]\ncluster_model = 'dbscan'\n", "themes.cluster_model"),
    ("seed = [1\n", "not valid TOML"),
])
def test_config_bad_values_name_the_key(tmp_path, text, fragment):
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value,expected", [(1, 1.0), (0.5, 0.5)])
def test_config_int_accepted_for_float(tmp_path, value, expected):
    config = load_config(None, {"clean.near_duplicate_threshold": value})
    assert config.clean.near_duplicate_threshold == expected


def _keys(obj, prefix=""):
    import dataclasses

    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if dataclasses.is_dataclass(value):
            yield from _keys(value, f"{field.name}.")
        else:
            yield prefix, field.name


@pytest.mark.parametrize("section,key", sorted(set(_keys(Config()))))
def test_config_every_key_is_documented_in_the_sample_pipeline_toml(section, key):
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "corpus" / "pipeline.toml").read_text(encoding="utf-8")
    body = text if not section else text.split(f"[{section.rstrip('.')}]", 1)[-1].split("\n[", 1)[0]
    if section:
        assert f"[{section.rstrip('.')}]" in text
    table = re.escape(f"[{section}{key}]")  # a dict-valued key is documented as its own table
    assert re.search(rf"^#?\s*({re.escape(key)}\s*=|{table})", body, re.M), f"{section}{key} is not documented"
