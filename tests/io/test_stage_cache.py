"""The stage cache returns a stored result only for the same inputs, config and code, and only from an entry that
cannot run code, carries its version and checksum, and accounts for the answers it is filed under (issue 15,
defect 8)."""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path

from pipeline.io.stage_cache import StageCache, payload_digest


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


def test_stage_cache_entry_is_json_with_version_and_checksum(tmp_path):
    cache = StageCache(tmp_path)
    cache.get(["x"], lambda: {"n": [1, 2]})
    entry = json.loads(cache.path(cache.key(["x"])).read_text())
    assert entry["format"] == "pipeline-stage-cache" and entry["version"] == 1 and entry["key"] == cache.key(["x"])
    assert entry["sha256"] == payload_digest({"n": [1, 2]}) and entry["payload"] == {"n": [1, 2]}


def _rewrite(path: Path, change) -> None:
    entry = json.loads(path.read_text())
    change(entry)
    path.write_text(json.dumps(entry))


def _forge(entry):  # a new payload with a matching checksum: well formed, but not what the stage computed
    entry["payload"] = {"n": [9]}
    entry["sha256"] = payload_digest(entry["payload"])


def _damage_cases():
    return {
        "truncated": lambda p: p.write_bytes(p.read_bytes()[:20]),
        "empty": lambda p: p.write_bytes(b""),
        "tampered-payload": lambda p: _rewrite(p, lambda e: e["payload"].update(n=[6, 6, 6])),
        "other-version": lambda p: _rewrite(p, lambda e: e.update(version=0)),
        "other-key": lambda p: _rewrite(p, lambda e: e.update(key="0" * 64)),
        "not-an-object": lambda p: p.write_text("[1, 2]"),
    }


def test_stage_cache_damaged_or_tampered_entry_is_a_named_miss(tmp_path):
    for name, damage in _damage_cases().items():
        folder = tmp_path / name
        compute, calls = counting({"n": [1, 2]})
        StageCache(folder).get(["x"], compute)
        cache = StageCache(folder)
        damage(cache.path(cache.key(["x"])))
        assert cache.get(["x"], compute) == {"n": [1, 2]} and cache.hit_ is False and len(calls) == 2, name
        assert cache.path(cache.key(["x"])).as_posix() in cache.problem_ and "damaged cache entry" in cache.problem_
        assert StageCache(folder).get(["x"], compute) == {"n": [1, 2]} and len(calls) == 2, name  # rewritten


def test_stage_cache_forged_entry_the_stage_rejects_is_a_miss(tmp_path):
    compute, calls = counting({"n": [1, 2]})
    cache = StageCache(tmp_path)
    cache.get(["x"], compute)
    _rewrite(cache.path(cache.key(["x"])), _forge)
    accept = lambda value: value["n"] != [9]  # noqa: E731 -- the clean stage checks a result against its input
    assert cache.get(["x"], compute, accept) == {"n": [1, 2]} and cache.hit_ is False and len(calls) == 2


class _Planted:
    """A pickle that, when loaded, writes a file: what a planted cache entry could do."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def test_clean_stage_never_loads_a_planted_pickle(tmp_path, monkeypatch):
    """The old cache loaded outputs/.cache/cleaned/<key>.pkl with pickle.loads: planted, it ran code."""
    from pipeline import runner
    from pipeline.clean.stage import CLEAN_CODE
    from pipeline.core.config import load_config
    from pipeline.core.versions import CLEANING_PACKAGES, package_versions

    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.csv").write_text("id,text\nR1,Our budget is too small for this plan\n", encoding="utf-8")
    config = load_config(None, {"embed.model": "fake-hash.v1"})
    cache_dir = tmp_path / "outputs" / ".cache" / "embeddings"
    answer_keys = [("a.csv:1", "a.csv", 1, "R1", "Our budget is too small for this plan")]
    key = StageCache(cache_dir.parent / "cleaned", code_modules=CLEAN_CODE).key(
        [config.clean, package_versions(CLEANING_PACKAGES), answer_keys])
    marker = tmp_path / "pwned.txt"
    planted = cache_dir.parent / "cleaned"
    planted.mkdir(parents=True)
    for name in (f"{key}.pkl", f"{key}.json"):
        (planted / name).write_bytes(pickle.dumps(_Planted(str(marker))))
    result = runner.run(corpus, config, until="ingest", cache_dir=cache_dir)
    assert not marker.exists()
    assert [s.text for s in result.segments] == ["Our budget is too small for this plan"]
    assert result.outputs["clean"].cache_hit is False
    assert any("damaged cache entry" in w for w in result.warnings)  # the planted .json is named, then replaced
    again = runner.run(corpus, config, until="ingest", cache_dir=cache_dir)
    assert again.outputs["clean"].cache_hit is True and not marker.exists()
