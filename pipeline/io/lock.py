"""One run at a time per folder: an exclusive lock on ``<parent>/.<name>.lock``, naming its holder.

Two runs on the same --out both proceeded: run.json said run A was complete while run B was still writing, and
both wrote the same models/<name>/. The lock is ``flock`` on a file beside the folder (beside, because the folder
itself is replaced at the end of a run): the kernel releases it when its process dies, however it dies, so a lock
left by a run killed with SIGKILL is never stale. The file holds the holder's pid, host, start time and run id, so
the second run's one-line error can name who holds it, and a run that finds a holder's details left behind (the
holder died without releasing) says it recovered from it. Where ``flock`` is not supported (some network file
systems), a recorded holder whose pid is alive on this host is treated as holding the lock.
"""
from __future__ import annotations

import errno
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError

try:
    import fcntl
except ImportError:  # pragma: no cover -- not POSIX
    fcntl = None  # type: ignore[assignment]


def lock_path(folder: Path) -> Path:
    folder = Path(folder)
    return folder.parent / f".{folder.name}.lock"


class FolderLock:
    """``with FolderLock(folder, run_id):`` holds the folder's lock or raises PipelineError naming the holder.

    ``stale_``: the details a dead holder left behind (it did not finish), or None."""

    def __init__(self, folder: str | Path, run_id: str = "", what: str = "output folder"):
        self.folder = Path(folder)
        self.path = lock_path(self.folder)
        self.run_id = run_id
        self.what = what
        self.stale_: dict[str, Any] | None = None
        self._fd: int | None = None

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> bool:
        self.release()
        return False

    def acquire(self) -> "FolderLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise PipelineError(f"cannot create the lock file {self.path.name} beside the {self.what} "
                                f"({exc.strerror or exc})", file=str(self.folder)) from None
        holder = _read(fd)
        if not _try_lock(fd, holder):
            os.close(fd)
            raise PipelineError(f"another run is using this {self.what} ({describe(holder)}); wait for it to finish, "
                                "or pass --out to write elsewhere", file=str(self.folder))
        self.stale_ = holder if holder.get("pid") else None
        _write(fd, {"pid": os.getpid(), "host": socket.gethostname(), "run_id": self.run_id,
                    "started": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            _write(self._fd, {})  # no holder: the next run finds nothing left behind
        except OSError:
            pass
        finally:
            if fcntl is not None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                except OSError:
                    pass
            os.close(self._fd)
            self._fd = None


def describe(holder: dict[str, Any]) -> str:
    if not holder.get("pid"):
        return "holder unknown"
    return (f"pid {holder.get('pid')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
            + (f", run {holder['run_id']}" if holder.get("run_id") else ""))


def _try_lock(fd: int, holder: dict[str, Any]) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
    # no flock here: the recorded holder holds the lock while its process lives
    return not (holder.get("host") == socket.gethostname() and _alive(holder.get("pid")))


def _alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


def _read(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        holder = json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _write(fd: int, holder: dict[str, Any]) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    if holder:
        os.write(fd, json.dumps(holder).encode("utf-8"))
    os.fsync(fd)
