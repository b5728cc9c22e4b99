import itertools
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.config_docs import config_markdown, config_reference
from pipeline.core.config import (
    SECTIONS, CleanConfig, Config, ThemesConfig, load_config,
)
from pipeline.core.config_docs import toml_value
from pipeline.core.errors import ConfigError
from pipeline.core.fields import describe, field_spec

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_TOML = ROOT / "corpus" / "pipeline.toml"


def _load_text(tmp_path, text):
    path = tmp_path / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    return path, (lambda: load_config(path))


def _one_line_error(call) -> str:
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and "validation error" not in message.lower() and "pydantic" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no pydantic traceback behind it
    return message


# ---------------------------------------------------------------- loading

def test_config_defaults_without_file(tmp_path):
    assert load_config(tmp_path / "missing.toml") == Config()
    assert load_config() == Config() == load_config(None, {})


def test_config_file_values_then_overrides(tmp_path):
    path, _ = _load_text(tmp_path, 'seed = 7\n[themes]\nn_seeds = 3\n[quotes]\nmax_chars = 200\n')
    config = load_config(path, {"themes.n_seeds": 2, "seed": None})
    assert (config.seed, config.themes.n_seeds, config.quotes.max_chars) == (7, 2, 200)
    assert config.themes.max_themes == 30  # untouched keys of an overridden table keep their values


def test_config_override_of_a_table_valued_key_replaces_it_whole():
    config = load_config(None, {"clean.acronyms": {"WFH": "working from home"}})
    assert config.clean.acronyms == {"WFH": "working from home"}


def test_config_sample_pipeline_toml_loads_with_its_three_changes():
    config = load_config(SAMPLE_TOML)
    expected = Config()
    expected.ingest.text_column, expected.ingest.id_column = "other_barriers", "respondent_id"
    expected.quotes.identifying_terms = ["St Aldhelm's Hospital", "Wexley Borough Council", "Wexley"]
    assert config == expected


def test_config_to_dict_keeps_the_manifest_layout():
    data = Config().to_dict()
    assert list(data) == ["seed", "categories_file", "labels_file", "ingest", "clean", "embed", "themes", "mapping",
                          "quotes", "report", "scale", "validate"]
    assert list(data["themes"]) == [
        "cluster_model", "n_themes", "min_themes", "max_themes", "n_seeds", "unstable_below", "min_segments",
        "zeroshot", "zeroshot_min_similarity", "category_themes", "confident_never_emergent", "off_list_elevation",
        "off_list_rule", "off_list_threshold", "emergent_grouping", "emergent_recruit", "outlier_strategy",
        "outlier_threshold", "secondary_min_weight", "n_keywords", "stop_words"]
    assert list(data["quotes"]) == ["per_theme", "min_chars", "max_chars", "diversity", "identifying_terms",
                                    "public_names", "ner_model", "confident_share"]
    assert data["themes"]["outlier_threshold"] == 0.0 and isinstance(data["themes"]["outlier_threshold"], float)
    data["themes"]["stop_words"].append("changed")  # a copy: the config itself is not changed through it
    assert "changed" not in Config().themes.stop_words


# ---------------------------------------------------------------- bad values

