"""The workspace server through FastAPI's test client: the token guards every page and every write, the Host header
must be a loopback name, hostile answers and labels are escaped, and each edit reaches the run's outputs."""
from __future__ import annotations

import csv
import re

import pytest

from tests.workspace.survey import HOSTILE_ANSWER, make_workspace

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from pipeline.workspace.app import COOKIE, create_app  # noqa: E402

TOKEN = "test-token-written-by-us"


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def served(fresh_run):
    workspace = make_workspace(fresh_run, who="ana")
    client = TestClient(create_app(workspace, TOKEN), base_url="http://127.0.0.1")
    return {"client": client, "workspace": workspace, **fresh_run}


def themes_csv(run) -> dict[int, dict[str, str]]:
    return {int(r["theme_id"]): r for r in rows(run["out"] / "themes.csv")}


def segment_theme(run) -> dict[str, int]:
    return {r["segment_id"]: int(r["theme_id"]) for r in rows(run["out"] / "segments.csv")}


def post(served, path, **form):
    return served["client"].post(path, data={"token": TOKEN, **form}, follow_redirects=False)


def test_server_every_page_needs_the_token(served):
    client = served["client"]
    for path in ("/", "/themes/0", "/quotes", "/audit", "/code"):
        denied = client.get(path)
        assert denied.status_code == 403 and "token" in denied.text
    assert client.get("/?token=wrong").status_code == 403
    opened = client.get(f"/?token={TOKEN}")
    assert opened.status_code == 200 and COOKIE in opened.cookies
    assert client.get("/themes/0").status_code == 200  # the cookie carries it from then on


def test_server_writes_need_the_token_in_the_form_not_only_the_cookie(served):
    client = served["client"]
    client.get(f"/?token={TOKEN}")  # the cookie is set
    before = themes_csv(served)[0]["label"]
    refused = client.post("/themes/0/rename", data={"label": "Cookie only"}, follow_redirects=False)
    assert refused.status_code == 403
    assert themes_csv(served)[0]["label"] == before and not (served["corpus"] / "labels.yaml").exists()
    wrong = client.post("/themes/0/rename", data={"label": "Wrong token", "token": "nope"}, follow_redirects=False)
    assert wrong.status_code == 403
    done = post(served, "/themes/0/rename", label="Footprint rows")
    assert done.status_code == 303 and themes_csv(served)[0]["label"] == "Footprint rows"


def test_server_refuses_a_host_header_that_is_not_loopback(served):
    client = TestClient(create_app(served["workspace"], TOKEN), base_url="http://evil.example")
    assert client.get(f"/?token={TOKEN}").status_code == 400


def test_server_binds_to_loopback_by_default(served):
    from pipeline.workspace.server import DEFAULT_HOST, build

    running = build(served["workspace"], port=0)
    assert DEFAULT_HOST == "127.0.0.1" and running.server.config.host == "127.0.0.1"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{20,}", running.url)
    assert build(served["workspace"], port=0).token != running.token  # a new token at every start


def test_server_escapes_hostile_answers_and_labels(served):
    hostile_label = "<script>alert(1)</script> {{7*7}} <img src=x onerror=alert(2)>"
    assert post(served, "/themes/0/rename", label=hostile_label).status_code == 303
    client = served["client"]
    listing = client.get(f"/?token={TOKEN}").text
    assert "<script>alert(1)" not in listing and "<img src=x" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}}" in listing
    hostile_theme = segment_theme(served)[next(r["segment_id"] for r in rows(served["out"] / "segments.csv")
                                               if "Boards meet" in r["text"])]
    page = client.get(f"/themes/{hostile_theme}?q=Boards").text
    assert "<script>alert('x')" not in page and "{{7*7}}" in page and "49 nothing" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert HOSTILE_ANSWER not in page  # never raw


def test_server_theme_page_shows_answers_attributes_search_and_filters(served):
    client = served["client"]
    client.get(f"/?token={TOKEN}")
    staff = next(t for t, r in themes_csv(served).items() if r["category_id"] == "staff")
    page = client.get(f"/themes/{staff}").text
    assert "Staff capacity is stretched thin across the team." in page
    assert "<b>role</b>" in page and "<b>rating_staff</b>" in page
    only = client.get(f"/themes/{staff}", params={"q": "day job"}).text
    assert only.count('class="segment"') == 1 and "stretched by the day job" in only
    north = client.get(f"/themes/{staff}", params={"f.region": "North"}).text
    south = client.get(f"/themes/{staff}", params={"f.region": "South"}).text
    n_all = page.count('class="segment"')
    assert north.count('class="segment"') + south.count('class="segment"') == n_all > 0


