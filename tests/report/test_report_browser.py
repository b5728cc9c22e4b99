"""report.html in headless chromium: renders offline without errors, charts draw, quote export downloads
exactly the selected quotes.

Screenshot of any report (for docs/report.png):
    .venv/bin/python -m tests.report.test_report_browser OUT.png REPORT.html
Without REPORT.html it renders the hand-built fixture run from test_report.py.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Blob downloads are created by the page itself in memory; data: URLs likewise never leave the machine.
LOCAL_SCHEMES = ("blob:", "data:")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    from pipeline.report import write_report
    from tests.report.sample_run import build_result

    root = tmp_path_factory.mktemp("browser")
    result = build_result(root / "corpus", root / "out")
    report = write_report(result, root / "out")["report.html"]
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(accept_downloads=True)
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        yield {"page": page, "url": report.as_uri(), "requests": requests, "errors": errors, "result": result,
               "dir": root}
        browser.close()


def test_report_browser_loads_offline_without_errors(report_page):
    assert report_page["errors"] == []
    assert [url for url in report_page["requests"] if not url.startswith(LOCAL_SCHEMES)] == [report_page["url"]]


@pytest.mark.parametrize("chart, shape, minimum", [("#prevalence-chart", "rect.bar", 7),
                                                   ("#mapping-heatmap", "rect.cell", 12),
                                                   ("#crosstab-heatmap", "rect.cell", 3)])
def test_report_browser_charts_render_with_size(report_page, chart, shape, minimum):
    page = report_page["page"]
    assert page.locator(chart).is_visible()
    boxes = [element.bounding_box() for element in page.locator(f"{chart} {shape}").all()]
    assert len(boxes) >= minimum
    assert all(box and box["width"] > 0 and box["height"] > 0 for box in boxes)


def _select(page, texts: list[str]) -> None:
    if page.locator("#clear-selection").is_enabled():  # disabled while nothing is selected
        page.click("#clear-selection")
    assert page.locator("input.quote-select:checked").count() == 0
    for text in texts:
        item = page.locator("li.quote", has_text=text)
        item.get_by_label("Select").check()
    assert page.locator("#selected-count").inner_text() == f"{len(texts)} quotes selected"


def _download(page, button: str, directory: Path) -> str:
    with page.expect_download() as info:
        page.click(button)
    target = directory / info.value.suggested_filename
    info.value.save_as(target)
    return target.read_text(encoding="utf-8-sig")


def test_report_browser_exports_exactly_the_selected_quotes_as_csv(report_page):
    quotes = {q.respondent_id: q for q in report_page["result"].quotes}
    chosen = [quotes["R4"], quotes["R5"]]  # one flagged (phone), one holding markup
    _select(report_page["page"], [q.text[:30] for q in chosen])
    text = _download(report_page["page"], "#export-csv", report_page["dir"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted((r["respondent_id"], r["text"], r["source"]) for r in rows) == sorted(
        (q.respondent_id, q.text, f"{q.file}:{q.row}") for q in chosen)
    flagged = {r["respondent_id"]: (r["flagged"], r["flags"]) for r in rows}
    assert flagged == {"R4": ("yes", "phone"), "R5": ("no", "")}
    assert {r["theme"] for r in rows} == {"Staff capacity & time", "Local political will"}


def test_report_browser_exports_exactly_the_selected_quotes_as_markdown(report_page):
    quotes = {q.respondent_id: q for q in report_page["result"].quotes}
    chosen = [quotes["R3"], quotes["R2"]]
    _select(report_page["page"], [q.text[:30] for q in chosen])
    text = _download(report_page["page"], "#export-md", report_page["dir"])
    quoted = [line[2:] for line in text.splitlines() if line.startswith("> ") and not line.startswith("> —")]
    assert sorted(quoted) == sorted(q.text for q in chosen)
    attributions = [line for line in text.splitlines() if line.startswith("> — ")]
    assert len(attributions) == 2
    assert re.search(r"respondent R3, survey\.csv:3 .*FLAGGED.*named-organisation", "\n".join(attributions))
    assert sorted(line[3:] for line in text.splitlines() if line.startswith("## ")) == [
        "Footprint boundaries", "Local political will"]


def screenshot(report_html: Path, out_png: Path, width: int = 1280, height: int | None = 1700) -> None:
    """PNG of the top ``height`` pixels of a report (the whole page if None), rendered offline in the same
    chromium the tests use."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": width, "height": height or 900}, device_scale_factor=1)
        page.goto(Path(report_html).resolve().as_uri())
        page.screenshot(path=str(out_png), full_page=height is None)
        browser.close()


@pytest.mark.parametrize("text, cell", [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
                                        ("+44 staff short", "'+44 staff short"), ("-5% budget", "'-5% budget"),
                                        ("@board", "'@board"), ("Plain answer", "Plain answer")])
def test_report_browser_csv_export_keeps_formula_like_answers_as_text(report_page, text, cell):
    quote = {"theme_id": 1, "theme": "t", "text": text, "respondent_id": "R1", "source": "s.csv:1", "flags": [],
             "ratings": ""}
    exported = report_page["page"].evaluate("q => window.pipelineReport.toCsv([q])", quote)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0]["text"] == cell


if __name__ == "__main__":
    import tempfile

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m tests.report.test_report_browser OUT.png [REPORT.html]")
    if len(sys.argv) == 3:
        screenshot(Path(sys.argv[2]), Path(sys.argv[1]))
    else:
        from pipeline.report import write_report
        from tests.report.sample_run import build_result

        with tempfile.TemporaryDirectory() as tmp:
            run = build_result(Path(tmp) / "corpus", Path(tmp) / "out")
            screenshot(write_report(run, Path(tmp) / "out")["report.html"], Path(sys.argv[1]))
