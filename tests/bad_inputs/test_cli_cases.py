"""Bad invocations (issue 15, defects 2, 13 and 17): each case sets up a folder, runs one command, and expects the
exit code and the one-line error (or, for the cases that must succeed, the outcome). Inputs are generated here."""
from __future__ import annotations

import csv
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.bad_inputs.helpers import answer

FAKE = '[embed]\nmodel = "fake-hash.v1"\n[themes]\nn_seeds = 2\n'


def _corpus(folder: Path, toml: str = FAKE, n: int = 16, name: str = "answers.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(answer(i) + "\n" for i in range(n)), encoding="utf-8")
    (folder / "pipeline.toml").write_text(toml, encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Case:
    setup: Callable[[Path], list[str]]  # prepares tmp_path (the working folder); returns the command's arguments
    message: str  # a fragment of the one error line


def _out_is_a_file(root: Path) -> list[str]:
    _corpus(root / "corpus")
    (root / "out.txt").write_text("not a folder", encoding="utf-8")
    return ["ingest", "corpus", "--out", "out.txt"]


def _out_below_a_file(root: Path) -> list[str]:
    _out_is_a_file(root)
    return ["ingest", "corpus", "--out", "out.txt/run"]


def _newline_in_file_name(root: Path) -> list[str]:
    corpus = _corpus(root / "corpus", FAKE + '[ingest]\ntext_column = "nope"\n', name="two\nlines.csv")
    (corpus / "two\nlines.csv").write_text("id,comment\nR1,Money is short\n", encoding="utf-8")
    return ["ingest", "corpus"]


def _mistyped_categories_file(root: Path) -> list[str]:
    _corpus(root / "corpus", 'categories_file = "categoris.yaml"\n' + FAKE)
    return ["ingest", "corpus"]


def _mistyped_labels_file(root: Path) -> list[str]:
    _corpus(root / "corpus", 'labels_file = "lables.yaml"\n' + FAKE)
    return ["ingest", "corpus"]  # checked before anything is read, not after the themes are fitted


def _same_name_corpora(root: Path) -> list[str]:
    first, second = _corpus(root / "a" / "survey"), _corpus(root / "b" / "survey")
    assert CliRunner().invoke(app, ["ingest", str(first)]).exit_code == 0
    return ["ingest", str(second)]


def _run_in_progress(root: Path) -> list[str]:
    from pipeline.io.lock import FolderLock

    _corpus(root / "corpus")
    holder = subprocess.Popen(["sleep", "60"])  # any live process stands for the other run
    lock = FolderLock(root / "outputs" / "corpus", "20240101T000000Z-other").acquire()
    path = lock.path
    text = path.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {holder.pid}')
    path.write_text(text)
    _HELD.append((lock, holder))
    return ["ingest", "corpus"]


_HELD: list = []

CASES = {
    "17-out-is-a-file": Case(_out_is_a_file, "out.txt: the output folder is a file"),
    "17-out-below-a-file": Case(_out_below_a_file, "the output folder cannot be made: out.txt is a file"),
    "17-newline-in-file-name": Case(_newline_in_file_name, "two\\nlines.csv: text column 'nope' not found"),
    "17-mistyped-categories-file": Case(_mistyped_categories_file, "categories_file = 'categoris.yaml'"),
    "17-mistyped-labels-file": Case(_mistyped_labels_file, "labels_file = 'lables.yaml'"),
    "17-same-name-corpora": Case(_same_name_corpora, "holds the outputs of another corpus folder"),
    "13-second-run-on-the-same-out": Case(_run_in_progress, "another run is using this output folder (pid "),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_invocation_is_one_clear_line(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    case = CASES[name]
    try:
        result = CliRunner().invoke(app, case.setup(tmp_path))
    finally:
        for lock, holder in _HELD:
            lock.release()
            holder.kill()
        _HELD.clear()
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1, result.output
    assert len(errors) == 1 and case.message in errors[0], result.output
    assert "Traceback" not in result.output


def test_out_not_writable_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _corpus(tmp_path / "corpus")
    target = tmp_path / "readonly"
    target.mkdir()
    if os.geteuid() == 0:  # root writes anywhere a mode allows none: a read-only mount is the only real refusal
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)]).returncode != 0:
            pytest.skip("running as root without permission to mount a read-only tmpfs")
    else:
        target.chmod(0o555)
    try:
        result = CliRunner().invoke(app, ["ingest", "corpus", "--out", str(target / "out")])
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(target)], check=False)
        target.chmod(0o755)
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 1 and len(errors) == 1 and "cannot write the output folder" in errors[0], result.output


def _ledger_size(out: Path) -> int:
    with (out / "ledger.csv").open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def test_output_folder_inside_the_corpus_is_never_read_back(tmp_path, monkeypatch):
    """`cd survey && pipeline ingest . ; pipeline ingest .` read 220 answers, then 677."""
    corpus = _corpus(tmp_path / "survey")
    monkeypatch.chdir(corpus)
    first = CliRunner().invoke(app, ["ingest", "."])
    assert first.exit_code == 0, first.output
    for other in (corpus / "outputs" / "elsewhere",):  # another run's folder inside the corpus, too
        other.mkdir(parents=True)
        (other / "run.json").write_text('{"run_id": "x", "status": "complete"}', encoding="utf-8")
        (other / "ledger.csv").write_text("answer_id,file\nx,y\n", encoding="utf-8")
    second = CliRunner().invoke(app, ["ingest", "."])
    assert second.exit_code == 0, second.output
    out = corpus / "outputs" / "survey"
    assert _ledger_size(out) == 16
    assert "an output or model folder of `pipeline`; not read as answers" in second.output


def test_stale_lock_of_a_killed_run_is_recovered(tmp_path, monkeypatch):
    """A run killed outright leaves its details in the lock file; the next run proceeds and says so."""
    monkeypatch.chdir(tmp_path)
    _corpus(tmp_path / "corpus")
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / ".corpus.lock").write_text(
        f'{{"pid": {dead.pid}, "host": "h", "run_id": "r", "started": "2024-01-01T00:00:00+00:00"}}', encoding="utf-8")
    (tmp_path / "outputs" / ".corpus.new-r").mkdir()  # the staging folder it was writing
    result = CliRunner().invoke(app, ["ingest", "corpus"])
    assert result.exit_code == 0, result.output
    assert f"a previous run did not finish (pid {dead.pid} on h" in result.output
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == [".cache", ".corpus.lock", "corpus"]


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_a_project_moved_or_copied_whole_keeps_its_outputs(tmp_path, monkeypatch, how):
    """Corpus and outputs moved (or copied) together are still one project: no same-name error, while two
    different corpus folders of one name still get it (case 17 above)."""
    import shutil

    _corpus(tmp_path / "old" / "corpus")
    monkeypatch.chdir(tmp_path / "old")
    assert CliRunner().invoke(app, ["ingest", "corpus"]).exit_code == 0
    (shutil.move if how == "moved" else shutil.copytree)(tmp_path / "old", tmp_path / "new")
    monkeypatch.chdir(tmp_path / "new")
    result = CliRunner().invoke(app, ["ingest", "corpus"])
    assert result.exit_code == 0, result.output
    assert "another corpus folder" not in result.output
