"""Ingest: read every answer file in a corpus folder into ``Answer`` records, and categories.yaml into ``Category``.

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
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from pipeline.config import IngestConfig
from pipeline.errors import ConfigError, PipelineError
from pipeline.readers import Table, read_table
from pipeline.records import DROPPED, Answer, Category, LedgerEntry, SourceFile

FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".txt": "txt", ".md": "md"}
CONVERSION_HINTS = {
    ".xls": "save it as .xlsx or .csv", ".ods": "save it as .xlsx or .csv", ".json": "write one object per line as .jsonl",
    ".docx": "save the answers as .txt", ".doc": "save the answers as .txt", ".pdf": "copy the answers into a .txt file",
}
SKIPPED_NAMES = frozenset({"pipeline.toml", "categories.yaml", "labels.yaml"})
ID_COLUMN_NAMES = ("respondent_id", "respondent", "id", "response_id", "resp_id")  # in order of preference
MAX_DUPLICATE_WARNINGS = 20
# Text-column detection prefers columns whose values mostly differ, judged once a column has this many values.
MIN_ROWS_TO_JUDGE_VARIETY = 20
MIN_DISTINCT_SHARE = 0.2


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
            if name.startswith((".", "~$")) or lowered in SKIPPED_NAMES or lowered.startswith("readme"):
                continue
            found.append(Path(folder) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


# --- decoding --------------------------------------------------------------------------------------------------

def _find_column(name: str, columns: Sequence[str]) -> str | None:
    if name in columns:
        return name
    folded = {column.strip().casefold(): column for column in reversed(columns)}
    return folded.get(name.strip().casefold())


def _normalised(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _choose_columns(
    table: Table, display: str, config: IngestConfig, wanted_ratings: Sequence[str]
) -> tuple[str | None, str | None, dict[str, str], list[str]]:
    """Return (text column, id column, {requested rating name: column}, notes) for a tabular file.

    Raises ``PipelineError`` if a configured text column is missing or no column could hold free text.
    """
    columns = table.columns
    notes: list[str] = []
    listing = ", ".join(columns) or "(none)"
    ratings = {name: found for name in wanted_ratings if (found := _find_column(name, columns))}
    missing = [name for name in wanted_ratings if name not in ratings]
    if missing:
        notes.append(f"{display}: rating columns not found: {', '.join(missing)} (columns: {listing})")
    if config.id_column:
        id_column = _find_column(config.id_column, columns)
        if id_column is None:
            notes.append(f"{display}: id column '{config.id_column}' not found (columns: {listing}); "
                         "respondent ids are <file>-<row>")
    else:
        by_name = {_normalised(column): column for column in reversed(columns)}
        id_column = next((by_name[name] for name in ID_COLUMN_NAMES if name in by_name), None)
    if config.text_column:
        text_column = _find_column(config.text_column, columns)
        if text_column is None:
            raise PipelineError(f"text column '{config.text_column}' not found; available columns: {listing}",
                                file=display)
        return text_column, id_column, ratings, notes
    readable = [record.values for record in table.records if record.values is not None]
    taken = {id_column, *ratings.values()}
    best, best_key = None, None
    for column in columns:
        values = [values.get(column, "").strip() for values in readable]
        filled = [value for value in values if value]
        if column in taken or not values or (filled and all(_is_number(value) for value in filled)):
            continue
        # A question text or a closed-list answer repeats down its column; free text rarely does.
        varied = len(filled) < MIN_ROWS_TO_JUDGE_VARIETY or len(set(filled)) >= MIN_DISTINCT_SHARE * len(filled)
        key = (varied, sum(map(len, values)) / len(values))
        if best_key is None or key > best_key:
            best, best_key = column, key
    if best is None and readable:
        raise PipelineError(f"no text column found; set ingest.text_column to one of: {listing}", file=display)
    return best, id_column, ratings, notes


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def _build_answers(
    table: Table, rel: str, display: str, stem: str, config: IngestConfig, wanted_ratings: Sequence[str]
) -> tuple[list[Answer], list[LedgerEntry], list[str], set[str]]:
    if table.free_text:
        text_column, id_column, ratings, notes = "text", None, {}, []
    else:
        text_column, id_column, ratings, notes = _choose_columns(table, display, config, wanted_ratings)
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


# --- categories.yaml --------------------------------------------------------------------------------------------

_CATEGORY_KEYS = ("id", "label", "group", "description", "keywords", "rating_column", "residual")


def load_categories(path: str | Path) -> list[Category]:
    """Read the closed categories from ``categories.yaml``; a missing file means no categories.

    Schema: a top-level ``categories:`` list of mappings with ``id`` and ``label`` (required) and ``group``,
    ``description``, ``keywords`` (a list, or one comma-separated string), ``rating_column`` and ``residual``
    (true for an "Other" option; unset = recognised from the label) (optional).
    Entries are numbered from 1 in error messages.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML: {problem}", file=str(path), row=mark.line + 1 if mark else None) from None
    if data is None:
        return []
    if not isinstance(data, dict) or "categories" not in data:
        raise ConfigError("expected a top-level 'categories:' list", file=str(path))
    entries = data["categories"] or []
    if not isinstance(entries, list):
        raise ConfigError("'categories:' must be a list of entries with id and label", file=str(path))
    categories: list[Category] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        categories.append(_category(entry, number, str(path)))
        category_id = categories[-1].category_id
        if category_id in first_seen:
            raise ConfigError(f"category entry {number}: duplicate id '{category_id}' "
                              f"(also entry {first_seen[category_id]})", file=str(path))
        first_seen[category_id] = number
    return categories


def _optional_bool(value: Any, where: str, file: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{where} must be true or false, got {value!r}", file=file)


def _category(entry: Any, number: int, file: str) -> Category:
    where = f"category entry {number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with id and label, got {entry!r}", file=file)
    unknown = [str(key) for key in entry if key not in _CATEGORY_KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}; known keys: {', '.join(_CATEGORY_KEYS)}",
                          file=file)
    for key in ("id", "label"):
        if entry.get(key) is None or not str(entry[key]).strip():
            raise ConfigError(f"{where}: missing '{key}'", file=file)
    keywords = entry.get("keywords") or []
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if not isinstance(keywords, list):
        raise ConfigError(f"{where}: keywords must be a list, got {keywords!r}", file=file)
    rating_column = str(entry.get("rating_column") or "").strip()
    return Category(
        category_id=str(entry["id"]).strip(),
        label=str(entry["label"]).strip(),
        group=str(entry.get("group") or "").strip(),
        description=str(entry.get("description") or "").strip(),
        keywords=tuple(str(k).strip() for k in keywords if str(k).strip()),
        rating_column=rating_column or None,
        residual=_optional_bool(entry.get("residual"), f"{where}: residual", file),
    )
