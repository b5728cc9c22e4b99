"""The run directory's status file (run.json): running / complete / failed, and the id of the run."""
from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.io.atomic import write_json

RUN_STATUS_FILE = "run.json"
# Outputs that claim a finished run. They are removed when a new run starts: the tables beside them are about to
# be overwritten, so a report left from the previous run would describe files that no longer match it.
REPORT_FILES = ("report.html", "report.md")


def new_run_id() -> str:
    """A sortable, practically unique id: UTC start time plus a random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def read_run_status(out_dir: str | Path) -> dict[str, Any] | None:
    """The parsed ``run.json`` of ``out_dir``, or None if there is none (or it is unreadable)."""
    try:
        return json.loads((Path(out_dir) / RUN_STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class RunDirectory:
    """Context manager recording a run's status in ``<out_dir>/run.json``.

    On enter: ``{"status": "running", "run_id", "started", "pid"}`` is written first, then any report left by a
    previous run and any temporary file left by a killed write are removed, so at no moment does a report sit
    beside tables from a different run without run.json saying so. Every report carries the ``run_id`` of the
    run that wrote it (``manifest.json`` too), so a reader can check it against run.json.
    On a clean exit: ``"complete"`` with ``finished`` and ``files`` (what this run wrote, by name).
    On an exception: ``"failed"`` with ``error`` (one line); the exception still propagates.
    A run killed outright (SIGKILL, power loss) leaves ``"running"`` with no live ``pid``.
    """

    def __init__(self, out_dir: str | Path, run_id: str | None = None):
        self.out_dir = Path(out_dir)
        self.run_id = run_id or new_run_id()
        self.started_: str | None = None
        self.status_: dict[str, Any] | None = None
        self._before: dict[Path, tuple[int, int]] = {}

    @property
    def path(self) -> Path:
        """Where this run writes its files."""
        return self.out_dir

    @property
    def status_path(self) -> Path:
        return self.out_dir / RUN_STATUS_FILE

    def __enter__(self) -> "RunDirectory":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Atomic writes replace the inode, so (inode, mtime) tells what this run wrote without trusting clocks.
        self._before = {path: _identity(path) for path in self._visible_files()}
        self.started_ = _now()
        self._write_status({"status": "running", "started": self.started_, "pid": os.getpid()})
        for name in REPORT_FILES:
            (self.out_dir / name).unlink(missing_ok=True)
        for leftover in self.out_dir.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        finished = {"started": self.started_, "finished": _now()}
        if exc_type is None:
            self._write_status({"status": "complete", **finished, "files": self.files_written()})
        else:
            message = " ".join(str(exc).split()) or exc_type.__name__
            self._write_status({"status": "failed", **finished, "error": message, "error_type": exc_type.__name__})
        return False

    def files_written(self) -> list[str]:
        """Names (relative, posix) of the visible files under out_dir that this run created or replaced."""
        return [path.relative_to(self.out_dir).as_posix() for path in self._visible_files()
                if self._before.get(path) != _identity(path)]

    def _visible_files(self) -> list[Path]:
        files = []
        for path in sorted(self.out_dir.rglob("*")):
            relative = path.relative_to(self.out_dir)
            hidden = any(part.startswith(".") for part in relative.parts)
            if not hidden and relative.name != RUN_STATUS_FILE and path.is_file():
                files.append(path)
        return files

    def _write_status(self, fields: dict[str, Any]) -> None:
        self.status_ = {"run_id": self.run_id, **fields}
        write_json(self.status_path, self.status_)


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