BAD_VALUES = [  # (pipeline.toml text, dotted key, what the message must say is allowed, the value shown)
    # the examples
    ("[themes]\noutlier_strategy = 'nearest'", "themes.outlier_strategy",
     "one of embeddings, c-tf-idf, distributions", "'nearest'"),
    ("[themes]\ncategory_themes = 'mapped'", "themes.category_themes", "one of coded, clustered", "'mapped'"),
    ("[mapping]\nkeyword_weight = 7", "mapping.keyword_weight", "a number from 0 to 1", "7"),
    ("[mapping]\nmin_support = 5", "mapping.min_support", "a number from 0 to 1", "5"),
    ("[themes]\nunstable_below = -3", "themes.unstable_below", "a number from 0 to 1", "-3"),
    ("[quotes]\nper_theme = -2", "quotes.per_theme", "an integer of at least 1", "-2"),
    # allowed values
    ("[themes]\ncluster_model = 'dbscan'", "themes.cluster_model",
     "one of auto, seeded-kmeans.v1, kmeans.v1, agglomerative.v1, hdbscan.v1", "'dbscan'"),
    ("[ingest]\ntxt_mode = 'paragraph'", "ingest.txt_mode", "one of auto, line, block", "'paragraph'"),
    # seeds
    ("seed = -1", "seed", "an integer from 0 to 4294967295", "-1"),
    ("seed = 4294967296", "seed", "an integer from 0 to 4294967295", "4294967296"),
    # sizes and counts
    ("[embed]\nbatch_size = 0", "embed.batch_size", "an integer of at least 1", "0"),
    ("[ingest]\nmax_chars = 0", "ingest.max_chars", "an integer of at least 1", "0"),
    ("[themes]\nn_seeds = 0", "themes.n_seeds", "an integer of at least 1", "0"),
    ("[themes]\nn_themes = 1", "themes.n_themes", "an integer of at least 2, or unset", "1"),
    ("[themes]\nmin_themes = 1", "themes.min_themes", "an integer of at least 2", "1"),
    ("[themes]\nmin_segments = 0", "themes.min_segments", "an integer of at least 1", "0"),
    ("[themes]\nn_keywords = 0", "themes.n_keywords", "an integer of at least 1", "0"),
    ("[clean]\nmin_chars = -1", "clean.min_chars", "an integer of at least 0", "-1"),
    ("[clean]\nmax_sentences_per_segment = 0", "clean.max_sentences_per_segment", "an integer of at least 1", "0"),
    ("[clean]\nsegment_min_chars = -5", "clean.segment_min_chars", "an integer of at least 0", "-5"),
    ("[mapping]\nmin_cell = -1", "mapping.min_cell", "an integer of at least 0", "-1"),
    ("[quotes]\nmin_chars = -1", "quotes.min_chars", "an integer of at least 0", "-1"),
    ("[report]\ntop_keywords = 0", "report.top_keywords", "an integer of at least 1", "0"),
    ("[validate]\nsample_size = 0", "validate.sample_size", "an integer of at least 1", "0"),
    # thresholds
    ("[clean]\nnear_duplicate_threshold = 0", "clean.near_duplicate_threshold",
     "a number greater than 0 and at most 1", "0"),
    ("[clean]\nlanguage_confidence = 1.5", "clean.language_confidence", "a number greater than 0 and at most 1",
     "1.5"),
    ("[themes]\nzeroshot_min_similarity = 1.5", "themes.zeroshot_min_similarity", "a number from -1 to 1, or unset",
     "1.5"),
    ("[themes]\noutlier_threshold = -2", "themes.outlier_threshold", "a number from -1 to 1", "-2"),
    ("[themes]\nsecondary_min_weight = 2", "themes.secondary_min_weight", "a number from 0 to 1", "2"),
    ("[mapping]\nemergent_threshold = 2.0", "mapping.emergent_threshold", "a number from -1 to 1, or unset", "2.0"),
    ("[mapping]\nfdr_alpha = 0", "mapping.fdr_alpha", "a number greater than 0 and less than 1", "0"),
    ("[mapping]\nfdr_alpha = 1", "mapping.fdr_alpha", "a number greater than 0 and less than 1", "1"),
    ("[quotes]\ndiversity = 1.5", "quotes.diversity", "a number from 0 to 1", "1.5"),
    ("[mapping]\nmin_elevation = nan", "mapping.min_elevation", "a number", "nan"),
    ("[themes]\noff_list_elevation = inf", "themes.off_list_elevation", "a number", "inf"),
    # types: strings are never numbers, bools never numbers, numbers never bools or strings
    ("[themes]\nn_seeds = 'five'", "themes.n_seeds", "an integer of at least 1", "'five'"),
    ("[themes]\nn_seeds = '5'", "themes.n_seeds", "an integer of at least 1", "'5'"),
    ("[themes]\nn_seeds = 2.5", "themes.n_seeds", "an integer of at least 1", "2.5"),
    ("[themes]\nn_seeds = true", "themes.n_seeds", "an integer of at least 1", "True"),
    ("[themes]\nunstable_below = '0.5'", "themes.unstable_below", "a number from 0 to 1", "'0.5'"),
    ("[themes]\nunstable_below = false", "themes.unstable_below", "a number from 0 to 1", "False"),
    ("[themes]\nzeroshot = 1", "themes.zeroshot", "true or false", "1"),
    ("[themes]\nzeroshot = 'yes'", "themes.zeroshot", "true or false", "'yes'"),
    ("[ingest]\ntext_column = 3", "ingest.text_column", "a non-empty string, or unset", "3"),
    ("categories_file = ''", "categories_file", "a non-empty string", "''"),
    ("[embed]\nmodel = ''", "embed.model", "a non-empty string", "''"),
    ("[clean]\nacronyms = 3", "clean.acronyms", "a table of acronym = expansion strings", "3"),
    ("[themes]\nstop_words = 'nhs'", "themes.stop_words", "a list of strings", "'nhs'"),
    ("[mapping]\nbarrier_values = ['major barrier', 3]", "mapping.barrier_values[1]", "a string", "3"),
    ("[clean.acronyms]\nWFH = 3", "clean.acronyms.WFH", "a string", "3"),
    # rules of one field that are not a range
    ("[clean]\nboilerplate = ['ok', '(unclosed']", "clean.boilerplate[1]", "a valid regular expression",
     "'(unclosed'"),
    ("[clean.acronyms]\n' ' = 'blank'", "clean.acronyms", "non-empty acronyms", "' '"),
    ("[ingest]\nencoding = 'klingon'", "ingest.encoding", "an encoding Python knows", "'klingon'"),
    ("[clean]\nlanguage = 'English'", "clean.language", "ISO 639 language code", "'English'"),
    # tables
    ("themes = 3", "themes", "a table", "3"),
]


