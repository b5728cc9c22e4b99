"""A small hand-built run for the report tests (no model, no files read): see ``build_result``."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from pipeline.core.artifacts import (
    Associations, Categories, Cleaned, Embedded, Ingested, Labelled, Mapped, Quotes, ThemeFit,
)
from pipeline.core.config import Config
from pipeline.core.records import (
    DROPPED, KEPT, UNASSIGNED, Answer, Assignment, Category, CategoryScore, CrosstabCell, LedgerEntry, Quote,
    Reassignment, Segment, SourceFile, Theme,
)
from pipeline.runner import RunResult

SCRIPT_TEXT = "Boards meet <script>alert('x')</script> & nothing changes"

# (respondent, free text or None for a dropped answer, drop reason, capacity, footprints, funding)
RESPONDENTS = [
    ("R1", "We simply have no staff time left to plan at this scale.", "", "major barrier", "not a barrier", "small barrier"),
    ("R2", "Our planning area cuts across two councils. Nobody agreed where the line goes.", "", "small barrier",
     "major barrier", "not a barrier"),
    ("R3", "Councillors blow hot and cold on every change we propose.", "", "not a barrier", "not a barrier",
     "major barrier"),
    ("R4", "Too few managers and analysts, and the ones we have are exhausted. Ring me on 07700 900123.", "",
     "major barrier", "small barrier", "major barrier"),
    ("R5", SCRIPT_TEXT, "", "not a barrier", "not a barrier", "not a barrier"),
    ("R6", "Local politics: members will not back closing a ward before an election.", "", "not a barrier",
     "small barrier", "small barrier"),
    ("R7", "n/a", "non-answer", "major barrier", "not a barrier", "not a barrier"),
    ("R8", "We simply have no staff time left to plan at this scale.", "duplicate", "major barrier", "", ""),
]
# themes of each kept answer's segments (two entries: the answer is split at its first sentence end)
SEGMENT_THEMES = {"R1": [0], "R2": [1, 1], "R3": [2], "R4": [0, UNASSIGNED], "R5": [2], "R6": [2]}


def _split(text: str, n: int) -> list[tuple[int, int]]:
    if n <= 1:
        return [(0, len(text))][:n]
    cut = text.index(". ") + 1
    return [(0, cut), (cut + 1, len(text))]


def build_result(corpus_dir: Path, out_dir: Path) -> RunResult:
    """A small hand-built run: 8 answers (2 dropped), 8 segments, 3 themes (one emergent and unstable), 4 closed
    categories (one no theme supports), crosstab cells, and quotes with and without identifiability flags."""
    answers, ledger, segments, assignments = [], [], [], []
    for row, (rid, text, reason, capacity, footprints, funding) in enumerate(RESPONDENTS, start=1):
        answer = Answer(f"survey.csv:{row}", "survey.csv", row, rid, text,
                        ratings={"q2_capacity": capacity, "q2_footprints": footprints, "q2_funding": funding,
                                 "q2_targets": "small barrier"})
        answers.append(answer)
        themes_of = SEGMENT_THEMES.get(rid, [])
        ledger.append(LedgerEntry(answer.answer_id, "survey.csv", row, rid, DROPPED if reason else KEPT, reason,
                                  "survey.csv:1" if reason == "duplicate" else "", len(themes_of)))
        for index, ((start, end), theme_id) in enumerate(zip(_split(text, len(themes_of)), themes_of)):
            segment = Segment(f"{answer.answer_id}#{index}", answer.answer_id, rid, "survey.csv", row, index, start,
                              end, text[start:end], text[start:end].lower())
            segments.append(segment)
            secondary = ((1, 0.2),) if theme_id == 0 else ()
            assignments.append(Assignment(segment.segment_id, theme_id, 0.8 if theme_id != UNASSIGNED else 0.0,
                                          secondary))
    categories = [
        Category("capacity", "Lack of organisational or staff capacity", "local", rating_column="q2_capacity"),
        Category("footprints", "Confusion or clashes over planning footprints", "local",
                 rating_column="q2_footprints"),
        Category("funding", "Insufficient social care funding", "national", rating_column="q2_funding"),
        Category("targets", "Meeting organisations' own targets", "national", "Organisations held to their own "
                 "targets", rating_column="q2_targets"),
    ]
    themes = [
        Theme(0, "Staff capacity & time", ("staff", "time", "analysts"), 2, 0.91, False, "capacity", 0.72,
              definition="Too few people, or too little time, to plan."),
        Theme(1, "Footprint boundaries", ("area", "councils", "line"), 2, 0.84, False, "footprints", 0.66),
        Theme(2, "Local political will", ("councillors", "members", "election"), 3, 0.42, True, None, 0.21,
              emergent=True, definition="Elected members' ambivalence about change."),
    ]
    scores = [CategoryScore(t.theme_id, c.category_id, s, 0.1, s) for t, row in zip(themes, [
        [0.72, 0.20, 0.31, 0.15], [0.18, 0.66, 0.12, 0.22], [0.21, 0.19, 0.17, 0.20]]) for c, s in zip(categories, row)]

    def cell(theme_id, category_id, n_with, b_with, n_without, b_without, p_adj):
        primary = (theme_id, category_id) in {(0, "capacity"), (1, "footprints")}
        difference = b_with / n_with - b_without / n_without
        return CrosstabCell(theme_id, category_id, n_with, b_with, n_without, b_without, b_with / n_with, 0.1, 0.9,
                            b_without / n_without, 0.1, 0.9, 2.0, p_adj / 2, p_adj, "fisher", n_with < 5,
                            family="primary" if primary else "exploratory", rating_column=f"q2_{category_id}",
                            risk_difference=difference, risk_difference_low=difference - 0.3,
                            risk_difference_high=min(difference + 0.3, 1.0), odds_ratio_low=0.5, odds_ratio_high=8.0)
    crosstab = [cell(0, "capacity", 2, 2, 6, 2, 0.03), cell(1, "footprints", 1, 1, 7, 2, 0.4),
                cell(2, "funding", 3, 2, 5, 2, 0.6), cell(2, "capacity", 3, 0, 5, 4, 0.2)]
    quotes = [
        Quote(0, 1, "survey.csv:1#0", "R1", "survey.csv", 1, RESPONDENTS[0][1], 0.93,
              ratings={"q2_capacity": "major barrier"}),
        Quote(0, 2, "survey.csv:4#0", "R4", "survey.csv", 4, "Too few managers and analysts, and the ones we have "
              "are exhausted.", 0.81, flags=("phone",), ratings={"q2_capacity": "major barrier"}),
        Quote(1, 1, "survey.csv:2#0", "R2", "survey.csv", 2, "Our planning area cuts across two councils.", 0.88),
        Quote(2, 1, "survey.csv:3#0", "R3", "survey.csv", 3, RESPONDENTS[2][1], 0.9, flags=("named-organisation",)),
        Quote(2, 2, "survey.csv:5#0", "R5", "survey.csv", 5, SCRIPT_TEXT, 0.7),
        Quote(2, 3, "survey.csv:6#0", "R6", "survey.csv", 6, RESPONDENTS[5][1], 0.65, ratings={"q2_funding": "small barrier"}),
    ]
    outputs = {
        "categories": Categories(tuple(categories)),
        "ingest": Ingested((SourceFile("survey.csv", "csv", "ab" * 32, len(answers), "utf-8"),), tuple(answers), (),
                           ("survey.csv:9: row has 3 fields, header has 4 (read as blank ratings)",)),
        "clean": Cleaned(tuple(segments), tuple(ledger)),
        "embed": Embedded(np.zeros((len(segments), 0), dtype=np.float32), None, cache_hits=5, cache_misses=3),
        "themes": ThemeFit(tuple(themes), tuple(assignments), (), selection=(
            {"n_themes": 3, "score": 0.41, "chosen": True}, {"n_themes": 4, "score": 0.37, "chosen": False}),
            method={}, segment_categories=(), centroids={}),
        "labels": Labelled(tuple(themes), tuple(assignments),
                           (Reassignment("survey.csv:6#0", UNASSIGNED, 2, "embeddings", 0.41),)),
        "mapping": Mapped(tuple(themes), tuple(scores)),
        "association": Associations(tuple(crosstab), (
            {"respondent_id": "R3", "theme_id": 2, "category_id": "funding", "note": "text vs rating"},)),
        "quotes": Quotes(tuple(quotes)),
    }
    return RunResult(Config(), outputs, {"ingest": 0.01, "themes": 1.5}, corpus_dir, out_dir)


def with_outputs(result: RunResult, **changes) -> RunResult:
    """``result`` with some stage outputs replaced (``None`` removes a stage's output)."""
    outputs = {**result.outputs, **changes}
    return dataclasses.replace(result, outputs={name: out for name, out in outputs.items() if out is not None})
