"""The run directory: one run at a time, written to a staging folder and swapped in whole when complete.

A run writes into ``<parent>/.<name>.new-<run id>/`` (``RunDirectory.path``, the one place the runner writes),
never into the output folder itself. Only when it completes is the staging folder swapped with the output folder,
in one ``renameat2(RENAME_EXCHANGE)`` where Linux offers it (two renames elsewhere; a kill between them is
repaired by the next run). So at every moment the output folder holds either the previous complete run or the new
complete run, and its run.json says which: a re-run that failed or was killed used to leave the previous
report deleted and the tables half-replaced.

What the new run does not write is carried over from the previous folder (``validation/`` with coders' sheets,
files of a checkpoint the run did not reach), except the previous ``report.html``/``report.md``, which would
describe tables that are no longer beside them. A failed run leaves the output folder as it was, and records the
attempt in its run.json (``last_attempt``); with no previous run, run.json says ``failed``.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import secrets
import shutil
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.io.atomic import write_json
from pipeline.io.lock import FolderLock, describe

RUN_STATUS_FILE = "run.json"
# Outputs that claim a finished run. Never carried over to a run that did not write them: the tables beside them
# are new, so a report left from the previous run would describe files that no longer match it.
REPORT_FILES = ("report.html", "report.md")


def new_run_id() -> str:
    """A sortable, practically unique id: UTC start time plus a random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def read_run_status(out_dir: str | Path) -> dict[str, Any] | None:
    """The parsed ``run.json`` of ``out_dir``, or None if there is none (or it is unreadable)."""
    try:
        status = json.loads((Path(out_dir) / RUN_STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


class RunDirectory:
    """Context manager for one run's output folder (see the module docstring).

    On enter: the folder's lock (``pipeline.io.lock``; a second run gets a one-line error naming the holder),
    repair of what a killed run left, and the staging folder with run.json ``running``. On a clean exit: run.json
    ``complete`` with ``finished`` and ``files`` (what this run wrote), then the swap. On an exception: the staging
    folder is removed and the attempt recorded; the exception still propagates. ``corpus`` (the corpus folder)
    is recorded in run.json; ``same_corpus`` makes a folder holding another corpus's run an error.
    """

    def __init__(self, out_dir: str | Path, run_id: str | None = None, corpus: str | Path | None = None,
                 same_corpus: bool = False):
        self.out_dir = Path(out_dir)
        self.run_id = run_id or new_run_id()
        self.corpus = str(Path(corpus).resolve()) if corpus is not None else None
        self.same_corpus = same_corpus
        self.started_: str | None = None
        self.status_: dict[str, Any] | None = None
        self.notes: list[str] = []  # one line each: what was repaired on enter
        self._staging: Path | None = None
        self._lock: FolderLock | None = None
        self._written: list[str] = []

    @property
    def path(self) -> Path:
        """Where this run writes its files: the staging folder while the run is on."""
        return self._staging if self._staging is not None else self.out_dir

    @property
    def status_path(self) -> Path:
        return self.out_dir / RUN_STATUS_FILE

    def __enter__(self) -> "RunDirectory":
        check_out_dir(self.out_dir, self.corpus)
        self._lock = FolderLock(self.out_dir, self.run_id).acquire()
        try:
            if self._lock.stale_:
                self.notes.append(f"a previous run did not finish ({describe(self._lock.stale_)}); its leftovers "
                                  "were removed")
            self.notes += recover(self.out_dir)
            self._check_corpus(read_run_status(self.out_dir))
            self.started_ = _now()
            staging = self.out_dir.parent / f".{self.out_dir.name}.new-{self.run_id}"
            _mkdir(staging, self.out_dir)
            self._staging = staging
            self._write_status(staging, {"status": "running", "started": self.started_, "pid": os.getpid(),
                                         "host": socket.gethostname()})
        except BaseException:
            self._abandon()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None:
                try:
                    self._complete({"started": self.started_, "finished": _now()})
                except BaseException as failure:  # the swap itself failed (a full disk): the folder is unchanged
                    self._record_failure(type(failure), failure)
                    raise
            else:
                self._record_failure(exc_type, exc)
        finally:
            self._abandon()
        return False

    def files_written(self) -> list[str]:
        """Names (relative, posix) of the visible files this run wrote."""
        return list(self._written) if self._written else _visible_files(self.path)

    def _moved_with_outputs(self, previous: dict[str, Any]) -> bool:
        """True when the project was moved or copied whole (corpus and outputs together): the corpus recorded
        relative to the output folder is this run's corpus, so the outputs are its own."""
        relative = previous.get("corpus_from_out")
        return bool(relative) and (self.out_dir / relative).resolve() == Path(self.corpus)

    def _check_corpus(self, previous: dict[str, Any] | None) -> None:
        other = (previous or {}).get("corpus")
        if self.corpus and other and other != self.corpus and not self._moved_with_outputs(previous):
            message = (f"this folder holds the outputs of another corpus folder with the same name ({other}); "
                       "pass --out to write this corpus's outputs elsewhere")
            if self.same_corpus:
                raise PipelineError(message, file=str(self.out_dir))
            self.notes.append(f"{self.out_dir}: replacing the outputs of another corpus folder ({other})")

    def _complete(self, finished: dict[str, Any]) -> None:
        staging = self._staging
        assert staging is not None
        self._written = _visible_files(staging)
        self._write_status(staging, {"status": "complete", **finished, "files": self._written})
        carry_over(self.out_dir, staging)
        swap_in(staging, self.out_dir)
        self._staging = None

    def _record_failure(self, exc_type: type, exc: BaseException | None) -> None:
        fields = {"status": "failed", "started": self.started_, "finished": _now(),
                  "error": " ".join(str(exc).split()) or exc_type.__name__, "error_type": exc_type.__name__}
        previous = read_run_status(self.out_dir)
        try:
            if previous and previous.get("status") == "complete":
                self.status_ = {**previous, "last_attempt": {"run_id": self.run_id, **fields}}  # still the previous run
                write_json(self.status_path, self.status_)
            else:
                self._write_status(self.out_dir, fields)
        except OSError:  # the disk that failed the run may refuse this too; the run's own error matters more
            pass

    def _write_status(self, folder: Path, fields: dict[str, Any]) -> None:
        where = {"corpus": self.corpus, "corpus_from_out": os.path.relpath(self.corpus, self.out_dir.resolve())} \
            if self.corpus else {}
        self.status_ = {"run_id": self.run_id, **fields, **where}
        write_json(folder / RUN_STATUS_FILE, self.status_)

    def _abandon(self) -> None:
        try:
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)
                self._staging = None
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None


def check_out_dir(out_dir: Path, corpus: str | None = None) -> None:
    """A clear user error for an output folder that is a file, lies below a file, or cannot be written; and for
    one the swap must not replace: the working folder or one holding it or the corpus, or a folder of other files
    that is not an output folder of this tool."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PipelineError("the output folder is a file; give a folder (or move the file away)", file=str(out_dir))
    resolved = out_dir.resolve()
    for inside, what in ((Path.cwd().resolve(), "the working folder"), (Path(corpus) if corpus else None, "the corpus")):
        if inside is not None and (inside == resolved or resolved in inside.parents):
            raise PipelineError(f"the output folder must not be or hold {what}: a run replaces its output folder "
                                "whole; pass another --out", file=str(out_dir))
    if out_dir.is_dir() and not (out_dir / RUN_STATUS_FILE).exists() and \
            any(not p.name.endswith(".tmp") for p in out_dir.iterdir()):
        raise PipelineError("the output folder holds other files and no run.json, so it is not an output folder "
                            "of `pipeline`; give a new or empty folder", file=str(out_dir))
    for parent in out_dir.parents:
        if parent.exists():
            if not parent.is_dir():
                raise PipelineError(f"the output folder cannot be made: {parent} is a file", file=str(out_dir))
            break
    _mkdir(out_dir.parent, out_dir)


def _mkdir(folder: Path, out_dir: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PipelineError(f"cannot write the output folder ({exc.strerror or exc})", file=str(out_dir)) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PipelineError("cannot write the output folder (permission denied)", file=str(out_dir))


def recover(out_dir: Path) -> list[str]:
    """Repair what a run killed mid-swap left beside ``out_dir`` (held under its lock): restore the output folder
    if it is missing, then remove every staging and displaced folder. Returns one note per repair."""
    notes = []
    leftovers = sorted(out_dir.parent.glob(f".{out_dir.name}.new-*")) + sorted(out_dir.parent.glob(
        f".{out_dir.name}.old-*"))
    if not out_dir.exists():
        complete = [p for p in leftovers if ".new-" in p.name and (read_run_status(p) or {}).get("status") == "complete"]
        previous = [p for p in leftovers if ".old-" in p.name]
        chosen = (complete or previous or [None])[-1]
        if chosen is not None:
            os.rename(chosen, out_dir)
            leftovers.remove(chosen)
            notes.append(f"{out_dir}: restored the {'new' if chosen in complete else 'previous'} complete run a "
                         "killed run left beside it")
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    for leftover in out_dir.glob(".*.tmp") if out_dir.is_dir() else []:
        leftover.unlink(missing_ok=True)  # an atomic write killed before its rename
    return notes


def carry_over(out_dir: Path, staging: Path) -> None:
    """Hard-link (else copy) into ``staging`` every entry of ``out_dir`` the new run did not write, except run.json
    and the previous report."""
    if not out_dir.is_dir():
        return
    for entry in sorted(out_dir.iterdir()):
        target = staging / entry.name
        if entry.name in (RUN_STATUS_FILE, *REPORT_FILES) or entry.name.endswith(".tmp"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            if target.exists():
                carry_over(entry, target)
            else:
                shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        elif not target.exists() and not target.is_symlink():
            _link_or_copy(entry, target)


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def swap_in(staging: Path, out_dir: Path) -> None:
    """Make ``staging`` the output folder, atomically where the system can exchange two folders."""
    if not out_dir.exists():
        os.rename(staging, out_dir)
    elif _exchange(staging, out_dir):
        shutil.rmtree(staging, ignore_errors=True)  # now the previous run
    else:
        displaced = out_dir.parent / f".{out_dir.name}.old-{staging.name.rsplit('.new-', 1)[-1]}"
        os.rename(out_dir, displaced)
        os.rename(staging, out_dir)  # a kill between the two renames is repaired by ``recover``
        shutil.rmtree(displaced, ignore_errors=True)
    _fsync_folder(out_dir.parent)


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths in one atomic step (Linux >= 3.15); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(b))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _visible_files(folder: Path) -> list[str]:
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        hidden = any(part.startswith(".") for part in relative.parts)
        if not hidden and relative.name != RUN_STATUS_FILE and path.is_file():
            files.append(relative.as_posix())
    return files


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