@pytest.mark.parametrize("text,key,allowed,given", BAD_VALUES, ids=[case[1] + "=" + case[3] for case in BAD_VALUES])
def test_config_bad_value_names_file_key_allowed_values_and_value(tmp_path, text, key, allowed, given):
    path, load = _load_text(tmp_path, text + "\n")
    message = _one_line_error(load)
    assert message.startswith(f"{path}: {key} must ")
    assert allowed in message
    assert message.endswith(f"got {given}")


@pytest.mark.parametrize("text,key,allowed,given", BAD_VALUES[:12], ids=[case[1] for case in BAD_VALUES[:12]])
def test_config_bad_override_names_the_key_without_a_file(text, key, allowed, given):
    value = tomllib.loads(text)
    dotted, leaf = key.split("."), value
    for part in dotted:
        leaf = leaf[part]
    message = _one_line_error(lambda: load_config(None, {key: leaf}))
    assert message == f"{key} must be {allowed}, got {given}"


def test_config_bad_seed_flag_message(tmp_path):
    path, _ = _load_text(tmp_path, "seed = 3\n")
    assert _one_line_error(lambda: load_config(path, {"seed": -1})) == \
        "seed must be an integer from 0 to 4294967295, got -1"


def _constrained_fields():
    for section in (Config, *SECTIONS):
        for name, field in section.model_fields.items():
            spec = field_spec(field)
            if spec.kind == "literal" or any(b is not None for b in (spec.ge, spec.gt, spec.le, spec.lt)):
                yield section, name, field, spec


def _outside(spec):
    """Values just outside what a constrained field accepts."""
    if spec.kind == "literal":
        return ["not-an-option", spec.options[0].upper() + "x"]
    step = 1 if spec.kind == "int" else 0.001
    values = []
    if spec.ge is not None:
        values.append(spec.ge - step)
    if spec.gt is not None:
        values.append(spec.gt)
    if spec.le is not None:
        values.append(spec.le + step)
    if spec.lt is not None:
        values.append(spec.lt)
    return values


def _inside(spec):
    """Values at the edge of what a constrained field accepts."""
    if spec.kind == "literal":
        return list(spec.options)
    step = 1 if spec.kind == "int" else 0.001
    values = [v for v in (spec.ge, spec.le) if v is not None]
    values += [spec.gt + step] if spec.gt is not None else []
    values += [spec.lt - step] if spec.lt is not None else []
    return values


CONSTRAINED = list(_constrained_fields())


@pytest.mark.parametrize("section,name,field,spec", CONSTRAINED,
                         ids=[f"{s.section or 'top'}.{n}" for s, n, _, _ in CONSTRAINED])
def test_config_every_constrained_field_rejects_values_outside_and_takes_its_edges(section, name, field, spec):
    key = f"{section.section}.{name}" if section.section else name
    for value in _outside(spec):
        overrides = {key: value}
        message = _one_line_error(lambda: load_config(None, overrides))
        assert message == f"{key} must be {describe(field)}, got {value!r}"
    partners = {"themes.max_themes": {"themes.min_themes": 2}, "quotes.max_chars": {"quotes.min_chars": 0}}
    for value in _inside(spec):
        config = load_config(None, {key: value, **partners.get(key, {})})  # (min <= max is another rule)
        got = getattr(getattr(config, section.section), name) if section.section else getattr(config, name)
        assert got == value


