"""`pipeline code` and `pipeline validate sample --next N` over a completed run of the workspace survey (fake
embedder): bad coded sheets give one line naming file and row; codes train the rest; analyst codes are kept."""
from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


@pytest.fixture
def run(fresh_run, monkeypatch):
    """The fresh run laid out as the CLI expects it (cwd = root; models/<corpus name>; --corpus given)."""
    root = fresh_run["root"]
    monkeypatch.chdir(root)
    shutil.move(root / "models", root / "models-fit")
    (root / "models").mkdir()
    shutil.move(root / "models-fit", root / "models" / "corpus")
    return {**fresh_run, "models": root / "models" / "corpus",
            "args": ["--run", str(fresh_run["out"]), "--corpus", str(fresh_run["corpus"])]}


def _segments(out: Path) -> list[dict[str, str]]:
    with (out / "segments.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _keyword_code(text: str) -> str:
    text = text.lower()
    for word, code in (("staff", "staff"), ("team", "staff"), ("footprint", "footprint"), ("boundar", "footprint"),
                       ("fund", "money"), ("budget", "money")):
        if word in text:
            return code
    return ""


@pytest.mark.parametrize("content, fragment, row", [
    ("", "is empty", None),
    ("segment_id,label\nsurvey.csv:2#0,staff\n", "needs a 'code' column", None),
    ("segment_id,code\nsurvey.csv:2#0,staff\nsurvey.csv:999#0,staff\n", "unknown segment id", 2),
    ("answer_id,code\nnowhere.csv:3,staff\n", "unknown answer id", 1),
    ("segment_id,code\nsurvey.csv:2#0,staff\nsurvey.csv:3#0,stafff\n", "unknown code 'stafff'; did you mean", 2),
    ("segment_id,code\nsurvey.csv:2#0,staff\nsurvey.csv:2#0,money\n", "coded twice", 2),
    ("segment_id,code\nsurvey.csv:2#0,\n", "no row has a code", None),
], ids=["empty", "no code column", "unknown segment", "unknown answer", "unknown code", "twice", "no codes"])
def test_cli_code_bad_sheets_are_one_line_naming_file_and_row(run, content, fragment, row):
    sheet = run["root"] / "coded_by_ann.csv"
    sheet.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["code", str(sheet), *run["args"]])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and str(sheet) in lines[0]
    assert (f"{sheet}:{row}:" in lines[0]) if row else (f"{sheet}:" in lines[0])
    assert not (run["corpus"] / "coded.csv").exists()  # nothing stored from a bad sheet


def test_cli_blind_sheet_codes_train_the_rest_and_analyst_codes_win(run):
    sample = runner.invoke(app, ["validate", "sample", "--n", "12", "--run", str(run["out"])])
    assert sample.exit_code == 0, sample.output
    sheet = run["out"] / "validation" / "coding_sheet.csv"
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    labels = {"staff": "Lack of staff capacity", "footprint": "Clashes over planning footprints",
              "money": "Insufficient funding"}
    coded = {}
    for k, r in enumerate(rows):  # the blind sheet's codes are the themes' codes; category themes use their labels
        code = _keyword_code(r["text"]) or "money"
        if k == 0:
            code = "footprint" if code != "footprint" else "staff"  # one code against the keywords: still kept
        r["code"], coded[r["segment_id"]] = labels[code], code
    _write(sheet, [list(rows[0])] + [list(r.values()) for r in rows])
    result = runner.invoke(app, ["code", str(sheet), *run["args"]])
    assert result.exit_code == 0, result.output
    assert "estimated share of machine codes that are right" in result.output
    segments = {r["segment_id"]: r for r in _segments(run["out"])}
    for segment_id, code in coded.items():
        assert segments[segment_id]["code"] == code and segments[segment_id]["code_source"] == "analyst"
    sources = Counter(r["code_source"] for r in segments.values())
    assert sources["analyst"] == len(coded) and sources["trained"] == len(segments) - len(coded)
    confidences = [float(r["code_confidence"]) for r in segments.values() if r["code_source"] == "trained"]
    assert all(0 < c < 1 for c in confidences)
    with (run["out"] / "accuracy.csv").open(encoding="utf-8", newline="") as handle:
        accuracy = list(csv.DictReader(handle))
    assert {r["code"] for r in accuracy if r["row"] == "code"} == set(labels)
    machine = {r["code"]: r for r in accuracy if r["row"] == "machine"}
    assert set(machine) == {"cv", "cv_random", "calibrated"}  # 12 segments of the blind (random) sample
    assert machine["cv_random"]["label"].endswith("the headline")
    assert 'id="coding"' in (run["out"] / "report.html").read_text(encoding="utf-8")
    stored = list(csv.DictReader((run["corpus"] / "coded.csv").open()))
    assert {r["segment_id"]: r["code"] for r in stored} == coded and {r["chosen_by"] for r in stored} == {"random"}


def test_cli_next_sheets_never_ask_twice_and_code_back(run):
    first = runner.invoke(app, ["validate", "sample", "--next", "6", "--run", str(run["out"])])
    assert first.exit_code == 0, first.output
    sheet1 = run["out"] / "validation" / "next_1.csv"
    with sheet1.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and len({r["segment_id"] for r in rows}) == 6 and not any(r["code"] for r in rows)
    second = runner.invoke(app, ["validate", "sample", "--next", "6", "--run", str(run["out"])])
    assert second.exit_code == 0, second.output
    with (run["out"] / "validation" / "next_2.csv").open(encoding="utf-8", newline="") as handle:
        again = {r["segment_id"] for r in csv.DictReader(handle)}
    assert len(again) == 6 and not again & {r["segment_id"] for r in rows}
    _write(sheet1, [["item", "segment_id", "text", "code", "chosen_by"]]
           + [[r["item"], r["segment_id"], r["text"], _keyword_code(r["text"]) or "money", r["chosen_by"]]
              for r in rows])
    coded = runner.invoke(app, ["code", str(sheet1), *run["args"]])
    assert coded.exit_code == 0, coded.output
    stored = [r["chosen_by"] for r in csv.DictReader((run["corpus"] / "coded.csv").open())]
    assert sorted(stored) == sorted(r["chosen_by"] for r in rows) and stored.count("audit") == 2  # 25% of 6, rounded
    # fewer than 10 coded at random: the calibrated estimate is quoted, and says it is not checked yet
    assert "calibrated confidence" in coded.output and "no random sample of 10 coded yet" in coded.output
    third = runner.invoke(app, ["validate", "sample", "--next", "30", "--run", str(run["out"])])
    with (run["out"] / "validation" / "next_3.csv").open(encoding="utf-8", newline="") as handle:
        rest = {r["segment_id"] for r in csv.DictReader(handle)}
    assert third.exit_code == 0 and len(rest) == len(_segments(run["out"])) - 12  # nobody asked twice, all others
