"""Ingest: read every answer file in a corpus folder into ``Answer`` records, and categories.yaml into ``Category``.

Every record read from a file becomes exactly one ``Answer`` or one ``LedgerEntry`` (DROPPED, reason
"unreadable", "too-long", or "not-an-answer" for Markdown headings, rules and note sheets), so nothing is lost
silently. A file that is not read at all (a link, a FIFO, an unsupported type, a damaged workbook) gets one ledger
entry of its own, with row 0 (``FILE_ROW``) and reason "skipped-file" or "unreadable-file". Blank answers are kept
here; the clean stage marks them.

Row numbers (``Answer.row``, the ``row`` in ``answer_id = "<file>:<row>"``) are 1-based:

- CSV/TSV/XLSX: the data row, not counting the header, so the first row under the header is 1. Blank lines and
  blank sheet rows are not answers but still count, so row ``r`` is spreadsheet row ``r + 1`` for a header on row 1.
- JSONL: the line number. TXT/MD: the line on which the answer starts.

A workbook with more than one sheet with content names the sheet in the file: ``book.xlsx[Sheet 2]:4`` is data
row 4 of sheet "Sheet 2" (Excel forbids ``[`` and ``]`` in sheet names, so this cannot be misread).

Columns (CSV/TSV/XLSX/JSONL): ``ingest.text_column``/``id_column`` when set (exact, then case-insensitive match);
otherwise the id column is found by name (``ID_COLUMN_NAMES``) and the text column is the non-numeric column with
the longest mean text, preferring columns whose values mostly differ over a repeated question or closed answer.
Rating columns go to ``Answer.ratings`` under the requested name, all other columns to ``Answer.meta``.

Encodings: UTF-8 (BOM or not), UTF-16 with or without a BOM, mostly-UTF-8 files with stray cp1252 bytes, else
cp1252; every guess other than UTF-8 is a warning. ``ingest.encoding`` overrides the guess.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.core.config import IngestConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import DROPPED, FILE_ROW, Answer, LedgerEntry, SourceFile
from pipeline.ingest.columns import choose_columns
from pipeline.ingest.readers import Table, read_table
from pipeline.ingest.respondents import respondent_warnings
from pipeline.ingest.walk import FORMATS, walk_corpus


@dataclass(frozen=True)
class IngestResult:
    answers: list[Answer]
    ledger: list[LedgerEntry]  # DROPPED entries: records read but unusable, and files not read (row FILE_ROW)
    files: list[SourceFile]  # n_answers = records read from the file (answers + dropped)
    warnings: list[str]  # one line each, "file:row: message" or "file: message"
    sources: dict[str, int] = field(default_factory=dict)  # file (or file[sheet]) -> records its reader returned


@dataclass
class _Collected:
    answers: list[Answer] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    with_ids: set[str] = field(default_factory=set)  # answer_ids whose respondent id came from an id column


def read_corpus(corpus_dir: str | Path, config: IngestConfig, rating_columns: Sequence[str] = (),
                exclude: Iterable[Path] = ()) -> IngestResult:
    """Read every supported file under ``corpus_dir`` (recursively, in sorted order).

    ``rating_columns`` (usually the ``rating_column`` of each category) are added to ``config.rating_columns``;
    ``exclude``: folders never read (the run's own output, model and cache folders, when inside the corpus).
    Raises ``PipelineError`` for a missing corpus folder, a folder without answer files, or a configured text
    column a file lacks. Problems with single records or files become warnings.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        problem = "corpus folder not found" + (" (this is a file; give the folder holding it)" if root.exists() else "")
        raise PipelineError(problem, file=str(corpus_dir))
    wanted_ratings = list(dict.fromkeys([*config.rating_columns, *rating_columns]))
    walk = walk_corpus(root, exclude)
    out = _Collected(warnings=list(walk.notes))
    for skipped in walk.skipped:
        out.warnings.append(f"{(Path(corpus_dir) / skipped.path).as_posix()}: {skipped.detail}; skipped")
        out.ledger.append(_file_entry(skipped.path, "skipped-file", skipped.detail))
    for path in walk.files:
        _read_file(path, root, Path(corpus_dir), config, wanted_ratings, out)
    if not out.files:
        unsupported = [s.path for s in walk.skipped if "unsupported" in s.detail]
        found = f"; found only unsupported files: {', '.join(unsupported)}" if unsupported else ""
        kinds = ", ".join(FORMATS)
        raise PipelineError(f"no answer files ({kinds}) in the corpus folder{found}", file=str(corpus_dir))
    answers, ledger, notes = respondent_warnings(out.answers, out.ledger, out.with_ids, Path(corpus_dir))
    return IngestResult(answers, ledger, out.files, out.warnings + notes, out.sources)


def _file_entry(rel: str, reason: str, detail: str) -> LedgerEntry:
    return LedgerEntry(f"{rel}:{FILE_ROW}", rel, FILE_ROW, "", DROPPED, reason, detail)


def _read_file(path: Path, root: Path, corpus_dir: Path, config: IngestConfig, wanted_ratings: Sequence[str],
               out: _Collected) -> None:
    rel = path.relative_to(root).as_posix()
    display = (corpus_dir / rel).as_posix()
    fmt = FORMATS[path.suffix.lower()]
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.warnings.append(f"{display}: cannot read ({exc.strerror or exc}); skipped")
        out.ledger.append(_file_entry(rel, "unreadable-file", f"cannot read ({exc.strerror or exc})"))
        return
    tables, encoding, problems = read_table(path, data, fmt, config)
    if tables is None:  # unreadable as a whole
        out.warnings += [f"{display}: {problem}" for problem in problems[:-1]]
        out.warnings.append(f"{display}: {problems[-1]}; skipped (listed in ledger.csv as unreadable-file)")
        out.ledger.append(_file_entry(rel, "unreadable-file", problems[-1]))
        out.sources[rel] = 0
        out.files.append(SourceFile(rel, fmt, hashlib.sha256(data).hexdigest(), 0, encoding))
        return
    out.warnings += [f"{display}: {problem}" for problem in problems]
    n_read = 0
    for table in tables:
        label = f"{rel}[{table.sheet}]" if len(tables) > 1 else rel
        shown = f"{display}[{table.sheet}]" if len(tables) > 1 else display
        out.warnings += [f"{shown}: {note}" for note in table.notes]
        got, dropped, notes, with_ids = _build_answers(table, label, shown, path.stem, config, wanted_ratings)
        out.answers += got
        out.ledger += dropped
        out.warnings += notes
        out.with_ids |= with_ids
        out.sources[label] = len(table.records)
        n_read += len(got) + len(dropped)
    if not tables:
        out.sources[rel] = 0
    if n_read == 0:
        out.warnings.append(f"{display}: no answers")
    out.files.append(SourceFile(rel, fmt, hashlib.sha256(data).hexdigest(), n_read, encoding))


def _build_answers(
    table: Table, label: str, display: str, stem: str, config: IngestConfig, wanted_ratings: Sequence[str]
) -> tuple[list[Answer], list[LedgerEntry], list[str], set[str]]:
    if table.free_text:
        text_column, id_column, ratings, notes = "text", None, {}, []
    elif not table.columns:  # a note sheet: every record is already "not-an-answer"
        text_column, id_column, ratings, notes = None, None, {}, []
    else:
        text_column, id_column, ratings, notes = choose_columns(table, display, config, wanted_ratings)
    used = {text_column, id_column, *ratings.values()}
    answers: list[Answer] = []
    ledger: list[LedgerEntry] = []
    with_ids: set[str] = set()
    uncomputed: dict[str, list[int]] = {}  # column -> rows whose formula has no saved value (not the text)
    for record in table.records:
        answer_id = f"{label}:{record.row}"
        values = record.values or {}
        respondent_id = values.get(id_column, "").strip() if id_column else ""
        if respondent_id:
            with_ids.add(answer_id)
        else:
            respondent_id = f"{stem}-{record.row}"
        text = values.get(text_column, "") if text_column else ""
        for column in record.formulas:
            if column != text_column:
                uncomputed.setdefault(column, []).append(record.row)
        if record.note:
            notes.append(f"{display}:{record.row}: {record.note}")
        if record.values is None:
            reason, detail = record.reason, record.problem
        elif text_column in record.formulas:
            reason, detail = "unreadable", (f"the answer cell is a formula ({record.formulas[text_column][:60]}) "
                                            "the workbook never calculated, so it has no value; open the workbook "
                                            "in Excel, save it, and run again")
        elif len(text) > config.max_chars:
            reason, detail = "too-long", f"{len(text):,} characters, over ingest.max_chars ({config.max_chars:,})"
        else:
            meta = {column: value for column, value in values.items() if column not in used}
            rating_values = {name: values.get(column, "") for name, column in ratings.items()}
            answers.append(Answer(answer_id, label, record.row, respondent_id, text, rating_values, meta))
            continue
        ledger.append(LedgerEntry(answer_id, label, record.row, respondent_id, DROPPED, reason, detail))
        if reason != "not-an-answer":  # headings are expected structure: listed in the ledger, not warned about
            notes.append(f"{display}:{record.row}: {detail}; dropped as {reason}")
    for column, rows in uncomputed.items():
        notes.append(f"{display}: column '{column}' has formulas the workbook never calculated (rows "
                     f"{_rows(rows)}), read as empty; open the workbook in Excel, save it, and run again")
    return answers, ledger, notes, with_ids


def _rows(rows: list[int], limit: int = 5) -> str:
    return ", ".join(map(str, rows[:limit])) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
