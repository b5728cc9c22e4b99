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
