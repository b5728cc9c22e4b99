"""Ingest: read every answer file in a corpus folder into ``Answer`` records (and a ledger entry for each unusable one).

Every record read from a file becomes exactly one ``Answer`` or one ``LedgerEntry`` (DROPPED, reason
"unreadable", "too-long", or "not-an-answer" for Markdown headings and rules), so nothing is lost silently.
Blank answers are kept here; the clean stage marks them.

Row numbers (``Answer.row``, the ``row`` in ``answer_id = "<file>:<row>"``) are 1-based:

- CSV/TSV/XLSX: the data row, not counting the header, so the first row under the header is 1. Blank lines and
  blank sheet rows are not answers but still count, so row ``r`` is spreadsheet row ``r + 1`` for a header on row 1.
- JSONL: the line number. TXT/MD: the line on which the answer starts.

Columns (CSV/TSV/XLSX/JSONL): ``ingest.text_column``/``id_column`` when set (exact, then case-insensitive match);
otherwise the id column is found by name (``ID_COLUMN_NAMES``) and the text column is the non-numeric column with
the longest mean text, preferring columns whose values mostly differ over a repeated question or closed answer.
Rating columns go to ``Answer.ratings`` under the requested name, all other columns to ``Answer.meta``.

Encodings: UTF-8 (BOM or not), UTF-16 with a BOM, mostly-UTF-8 files with stray cp1252 bytes, else cp1252; every
guess other than UTF-8 is a warning. ``ingest.encoding`` overrides the guess.
"""
from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipeline.core.config import IngestConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import DROPPED, Answer, LedgerEntry, SourceFile
from pipeline.ingest.columns import choose_columns
from pipeline.ingest.readers import Table, read_table

FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".txt": "txt", ".md": "md"}
CONVERSION_HINTS = {
    ".xls": "save it as .xlsx or .csv", ".ods": "save it as .xlsx or .csv", ".json": "write one object per line as .jsonl",
    ".docx": "save the answers as .txt", ".doc": "save the answers as .txt", ".pdf": "copy the answers into a .txt file",
}
SKIPPED_NAMES = frozenset({"pipeline.toml", "categories.yaml", "labels.yaml"})
SKIPPED_SUFFIXES = (".sqlite", ".sqlite-journal")  # the workspace's edit store beside labels.yaml (pipeline serve)
MAX_DUPLICATE_WARNINGS = 20


@dataclass(frozen=True)
class IngestResult:
    answers: list[Answer]
    ledger: list[LedgerEntry]  # DROPPED entries for records read but unusable (unreadable, too-long, not-an-answer)
    files: list[SourceFile]  # n_answers = records read from the file (answers + dropped)
    warnings: list[str]  # one line each, "file:row: message" or "file: message"



