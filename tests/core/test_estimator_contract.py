"""One contract for every registered component and every estimator of the project (scikit-learn's
``check_estimators_fit_returns_self``, ``check_no_attributes_set_in_init``, ``check_fit_idempotent``):

- ``__init__`` only stores its parameters: no learned (``_``-suffixed) attribute exists before ``fit``;
- ``sklearn.base.clone`` gives an unfitted copy with equal parameters;
- ``fit`` returns the estimator itself;
- the same seed gives the same result.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from pipeline.core.records import UNASSIGNED, Assignment, Theme
from pipeline.core.registry import CLUSTERERS, EMBEDDERS


@dataclass
class Case:
    make: Callable[[int], Any]  # seed -> unfitted estimator
    fit: Callable[[Any, dict], Any]  # (estimator, data) -> what fit returned
    result: Callable[[Any], Any]  # fitted estimator -> what must be equal for equal seeds


def _data(tiny_texts, tiny_categories, fake_embedder) -> dict:
    X = fake_embedder.encode(tiny_texts)
    themes = [Theme(t, f"theme {t}", (), 6, 1.0) for t in range(4)]
    assignments = [Assignment(f"s{i}", i // 6, 1.0) for i in range(len(tiny_texts))]
    return {"texts": tiny_texts, "X": X, "categories": tiny_categories, "embedder": fake_embedder,
            "themes": themes, "assignments": assignments}


def _cases() -> dict[str, Case]:
    from pipeline.analyst.trained import TrainedCoder
    from pipeline.categories import CategoryCoder, OffListDetector, OffListScorer
    from pipeline.mapping import CategoryMapper
    from pipeline.themes import ThemeModel

    cases = {
        f"cluster:{name}": Case(
            make=lambda seed, name=name: CLUSTERERS[name](n_clusters=3, random_state=seed, n_samples=24),
            fit=lambda est, d: est.fit(d["X"]),
            result=lambda est: np.asarray(est.labels_).tolist())
        for name in CLUSTERERS
    }
    cases["ThemeModel"] = Case(
        make=lambda seed: ThemeModel(n_seeds=2, random_state=seed),
        fit=lambda est, d: est.fit(d["texts"], d["X"], d["embedder"], categories=d["categories"]),
        result=lambda est: ([a.theme_id for a in est.assignments_], [t.label for t in est.themes_]))
    cases["CategoryCoder"] = Case(
        make=lambda seed: CategoryCoder(random_state=seed),
        fit=lambda est, d: est.fit(d["X"], d["categories"], d["embedder"]),
        result=lambda est: (est.labels_.tolist(), est.scores_.round(6).tolist()))
    cases["OffListDetector"] = Case(
        make=lambda seed: OffListDetector(),
        fit=lambda est, d: est.fit(d["X"], d["categories"], d["embedder"]),
        result=lambda est: round(est.floor_, 6))
    cases["OffListScorer"] = Case(
        make=lambda seed: OffListScorer(random_state=seed),
        fit=lambda est, d: est.fit(d["X"], d["categories"], d["embedder"]),
        result=lambda est: est.score_.round(6).tolist())
    cases["CategoryMapper"] = Case(
        make=lambda seed: CategoryMapper(random_state=seed),
        fit=lambda est, d: est.fit(d["themes"], d["assignments"], d["X"], d["categories"], d["embedder"]),
        result=lambda est: ([(t.category_id, t.emergent, t.confidence) for t in est.themes_], est.scores_))
    cases["TrainedCoder"] = Case(
        make=lambda seed: TrainedCoder(random_state=seed),
        fit=lambda est, d: est.fit(d["X"], d["categories"], [0, 1, 12, 13, 18, 19], ["staff"] * 2 + ["footprint"] * 2
                                   + ["money"] * 2, embedder=d["embedder"]),
        result=lambda est: (est.labels_.tolist(), est.proba_.round(6).tolist(), est.prior_weight_))
    return cases


CASES = _cases()
SLOW = {"cluster:hdbscan.v1"}  # UMAP's numba JIT costs ~7 s per process


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES])
def test_contract_estimator(name, tiny_texts, tiny_categories, fake_embedder):
    case, data = CASES[name], _data(tiny_texts, tiny_categories, fake_embedder)
    estimator = case.make(0)
    assert not [key for key in vars(estimator) if key.endswith("_") and not key.startswith("_")], \
        "__init__ must not set learned attributes"
    copy = clone(estimator)
    assert copy is not estimator and copy.get_params() == estimator.get_params()
    assert case.fit(estimator, data) is estimator, "fit must return self"
    again = clone(estimator)
    assert not [key for key in vars(again) if key.endswith("_") and not key.startswith("_")], "clone is unfitted"
    case.fit(again, data)
    assert case.result(again) == case.result(estimator), "the same seed must give the same result"


def test_contract_pipeline(fitted_pipeline, tiny_texts, tiny_categories):
    from pipeline import Pipeline

    fresh = clone(fitted_pipeline)
    assert not hasattr(fresh, "result_") and fresh.get_params() == fitted_pipeline.get_params()
    assert not [key for key in vars(Pipeline()) if key.endswith("_")]
    assert fresh.fit(tiny_texts, categories=tiny_categories) is fresh
    assert [a.theme_id for a in fresh.assignments_] == [a.theme_id for a in fitted_pipeline.assignments_]
    assert [t.label for t in fresh.themes_] == [t.label for t in fitted_pipeline.themes_]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "minilm-local.v1" else n
                                  for n in EMBEDDERS])
def test_contract_embedder(name, tiny_texts):
    embedder = EMBEDDERS[name]("cpu", 32)
    first, second = embedder.encode(tiny_texts[:5]), embedder.encode(tiny_texts[:5])
    assert first.dtype == np.float32 and first.shape[0] == 5
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, second), "encoding is deterministic"
    assert isinstance(embedder.name, str) and embedder.name


def test_contract_registry_names_are_versioned():
    assert all(name.rsplit(".v", 1)[-1].isdigit() for name in [*CLUSTERERS, *EMBEDDERS])
    assert UNASSIGNED == -1
