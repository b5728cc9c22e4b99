"""Where what respondents wrote and how they rated disagree (disagreements.csv), for themes standing for a rated
category (``theme_categories``: the mapped category, and a merged theme's parts' categories).

- ``wrote-not-rated``: the respondent carries a theme standing for the category but rated the category outside
  ``mapping.barrier_values`` ("not a barrier"); one row per (respondent, theme), the first segment carrying the
  theme as excerpt.
- ``rated-not-wrote``: the respondent rated the category a major barrier (``major_barrier_values``) but carries
  none of the themes standing for it; one row per (respondent, category), ``theme_id`` being the first such
  theme, ``mapped_themes`` all of them, and the excerpt the start of what they did write.

Ratings are read by ``pipeline.analysis.ratings`` (the crosstab's reading); respondents are those with kept text.
Emergent and noise themes stand for no category, so they produce no rows.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from pipeline.analysis.association import theme_categories
from pipeline.analysis.ratings import Ratings, norm, read_ratings
from pipeline.analysis.respondents import Respondents, collect_respondents
from pipeline.core.config import MappingConfig
from pipeline.core.records import Answer, Assignment, Category, Segment, Theme

EXCERPT_CHARS = 200


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1].rstrip() + "…"


def disagreement_rows(people: Respondents, ratings: Ratings, themes: Sequence[Theme], categories: Sequence[Category],
                      standing: Mapping[int, Sequence[str]], raw: Mapping[tuple[str, str], str]) -> list[dict]:
    by_id = {c.category_id: c for c in categories if c.rating_column}
    mapped: dict[str, list[int]] = defaultdict(list)
    for theme in themes:
        for category_id in standing.get(theme.theme_id, ()):
            if category_id in by_id:
                mapped[category_id].append(theme.theme_id)
    rows: list[dict] = []
    for category_id, theme_ids in mapped.items():
        column = by_id[category_id].rating_column
        scale = ratings.scales.get(column)
        if scale is None:
            continue
        for respondent in people.order:
            rating = ratings.get(respondent, column)
            if rating is None:
                continue
            shown = raw.get((respondent, column), rating)
            carried = [t for t in theme_ids if t in people.themes[respondent]]
            if carried and rating not in scale.some:
                for theme_id in carried:
                    segment = people.theme_segments[(respondent, theme_id)][0]
                    rows.append(_row(respondent, theme_id, category_id, "wrote-not-rated", shown, segment, theme_ids))
            elif not carried and rating in scale.high:
                rows.append(_row(respondent, theme_ids[0], category_id, "rated-not-wrote", shown,
                                 people.segments[respondent][0], theme_ids))
    return rows


def raw_values(answers: Sequence[Answer], ratings: Ratings) -> dict[tuple[str, str], str]:
    """The respondent's own spelling of the rating that was read (first rated value per column)."""
    raw: dict[tuple[str, str], str] = {}
    for answer in answers:
        for column, value in answer.ratings.items():
            key = (answer.respondent_id, column)
            if key not in raw and norm(value) and norm(value) == ratings.get(*key):
                raw[key] = str(value).strip()
    return raw


def disagreements(answers: Sequence[Answer], segments: Sequence[Segment], assignments: Sequence[Assignment],
                  themes: Sequence[Theme], categories: Sequence[Category], config: MappingConfig,
                  merged_categories: Mapping[int, Sequence[str]] | None = None) -> list[dict]:
    """Rows of disagreements.csv (see the module docstring)."""
    people = collect_respondents(segments, assignments)
    ratings = read_ratings(answers, categories, config, people.order)
    return disagreement_rows(people, ratings, themes, categories, theme_categories(themes, merged_categories),
                             raw_values(answers, ratings))


def _row(respondent: str, theme_id: int, category_id: str, kind: str, rating: str, segment: Segment,
         theme_ids: list[int]) -> dict:
    return {
        "respondent_id": respondent, "theme_id": theme_id, "category_id": category_id, "kind": kind,
        "rating": rating, "mapped_themes": ";".join(str(t) for t in theme_ids), "segment_id": segment.segment_id,
        "file": segment.file, "row": segment.row, "excerpt": _excerpt(segment.text),
    }