def read_corpus(
    corpus_dir: str | Path, config: IngestConfig, rating_columns: Sequence[str] = ()
) -> IngestResult:
    """Read every supported file under ``corpus_dir`` (recursively, in sorted order).

    ``rating_columns`` (usually the ``rating_column`` of each category) are added to ``config.rating_columns``.
    Raises ``PipelineError`` for a missing corpus folder, a folder without answer files, or a configured text
    column a file lacks. Problems with single records or files become warnings.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        problem = "corpus folder not found" + (" (this is a file; give the folder holding it)" if root.exists() else "")
        raise PipelineError(problem, file=str(corpus_dir))
    wanted_ratings = list(dict.fromkeys([*config.rating_columns, *rating_columns]))
    answers: list[Answer] = []
    ledger: list[LedgerEntry] = []
    files: list[SourceFile] = []
    warnings: list[str] = []
    unsupported: list[str] = []
    id_from_column: set[str] = set()  # answer_ids whose respondent id came from an id column
    for path in _corpus_files(root):
        rel = path.relative_to(root).as_posix()
        display = (Path(corpus_dir) / rel).as_posix()
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            unsupported.append(rel)
            hint = CONVERSION_HINTS.get(path.suffix.lower(), f"supported: {', '.join(FORMATS)}")
            warnings.append(f"{display}: unsupported file type '{path.suffix or path.name}' ({hint}); skipped")
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            warnings.append(f"{display}: cannot read ({exc.strerror or exc}); skipped")
            continue
        table, encoding, problems = read_table(path, data, fmt, config)
        warnings.extend(f"{display}: {problem}" for problem in problems)
        n_read = 0
        if table is not None:  # None: unreadable as a whole, already warned
            got, dropped, notes, with_ids = _build_answers(table, rel, display, path.stem, config, wanted_ratings)
            answers += got
            ledger += dropped
            warnings += notes
            id_from_column |= with_ids
            n_read = len(got) + len(dropped)
            if n_read == 0:
                warnings.append(f"{display}: no answers")
        files.append(SourceFile(rel, fmt, hashlib.sha256(data).hexdigest(), n_read, encoding))
    if not files:
        found = f"; found only unsupported files: {', '.join(unsupported)}" if unsupported else ""
        kinds = ", ".join(FORMATS)
        raise PipelineError(f"no answer files ({kinds}) in the corpus folder{found}", file=str(corpus_dir))
    warnings += _duplicate_warnings(answers, id_from_column, Path(corpus_dir))
    return IngestResult(answers, ledger, files, warnings)


def _corpus_files(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in names:
            lowered = name.lower()
            # "~$" files are Excel's lock files for a workbook that is open.
            if (name.startswith((".", "~$")) or lowered in SKIPPED_NAMES or lowered.startswith("readme")
                    or lowered.endswith(SKIPPED_SUFFIXES)):
                continue
            found.append(Path(folder) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _build_answers(
    table: Table, rel: str, display: str, stem: str, config: IngestConfig, wanted_ratings: Sequence[str]
) -> tuple[list[Answer], list[LedgerEntry], list[str], set[str]]:
    if table.free_text:
        text_column, id_column, ratings, notes = "text", None, {}, []
    else:
        text_column, id_column, ratings, notes = choose_columns(table, display, config, wanted_ratings)
    used = {text_column, id_column, *ratings.values()}
    answers: list[Answer] = []
    ledger: list[LedgerEntry] = []
    with_ids: set[str] = set()
    for record in table.records:
        answer_id = f"{rel}:{record.row}"
        values = record.values or {}
        respondent_id = values.get(id_column, "").strip() if id_column else ""
        if respondent_id:
            with_ids.add(answer_id)
        else:
            respondent_id = f"{stem}-{record.row}"
        text = values.get(text_column, "") if text_column else ""
        if record.values is None:
            reason, detail = record.reason, record.problem
        elif len(text) > config.max_chars:
            reason, detail = "too-long", f"{len(text):,} characters, over ingest.max_chars ({config.max_chars:,})"
        else:
            meta = {column: value for column, value in values.items() if column not in used}
            rating_values = {name: values.get(column, "") for name, column in ratings.items()}
            answers.append(Answer(answer_id, rel, record.row, respondent_id, text, rating_values, meta))
            continue
        ledger.append(LedgerEntry(answer_id, rel, record.row, respondent_id, DROPPED, reason, detail))
        if reason != "not-an-answer":  # headings are expected structure: listed in the ledger, not warned about
            notes.append(f"{display}:{record.row}: {detail}; dropped as {reason}")
    return answers, ledger, notes, with_ids


def _duplicate_warnings(answers: list[Answer], id_from_column: set[str], corpus_dir: Path) -> list[str]:
    """One warning per respondent id that labels more than one answer (the answers are all kept)."""
    by_id: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        if answer.answer_id in id_from_column:
            by_id[answer.respondent_id].append(answer)
    repeated = [(rid, group) for rid, group in by_id.items() if len(group) > 1]
    notes = []
    for rid, group in repeated[:MAX_DUPLICATE_WARNINGS]:
        first, others = group[0], group[1:]
        listed = ", ".join(a.answer_id for a in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        notes.append(f"{(corpus_dir / first.file).as_posix()}:{first.row}: respondent id '{rid}' also labels "
                     f"{listed}; answers kept")
    if len(repeated) > MAX_DUPLICATE_WARNINGS:
        notes.append(f"{corpus_dir.as_posix()}: {len(repeated) - MAX_DUPLICATE_WARNINGS} more respondent ids "
                     "label more than one answer")
    return notes
