"""Task functions the engine tests send to dask workers (importable by a worker process, unlike a test's locals)."""
from __future__ import annotations

import os
from pathlib import Path


def ids_with_offset(part: list[int], offset: int = 0) -> list[int]:
    return [value + offset for value in part]


def die_once_in(part: list[int], marker: str, victim: int) -> list[int]:
    """Kill this worker process in the middle of the partition holding ``victim``, the first time only (the marker
    file records that it happened); every other call returns the partition's values."""
    if victim in part and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        os._exit(1)  # the worker process dies mid-partition: no result, no clean shutdown
    return list(part)
