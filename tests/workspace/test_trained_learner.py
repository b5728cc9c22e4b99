"""The workspace's active-learner hook (`pipeline serve` sets it): the next blind item comes from the trained coder,
and "Retrain on my codes" trains the coding of every segment on the coder's sheet (FastAPI test client)."""
from __future__ import annotations

import csv

import pytest

from tests.workspace.survey import make_workspace

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from pipeline.workspace import coding  # noqa: E402
from pipeline.workspace.app import create_app  # noqa: E402
from pipeline.workspace.coding import CodingSession  # noqa: E402
from pipeline.workspace.trained import TrainedLearner  # noqa: E402

TOKEN = "test-token-written-by-us"
KEYWORDS = (("staff", "staff"), ("team", "staff"), ("footprint", "footprint"), ("boundar", "footprint"),
            ("fund", "money"), ("budget", "money"))


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def learner(fresh_run, monkeypatch):
    active = TrainedLearner(fresh_run["corpus"], fresh_run["config"], fresh_run["models"])
    monkeypatch.setattr(coding, "ACTIVE_LEARNER", active)
    return active


def _number_for(session, out, text):
    """The sheet's code number of the theme whose category the text's keyword names (None: no keyword)."""
    category = next((code for word, code in KEYWORDS if word in text.lower()), None)
    theme_category = {r["label"]: r["category_id"] for r in rows(out / "themes.csv") if r["emergent"] != "True"}
    return next((c["number"] for c in session.codes() if category and theme_category.get(c["code"]) == category),
                None)


def test_workspace_next_item_from_the_learner_and_retrain(fresh_run, learner):
    out = fresh_run["out"]
    session = CodingSession(out, "ana")
    session.draw(14, seed=3)
    first = session.next_item()
    assert first is not None and first not in session.coded()
    coded = 0
    for row in session.items():
        number = _number_for(session, out, row["text"])
        if number is not None:
            session.save(int(row["item"]), number)
            coded += 1
    assert coded >= 6
    remaining = learner.next_items(out, session.coded(), 5)
    assert not set(remaining) & set(session.coded())  # never an item already coded
    client = TestClient(create_app(make_workspace(fresh_run, who="ana"), TOKEN), base_url="http://127.0.0.1")
    client.get(f"/?token={TOKEN}")
    page = client.post("/code/retrain", data={"token": TOKEN}, follow_redirects=True)
    assert page.status_code == 200 and "trained on" in page.text, page.text[-2000:]
    segments = {r["segment_id"]: r for r in rows(out / "segments.csv")}
    sheet = {r["segment_id"]: r for r in rows(session.sheet_path) if r["code"]}
    assert len(sheet) == coded and all(segments[s]["code_source"] == "analyst" for s in sheet)
    assert {r["code_source"] for r in segments.values()} == {"analyst", "trained"}
