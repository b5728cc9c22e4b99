"""report.html of a real (fake-embedder) run in headless chromium: a theme's heading stays in view after its
link is clicked (the sticky export bar does not cover it), a quote's full answer is one click away, and the
theme x attribute tables and each theme's answers are there."""
from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.cli.test_respondents_cli import CATEGORIES, CONFIG, _survey
from tests.report.test_report_browser import CHROMIUM, launch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    work = tmp_path_factory.mktemp("browser-respondents")
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "pipeline.toml").write_text(CONFIG.replace("per_theme = 2", "per_theme = 3"), encoding="utf-8")
    (corpus / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    # three-sentence answers: a quote (one segment of two sentences) is not the whole answer
    lines = _survey().splitlines()
    survey = "\n".join([lines[0]] + [line.replace(".", ". It has been like this for years. Nobody in the national team asked us about it first.", 1)
                                     for line in lines[1:]]) + "\n"
    (corpus / "survey.csv").write_text(survey, encoding="utf-8")
    previous = os.getcwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(app, ["run", "corpus"], catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    report = work / "outputs" / "corpus" / "report.html"
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        tab = browser.new_page(viewport={"width": 1000, "height": 700})
        errors = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(report.as_uri())
        tab.wait_for_load_state("load")
        yield {"page": tab, "errors": errors}
        browser.close()


def test_report_browser_theme_heading_is_visible_below_the_sticky_bar_after_a_click(page):
    tab = page["page"]
    links = tab.locator("#themes tbody a")
    assert links.count() >= 2
    for index in range(links.count()):
        href = links.nth(index).get_attribute("href")
        links.nth(index).click()
        heading = tab.locator(f"{href}-h")
        tab.wait_for_timeout(100)
        box, bar = heading.bounding_box(), tab.locator(".export").bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 700, f"{href} heading out of view"
        stuck = bar["y"] <= 1  # the bar is stuck at the top of the viewport once the quotes section is reached
        assert not stuck or box["y"] >= bar["y"] + bar["height"], f"{href} heading hidden under the export bar"
    assert page["errors"] == []


def test_report_browser_full_answer_is_one_click_away(page):
    tab = page["page"]
    details = tab.locator("details.full-answer").first
    assert details.count() == 1
    answer = details.locator("p.answer")
    assert not answer.is_visible()
    details.locator("summary").click()
    assert answer.is_visible() and "Nobody in the national team asked us about it first." in answer.inner_text()


def test_report_browser_attribute_tables_and_theme_answers_are_present(page):
    tab = page["page"]
    for attribute in ("role", "region"):
        table = tab.locator(f"#attribute-{attribute}")
        assert table.is_visible()
        assert table.locator("tbody tr").count() >= 3  # "all respondents" and at least two themes
    answers = tab.locator("details.theme-answers").first
    answers.locator("summary").click()
    rows = answers.locator("tbody tr")
    assert rows.count() >= 2 and rows.first.is_visible()
    assert "Chair" in answers.inner_text() or "Finance lead" in answers.inner_text()
