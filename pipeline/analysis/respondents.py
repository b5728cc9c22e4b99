"""Who is counted, and which themes each respondent carries: the one definition the crosstab, disagreements,
the theme x attribute tables and the per-theme answer tables share.

Who is counted: respondents with at least one kept segment. A respondent whose every answer was dropped (empty,
non-answer, duplicate, ...) wrote nothing we could theme, so they are outside the tables (they are in ledger.csv).

A respondent *carries* a theme when any of their segments has it as primary or secondary theme. Respondents who
carry no theme at all (every segment an outlier with no secondary theme) are the ``UNASSIGNED`` column.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Segment


@dataclass
class Respondents:
    """Per respondent with kept text: themes carried, segments, and segments by theme."""

    order: list[str]  # respondent ids, first-seen order of their kept segments
    themes: dict[str, set[int]]  # respondent -> themes carried (empty = unassigned)
    segments: dict[str, list[Segment]]  # respondent -> kept segments
    theme_segments: dict[tuple[str, int], list[Segment]]  # (respondent, theme) -> segments carrying it

    def carriers(self, theme_id: int) -> set[str]:
        """Respondents carrying ``theme_id`` (for ``UNASSIGNED``: those carrying no theme)."""
        if theme_id == UNASSIGNED:
            return {r for r in self.order if not self.themes[r]}
        return {r for r in self.order if theme_id in self.themes[r]}


def collect_respondents(segments: Sequence[Segment], assignments: Sequence[Assignment]) -> Respondents:
    """Respondents with kept segments and the themes they carry (``segments`` and ``assignments`` aligned)."""
    if len(segments) != len(assignments):
        raise PipelineError(f"got {len(segments)} segments but {len(assignments)} assignments; they must be aligned")
    order: list[str] = []
    themes: dict[str, set[int]] = {}
    by_respondent: dict[str, list[Segment]] = defaultdict(list)
    theme_segments: dict[tuple[str, int], list[Segment]] = defaultdict(list)
    for segment, assignment in zip(segments, assignments):
        if assignment.segment_id != segment.segment_id:
            raise PipelineError(f"assignment for {assignment.segment_id} is aligned with segment "
                                f"{segment.segment_id}", file=segment.file, row=segment.row)
        respondent = segment.respondent_id
        if respondent not in themes:
            order.append(respondent)
            themes[respondent] = set()
        by_respondent[respondent].append(segment)
        carried = {assignment.theme_id, *(theme_id for theme_id, _ in assignment.secondary)} - {UNASSIGNED}
        themes[respondent] |= carried
        for theme_id in carried:
            theme_segments[(respondent, theme_id)].append(segment)
    return Respondents(order, themes, dict(by_respondent), dict(theme_segments))
