"""Fixtures of the CLI tests: a two-answer corpus in a fresh working folder, and ``runner.run`` replaced by a recorder."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.runner import RunResult


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "answers.txt").write_text("Too little staff time.\nNo money for care.\n", encoding="utf-8")
    return folder


@pytest.fixture
def captured(monkeypatch):
    """``runner.run`` replaced by one that records what it was given and returns an empty result."""
    calls = []

    def fake_run(corpus_dir, config, out_dir=None, **kwargs):
        calls.append({"corpus_dir": corpus_dir, "config": config, "out_dir": out_dir, **kwargs})
        return RunResult(config, {}, {}, Path(corpus_dir), Path(out_dir))

    monkeypatch.setattr("pipeline.runner.run", fake_run)
    return calls
