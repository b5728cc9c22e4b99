"""Shared fixtures. Each section serves one kind of test; add new sections rather than growing existing ones."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pytest

# --- small corpora written into tmp_path -------------------------------------------------------------------------

CorpusWriter = Callable[[dict[str, "str | bytes"]], Path]  # files -> the corpus folder


@pytest.fixture
def write_corpus(tmp_path: Path) -> CorpusWriter:
    """Write ``{relative path: content}`` into ``tmp_path/corpus`` and return that folder.

    ``str`` content is written as UTF-8 exactly as given (no newline translation); ``bytes`` as is, for
    encoding tests. Calling it again adds files to the same folder.
    """
    root = tmp_path / "corpus"

    def write(files: dict[str, str | bytes]) -> Path:
        root.mkdir(exist_ok=True)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="")
        return root

    return write


@pytest.fixture
def write_xlsx() -> Callable[..., Path]:
    """Write a workbook: ``write_xlsx(path, rows)`` for one sheet, or ``sheets={title: rows}`` for several."""
    openpyxl = pytest.importorskip("openpyxl")

    def write(path: Path, rows: Sequence[Sequence[object]] = (), *, sheets: dict[str, Sequence] | None = None) -> Path:
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for title, sheet_rows in (sheets or {"Sheet1": rows}).items():
            sheet = workbook.create_sheet(title)
            for row in sheet_rows:
                sheet.append(list(row))
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(path)
        return path

    return write


# --- a tiny corpus, a fake embedder and one fitted pipeline, shared by the whole session ------------------------

# Four clear topics, written for these tests; the sentences of a topic share content words, so the fake
# embedder (hashed words and trigrams) places them together.
TINY_TOPICS = {
    "staff": ["Staff capacity is stretched thin across the team.", "Not enough staff time for planning work.",
              "Our small team has no staff capacity left.", "Staff are stretched by the day job.",
              "Capacity of staff to plan is too low.", "The team lacks staff time and capacity."],
    "politics": ["Local councillors resist the plan for political reasons.", "Political will among councillors is weak.",
                 "Councillors fear the political cost of closures.", "Local political leaders oppose the closures.",
                 "The political cycle makes councillors cautious.", "Councillors and politics slow every decision."],
    "footprint": ["The footprint boundary does not match the council boundary.", "Our footprint was imposed on us.",
                  "Footprint boundaries cut across patient flows.", "The boundary of the footprint is wrong.",
                  "Two footprints overlap our boundary.", "The imposed footprint ignores boundaries."],
    "money": ["Funding for social care is falling fast.", "The funding gap in the budget keeps growing.",
              "Budget cuts leave no funding for change.", "Social care funding and budget pressure.",
              "Money and funding for the budget are short.", "The deficit eats the funding budget."],
}
TINY_CATEGORIES = [("staff", "Lack of staff capacity"), ("footprint", "Clashes over planning footprints"),
                   ("money", "Insufficient funding")]  # politics is deliberately not on the closed list


@pytest.fixture(scope="session")
def tiny_texts() -> list[str]:
    return [text for sentences in TINY_TOPICS.values() for text in sentences]


@pytest.fixture(scope="session")
def tiny_categories():
    from pipeline.core.records import Category

    return [Category(category_id, label) for category_id, label in TINY_CATEGORIES]


@pytest.fixture(scope="session")
def fake_embedder():
    """The deterministic test embedder (``fake-hash.v1``): no model, no download."""
    from pipeline.embed import get_embedder

    return get_embedder("fake-hash.v1")


@pytest.fixture(scope="session")
def fake_config():
    """Every default, but the fake embedder and 3 seeds (fast)."""
    from pipeline.core.config import load_config

    return load_config(None, {"embed.model": "fake-hash.v1", "themes.n_seeds": 3})


@pytest.fixture(scope="session")
def fitted_pipeline(tiny_texts, tiny_categories, fake_config):
    """One Pipeline fitted on the tiny corpus, in memory (nothing written)."""
    from pipeline import Pipeline

    return Pipeline(fake_config).fit(tiny_texts, categories=tiny_categories)


# --- a completed run of a small survey (fake embedder), for the workspace and export tests -------------------------

@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """One completed run of tests/workspace/survey.py's survey: {"root", "corpus", "out", "models", "config"}."""
    from tests.workspace.survey import run_corpus, write_corpus

    root = tmp_path_factory.mktemp("ws")
    write_corpus(root)
    config = run_corpus(root)
    return {"root": root, "corpus": root / "corpus", "out": root / "outputs" / "corpus", "models": root / "models",
            "config": config}


@pytest.fixture
def fresh_run(finished_run, tmp_path):
    """A copy of the finished run (corpus, outputs, models, cache) that a test may edit."""
    import shutil

    from pipeline.core.config import load_config

    for name in ("corpus", "outputs", "models", "cache"):
        if (finished_run["root"] / name).exists():
            shutil.copytree(finished_run["root"] / name, tmp_path / name)
    toml = tmp_path / "corpus" / "pipeline.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(finished_run["root"].as_posix(), tmp_path.as_posix()),
                    encoding="utf-8")
    return {"root": tmp_path, "corpus": tmp_path / "corpus", "out": tmp_path / "outputs" / "corpus",
            "models": tmp_path / "models", "config": load_config(toml)}
