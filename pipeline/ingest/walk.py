"""Which files of a corpus folder are read, and why each other one is not.

Read: regular files with a supported extension, recursively, in sorted order. Skipped *silently*, because they are
never answers: hidden files and folders, Excel's ``~$`` lock files, README files and the project files
(pipeline.toml, categories.yaml, labels.yaml). Not read, *with a warning*: this tool's own output and model folders
(they hold run.json, or state.json + fingerprint.txt), which a run from inside the corpus would otherwise read back
as answers (220 answers became 677 on the second `pipeline ingest .`). Skipped *and listed in ledger.csv*: symbolic
links (never followed: a link could lead anywhere, /dev/zero included), anything that is not a regular file (a FIFO
would hang the run), and unsupported file types.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".txt": "txt", ".md": "md"}
CONVERSION_HINTS = {
    ".xls": "save it as .xlsx or .csv", ".ods": "save it as .xlsx or .csv", ".json": "write one object per line as .jsonl",
    ".docx": "save the answers as .txt", ".doc": "save the answers as .txt", ".pdf": "copy the answers into a .txt file",
}
# coded.csv: the analyst's codes per segment (`pipeline code`, validate.coded_file), never answers
SKIPPED_NAMES = frozenset({"pipeline.toml", "categories.yaml", "labels.yaml", "coded.csv"})
# the workspace's edit store beside labels.yaml (pipeline serve), with SQLite's side files
SKIPPED_SUFFIXES = (".sqlite", ".sqlite-journal", ".sqlite-wal", ".sqlite-shm")
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


@dataclass(frozen=True)
class Skipped:
    """A file (or linked folder) of the corpus that is not read: listed in ledger.csv with ``detail``."""

    path: str  # relative to the corpus folder, posix
    detail: str


@dataclass
class Walk:
    files: list[Path]  # to read, sorted by relative path
    skipped: list[Skipped]
    notes: list[str]  # warnings about folders not read (output and model folders)


def walk_corpus(root: Path, exclude: Iterable[Path] = ()) -> Walk:
    """The files of ``root`` to read; ``exclude``: folders never read (this run's output, model and cache folders)."""
    excluded = {_resolved(path) for path in exclude}
    walk = Walk([], [], [])
    for folder, subfolders, names in os.walk(root):
        base = Path(folder)
        keep = []
        for name in sorted(subfolders):
            path = base / name
            rel = path.relative_to(root).as_posix()
            if name.startswith("."):
                continue
            if path.is_symlink():
                walk.skipped.append(Skipped(rel + "/", f"a symbolic link to a folder ({_target(path)}); links are "
                                            "not followed: copy the folder in, or give its target as the corpus"))
            elif _resolved(path) in excluded or _is_output_folder(path):
                walk.notes.append(f"{(root / rel).as_posix()}: an output or model folder of `pipeline`; not read as "
                                  "answers")
            else:
                keep.append(name)
        subfolders[:] = keep
        for name in names:
            lowered = name.lower()
            # "~$" files are Excel's lock files for a workbook that is open.
            if (name.startswith((".", "~$")) or lowered in SKIPPED_NAMES or lowered.startswith("readme")
                    or lowered.endswith(SKIPPED_SUFFIXES)):
                continue
            path = base / name
            problem = _not_readable(path)
            if problem:
                walk.skipped.append(Skipped(path.relative_to(root).as_posix(), problem))
            else:
                walk.files.append(path)
    walk.files.sort(key=lambda p: p.relative_to(root).as_posix())
    walk.skipped.sort(key=lambda s: s.path)
    return walk


def _not_readable(path: Path) -> str:
    """Why ``path`` is not read as answers, or "" when it is."""
    try:
        info = path.lstat()
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode):
        return (f"a symbolic link ({_target(path)}); links are not followed: copy the file into the corpus folder "
                "instead")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        return f"{kind}, not a file of answers"
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        hint = CONVERSION_HINTS.get(suffix, f"supported: {', '.join(FORMATS)}")
        return f"unsupported file type '{path.suffix or path.name}' ({hint})"
    return ""


def _target(path: Path) -> str:
    try:
        return "to " + os.readlink(path)
    except OSError:
        return "target unknown"


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(os.path.abspath(path))


def _is_output_folder(path: Path) -> bool:
    """A run folder (run.json with a run id and status) or a saved theme model (state.json + fingerprint.txt)."""
    if (path / "state.json").is_file() and (path / "fingerprint.txt").is_file():
        return True
    try:
        status = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(status, dict) and "run_id" in status and "status" in status
