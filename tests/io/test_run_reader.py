"""Reading a run back (pipeline.io.run_reader) keeps what the run wrote: theme confidence and off-list score."""
from __future__ import annotations

import json

import pytest

from pipeline.core.records import Assignment, Segment, Theme
from pipeline.io.atomic import write_csv
from pipeline.io.run_reader import load_run
from pipeline.report.tables import SEGMENT_COLUMNS, THEME_COLUMNS, segment_rows, theme_rows


def _write_run(folder, themes):
    segments = [Segment(f"a.csv:{i}#0", f"a.csv:{i}", f"r{i}", "a.csv", i, 0, 0, 5, "text.", "text.")
                for i in range(len(themes))]
    assignments = [Assignment(s.segment_id, t.theme_id, 1.0) for s, t in zip(segments, themes)]
    write_csv(folder / "themes.csv", theme_rows(themes, segments, assignments, []), THEME_COLUMNS)
    write_csv(folder / "segments.csv", segment_rows(segments, assignments, themes), SEGMENT_COLUMNS)
    (folder / "run.json").write_text(json.dumps({"status": "complete"}), encoding="utf-8")


@pytest.mark.parametrize("confidence, off_list", [(0.4321, 0.1234), (None, None), (0.0, 1.0)])
def test_run_reader_keeps_theme_confidence_and_off_list_score(tmp_path, confidence, off_list):
    themes = [Theme(0, "Capacity", ("time",), 1, 0.9, category_id="capacity", confidence=confidence,
                    off_list_score=off_list),
              Theme(1, "Politics", ("election",), 1, 0.8, emergent=True, off_list_score=0.77)]
    _write_run(tmp_path, themes)
    read, _, _ = load_run(tmp_path)
    by_id = {t.theme_id: t for t in read}
    assert (by_id[0].confidence, by_id[0].off_list_score) == (confidence, off_list)
    assert (by_id[1].confidence, by_id[1].off_list_score) == (None, 0.77)
