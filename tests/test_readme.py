"""The README's notebook example runs as written (from the repo root, with the real packaged model)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


@pytest.mark.slow
def test_readme_notebook_example_runs(monkeypatch):
    (block,) = _python_blocks("Use it from Python (a notebook)")
    monkeypatch.chdir(ROOT)
    before = _files_under(ROOT / "outputs", ROOT / "models")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 -- our own README, executed as a user would
    model, new = namespace["model"], namespace["new"]
    assert len(model.ledger_) == len(namespace["texts"])  # every text is kept or listed as dropped
    assert any(t.emergent for t in model.themes_) and any(t.category_id == "capacity" for t in model.themes_)
    predicted = model.predict(new)
    weights = model.transform(new)
    assert weights.shape == (2, len(model.theme_ids_)) and np.allclose(weights.sum(axis=1), 1.0)
    assert set(predicted.tolist()) <= set(model.theme_ids_)
    capacity = next(t.theme_id for t in model.themes_ if t.category_id == "capacity")
    assert predicted[0] == capacity
    assert _files_under(ROOT / "outputs", ROOT / "models") == before  # nothing written without out_dir/model_dir


def _files_under(*folders: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for folder in folders if folder.is_dir() for p in folder.rglob("*")
            if p.is_file()}
