"""The runner's reuse of a saved theme fit: it must be refitted whenever anything the fit depends on changes."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.core.config import Config
from pipeline.core.records import Category, Segment
from pipeline.themes.stage import fit_fingerprint

SEGMENTS = [Segment(f"s.csv:{i}#0", f"s.csv:{i}", f"R{i}", "s.csv", i, 0, 0, 10, text, text)
            for i, text in enumerate(["staff are stretched", "the footprint is wrong"], start=1)]
CATEGORIES = [Category("capacity", "Lack of capacity", keywords=("staff",)), Category("other", "Other")]


def base() -> str:
    return fit_fingerprint(Config(), "minilm-local.v1", SEGMENTS, CATEGORIES)


@pytest.mark.parametrize("change", [
    lambda: fit_fingerprint(Config(seed=7), "minilm-local.v1", SEGMENTS, CATEGORIES),
    lambda: fit_fingerprint(Config(), "other-model", SEGMENTS, CATEGORIES),
    lambda: fit_fingerprint(Config(), "minilm-local.v1", SEGMENTS[:1], CATEGORIES),
    lambda: fit_fingerprint(Config(), "minilm-local.v1", SEGMENTS, [replace(CATEGORIES[0], keywords=("time",)),
                                                                     CATEGORIES[1]]),
    lambda: fit_fingerprint(Config(), "minilm-local.v1", SEGMENTS,
                            [CATEGORIES[0], replace(CATEGORIES[1], residual=False)]),
    lambda: fit_fingerprint(Config(), "minilm-local.v1", SEGMENTS, CATEGORIES[:1]),
], ids=["seed", "model", "segments", "category-keywords", "residual-flag", "category-removed"])
def test_runner_fingerprint_changes_with_what_the_fit_depends_on(change):
    assert change() != base()


def test_runner_fingerprint_is_the_same_in_another_process():
    """A saved fit is found again by a later process: the fingerprint must not depend on hash randomisation, object
    ids or the order of sets (a fresh interpreter with another PYTHONHASHSEED computes the same one)."""
    import os
    import subprocess
    import sys

    code = ("from tests.test_runner import base; print(base())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                           cwd=Path(__file__).resolve().parents[1])
    assert other.stdout.strip() == base()


def test_runner_fingerprint_covers_package_versions(monkeypatch):
    import pipeline.themes.stage as stage

    before = base()
    monkeypatch.setattr(stage, "package_versions", lambda names: {name: "0.0-upgraded" for name in names})
    assert base() != before


def test_runner_fingerprint_covers_the_theme_stage_code(monkeypatch):
    import pipeline.themes.stage as runner

    before = base()
    monkeypatch.setattr(runner, "THEME_CODE", runner.THEME_CODE[:-1])  # as if one module's code had changed
    assert base() != before
