"""Partitions on dask workers (``pip install "pipeline[dask]"``): a LocalCluster by default, or a running
scheduler given by address.

Each partition is one task, keyed by its index; results come back in partition order, so a retried task (its
worker died mid-partition: the scheduler runs it again elsewhere) replaces its result instead of adding to it,
and none is lost. ``shared`` values (the theme centroids, the embedder's description) are scattered to the workers
once. Work that needs a model loads it on the worker on first use and keeps it there (``pipeline.embed.remote``),
so no model is ever in the task graph.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.core.errors import PipelineError

RETRIES = 3  # a task that raised is tried again this often; a task whose worker died is rescheduled regardless


class DaskEngine:
    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 2, threads_per_worker: int = 1,
                 processes: bool = True, connect_timeout: str = "30s"):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise PipelineError('the dask engine needs dask and distributed: pip install "pipeline[dask]"') from None
        self.scheduler = scheduler
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise PipelineError(f"no dask scheduler reachable at {scheduler} ({exc})") from None
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker,
                                         processes=processes, dashboard_address=":0")
            self.client = Client(self._cluster)

    def map(self, function: Callable[..., Any], parts: Sequence[Any], **shared: Any) -> list[Any]:
        if not parts:
            return []
        scattered = {name: self.client.scatter(value, broadcast=True, hash=False) for name, value in shared.items()}
        run = uuid.uuid4().hex[:8]
        name = getattr(function, "__name__", "task")
        futures = [self.client.submit(function, part, **scattered, key=f"{name}-{run}-{index}", retries=RETRIES,
                                      pure=False)
                   for index, part in enumerate(parts)]
        try:
            return self.client.gather(futures)
        finally:
            for future in futures:
                future.release()

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> "DaskEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
