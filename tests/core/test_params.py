"""The estimators' scikit-learn parameter constraints agree with the config fields they are derived from."""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

from pipeline.categories import CategoryCoder
from pipeline.core.config import MappingConfig, ThemesConfig
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.fields import field_spec
from pipeline.core.params import ParameterError, check_parameters
from pipeline.mapping import CategoryMapper
from pipeline.themes import ThemeModel

GENERIC = [None, True, False, np.bool_(True), 0, 1, 2, 3, -1, -3, 5, 7, 2**32 - 1, 2**32, 0.0, 0.5, 1.0, 1.5, -0.5,
           -1.0, -1.5, 2.5, math.nan, math.inf, -math.inf, np.int64(3), np.float64(0.5), np.float32(0.25), "", "x",
           "five", "5", "0.5", "true", [], ["a"], ("a", "b"), [1], ["a", None], {"a": "b"}]


def _candidates(section, name):
    """Every generic value, every allowed option of any field, and values at and around this field's bounds."""
    values = list(GENERIC)
    for field in section.model_fields.values():
        values += list(field_spec(field).options)
    spec = field_spec(section.model_fields[name])
    for bound in (spec.ge, spec.gt, spec.le, spec.lt):
        if bound is not None:
            values += [bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5, float(bound)]
    return values


PARTNERS = {"min_themes": {"max_themes": 2**64}, "max_themes": {"min_themes": 2}}  # min <= max is another rule


def _config_accepts(section, name, value) -> bool:
    try:
        section(**{name: value, **PARTNERS.get(name, {})})
    except ConfigError:
        return False
    return True


def _estimator_accepts(estimator, name, value) -> bool:
    model = estimator(**{name: value, **PARTNERS.get(name, {})})
    try:
        check_parameters(model)
    except ParameterError:
        return False
    return True


@pytest.mark.parametrize("name", list(ThemesConfig.model_fields))
def test_params_theme_model_accepts_exactly_what_themes_config_accepts(name):
    verdicts = {}
    for value in _candidates(ThemesConfig, name):
        config, estimator = _config_accepts(ThemesConfig, name, value), _estimator_accepts(ThemeModel, name, value)
        assert config == estimator, f"themes.{name} = {value!r}: config {config}, ThemeModel {estimator}"
        verdicts[config] = value
    assert set(verdicts) == {True, False}, f"themes.{name}: the candidates must include good and bad values"


@pytest.mark.parametrize("name", ["keyword_weight", "emergent_threshold", "min_elevation", "min_support"])
def test_params_category_mapper_accepts_exactly_what_mapping_config_accepts(name):
    for value in _candidates(MappingConfig, name):
        config, estimator = _config_accepts(MappingConfig, name, value), _estimator_accepts(CategoryMapper, name, value)
        assert config == estimator, f"mapping.{name} = {value!r}: config {config}, CategoryMapper {estimator}"


@pytest.mark.parametrize("estimator", [ThemeModel, CategoryMapper, CategoryCoder])
def test_params_every_parameter_has_a_constraint(estimator):
    parameters = set(inspect.signature(estimator.__init__).parameters) - {"self"}
    assert set(estimator._parameter_constraints) == parameters
    check_parameters(estimator())  # the defaults are valid


def test_params_theme_model_defaults_are_themes_config_defaults():
    params = ThemeModel().get_params()
    params.pop("random_state")
    params["stop_words"] = list(params["stop_words"])  # a tuple default: immutable, as scikit-learn expects
    assert params == ThemesConfig().model_dump()


def test_params_are_scikit_learn_constraints():
    constraints = ThemeModel._parameter_constraints
    validate_parameter_constraints(constraints, ThemeModel().get_params(), caller_name="ThemeModel")
    with pytest.raises(InvalidParameterError, match="outlier_strategy"):
        validate_parameter_constraints(constraints, {"outlier_strategy": "nearest"}, caller_name="ThemeModel")


@pytest.mark.parametrize("estimator,params,message", [
    (ThemeModel, {"outlier_strategy": "nearest"},
     "ThemeModel: outlier_strategy must be one of embeddings, c-tf-idf, distributions, got 'nearest' "
     "(themes.outlier_strategy in pipeline.toml)"),
    (ThemeModel, {"unstable_below": -3},
     "ThemeModel: unstable_below must be a number from 0 to 1, got -3 (themes.unstable_below in pipeline.toml)"),
    (ThemeModel, {"random_state": -1}, "ThemeModel: random_state must be an integer from 0 to 4294967295, or unset, "
                                       "got -1"),
    (ThemeModel, {"min_themes": 12, "max_themes": 8},
     "ThemeModel: themes.min_themes must not exceed themes.max_themes (8), got 12"),
    (CategoryMapper, {"keyword_weight": 7},
     "CategoryMapper: keyword_weight must be a number from 0 to 1, got 7 (mapping.keyword_weight in pipeline.toml)"),
    (CategoryMapper, {"n_bootstrap": 0}, "CategoryMapper: n_bootstrap must be an integer of at least 1, got 0"),
    (CategoryCoder, {"keep_share": 0.0}, "CategoryCoder: keep_share must be a number greater than 0 and at most 1, "
                                         "got 0.0"),
    (CategoryCoder, {"n_self_training": True}, "CategoryCoder: n_self_training must be an integer of at least 0, "
                                               "got True"),
])
def test_params_error_names_the_parameter_and_what_it_accepts(estimator, params, message):
    with pytest.raises(ParameterError) as info:
        check_parameters(estimator(**params))
    assert str(info.value) == message
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidParameterError)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, PipelineError)  # one line in the CLI