def test_config_every_numeric_field_has_a_range_or_a_reason():
    unbounded = {(s.section, n) for s in (Config, *SECTIONS) for n, f in s.model_fields.items()
                 if field_spec(f).kind in ("int", "float")
                 and all(b is None for b in (field_spec(f).ge, field_spec(f).gt, field_spec(f).le, field_spec(f).lt))}
    # elevations are in corpus standard deviations: negative is meaningful (-10 = "no elevation rule")
    assert unbounded == {("themes", "off_list_elevation"), ("mapping", "min_elevation")}


@pytest.mark.parametrize("text,message", [
    ("[themes]\nmin_themes = 12\nmax_themes = 8\n", "themes.min_themes must not exceed themes.max_themes (8), got 12"),
    ("[quotes]\nmin_chars = 400\n", "quotes.min_chars must not exceed quotes.max_chars (320), got 400"),
])
def test_config_rules_across_fields(tmp_path, text, message):
    path, load = _load_text(tmp_path, text)
    assert _one_line_error(load) == f"{path}: {message}"


def test_config_rule_across_fields_from_a_flag_after_a_good_file(tmp_path):
    path, _ = _load_text(tmp_path, "[themes]\nmin_themes = 10\n")
    assert _one_line_error(lambda: load_config(path, {"themes.max_themes": 6})) == \
        "themes.min_themes must not exceed themes.max_themes (6), got 10"


@pytest.mark.parametrize("text,key,known", [
    ("[themes]\nn_seed = 3\n", "themes.n_seed", "n_keywords, n_seeds, n_themes"),
    ("colour = 'blue'\n", "colour", "categories_file, clean, embed, ingest"),
    ("[theme]\nn_seeds = 3\n", "theme", "seed, themes, validate"),
])
def test_config_unknown_key_lists_the_known_keys(tmp_path, text, key, known):
    path, load = _load_text(tmp_path, text)
    message = _one_line_error(load)
    assert message.startswith(f"{path}: unknown config key '{key}'; known keys: ")
    assert known in message


def test_config_unknown_override_key():
    assert _one_line_error(lambda: load_config(None, {"themes.n_seed": 3})).startswith(
        "unknown config key 'themes.n_seed'; known keys: category_themes, cluster_model, ")


def test_config_not_toml_names_the_file(tmp_path):
    path, load = _load_text(tmp_path, "seed = [1\n")
    assert _one_line_error(load).startswith(f"{path}: not valid TOML: ")


# ---------------------------------------------------------------- good values and types

@pytest.mark.parametrize("key,value,expected", [
    ("clean.near_duplicate_threshold", 1, 1.0),
    ("themes.unstable_below", 0, 0.0),
    ("mapping.keyword_weight", 0.5, 0.5),
    ("mapping.emergent_threshold", -1, -1.0),
])
def test_config_int_accepted_for_float(key, value, expected):
    section, name = key.split(".")
    got = getattr(getattr(load_config(None, {key: value}), section), name)
    assert got == expected and type(got) is float


def test_config_int_for_float_from_the_file_is_stored_as_float(tmp_path):
    path, load = _load_text(tmp_path, "[themes]\nunstable_below = 1\n[quotes]\ndiversity = 0\n")
    data = load().to_dict()
    assert (data["themes"]["unstable_below"], data["quotes"]["diversity"]) == (1.0, 0.0)
    assert type(data["themes"]["unstable_below"]) is float and type(data["quotes"]["diversity"]) is float


@pytest.mark.parametrize("text", [
    "seed = 0\n", "seed = 4294967295\n", "[themes]\ncluster_model = 'hdbscan.v1'\nn_themes = 2\nmin_themes = 2\n",
    "[themes]\noutlier_strategy = 'c-tf-idf'\ncategory_themes = 'clustered'\nzeroshot_min_similarity = -0.2\n",
    "[mapping]\nmin_elevation = -10.0\nkeyword_weight = 1\nmin_support = 0\nemergent_threshold = 0.35\n",
    "[ingest]\ntxt_mode = 'block'\nencoding = 'cp1252'\n", "[clean]\nlanguage = ''\nboilerplate = ['^sent from']\n",
    "[quotes]\nmin_chars = 100\nmax_chars = 100\nper_theme = 1\n",
    "[clean.acronyms]\n'A&E' = 'accident and emergency'\n",
])
def test_config_good_values_are_accepted(tmp_path, text):
    path, load = _load_text(tmp_path, text)
    config = load()
    data = tomllib.loads(text)
    for section, values in data.items():
        if isinstance(values, dict):
            for name, value in values.items():
                assert getattr(getattr(config, section), name) == value
        else:
            assert getattr(config, section) == values


