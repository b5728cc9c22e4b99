"""The edit store: the analyst's decisions in SQLite (stdlib ``sqlite3``) with an audit trail, mirrored to
labels.yaml.

Where: beside labels.yaml in the corpus folder (``corpus/labels.sqlite`` for the default ``labels_file``). The
decisions belong to the corpus, as labels.yaml does: they must outlive the run folder (``outputs/`` is rebuilt by
every run and removed by ``make clean``), apply to any run of the corpus (``--out`` elsewhere too), and travel with
the corpus when it is copied. Ingest skips ``*.sqlite`` files, so the store is never read as answers.

Schema (``user_version`` 1): the current state mirrors ``LabelsFile`` one table per section, and ``audit`` keeps
every change::

    theme_entries(theme_id PK, label, definition, category, merge_into, noise, memo)
    codes(code_id PK, label, definition)
    recodes(target PK, theme)                     -- target: segment id or answer id; theme: id, 'noise', code id
    splits(theme_id PK, label, definition, category, position)
    split_segments(theme_id -> splits, segment_id, position)
    audit(id PK, at, who, action, target, detail, before, after, run_id)   -- before/after: the labels as JSON
    meta(key PK, value)                           -- labels_sha256: hash of the labels.yaml this store last wrote

labels.yaml stays a first-class route: when the file's hash differs from the one the store last wrote (edited by
hand, or the store is new), :meth:`EditStore.sync_from_file` takes the file as the truth and records an
``import`` in the audit trail. Every edit writes the state and its audit row in one transaction, then rewrites
labels.yaml (atomically).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from pipeline.analyst.labels_dump import dump_labels, labels_data
from pipeline.analyst.labels_file import LabelsFile, ThemeLabel, load_labels
from pipeline.analyst.labels_moves import CodeLabel, Recode, Split
from pipeline.core.errors import PipelineError
from pipeline.io.atomic import atomic_write_text

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS theme_entries (theme_id INTEGER PRIMARY KEY, label TEXT, definition TEXT, category TEXT,
    merge_into INTEGER, noise INTEGER NOT NULL DEFAULT 0, memo TEXT);
CREATE TABLE IF NOT EXISTS codes (code_id TEXT PRIMARY KEY, label TEXT NOT NULL, definition TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS recodes (target TEXT PRIMARY KEY, theme TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS splits (theme_id INTEGER PRIMARY KEY, label TEXT NOT NULL, definition TEXT, category TEXT,
    position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS split_segments (theme_id INTEGER NOT NULL REFERENCES splits(theme_id) ON DELETE CASCADE,
    segment_id TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (theme_id, segment_id));
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, before TEXT, after TEXT, run_id TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
STATE_TABLES = ("split_segments", "splits", "recodes", "codes", "theme_entries")


def store_path(labels_path: Path) -> Path:
    """Where the store of a labels file lives: beside it, ``labels.yaml`` -> ``labels.sqlite``."""
    return labels_path.with_suffix(".sqlite")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


class EditStore:
    """The SQLite edit store of one labels file. ``who`` signs every audit row."""

    def __init__(self, labels_path: str | Path, who: str, run_id: str = ""):
        self.labels_path = Path(labels_path)
        self.path = store_path(self.labels_path)
        self.who = who
        self.run_id = run_id
        try:
            with closing(self._connect()) as db, db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise PipelineError(f"edit store schema {version} is newer than this pipeline's "
                                        f"({SCHEMA_VERSION}); upgrade pipeline", file=str(self.path))
                db.executescript(SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise PipelineError(f"not a readable edit store ({exc})", file=str(self.path)) from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    # ------------------------------------------------------------------ state <-> LabelsFile
    def labels(self) -> LabelsFile:
        with closing(self._connect()) as db:
            return _read_state(db, str(self.labels_path))

    def sync_from_file(self) -> bool:
        """Take labels.yaml as the truth when it changed since the store last wrote it; True if it did."""
        with closing(self._connect()) as db:
            written = db.execute("SELECT value FROM meta WHERE key = 'labels_sha256'").fetchone()
        current = _sha(self.labels_path)
        if written is not None and written[0] == current:
            return False
        from_file = load_labels(self.labels_path)
        before = self.labels()
        if labels_data(from_file) == labels_data(before):  # nothing to import (a new store, no file)
            self._remember_hash(current)
            return False
        detail = (f"{self.labels_path.name} read: it changed outside the workspace" if self.labels_path.is_file()
                  else f"{self.labels_path.name} is gone: edits cleared")
        self._commit("import", self.labels_path.name, detail, before, from_file, write_file=False)
        self._remember_hash(current)
        return True

    def apply(self, action: str, target: str, edit: Callable[[LabelsFile], tuple[LabelsFile, str]]) -> str:
        """Run one edit (a function of ``pipeline.workspace.edits``) on the current labels: state, audit row and
        labels.yaml. Returns the audit line."""
        self.sync_from_file()  # a hand edit made while the workspace was open is not overwritten
        before = self.labels()
        after, detail = edit(before)
        self._commit(action, target, detail, before, after, write_file=True)
        return detail

    def _commit(self, action: str, target: str, detail: str, before: LabelsFile, after: LabelsFile,
                write_file: bool) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            _write_state(db, after)
            db.execute("INSERT INTO audit (at, who, action, target, detail, before, after, run_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (now, self.who, action, target, detail, json.dumps(labels_data(before), default=str),
                        json.dumps(labels_data(after), default=str), self.run_id))
        if write_file:
            text = dump_labels(after, origin=f"Written by `pipeline serve` ({self.path.name} keeps the audit "
                                             f"trail); last edit {now} by {self.who}. Hand edits are welcome.")
            atomic_write_text(self.labels_path, text)
            self._remember_hash(_sha(self.labels_path))

    def _remember_hash(self, sha: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO meta (key, value) VALUES ('labels_sha256', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (sha,))

    def audit(self, limit: int = 500) -> list[dict[str, Any]]:
        """The latest audit rows, newest first."""
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT id, at, who, action, target, detail, run_id FROM audit "
                              "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(row) for row in rows]


def _read_state(db: sqlite3.Connection, path: str) -> LabelsFile:
    themes = {row[0]: ThemeLabel(row[0], row[1], row[2], row[3], row[4], bool(row[5]), None, row[6])
              for row in db.execute("SELECT theme_id, label, definition, category, merge_into, noise, memo "
                                    "FROM theme_entries ORDER BY theme_id")}
    codes = {row[0]: CodeLabel(row[0], row[1], row[2])
             for row in db.execute("SELECT code_id, label, definition FROM codes ORDER BY code_id")}
    recodes = {row[0]: Recode(row[0], int(row[1]) if row[1].isdigit() else row[1])
               for row in db.execute("SELECT target, theme FROM recodes ORDER BY target")}
    members: dict[int, list[str]] = {}
    for theme_id, segment_id in db.execute("SELECT theme_id, segment_id FROM split_segments "
                                           "ORDER BY theme_id, position"):
        members.setdefault(theme_id, []).append(segment_id)
    splits = tuple(Split(row[0], row[1], tuple(members.get(row[0], ())), row[2], row[3])
                   for row in db.execute("SELECT theme_id, label, definition, category FROM splits "
                                         "ORDER BY position"))
    return LabelsFile(path=path, themes=themes, codes=codes, segments=recodes, splits=splits)


def _write_state(db: sqlite3.Connection, labels: LabelsFile) -> None:
    for table in STATE_TABLES:
        db.execute(f"DELETE FROM {table}")
    db.executemany("INSERT INTO theme_entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(e.theme_id, e.label, e.definition, e.category, e.merge_into, int(e.noise), e.memo)
                    for e in labels.themes.values()])
    db.executemany("INSERT INTO codes VALUES (?, ?, ?)",
                   [(c.code_id, c.label, c.definition) for c in labels.codes.values()])
    db.executemany("INSERT INTO recodes VALUES (?, ?)", [(r.target, str(r.theme)) for r in labels.segments.values()])
    for position, split in enumerate(labels.splits):
        db.execute("INSERT INTO splits VALUES (?, ?, ?, ?, ?)",
                   (split.theme_id, split.label, split.definition, split.category, position))
        db.executemany("INSERT INTO split_segments VALUES (?, ?, ?)",
                       [(split.theme_id, s, k) for k, s in enumerate(split.segments)])
