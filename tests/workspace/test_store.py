"""The edit store: edits as pure functions, the SQLite state mirrored to labels.yaml with an audit trail, hand
edits of labels.yaml taken in, and edits that survive a re-run on a corpus that grew."""
from __future__ import annotations

import csv
import sqlite3

import pytest

from pipeline.analyst.labels_file import LabelsFile, load_labels
from pipeline.core.errors import PipelineError
from pipeline.workspace import edits
from pipeline.workspace.store import EditStore
from tests.workspace.survey import make_workspace


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_store_edits_are_saved_audited_and_written_to_labels_yaml(tmp_path):
    path = tmp_path / "labels.yaml"
    store = EditStore(path, who="ana")
    store.apply("rename", "theme 3", lambda labels: edits.rename(labels, 3, "Political will"))
    store.apply("promote", "theme 3", lambda labels: edits.promote(labels, 3, "pw", "Political will", "Politics."))
    store.apply("recode", "s.csv:4", lambda labels: edits.recode(labels, "s.csv:4", "noise"))
    store.apply("split", "theme 1", lambda labels: edits.split(labels, ["s.csv:7#0"], "Estates")[:2])
    on_disk = load_labels(path)
    assert on_disk.themes[3].label == "Political will" and on_disk.themes[3].category == "pw"
    assert on_disk.codes["pw"].definition == "Politics." and on_disk.segments["s.csv:4"].theme == "noise"
    assert [(s.theme_id, s.segments) for s in on_disk.splits] == [(1000, ("s.csv:7#0",))]
    assert store.labels().themes == {3: on_disk.themes[3].__class__(3, "Political will", None, "pw", memo=None)}
    trail = store.audit()
    assert [r["action"] for r in trail] == ["split", "recode", "promote", "rename"]
    assert {r["who"] for r in trail} == {"ana"} and all(r["at"].endswith("+00:00") for r in trail)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM split_segments").fetchone()[0] == 1


def test_store_takes_a_hand_edited_labels_yaml_as_the_truth(tmp_path):
    path = tmp_path / "labels.yaml"
    store = EditStore(path, who="ana")
    store.apply("rename", "theme 1", lambda labels: edits.rename(labels, 1, "Staff"))
    path.write_text(path.read_text(encoding="utf-8") + "  2: {noise: true}\n", encoding="utf-8")
    store.apply("memo", "theme 1", lambda labels: edits.memo(labels, 1, "Check agency staff."))
    labels = load_labels(path)
    assert labels.themes[2].noise and labels.themes[1].memo == "Check agency staff."  # the hand edit is kept
    assert [r["action"] for r in store.audit()] == ["memo", "import", "rename"]


@pytest.mark.parametrize("change, fragment", [
    (lambda labels: edits.merge(labels, 1, 1), "into itself"),
    (lambda labels: edits.merge(edits.merge(labels, 1, 2)[0], 2, 1), "cycle"),
    (lambda labels: edits.promote(labels, 1, "emergent", "X", ""), "not 'emergent'"),
    (lambda labels: edits.promote(labels, 1, "staff", "X", "", {"staff"}), "already a category"),
    (lambda labels: edits.split(labels, [], "X"), "select at least one"),
    (lambda labels: edits.rename(labels, 1, "   "), "must not be empty"),
])
def test_store_bad_edits_are_refused_before_anything_is_written(tmp_path, change, fragment):
    store = EditStore(tmp_path / "labels.yaml", who="ana")
    with pytest.raises(PipelineError, match=fragment):
        store.apply("edit", "theme 1", change)
    assert not (tmp_path / "labels.yaml").exists() and store.audit() == []


def test_store_merge_keeps_only_the_memo_so_the_file_still_loads(tmp_path):
    labels, _ = edits.rename(LabelsFile(), 5, "Old label")
    labels, _ = edits.memo(labels, 5, "Kept after the merge.")
    merged, _ = edits.merge(labels, 5, 3)
    assert (merged.themes[5].label, merged.themes[5].merge_into, merged.themes[5].memo) == (None, 3,
                                                                                             "Kept after the merge.")
    store = EditStore(tmp_path / "labels.yaml", who="ana")
    store.apply("merge", "theme 5", lambda _: (merged, "merged"))
    assert load_labels(tmp_path / "labels.yaml").themes[5].merge_into == 3


def test_store_edits_survive_a_rerun_on_a_grown_corpus(fresh_run):
    from pipeline import runner

    workspace = make_workspace(fresh_run, who="ana")
    themes = {r["category_id"]: int(r["theme_id"]) for r in rows(fresh_run["out"] / "themes.csv")}
    segment = next(r["segment_id"] for r in rows(fresh_run["out"] / "segments.csv")
                   if int(r["theme_id"]) == themes["staff"])
    workspace.edit("rename", "theme", lambda labels: edits.rename(labels, themes["footprint"], "Boundaries"))
    workspace.edit("recode", segment, lambda labels: edits.recode(labels, segment, themes["money"]))
    survey = fresh_run["corpus"] / "survey.csv"
    grown = [f"R9{k},Chair,North,small barrier,major barrier,{text}\n" for k, text in enumerate([
        "The footprint boundary splits our county in two.", "Footprints were drawn without asking us.",
        "Staff capacity is gone after the restructure.", "The funding budget is cut again this year."])]
    survey.write_text(survey.read_text(encoding="utf-8") + "".join(grown), encoding="utf-8")
    runner.run(fresh_run["corpus"], fresh_run["config"], fresh_run["out"], until="report",
               model_dir=fresh_run["models"])  # a full run: the corpus changed, so the themes are fitted again
    after = {int(r["theme_id"]): r for r in rows(fresh_run["out"] / "themes.csv")}
    assert after[themes["footprint"]]["label"] == "Boundaries"
    assert after[themes["footprint"]]["category_id"] == "footprint"  # the same theme kept its id
    segments = {r["segment_id"]: r for r in rows(fresh_run["out"] / "segments.csv")}
    assert int(segments[segment]["theme_id"]) == themes["money"]
    assert any(r["answer_id"] == "survey.csv:30" for r in segments.values())  # the new answers are in
    reasons = {r["segment_id"]: r["strategy"] for r in rows(fresh_run["out"] / "reassignments.csv")}
    assert reasons[segment] == "labels:recode"
    assert [r["action"] for r in make_workspace(fresh_run).store.audit()] == ["recode", "rename"]