def test_server_every_edit_reaches_the_outputs_and_the_audit_trail(served):
    themes = themes_csv(served)
    staff = next(t for t, r in themes.items() if r["category_id"] == "staff")
    money = next(t for t, r in themes.items() if r["category_id"] == "money")
    emergent = next(t for t, r in themes.items() if r["emergent"] == "True")
    seg = next(s for s, t in segment_theme(served).items() if t == staff)
    other = next(s for s, t in segment_theme(served).items() if t == staff and s != seg)
    assert post(served, f"/themes/{staff}/define", definition="Too few people.").status_code == 303
    assert post(served, f"/themes/{staff}/memo", memo="Ask about agency staff.").status_code == 303
    assert post(served, "/recode", target=seg, theme=str(money), back_to=f"/themes/{staff}").status_code == 303
    assert segment_theme(served)[seg] == money
    post(served, f"/themes/{emergent}/promote", code_id="political_will", label="Political will",
         definition="Local politicians hesitate.")
    after = themes_csv(served)
    assert after[staff]["definition"] == "Too few people." and after[staff]["memo"] == "Ask about agency staff."
    assert (after[emergent]["category_id"], after[emergent]["category_label"], after[emergent]["emergent"]) == (
        "political_will", "Political will", "False")
    split = post(served, f"/themes/{staff}/split", label="Day job", segment=[other])
    new_id = int(split.headers["location"].rsplit("/", 1)[1])
    assert new_id >= 1000 and segment_theme(served)[other] == new_id and themes_csv(served)[new_id]["label"] == "Day job"
    post(served, f"/themes/{new_id}/noise", on="1")
    assert segment_theme(served)[other] == -1 and themes_csv(served)[new_id]["noise"] == "True"
    post(served, f"/themes/{money}/merge", into=str(staff))
    assert money not in themes_csv(served) and segment_theme(served)[seg] == staff
    audit = served["client"].get(f"/audit?token={TOKEN}").text
    for action in ("define", "memo", "recode", "promote", "split", "noise", "merge"):
        assert f"<td>{action}</td>" in audit
    assert audit.count("<td>ana</td>") == 7
    labels = (served["corpus"] / "labels.yaml").read_text(encoding="utf-8")
    assert "political_will:" in labels and f"merge_into: {staff}" in labels and seg in labels


def test_server_a_failed_edit_is_a_message_not_a_crash(served):
    response = post(served, "/themes/0/merge", into="0")
    assert response.status_code == 303
    page = served["client"].get(f"/themes/0?token={TOKEN}").text
    assert "not saved" in page and "cannot merge into itself" in page


def test_server_every_write_route_checks_the_form_token():
    from pipeline.workspace import routes, routes_code
    from pipeline.workspace.web import check_write

    writes = [route for router in (routes.router, routes_code.router) for route in router.routes
              if route.methods - {"GET", "HEAD"}]
    assert len(writes) >= 12
    for route in writes:
        assert any(dep.dependency is check_write for dep in route.dependencies), route.path


def test_server_cli_errors_are_one_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)
    for args in (["serve", str(tmp_path / "nowhere")], ["serve"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_server_themes_list_shows_the_off_list_score_only_when_themes_csv_has_it(served):
    from pipeline.workspace.session import RunView

    client = served["client"]
    path = served["out"] / "themes.csv"
    table = rows(path)
    assert "off_list_score" in table[0]  # a run writes it (pipeline.categories.offlist_score)

    def rewrite(with_score: bool) -> str:
        fields = [f for f in table[0] if f != "off_list_score"] + (["off_list_score"] if with_score else [])
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({**row, "off_list_score": "0.8125" if k == 0 else "0.1"} for k, row in enumerate(table))
        served["workspace"].view = RunView.load(served["out"])
        return client.get(f"/?token={TOKEN}").text

    assert "Off-list score" not in rewrite(False)  # an older run's themes.csv without the column
    page = rewrite(True)
    assert "Off-list score" in page and "0.81" in page


@pytest.mark.parametrize("kind, magic", [("qdpx", b"PK"), ("xlsx", b"PK"), ("qdc", b"<?xml")])
def test_server_downloads_each_export(served, kind, magic):
    response = served["client"].get(f"/export/{kind}", params={"token": TOKEN})
    assert response.status_code == 200 and response.content.startswith(magic)
    assert f'filename="corpus.{kind}"' in response.headers["content-disposition"]
    assert served["client"].get(f"/export/{kind}").status_code == 200  # the cookie set above
    assert TestClient(served["client"].app, base_url="http://127.0.0.1").get(f"/export/{kind}").status_code == 403
