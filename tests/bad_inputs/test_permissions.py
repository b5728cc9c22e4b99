"""Outputs readable by the user's group (issue 15, defect 16): every file a run writes (tables, report, manifest,
run.json, caches, model files) gets the mode the umask gives, not mkstemp's 0600."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.bad_inputs.helpers import answer


@pytest.fixture
def umask():
    """Set the process umask for one test (restored afterwards)."""
    previous = os.umask(0o022)

    def set_mask(mask: int) -> int:
        os.umask(mask)
        return mask

    yield set_mask
    os.umask(previous)


def _modes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640)])
def test_atomic_writes_follow_the_umask(tmp_path, umask, mask, expected):
    from pipeline.io.atomic import atomic_write_text, write_csv

    umask(mask)
    atomic_write_text(tmp_path / "a.txt", "x")
    write_csv(tmp_path / "b.csv", [{"a": 1}])
    assert _modes(tmp_path) == {"a.txt": expected, "b.csv": expected}


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640)])
def test_every_file_of_a_run_is_readable_by_the_group(tmp_path, umask, mask, expected, monkeypatch):
    from pipeline import runner
    from pipeline.core.config import load_config

    monkeypatch.chdir(tmp_path)
    umask(mask)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("".join(answer(i) + "\n" for i in range(16)), encoding="utf-8")
    config = load_config(None, {"embed.model": "fake-hash.v1", "themes.n_seeds": 2})
    runner.run(corpus, config, tmp_path / "outputs" / "corpus", until="themes", model_dir=tmp_path / "models" / "c")
    modes = {**_modes(tmp_path / "outputs"), **{f"models/{k}": v for k, v in _modes(tmp_path / "models").items()}}
    assert {"corpus/run.json", "corpus/ledger.csv", "corpus/themes.csv", "models/c/state.json",
            "models/c/centroids.npz", "models/c/bertopic/ctfidf.safetensors"} <= set(modes)
    assert any(k.startswith(".cache/embeddings/") for k in modes) and any(k.startswith(".cache/cleaned/") for k in modes)
    assert {name: mode for name, mode in modes.items() if mode != expected} == {}
    folders = [p for p in (tmp_path / "outputs").rglob("*") if p.is_dir()]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o777 & ~mask for p in folders)
