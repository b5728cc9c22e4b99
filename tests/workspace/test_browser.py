"""The workspace in headless chromium (Debian's), one flow per test: rename a theme and see themes.csv and the report
change; recode a segment and see segments.csv change; code 10 blind items from the keyboard and see the agreement;
pick quotes across themes, keep them over a reload, export CSV and Markdown. Pages load nothing from elsewhere.

Screenshot of a real run (for docs/workspace.png):
    .venv/bin/python -m tests.workspace.test_browser OUT.png RUN_DIR [CORPUS_DIR]
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest

from tests.report.test_report_browser import CHROMIUM, launch
from tests.workspace.survey import FORMULA_ANSWER, make_workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def workspace_page(browser, fresh_run):
    from pipeline.workspace.server import start_in_thread

    running = start_in_thread(make_workspace(fresh_run, who="browser-analyst"))
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(running.url)
    yield {"page": page, "running": running, "requests": requests, "errors": errors, **fresh_run}
    context.close()
    running.stop()


def submit(page, action) -> None:
    """Do ``action`` (a click or key press that submits a form) and wait for the page it leads to."""
    with page.expect_navigation(wait_until="load"):
        action()


def local_only(state) -> bool:
    return all(url.startswith((state["running"].base, "blob:", "data:")) for url in state["requests"])


def test_browser_rename_changes_themes_csv_and_the_report(workspace_page):
    page, out = workspace_page["page"], workspace_page["out"]
    staff = next(r for r in rows(out / "themes.csv") if r["category_id"] == "staff")
    submit(page, lambda: page.click(f"tr[data-theme-id='{staff['theme_id']}'] a"))
    page.fill("#rename-form input[name=label]", "Too few hands")
    submit(page, lambda: page.click("#rename-form button"))
    assert page.locator("#theme-title").inner_text().startswith("Too few hands")
    assert "saved" in page.locator(".flash").inner_text()
    assert {r["theme_id"]: r["label"] for r in rows(out / "themes.csv")}[staff["theme_id"]] == "Too few hands"
    assert "Too few hands" in (out / "report.html").read_text(encoding="utf-8")
    submit(page, lambda: page.click("text=Audit trail"))
    assert "theme " + staff["theme_id"] + " renamed to 'Too few hands'" in page.locator("table.audit").inner_text()
    assert "browser-analyst" in page.locator("table.audit").inner_text()
    assert workspace_page["errors"] == [] and local_only(workspace_page)


def test_browser_recode_changes_segments_csv(workspace_page):
    page, out = workspace_page["page"], workspace_page["out"]
    themes = {r["category_id"]: r["theme_id"] for r in rows(out / "themes.csv")}
    staff, money = themes["staff"], themes["money"]
    segment = next(r["segment_id"] for r in rows(out / "segments.csv") if r["theme_id"] == staff)
    page.goto(f"{workspace_page['running'].base}/themes/{staff}")
    item = page.locator(f"li.segment[data-segment-id='{segment}']")
    item.locator("select[name=theme]").select_option(money)
    submit(page, lambda: item.locator("button", has_text="Recode").click())
    assert "recoded" in page.locator(".flash").inner_text()
    assert {r["segment_id"]: r["theme_id"] for r in rows(out / "segments.csv")}[segment] == money
    assert page.locator(f"li.segment[data-segment-id='{segment}']").count() == 0  # it left this theme's page
    page.goto(f"{workspace_page['running'].base}/themes/{money}")
    assert "recoded by the analyst" in page.locator(f"li.segment[data-segment-id='{segment}']").inner_text()
    assert workspace_page["errors"] == []


def test_browser_code_ten_items_from_the_keyboard_then_agreement(workspace_page):
    page, out = workspace_page["page"], workspace_page["out"]
    submit(page, lambda: page.click("text=Code the blind sample"))
    page.fill("#draw-form input[name=n]", "10")
    submit(page, lambda: page.click("#draw-form button"))
    for step in range(10):
        assert page.locator("#progress-text").inner_text().startswith(f"{step} of 10 coded")
        page.keyboard.press(str(1 + step % 3))
        assert page.locator("input[type=radio]:checked").get_attribute("data-number") == str(1 + step % 3)
        submit(page, lambda: page.keyboard.press("Enter"))
    assert page.locator("h1").inner_text() == "Agreement with the machine"
    kappa = page.locator("#kappa").inner_text()
    assert kappa != "n/a" and -1.0 <= float(kappa) <= 1.0
    assert page.locator("#alpha").inner_text() != ""
    sheet = out / "validation" / "coded_by_browser-analyst.csv"
    coded = rows(sheet)
    assert len(coded) == 10 and all(r["code"] for r in coded)
    from pipeline.analyst import score_sheets

    report = score_sheets([sheet], out / "validation" / "coding_key.json")  # what `validate score` computes
    machine = next(r for r in report.pairwise if "machine" in (r["rater_a"], r["rater_b"]))
    assert float(kappa) == pytest.approx(machine["kappa"], abs=5e-4)
    assert workspace_page["errors"] == []


def _download(page, button: str, folder: Path) -> str:
    with page.expect_download() as info:
        page.click(button)
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target.read_text(encoding="utf-8-sig")


def test_browser_quote_selection_survives_themes_and_reload_then_exports(workspace_page, tmp_path):
    page = workspace_page["page"]
    submit(page, lambda: page.click("text=Quotes"))
    sections = page.locator("section.quote-theme")
    assert sections.count() >= 2
    chosen = [sections.nth(0).locator("input.quote-select").first, sections.nth(1).locator("input.quote-select").first]
    texts = [box.get_attribute("data-text") for box in chosen]
    for box in chosen:
        box.check()
    assert page.locator("#selected-count").inner_text() == "2 quotes selected"
    page.reload()
    assert page.locator("#selected-count").inner_text() == "2 quotes selected"
    assert page.locator("input.quote-select:checked").count() == 2
    exported = list(csv.DictReader(io.StringIO(_download(page, "#export-csv", tmp_path))))
    assert sorted(r["text"] for r in exported) == sorted(texts)
    assert len({r["theme"] for r in exported}) == 2
    markdown = _download(page, "#export-md", tmp_path)
    quoted = [line[2:] for line in markdown.splitlines() if line.startswith("> ") and not line.startswith("> —")]
    assert len(quoted) == 2
    hostile = {"theme_id": 1, "theme": "<b>t</b>", "text": FORMULA_ANSWER + " <script>x</script>", "flags": [],
               "respondent_id": "R1", "source": "s.csv:1", "ratings": ""}
    csv_text = page.evaluate("q => window.pipelineWorkspace.toCsv([q])", hostile)
    assert list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))[0]["text"].startswith("'=HYPERLINK")
    md = page.evaluate("q => window.pipelineWorkspace.toMarkdown([q])", hostile)
    assert "<script>" not in md and "<b>" not in md and "&lt;script&gt;" in md
    assert workspace_page["errors"] == [] and local_only(workspace_page)


def screenshot(run_dir: Path, corpus_dir: Path, out_png: Path, width: int = 1280, height: int = 1100) -> None:
    """PNG of a real run's emergent theme page in the workspace (the README's docs/workspace.png)."""
    from playwright.sync_api import sync_playwright

    from pipeline import runner
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace
    from pipeline.workspace.server import start_in_thread

    workspace = Workspace(run_dir, corpus_dir, load_config(corpus_dir / "pipeline.toml"), "analyst",
                          model_dir=runner.default_model_dir(corpus_dir))
    emergent = next((t for t in workspace.view.themes if t.emergent and not t.noise), workspace.view.themes[0])
    running = start_in_thread(workspace)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(running.url)
            page.goto(f"{running.base}/themes/{emergent.theme_id}")
            page.screenshot(path=str(out_png))
            browser.close()
    finally:
        running.stop()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m tests.workspace.test_browser OUT.png RUN_DIR [CORPUS_DIR]")
    run = Path(sys.argv[2])
    screenshot(run, Path(sys.argv[3]) if len(sys.argv) == 4 else Path("corpus"), Path(sys.argv[1]))
