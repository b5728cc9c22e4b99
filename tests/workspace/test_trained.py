"""End to end on the workspace survey (fake embedder): an analyst-added code (labels.yaml ``codes:``) is learned from
a few coded segments, its near neighbours change code, and the analyst's codes survive a re-run and a corpus that
grows."""
from __future__ import annotations

import csv

from pipeline import runner
from pipeline.workspace.trained import code_from_sheets, next_sheet
from tests.conftest import TINY_TOPICS

LABELS = """\
codes:
  politics: {label: Political resistance, definition: Councillors and local politicians resist the plan.}
"""


def _segments(out):
    with (out / "segments.csv").open(encoding="utf-8", newline="") as handle:
        return {r["segment_id"]: r for r in csv.DictReader(handle)}


def _politics(segments):
    return [s for s, r in segments.items() if r["text"] in TINY_TOPICS["politics"]]


def test_trained_coding_learns_an_added_code_and_keeps_analyst_codes(fresh_run):
    corpus, out, models, config = fresh_run["corpus"], fresh_run["out"], fresh_run["models"], fresh_run["config"]
    (corpus / "labels.yaml").write_text(LABELS, encoding="utf-8")
    runner.run(corpus, config, out, until="report", model_dir=models, reuse_only=True)
    before = _segments(out)
    politics = _politics(before)
    assert not any(before[s]["code"] == "politics" for s in politics)  # label-free: only the closed list
    coded = politics[:3]
    others = [s for s, r in before.items() if r["text"] in TINY_TOPICS["staff"] + TINY_TOPICS["money"]][:6]
    sheet = fresh_run["root"] / "coded_by_ann.csv"
    rows = [["segment_id", "code"]] + [[s, "politics"] for s in coded] + \
        [[s, "staff" if before[s]["text"] in TINY_TOPICS["staff"] else "money"] for s in others]
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    outcome = code_from_sheets(out, [sheet], corpus, config, model_dir=models)
    assert outcome.n_new == len(coded) + len(others)
    after = _segments(out)
    assert all(after[s]["code"] == "politics" and after[s]["code_source"] == "analyst" for s in coded)
    near = [s for s in politics if s not in coded]
    assert sum(after[s]["code"] == "politics" for s in near) >= len(near) - 1  # the neighbours follow
    assert after[near[0]]["code_label"] == "Political resistance"
    # the analyst's codes decide the themes: the added code gets a theme holding its coded segments, in every table
    with (out / "themes.csv").open(encoding="utf-8", newline="") as handle:
        themes = {r["theme_id"]: r for r in csv.DictReader(handle)}
    carrier = next(t for t, r in themes.items() if r["category_id"] == "politics")
    assert themes[carrier]["label"] == "Political resistance" and int(themes[carrier]["size"]) >= len(coded)
    assert all(after[s]["theme_id"] == carrier for s in coded)
    assert all(themes[after[s]["theme_id"]]["category_id"] == after[s]["code"] for s in others)
    with (out / "theme_answers.csv").open(encoding="utf-8", newline="") as handle:
        assert {after[s]["answer_id"] for s in coded} <= {r["answer_id"] for r in csv.DictReader(handle)
                                                          if r["theme_id"] == carrier}

    runner.run(corpus, config, out, until="report", model_dir=models)  # a plain re-run keeps the codes
    assert all(_segments(out)[s]["code_source"] == "analyst" for s in coded + others)

    (corpus / "wave2.csv").write_text("respondent_id,other_barriers\nW1,Councillors block every closure for "
                                      "political reasons.\nW2,There is no funding left in the budget.\n",
                                      encoding="utf-8")
    runner.run(corpus, config, out, until="report", model_dir=models)
    grown = _segments(out)
    assert all(grown[s]["code_source"] == "analyst" and grown[s]["code"] == before_code
               for s, before_code in {**dict.fromkeys(coded, "politics"),
                                      **{s: after[s]["code"] for s in others}}.items())
    new = {r["text"]: r for r in grown.values() if r["file"] == "wave2.csv"}
    assert new["Councillors block every closure for political reasons."]["code"] == "politics"
    assert new["There is no funding left in the budget."]["code"] == "money"
    assert all(r["code_source"] == "trained" for r in new.values())


def test_next_sheet_with_nothing_coded_covers_every_code(fresh_run):
    config = fresh_run["config"].model_copy(update={"validate": fresh_run["config"].validate.model_copy(
        update={"audit_share": 0.0})})
    path, picked, advice = next_sheet(fresh_run["out"], 6, fresh_run["corpus"], config, model_dir=fresh_run["models"])
    segments = _segments(fresh_run["out"])
    assert len(picked) == 6 and {segments[s]["code"] for s in picked} == {"staff", "footprint", "money"}
    assert "nothing coded yet" in advice and path.name == "next_1.csv"


def _rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_next_sheets_mix_in_audit_rows_that_the_accuracy_estimate_rests_on(fresh_run):
    """Each --next sheet carries audit rows (validate.audit_share of all rows asked, drawn at random); coded, they
    are stored as chosen at random, and once there are enough of them the estimate printed rests on them."""
    corpus, out, models, config = fresh_run["corpus"], fresh_run["out"], fresh_run["models"], fresh_run["config"]
    segments = _segments(out)
    truth = {s: next((topic for topic, texts in TINY_TOPICS.items() if r["text"] in texts), None)
             for s, r in segments.items()}
    code_of = {"staff": "staff", "footprint": "footprint", "money": "money", "politics": "none of these",
               None: "none of these"}
    audited = []
    for k in (1, 2):
        path, picked, _ = next_sheet(out, 8, corpus, config, model_dir=models)
        rows = _rows(path)
        audit = [r for r in rows if r["chosen_by"] == "audit"]
        assert path.name == f"next_{k}.csv" and len(rows) == 8 and len(audit) == 2  # 25% of 8, then of 16
        assert {r["chosen_by"] for r in rows} == {"audit", "active"}
        audited += [r["segment_id"] for r in audit if code_of[truth[r["segment_id"]]] != "none of these"]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**r, "code": code_of[truth[r["segment_id"]]]} for r in rows)
        outcome = code_from_sheets(out, [path], corpus, config, model_dir=models)
    stored = _rows(corpus / "coded.csv")
    assert sorted(r["segment_id"] for r in stored if r["chosen_by"] == "audit") == sorted(audited)
    assert {r["chosen_by"] for r in stored} <= {"audit", "active"}
    report = outcome.result.coding_accuracy
    assert report.headline == "calibrated"  # fewer than 10 coded at random: the calibrated estimate, and it says so
    assert "no random sample of 10 coded yet" in code_summary_line(report)


def code_summary_line(report):
    from pipeline.analyst.accuracy import headline_text

    return headline_text(report)
