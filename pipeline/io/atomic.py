"""Atomic output writing: a crashed or interrupted run never leaves a half-written file that looks complete.

Files are created with the permissions the user's umask gives (0644 under umask 022, 0640 under 027), like any
other program's output: ``tempfile.mkstemp`` alone makes them 0600, so a colleague in the same group got
"Permission denied" on report.html. A write that fails (a full disk, a vanished device) raises
``OutputWriteError``, a user error naming the file, and leaves the previous file in place.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from pipeline.core.errors import PipelineError
from pipeline.io.csv_safe import neutralise


class OutputWriteError(PipelineError, OSError):
    """A file could not be written (disk full, read-only, permission): the user's environment, not a bug."""


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux: /proc), since setting it to
    read it back races with other threads creating files."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it into place (atomic on POSIX)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputWriteError(f"cannot write ({exc.strerror or exc})", file=str(path)) from exc
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # what open() would have given it
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, PipelineError):
            raise OutputWriteError(f"cannot write ({exc.strerror or exc})", file=str(path)) from exc
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> None:
    """Write dict rows as UTF-8 CSV; ``columns`` fixes the header (needed when ``rows`` may be empty). Every text
    cell is neutralised against spreadsheet formulas (``pipeline.io.csv_safe``)."""
    rows = list(rows)
    if columns is None:
        columns = list(rows[0].keys()) if rows else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([neutralise(str(column)) for column in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in columns])
    atomic_write_text(path, buffer.getvalue())


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return neutralise("; ".join(str(v) for v in value))
    if isinstance(value, float):
        return "" if value != value else round(value, 6)  # NaN -> empty
    if value is None:
        return ""
    if isinstance(value, int):  # bool too
        return value
    return neutralise(str(value))  # text, and anything the csv module would have written as str(value)
