"""The engines: partitions in order on the local engine and on a dask LocalCluster; a worker killed mid-partition
is replaced and its partition run again, no value lost or duplicated."""
from __future__ import annotations

import pytest

from pipeline.compute import LocalEngine, engine_for, partitions
from pipeline.core.config import load_config
from tests.compute.tasks import die_once_in, ids_with_offset

dask_engine = pytest.importorskip("pipeline.compute.dask_engine", reason="the [dask] extra is not installed")
pytest.importorskip("distributed")


def test_partitions_cover_every_item_once_in_order():
    parts = partitions(list(range(10)), 4)
    assert [list(p) for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert partitions([], 3) == []
    with pytest.raises(ValueError):
        partitions([1], 0)


def test_local_engine_maps_in_partition_order_with_shared_values():
    assert LocalEngine().map(ids_with_offset, [[1, 2], [3]], offset=10) == [[11, 12], [13]]


def test_engine_for_the_config():
    assert engine_for(load_config(None).scale).name == "local"


@pytest.fixture(scope="module")
def threads_engine():
    with dask_engine.DaskEngine(workers=2, processes=False) as engine:
        yield engine


def test_dask_engine_returns_the_local_results_in_partition_order(threads_engine):
    parts = partitions(list(range(50)), 7)
    assert threads_engine.n_workers == 2
    assert threads_engine.map(ids_with_offset, parts, offset=3) == LocalEngine().map(ids_with_offset, parts, offset=3)
    assert threads_engine.map(ids_with_offset, []) == []


def test_dask_engine_survives_a_worker_killed_mid_partition(tmp_path):
    marker = tmp_path / "killed"
    parts = partitions(list(range(40)), 5)
    with dask_engine.DaskEngine(workers=2, processes=True) as engine:
        results = engine.map(die_once_in, parts, marker=str(marker), victim=17)
    assert marker.exists(), "no worker was killed: the test proved nothing"
    flat = [value for part in results for value in part]
    assert flat == list(range(40))  # every value once, in order: nothing lost, nothing duplicated


def test_dask_engine_names_an_unreachable_scheduler():
    from pipeline.core.errors import PipelineError

    with pytest.raises(PipelineError, match="no dask scheduler reachable at tcp://127.0.0.1:9"):
        dask_engine.DaskEngine(scheduler="tcp://127.0.0.1:9", connect_timeout="2s")
