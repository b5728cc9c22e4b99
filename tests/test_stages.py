"""The stage graph (pipeline/stages.py): well formed, and every stage's function takes exactly its inputs."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from pipeline.core import artifacts
from pipeline.stages import CHECKPOINT_TABLES, CHECKPOINTS, STAGE_NAMES, STAGES, Stage, check_graph, stages_until


def test_stages_graph_is_well_formed():
    check_graph()
    assert set(CHECKPOINTS.values()) <= set(STAGE_NAMES)
    assert set(CHECKPOINT_TABLES) <= set(CHECKPOINTS)


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_NAMES)
def test_stages_function_takes_the_context_and_its_inputs_by_name(stage):
    parameters = list(inspect.signature(stage.run).parameters)
    assert parameters == ["ctx", *stage.inputs]
    assert dataclasses.is_dataclass(stage.output) and stage.output.__module__ == artifacts.__name__


def test_stages_check_graph_rejects_an_input_from_a_later_stage():
    later = (Stage("a", ("b",), artifacts.Quotes, lambda ctx, b: None), Stage("b", (), artifacts.Quotes, None))
    with pytest.raises(ValueError, match="not earlier stages"):
        check_graph(later)


def test_stages_until_stops_at_the_checkpoint():
    assert [s.name for s in stages_until(CHECKPOINTS["ingest"])] == ["categories", "ingest", "clean"]
    with pytest.raises(ValueError):
        stages_until("nope")
