"""Blind coding sheets and agreement scores: round trips, hand-computed kappa and alpha, and bad sheets."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from sklearn.metrics import cohen_kappa_score

from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Segment, Theme
from pipeline.analyst.agreement import agreement, render_agreement, score_sheets, write_agreement
from pipeline.analyst.sheets import (
    CODES_FILE, MACHINE, NONE_CODE, SHEET_COLUMNS, coding_codes, load_key, sample_sheet, write_sample,
)

THEMES = [
    Theme(1, "Staff capacity", ("staff",), 60, 0.9),
    Theme(2, "Political will", ("politicians",), 30, 0.8, definition="Local politicians hold back change."),
    Theme(3, "Footprint clashes", ("footprint",), 15, 0.7),
    Theme(4, "Short deadlines", ("deadline",), 3, 0.6),
    Theme(5, "Thanks", ("thanks",), 4, 0.5, noise=True),
]
SIZES = {1: 60, 2: 30, 3: 15, 4: 3, 5: 4, UNASSIGNED: 8}


@pytest.fixture
def run():
    theme_ids = [t for t, size in SIZES.items() for _ in range(size)]
    segments = [Segment(f"s.csv:{k}#0", f"s.csv:{k}", f"r{k}", "s.csv", k, 0, 0, 20, f"answer number {k} here",
                        f"answer number {k} here") for k in range(1, len(theme_ids) + 1)]
    assignments = [Assignment(s.segment_id, t, 0.9) for s, t in zip(segments, theme_ids)]
    return segments, assignments


def machine_code(theme_id: int) -> str:
    labels = {t.theme_id: t.label for t in THEMES if not t.noise}
    return labels.get(theme_id, NONE_CODE)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], columns=SHEET_COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_validate_sample_is_stratified_shuffled_and_blind(run):
    segments, assignments = run
    rows = sample_sheet(segments, assignments, THEMES, n=60, random_state=7)
    assert [r["item"] for r in rows] == list(range(1, 61)) and list(rows[0]) == SHEET_COLUMNS
    assert all(r["code"] == "" for r in rows) and len({r["segment_id"] for r in rows}) == 60
    theme_of = {a.segment_id: a.theme_id for a in assignments}
    strata = Counter(theme_of[r["segment_id"]] if theme_of[r["segment_id"]] != 5 else UNASSIGNED for r in rows)
    assert set(strata) == {1, 2, 3, 4, UNASSIGNED}  # every theme, noise pooled with unassigned
    total = sum(SIZES.values())
    unassigned = SIZES[5] + SIZES[UNASSIGNED]
    for stratum, size in {**{k: SIZES[k] for k in (1, 2, 3, 4)}, UNASSIGNED: unassigned}.items():
        assert abs(strata[stratum] - 60 * size / total) <= 1.5, (stratum, strata)
    order = [theme_of[r["segment_id"]] for r in rows]
    assert order != sorted(order, key=lambda t: (-SIZES.get(t, 0), t))
    assert rows == sample_sheet(segments, assignments, THEMES, n=60, random_state=7)
    assert rows != sample_sheet(segments, assignments, THEMES, n=60, random_state=8)


@pytest.mark.parametrize("n, expected", [(2, {1, 2}), (5, {1, 2, 3, 4, UNASSIGNED}), (500, None)])
def test_validate_sample_small_and_large_n(run, n, expected):
    segments, assignments = run
    rows = sample_sheet(segments, assignments, THEMES, n=n, random_state=0)
    theme_of = {a.segment_id: (a.theme_id if a.theme_id != 5 else UNASSIGNED) for a in assignments}
    if expected is None:
        assert len(rows) == len(segments)
    else:
        assert {theme_of[r["segment_id"]] for r in rows} == expected and len(rows) == n


def test_validate_codes_are_unique_and_end_with_none():
    themes = [Theme(1, "Money", (), 1, 1.0), Theme(2, "money", (), 1, 1.0), Theme(3, "Time", (), 1, 1.0),
              Theme(4, "Noise", (), 1, 1.0, noise=True)]
    assert [c["code"] for c in coding_codes(themes)] == ["Money (theme 1)", "money (theme 2)", "Time", NONE_CODE]


def fill(sheet: Path, codes: list[str], target: Path) -> Path:
    rows = read_rows(sheet)
    for row, code in zip(rows, codes):
        row["code"] = code
    return write_rows(target, rows)


@pytest.fixture
def sample(run, tmp_path):
    segments, assignments = run
    rows = sample_sheet(segments, assignments, THEMES, n=60, random_state=3)
    paths = write_sample(tmp_path / "validation", rows, assignments, segments, THEMES)
    theme_of = {a.segment_id: a.theme_id for a in assignments}
    truth = [machine_code(theme_of[r["segment_id"]]) for r in rows]
    return paths, truth


def test_validate_round_trip_machine_codes_give_perfect_agreement(sample, tmp_path):
    paths, truth = sample
    codes = read_rows(paths["codes"])
    assert [c["code"] for c in codes][-1] == NONE_CODE and "Political will" in [c["code"] for c in codes]
    assert "Staff capacity" not in paths["sheet"].read_text(encoding="utf-8")
    number = {c["code"]: c["number"] for c in codes}
    # one coder writes codes in other case and spacing, another writes the code numbers
    a = fill(paths["sheet"], [f"  {c.upper()} " for c in truth], tmp_path / "ann.csv")
    b = fill(paths["sheet"], [number[c] for c in truth], tmp_path / "bob.csv")
    report = score_sheets([a, b], paths["key"])
    assert report.raters == [MACHINE, "ann", "bob"] and report.n_items == 60
    assert [p["kappa"] for p in report.pairwise] == [1.0, 1.0, 1.0]
    assert report.alpha == pytest.approx(1.0) and report.alpha_coders == pytest.approx(1.0)
    assert all(r["f1"] == 1.0 for r in report.per_code if r["support"])
    assert np.trace(report.confusion) == report.confusion.sum() == 120
    assert report.suggested_merges == [] and report.warnings == []


def test_validate_round_trip_shuffled_codes_agree_near_chance(sample, tmp_path):
    paths, truth = sample
    shuffled = [truth[i] for i in np.random.default_rng(11).permutation(len(truth))]
    report = score_sheets([fill(paths["sheet"], shuffled, tmp_path / "shuffled.csv")], paths["key"])
    assert abs(report.pairwise[0]["kappa"]) < 0.2
    assert abs(report.alpha) < 0.2
    assert report.alpha_coders is None


def test_validate_kappa_matches_hand_computation_and_sklearn():
    # coder vs machine on 50 items: both "yes" 20, coder yes/machine no 5, coder no/machine yes 10, both no 15
    coder = ["yes"] * 25 + ["no"] * 25
    machine = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    observed = (20 + 15) / 50
    expected = (25 / 50) * (30 / 50) + (25 / 50) * (20 / 50)
    by_hand = (observed - expected) / (1 - expected)
    assert by_hand == pytest.approx(0.4)
    report = agreement({MACHINE: machine, "coder": coder}, ["yes", "no", NONE_CODE])
    assert report.pairwise[0]["kappa"] == pytest.approx(by_hand)
    assert report.pairwise[0]["kappa"] == pytest.approx(cohen_kappa_score(coder, machine))
    assert report.pairwise[0]["agreement"] == pytest.approx(observed)


def test_validate_alpha_matches_hand_computation():
    coder, machine = ["a", "a", "b", "b"], ["a", "b", "b", "b"]
    # coincidence matrix (each unit with 2 values adds both ordered pairs): o_aa=2, o_ab=o_ba=1, o_bb=4
    n_a, n_b, n = 3, 5, 8
    observed_disagreement = (1 + 1) / n
    expected_disagreement = (n_a * n_b + n_b * n_a) / (n * (n - 1))
    by_hand = 1 - observed_disagreement / expected_disagreement
    assert by_hand == pytest.approx(16 / 30)
    report = agreement({MACHINE: machine, "coder": coder}, ["a", "b", NONE_CODE])
    assert report.alpha == pytest.approx(by_hand)


def test_validate_blank_codes_are_excluded_with_a_warning(sample, tmp_path):
    paths, truth = sample
    partial = [code if k % 4 else "" for k, code in enumerate(truth)]
    sheet = fill(paths["sheet"], partial, tmp_path / "carol.csv")
    report = score_sheets([sheet], paths["key"])
    assert report.pairwise[0]["n"] == 45 and report.pairwise[0]["kappa"] == 1.0
    assert len(report.warnings) == 1 and "carol.csv: 15 item(s) left blank" in report.warnings[0]


def test_validate_suggests_merging_codes_raters_swap(sample, tmp_path):
    paths, truth = sample
    swap = {"Staff capacity": "Political will", "Political will": "Staff capacity"}
    sheet = fill(paths["sheet"], [swap.get(c, c) for c in truth], tmp_path / "dan.csv")
    report = score_sheets([sheet], paths["key"])
    assert [(m["code_a"], m["code_b"]) for m in report.suggested_merges] == [("Staff capacity", "Political will")]
    assert report.suggested_merges[0]["share"] == pytest.approx(1.0)
    per_code = {r["code"]: r for r in report.per_code}
    assert per_code["Staff capacity"]["f1"] == 0.0 and per_code["Footprint clashes"]["f1"] == 1.0


def mutate(kind: str, rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[str], int | None, str]:
    """Spoil a filled sheet in one way; returns rows, columns, the data row named, and the message fragment."""
    columns = list(SHEET_COLUMNS)
    if kind == "unknown code":
        rows[4]["code"] = "Politcal wil"
        return rows, columns, 5, "unknown code 'Politcal wil'; did you mean 'Political will'?"
    if kind == "missing rows":
        del rows[10:12]
        return rows, columns, None, "2 item(s) missing from the sheet: 11, 12"
    if kind == "edited segment id":
        rows[7]["segment_id"] = "s.csv:999#0"
        return rows, columns, 8, "item 8: segment id 's.csv:999#0' was changed"
    if kind == "duplicate item":
        rows[9]["item"] = "3"
        return rows, columns, 10, "item 3 appears twice (also row 3)"
    if kind == "bad item":
        rows[2]["item"] = "three"
        return rows, columns, 3, "item 'three' is not an item of this sample"
    if kind == "missing column":
        return rows, ["item", "segment_id", "text"], None, "header lacks column(s) code"
    if kind == "all blank":
        for row in rows:
            row["code"] = ""
        return rows, columns, None, "no item has a code yet"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["unknown code", "missing rows", "edited segment id", "duplicate item", "bad item",
                                  "missing column", "all blank"])
def test_validate_bad_sheet_names_file_and_row(sample, tmp_path, kind):
    paths, truth = sample
    rows = read_rows(fill(paths["sheet"], truth, tmp_path / "good.csv"))
    rows, columns, row, fragment = mutate(kind, rows)
    sheet = write_rows(tmp_path / "eve.csv", rows, columns)
    with pytest.raises(PipelineError) as info:
        score_sheets([sheet], paths["key"])
    message = str(info.value)
    assert message.startswith(f"{sheet}:") and fragment in message and "\n" not in message
    assert info.value.row == row
    if kind == "unknown code":
        assert CODES_FILE in message


def test_validate_sheet_saved_by_a_spreadsheet_is_read(sample, tmp_path):
    paths, truth = sample
    rows = read_rows(fill(paths["sheet"], truth, tmp_path / "good.csv"))
    text = "item;segment_id;text;code\r\n" + "".join(
        f"{r['item']};{r['segment_id']};{r['text']} \u2013 caf\u00e9;{r['code']}\r\n" for r in rows) + ";;;\r\n"
    sheet = tmp_path / "fay.csv"
    sheet.write_bytes(text.encode("cp1252"))
    assert score_sheets([sheet], paths["key"]).pairwise[0]["kappa"] == 1.0


@pytest.mark.parametrize("content, fragment", [(None, "coding key not found"), ("{}", "not a coding key")])
def test_validate_bad_key(tmp_path, content, fragment):
    key = tmp_path / "coding_key.json"
    if content is not None:
        key.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError, match=fragment):
        load_key(key)


def test_validate_outputs_and_terminal_table(sample, tmp_path):
    paths, truth = sample
    noisy = list(truth)
    noisy[:6] = ["Short deadlines"] * 6
    report = score_sheets([fill(paths["sheet"], noisy, tmp_path / "gus.csv")], paths["key"])
    written = write_agreement(tmp_path / "out", report)
    pairwise = read_rows(tmp_path / "out" / "agreement_pairwise.csv")
    assert float(pairwise[0]["kappa"]) == pytest.approx(report.pairwise[0]["kappa"], abs=1e-6)
    confusion = read_rows(tmp_path / "out" / "agreement_confusion.csv")
    deadline_row = next(r for r in confusion if r["coder_code"] == "Short deadlines")
    assert sum(int(v) for k, v in deadline_row.items() if k != "coder_code") == noisy.count("Short deadlines")
    markdown = (tmp_path / "out" / "agreement.md").read_text(encoding="utf-8")
    assert f"{report.pairwise[0]['kappa']:.3f}" in markdown and len(written) == 6
    console = Console(record=True, width=140)
    console.print(render_agreement(report))
    shown = console.export_text()
    assert "Cohen's kappa" in shown and f"{report.pairwise[0]['kappa']:.3f}" in shown
    assert json.loads(paths["key"].read_text(encoding="utf-8"))["items"][0]["item"] == 1


def test_validate_sheet_from_another_sample_is_rejected(run, sample, tmp_path):
    segments, assignments = run
    paths, truth = sample
    other = sample_sheet(segments, assignments, THEMES, n=60, random_state=99)
    other_paths = write_sample(tmp_path / "other", other, assignments, segments, THEMES,
                               sheet=tmp_path / "for_coders" / "sheet.csv")
    assert other_paths["codes"] == tmp_path / "for_coders" / CODES_FILE and other_paths["codes"].is_file()
    assert other_paths["key"] == tmp_path / "other" / "coding_key.json"
    sheet = fill(other_paths["sheet"], truth, tmp_path / "hal.csv")
    with pytest.raises(PipelineError, match="hal.csv: most items on this sheet do not match the coding key"):
        score_sheets([sheet], paths["key"])


def test_validate_sample_of_nothing_is_an_error():
    with pytest.raises(PipelineError, match="no segments"):
        sample_sheet([], [], THEMES, n=10, random_state=0)
