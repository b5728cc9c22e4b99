"""The fault suite (issue 15, defects 13-15): kill -9 at each stage, a second concurrent run, a damaged embedding
cache shard, a damaged saved model, a full disk (a write error injected into the atomic writer, and a real tiny
tmpfs where this machine allows mounting one), Ctrl-C, and a kill in the middle of the final swap.

After every fault the output folder holds either the previous complete run or the new complete run, byte for byte,
its run.json says which, and the next run succeeds. Runs use the fake embedder on corpora written here.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.io.rundir import read_run_status, recover
from pipeline.stages import STAGE_NAMES
from tests.bad_inputs.helpers import answer

REPO = Path(__file__).resolve().parents[2]
FAKE = '[embed]\nmodel = "fake-hash.v1"\n[themes]\nn_seeds = 2\n'


def write_corpus(folder: Path, n: int, offset: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "answers.txt").write_text("".join(answer(offset + i) + "\n" for i in range(n)), encoding="utf-8")
    (folder / "pipeline.toml").write_text(FAKE, encoding="utf-8")
    return folder


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of the folder (run.json aside), by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "run.json"}


def leftovers(out: Path) -> list[str]:
    """Staging or displaced folders beside ``out`` (a finished run leaves none)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and p.is_dir())


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder with corpus/ (20 answers) and one complete run in outputs/corpus."""
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "corpus", 20)
    first = cli("run", "corpus")
    assert first.exit_code == 0, first.output
    out = tmp_path / "outputs" / "corpus"
    return {"root": tmp_path, "out": out, "before": snapshot(out), "run_id": read_run_status(out)["run_id"]}


def assert_previous_run_kept(work) -> dict:
    status = read_run_status(work["out"])
    assert status["status"] == "complete" and status["run_id"] == work["run_id"], status
    assert snapshot(work["out"]) == work["before"]
    return status


def assert_next_run_succeeds(work, *args: str) -> None:
    write_corpus(work["root"] / "corpus", 24)  # a changed corpus: the next run's outputs differ
    result = cli(*(args or ("run", "corpus")))
    assert result.exit_code == 0, result.output
    status = read_run_status(work["out"])
    assert status["status"] == "complete" and status["run_id"] != work["run_id"]
    assert snapshot(work["out"]) != work["before"] and leftovers(work["out"]) == []
    with (work["out"] / "ledger.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 25  # header + 24 answers


# --- kill -9 at each stage ---------------------------------------------------------------------------------------

# ingest runs in the fast suite; every other stage and the final write (a subprocess run each) under -m slow.
# The fast suite interrupts the final write in-process too (Ctrl-C, a full disk), with the same guarantees.
FAST_KILLS = ("ingest",)


def _kill_at(work, stage: str) -> None:
    write_corpus(work["root"] / "corpus", 30, offset=100)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "corpus"], cwd=work["root"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in process.stderr:
            seen.append(line.strip())
            if line.strip() == f"{stage} ...":
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, seen  # killed at that stage, not finished before it


@pytest.mark.parametrize("stage", [pytest.param(s, marks=() if s in FAST_KILLS else pytest.mark.slow)
                                   for s in (*STAGE_NAMES, "report")])
def test_kill_9_at_each_stage_keeps_the_previous_run(work, stage):
    _kill_at(work, stage)
    assert_previous_run_kept(work)
    assert_next_run_succeeds(work)
    lock = json.loads((work["out"].parent / ".corpus.lock").read_text() or "{}")
    assert lock == {}  # the next run released it


def test_kill_in_the_middle_of_the_swap_is_repaired(work):
    """Where folders cannot be exchanged atomically the swap is two renames; a kill between them leaves the
    output folder missing, which the next run repairs (preferring the new complete run)."""
    out = work["out"]
    new = out.parent / ".corpus.new-20990101T000000Z-abcdef"
    old = out.parent / ".corpus.old-20990101T000000Z-abcdef"
    out.rename(old)  # the first rename happened; the second did not
    new.mkdir()
    (new / "run.json").write_text(json.dumps({"run_id": "new", "status": "complete"}), encoding="utf-8")
    assert recover(out) and read_run_status(out)["run_id"] == "new" and leftovers(out) == []
    out.rename(old)  # and with only the displaced previous run left, that one comes back
    assert recover(out) and read_run_status(out)["run_id"] == "new" and leftovers(out) == []


def test_swap_without_an_atomic_exchange_still_completes(work, monkeypatch):
    monkeypatch.setattr("pipeline.io.rundir._exchange", lambda a, b: False)
    assert_next_run_succeeds(work)


# --- a second concurrent run ---------------------------------------------------------------------------------------

def test_second_concurrent_run_is_refused_with_the_holder_named(work):
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", "corpus"], cwd=work["root"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in first.stderr:  # the lock is taken before the first stage starts
            if line.strip() == "ingest ...":
                break
        second = cli("run", "corpus")
        errors = [line for line in second.output.splitlines() if line.startswith("error:")]
        assert second.exit_code == 1 and len(errors) == 1, second.output
        assert f"another run is using this output folder (pid {first.pid} on " in errors[0]
        first.stderr.read()
        assert first.wait(timeout=600) == 0
    finally:
        if first.poll() is None:
            first.kill()
    status = read_run_status(work["out"])
    assert status["status"] == "complete" and status["run_id"] != work["run_id"]  # the first run's, complete
    assert_next_run_succeeds(work)


# --- damaged caches and models -------------------------------------------------------------------------------------

def _shards(root: Path) -> list[Path]:
    return sorted((root / "outputs" / ".cache" / "embeddings").rglob("*.npz"))


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_damaged_embedding_cache_shard_is_named_discarded_and_rebuilt(work, damage):
    shard = _shards(work["root"])[0]
    shard.write_bytes(shard.read_bytes()[:100] if damage == "truncated" else b"")
    result = cli("run", "corpus")
    assert result.exit_code == 0, result.output
    named = shard.relative_to(work["root"]).as_posix()  # the cache folder is relative to the working folder
    assert f"warning: {named}: damaged embedding cache shard" in result.output, result.output
    rebuilt = _shards(work["root"])
    import numpy as np

    for path in rebuilt:
        with np.load(path) as data:
            assert len(data["keys"]) == len(data["vectors"])  # every shard readable again
    again = cli("run", "corpus")
    assert again.exit_code == 0 and "embedding cache: " in again.output and " 0 newly embedded" in again.output


def test_damaged_model_is_detected_and_refit(work):
    state = work["root"] / "models" / "corpus" / "state.json"
    state.write_bytes(state.read_bytes()[:50])
    report = cli("report", "corpus")  # `pipeline report` never refits: a clear error instead of JSONDecodeError
    errors = [line for line in report.output.splitlines() if line.startswith("error:")]
    assert report.exit_code == 1 and len(errors) == 1 and "the saved theme fit is damaged" in errors[0], report.output
    assert_previous_run_kept(work)
    result = cli("run", "corpus")
    assert result.exit_code == 0, result.output
    assert "the saved theme fit is damaged" in result.output and "fitted again" in result.output
    json.loads(state.read_text(encoding="utf-8"))  # saved again, whole
    assert cli("report", "corpus").exit_code == 0


# --- a full disk, Ctrl-C ---------------------------------------------------------------------------------------------

def test_full_disk_injected_in_the_atomic_writer_keeps_the_previous_run(work, monkeypatch):
    import pipeline.io.atomic as atomic

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 6:  # some way into the run's writes
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    write_corpus(work["root"] / "corpus", 24)
    result = cli("run", "corpus")
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and "No space left on device" in errors[0], result.output
    status = assert_previous_run_kept(work)
    assert status["last_attempt"]["status"] == "failed" and "No space left" in status["last_attempt"]["error"]
    assert leftovers(work["out"]) == []
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)
    assert_next_run_succeeds(work)


def test_full_disk_on_a_real_tiny_tmpfs_keeps_the_previous_run(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root and mount permission)")
    try:
        monkeypatch.chdir(tmp_path)
        write_corpus(tmp_path / "corpus", 20)
        out = disk / "out"
        assert cli("ingest", "corpus", "--out", str(out)).exit_code == 0
        before, run_id = snapshot(out), read_run_status(out)["run_id"]
        (tmp_path / "corpus" / "answers.txt").write_text(
            "".join(f"{answer(i)} and then some more words to fill the disk {i}\n" for i in range(4000)),
            encoding="utf-8")
        result = cli("ingest", "corpus", "--out", str(out))
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert result.exit_code == 1 and len(errors) == 1 and "No space left on device" in errors[0], result.output
        assert read_run_status(out)["run_id"] == run_id and snapshot(out) == before and leftovers(out) == []
        write_corpus(tmp_path / "corpus", 22)
        assert cli("ingest", "corpus", "--out", str(out)).exit_code == 0  # the next (smaller) run succeeds
        assert read_run_status(out)["status"] == "complete" and read_run_status(out)["run_id"] != run_id
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_ctrl_c_keeps_the_previous_run(work, monkeypatch):
    from pipeline.report import writer

    original = writer.render_html

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(writer, "render_html", interrupt)  # during the last write
    write_corpus(work["root"] / "corpus", 24)
    result = cli("run", "corpus")
    assert result.exit_code == 130 and "previous complete run" in result.output
    status = assert_previous_run_kept(work)
    assert status["last_attempt"]["error_type"] == "KeyboardInterrupt"
    monkeypatch.setattr(writer, "render_html", original)
    assert_next_run_succeeds(work)
