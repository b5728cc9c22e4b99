"""Compute: where the partitioned work of a run (embedding, assigning segments to themes) is carried out.

``LocalEngine`` runs every partition in this process, in order; ``DaskEngine`` (the optional ``[dask]`` extra)
runs them on dask workers, a LocalCluster by default or a running scheduler given by address. Both return the
partitions' results in partition order, so what a stage does with them does not depend on the engine."""
from __future__ import annotations

from pipeline.compute.engine import Engine, LocalEngine, engine_for, partitions

__all__ = ["Engine", "LocalEngine", "engine_for", "partitions"]