def test_config_numpy_scalars_are_their_python_values():
    themes = ThemesConfig(n_themes=np.int64(5), unstable_below=np.float32(0.5), zeroshot=np.bool_(False))
    assert (themes.n_themes, themes.unstable_below, themes.zeroshot) == (5, 0.5, False)
    assert (type(themes.n_themes), type(themes.unstable_below), type(themes.zeroshot)) == (int, float, bool)
    with pytest.raises(ConfigError, match="themes.n_seeds must be an integer"):
        ThemesConfig(n_seeds=np.bool_(True))


def test_config_tuple_accepted_for_a_list():
    assert ThemesConfig(stop_words=("a", "b")).stop_words == ["a", "b"]


# ---------------------------------------------------------------- built from Python

def test_config_section_built_from_python_names_its_table():
    message = _one_line_error(lambda: ThemesConfig(outlier_strategy="nearest"))
    assert message == "themes.outlier_strategy must be one of embeddings, c-tf-idf, distributions, got 'nearest'"
    assert _one_line_error(lambda: Config(themes={"n_seeds": 0})) == \
        "themes.n_seeds must be an integer of at least 1, got 0"


def test_config_assignment_is_validated_and_a_failed_one_changes_nothing():
    config = Config()
    with pytest.raises(ConfigError, match=r"^themes\.n_seeds must be an integer of at least 1, got 0$"):
        config.themes.n_seeds = 0
    with pytest.raises(ConfigError, match="themes.min_themes must not exceed themes.max_themes"):
        config.themes.max_themes = 3
    with pytest.raises(ConfigError, match="quotes.min_chars must not exceed"):
        config.quotes.max_chars = 10
    assert (config.themes.n_seeds, config.themes.max_themes, config.quotes.max_chars) == (5, 30, 320)
    config.themes.n_seeds = 2
    assert config.themes.n_seeds == 2


def test_config_ensure_rechecks_an_instance_changed_in_place():
    config = CleanConfig()
    config.non_answers.append(3)  # type: ignore[arg-type]  # in-place changes bypass assignment checks
    with pytest.raises(ConfigError, match=re.escape("clean.non_answers[26] must be a string, got 3")):
        CleanConfig.ensure(config)
    assert CleanConfig.ensure(None) == CleanConfig() == CleanConfig.ensure({})


def test_config_cluster_model_options_are_the_registered_cluster_models():
    from pipeline.core.registry import CLUSTERERS

    assert set(field_spec(ThemesConfig.model_fields["cluster_model"]).options) == {"auto", *CLUSTERERS}


# ---------------------------------------------------------------- TOML round trip and generated docs

def test_config_reference_loads_back_as_the_defaults(tmp_path):
    path, load = _load_text(tmp_path, config_reference())
    assert load() == Config()


def test_config_toml_round_trip_of_a_changed_config(tmp_path):
    config = Config(seed=7, ingest={"text_column": "comment", "rating_columns": ["funding"]},
                    clean={"acronyms": {"A&E": "accident and emergency", "WFH": 'working "from" home'},
                           "boilerplate": [r"^sent from my \w+$"], "near_duplicate_threshold": 1},
                    themes={"n_themes": 6, "outlier_strategy": "distributions", "stop_words": []},
                    mapping={"emergent_threshold": -0.25}, report={"title": "Térm — “quoted”"})
    path, load = _load_text(tmp_path, config_reference(config))
    assert load() == config
    assert tomllib.loads("v = " + toml_value(["a\\b", 'q"', 1.5, True, 0.0]))["v"] == ["a\\b", 'q"', 1.5, True, 0.0]


def test_config_reference_documents_every_key_with_default_and_allowed_values():
    text = config_reference()
    for section in (Config, *SECTIONS):
        for name, field in section.model_fields.items():
            if field_spec(field).kind == "section":
                assert f"\n[{name}]\n" in text
                continue
            assert field.description, f"{name} has no description"
            body = text if not section.section else text.split(f"\n[{section.section}]\n", 1)[1]
            assert f"Accepts {describe(field)}." in body.replace("\n# ", " ")
            key_line = re.search(rf"^(# )?{name} =|^\[{section.section}\.{name}\]$", body, re.M)
            assert key_line, f"{section.section}.{name} is not in the reference"


