"""What the terminal shows (pipeline/cli/summary.py): counts that match the records, theme tables that print an
analyst's text literally, quotes with their flags."""
from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from pipeline.cli import summary
from pipeline.core.artifacts import Labelled, Mapped
from tests.report.sample_run import build_result, with_outputs


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, color_system=None), buffer


@pytest.fixture
def result(tmp_path):
    return build_result(tmp_path / "corpus", tmp_path / "out")


def test_summary_counts_match_the_ledger(result):
    console, buffer = _console()
    summary.print_summary(result, console)
    text = buffer.getvalue()
    kept = sum(e.status == "kept" for e in result.ledger)
    assert f"answers read: {len(result.ledger)}  kept: {kept}  dropped: {len(result.ledger) - kept}" in text
    assert "(duplicate 1, non-answer 1)" in text
    assert f"segments: {len(result.segments)}" in text
    assert "embedding cache: 5 hits, 3 newly embedded" in text
    assert "themes: 3 (1 emergent)  unassigned segments: 1 (12.5%)" in text


def test_summary_theme_count_is_the_reports_and_names_noise_themes(result):
    from pipeline.report.view import run_counts

    themes = tuple(dataclasses.replace(t, noise=True) if t.theme_id == 1 else t for t in result.themes)
    marked = with_outputs(result, labels=dataclasses.replace(result.outputs["labels"], themes=themes),
                          mapping=Mapped(themes))
    console, buffer = _console()
    summary.print_summary(marked, console)
    assert "themes: 2 (1 emergent; 1 marked noise, set aside)" in buffer.getvalue()
    counts = run_counts(marked)
    assert (counts["themes"], counts["noise_themes"], counts["emergent_themes"]) == (2, 1, 1)


@pytest.mark.parametrize("label", ["Money [/bold] problems", "[link=https://x.example]click[/link]", "[red]x"])
def test_summary_theme_labels_are_printed_literally_never_as_markup(result, label):
    themes = tuple(dataclasses.replace(t, label=label) if t.theme_id == 1 else t for t in result.themes)
    relabelled = with_outputs(result, labels=dataclasses.replace(result.outputs["labels"], themes=themes),
                              mapping=Mapped(themes))
    console, buffer = _console()
    summary.print_themes(relabelled, console)
    assert label in buffer.getvalue()


def test_summary_noise_themes_are_not_listed(result):
    themes = tuple(dataclasses.replace(t, noise=True) if t.theme_id == 2 else t for t in result.themes)
    console, buffer = _console()
    summary.print_themes(with_outputs(result, mapping=Mapped(themes), labels=Labelled(themes, (), ())), console)
    assert "Local political will" not in buffer.getvalue() and "Footprint boundaries" in buffer.getvalue()


def test_summary_quotes_carry_their_flags_and_stop_at_n_printable_ones(tmp_path):
    from pipeline.report import write_report

    run = build_result(tmp_path / "corpus", tmp_path / "out")
    write_report(run, tmp_path / "out")
    (tmp_path / "out" / "run.json").write_text('{"status": "complete"}', encoding="utf-8")
    console, buffer = _console()
    summary.print_quotes(tmp_path / "out", "2", 1, True, console)  # theme 2's best quote is flagged
    text = buffer.getvalue()
    assert "Theme 2: Local political will  (2 quotes)" in text
    assert "[FLAGGED: named-organisation - check before use]" in text
    assert text.index("Councillors blow hot") < text.index("Boards meet")
    console, buffer = _console()
    summary.print_quotes(tmp_path / "out", "2", 1, False, console)
    assert "FLAGGED" not in buffer.getvalue() and "(1 quotes)" in buffer.getvalue()
