"""The engine protocol and the local engine; ``engine_for`` builds the one a config asks for."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Engine(Protocol):
    name: str

    def map(self, function: Callable[..., Any], parts: Sequence[Any], **shared: Any) -> list[Any]:
        """``[function(part, **shared) for part in parts]``, in partition order. ``shared`` values are sent to each
        worker once, not once per partition."""

    def close(self) -> None:
        """Release workers and connections (the engine is not used after this)."""


class LocalEngine:
    """Every partition in this process, one after the other."""

    name = "local"

    def map(self, function: Callable[..., Any], parts: Sequence[Any], **shared: Any) -> list[Any]:
        return [function(part, **shared) for part in parts]

    def close(self) -> None:
        return None

    def __enter__(self) -> "LocalEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def partitions(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive slices of ``size`` (the last may be shorter); none for no items."""
    if size < 1:
        raise ValueError(f"partition size must be at least 1, got {size}")
    return [items[start:start + size] for start in range(0, len(items), size)]


def engine_for(scale_config) -> Engine:
    """The engine ``[scale]`` asks for: local, or dask on ``scale.scheduler`` (a LocalCluster of ``scale.workers``
    processes when unset)."""
    if scale_config.engine == "local":
        return LocalEngine()
    from pipeline.compute.dask_engine import DaskEngine

    return DaskEngine(scheduler=scale_config.scheduler, workers=scale_config.workers)
