"""The stage cache returns a stored result only for the same inputs, config and code."""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.io.stage_cache import StageCache


@dataclass
class Settings:
    threshold: float = 0.5


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def test_stage_cache_stores_and_returns_the_same_result(tmp_path):
    cache = StageCache(tmp_path)
    compute, calls = counting({"segments": [1, 2, 3]})
    assert cache.get([Settings(), ["a", "b"]], compute) == {"segments": [1, 2, 3]} and cache.hit_ is False
    again = StageCache(tmp_path)
    assert again.get([Settings(), ["a", "b"]], compute) == {"segments": [1, 2, 3]} and again.hit_ is True
    assert len(calls) == 1


def test_stage_cache_key_changes_with_inputs_config_and_code(tmp_path):
    base = StageCache(tmp_path).key([Settings(), ["a", "b"]])
    assert StageCache(tmp_path).key([Settings(0.6), ["a", "b"]]) != base
    assert StageCache(tmp_path).key([Settings(), ["a", "c"]]) != base
    assert StageCache(tmp_path, code_modules=["pipeline.clean"]).key([Settings(), ["a", "b"]]) != base


def test_stage_cache_damaged_entry_is_recomputed(tmp_path):
    cache = StageCache(tmp_path)
    compute, calls = counting([42])
    cache.get(["x"], compute)
    (tmp_path / f"{cache.key(['x'])}.pkl").write_bytes(b"not a pickle")
    assert cache.get(["x"], compute) == [42] and cache.hit_ is False and len(calls) == 2
