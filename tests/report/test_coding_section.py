"""The report's Trained coding section: hostile code labels are escaped, no section without a coding stage, the
headline names its estimator, the learning curve is drawn from the numbers."""
from __future__ import annotations

import pytest

from pipeline.core.safe_text import markdown_inline
from pipeline.report.coding_section import coding_html, coding_markdown, curve_svg

ROW = {"code": "x", "label": "<script>alert(1)</script>", "n_coded": 4, "precision": 0.5, "precision_low": 0.15,
       "precision_high": 0.85, "recall": 1.0, "recall_low": 0.34, "recall_high": 1.0, "f1": 0.67, "f1_low": 0.0,
       "f1_high": 1.0, "machine_share": 0.25}
VIEW = {"sources": {"analyst": 4, "trained": 20}, "n_coded": 4, "per_code": [ROW], "headline": "cv_random",
        "machine": {"cv_random": {"estimate": 0.75, "low": 0.3, "high": 0.95, "n": 4}},
        "curve": [{"n_trained": 1, "accuracy": 0.25}, {"n_trained": 3, "accuracy": 0.75}], "advice": "too early"}


def test_coding_section_escapes_labels_and_names_the_estimator():
    html = coding_html(VIEW)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ("75% (95% interval 30%–95%; cross-validated on the 4 segments coded at random (blind sheet, audit rows)"
            in html)
    assert "0.50 (0.15–0.85)" in html and "4 coded by the analyst; 20 coded by the trained coder" in html


@pytest.mark.parametrize("view", [{}, {"sources": {"label-free": 5}, "n_coded": 0}])
def test_coding_section_without_analyst_codes_has_no_accuracy(view):
    html = coding_html(view)
    assert "interval" not in html and ("label-free" in html) == bool(view)


def test_coding_section_markdown_and_curve():
    lines = coding_markdown(VIEW, markdown_inline)
    assert "## Trained coding" in lines and any("\\<script\\>" in line for line in lines)
    svg = curve_svg(VIEW["curve"], width=140, height=130)
    # x from 30 to 130, y: 110 - accuracy * 100
    assert 'points="30.0,85.0 130.0,35.0"' in svg and curve_svg(VIEW["curve"][:1]) == ""