def test_config_docs_page_is_generated_from_the_model():
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == config_markdown(), \
        "docs/config.md is stale: run `python -m pipeline.core.config > docs/config.md`"


# ---------------------------------------------------------------- the sample pipeline.toml

def _keys():
    for name, field in Config.model_fields.items():
        model = field.annotation
        if field_spec(field).kind == "section":
            yield from ((name, key) for key in model.model_fields)
        else:
            yield "", name


def _sample_documentation(section: str, key: str) -> tuple[str, str | None, bool]:
    """(comment text documenting ``key``, the TOML statement that sets it, whether that statement is commented out)."""
    text = SAMPLE_TOML.read_text(encoding="utf-8")
    body = text.split("\n[", 1)[0] if not section else text.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0]
    lines = body.splitlines()
    pattern = re.compile(rf"^(#\s*)?({re.escape(key)}\s*=|\[{re.escape(section)}\.{re.escape(key)}\]\s*$)")
    index = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
    assert index is not None, f"{section}.{key} is not documented in corpus/pipeline.toml"
    line = lines[index]
    commented = line.startswith("#")
    before = []
    for previous in reversed(lines[:index]):  # the comment block directly above the key
        if not previous.startswith("#") or re.match(r"^#?\s*[A-Za-z_]+\s*=", previous):
            break
        before.insert(0, previous)
    after = list(itertools.takewhile(lambda row: re.match(r"^\s+#", row), lines[index + 1:]))  # continued comment
    uncomment = (lambda row: re.sub(r"^#\s?", "", row)) if commented else (lambda row: row)
    statement_lines = [uncomment(line)]
    table = statement_lines[0].startswith("[")
    for row in lines[index + 1:]:  # a commented-out value or table can run over several lines
        if not commented or not row.startswith("#"):
            break
        if table and not re.match(r'^\s*("[^"]+"|[A-Za-z0-9_-]+)\s*=', uncomment(row)):
            break
        if not table and _parses(statement_lines):
            break
        statement_lines.append(uncomment(row))
    statement = "\n".join(statement_lines)
    trailing = statement_lines[0].split(" # ", 1)[1] if " # " in statement_lines[0] else ""
    doc = " ".join([*before, trailing, *after])
    return doc, statement, commented


def _parses(lines) -> bool:
    try:
        tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError:
        return False
    return True


@pytest.mark.parametrize("section,key", sorted(set(_keys())))
def test_config_every_key_is_documented_in_the_sample_pipeline_toml(section, key):
    model = Config if not section else Config.model_fields[section].annotation
    field = model.model_fields[key]
    default = field.get_default(call_default_factory=True)
    doc, statement, commented = _sample_documentation(section, key)
    stated = re.findall(r"\(default(: unset| as shown|\s[^()]*?)[ )=]", doc)
    assert len(stated) == 1, f"{section}.{key}: expected one '(default ...)' in {doc!r}"
    parsed = tomllib.loads(statement)
    value = parsed[key] if key in parsed else parsed[section][key]
    if stated[0] == ": unset":
        assert default is None, f"{section}.{key}: the sample says unset, the model's default is {default!r}"
    elif stated[0] == " as shown":
        assert value == default, f"{section}.{key}: the value shown is not the model's default {default!r}"
    else:
        shown = re.search(r"\(default ([^()]*)\)", doc).group(1)
        assert tomllib.loads(f"v = {shown}")["v"] == default, f"{section}.{key}: default {shown} in the sample"
    model(**{key: value})  # a value shown, also one commented out as an example, is a valid value
    spec = field_spec(field)
    if spec.kind == "literal":  # the allowed values named are exactly the model's
        assert set(re.findall(r'"([^"]+)"', doc)) == set(spec.options), f"{section}.{key}: {doc!r}"


def test_config_reading_the_sample_documentation_finds_its_parts():
    doc, statement, commented = _sample_documentation("clean", "acronyms")
    assert commented and "(default as shown)" in doc and tomllib.loads(statement)["clean"]["acronyms"]["A&E"]
    doc, statement, commented = _sample_documentation("themes", "off_list_elevation")
    assert not commented and "(default 0.5)" in doc and "mapping.min_elevation" in doc
    doc, statement, commented = _sample_documentation("quotes", "identifying_terms")
    assert not commented and "(default [])" in doc and tomllib.loads(statement)["identifying_terms"][-1] == "Wexley"
    assert math.isclose(tomllib.loads(_sample_documentation("clean", "language_confidence")[1])
                        ["language_confidence"], 0.9)
