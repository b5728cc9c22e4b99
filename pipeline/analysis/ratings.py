"""The one reading of the structured ratings that every output uses: crosstab, disagreements, the report's chart,
barrier shares and the per-theme answer tables.

A respondent's rating of a column is the first non-blank value in that column across their answers, in input
order. Values are compared normalised (lower case, spaces collapsed, curly apostrophes straightened), so
"Major  Barrier " is "major barrier" and "Don’t know" is "don't know". A value is *not rated* when it is blank
or one of ``mapping.unrated_values`` ("don't know", ...); on an ordered scale a value outside the scale is not
rated either (and counted, for a warning), so a typo never becomes a level of its own.

Scales (:class:`Scale`): a category's rating column uses ``mapping.rating_levels`` (lowest first) and is
binarised as ``mapping.major_barrier_values`` ("major barrier" vs the rest). An extra rating column
(``ingest.rating_columns``) uses ``mapping.rating_scales[column]`` when given (binarised as the upper half of its
levels, the middle level counting low), else ``rating_levels`` when every value it holds is on that scale, else
it is unordered: its levels are the values seen, and it has no binarised share.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.core.config import MappingConfig
from pipeline.core.records import Answer, Category


def norm(value: object) -> str:
    """A rating as compared: lower case, whitespace collapsed, curly apostrophes straightened."""
    return " ".join(str(value or "").replace("\u2019", "'").replace("\u2018", "'").lower().split())


@dataclass(frozen=True)
class Scale:
    """How one rating column is read: its ordered levels (normalised, lowest first; empty levels never happen
    once ratings are read) and which levels count as the binarised "high" (a major barrier)."""

    column: str
    levels: tuple[str, ...]
    high: frozenset[str]
    ordered: bool = True
    some: frozenset[str] = frozenset()  # levels meaning "some barrier" (category columns only)

    def level(self, value: str) -> int | None:
        return self.levels.index(value) if value in self.levels else None

    @property
    def high_label(self) -> str:
        return " or ".join(level for level in self.levels if level in self.high) or "(none)"

    @property
    def binary(self) -> bool:
        """Whether the column has a binarised share (unordered columns have none)."""
        return bool(self.high)


@dataclass
class Ratings:
    """Every respondent's normalised rating per column (rated values only), the scale of each column, and what
    was set aside (not rated, or outside its scale)."""

    scales: dict[str, Scale]
    values: dict[str, dict[str, str]]  # respondent -> column -> normalised value
    unrated: Counter = field(default_factory=Counter)  # column -> respondents whose first value is "don't know" ...
    unknown: dict[str, Counter] = field(default_factory=dict)  # column -> values outside its scale -> count

    def get(self, respondent: str, column: str) -> str | None:
        return self.values.get(respondent, {}).get(column)

    def raters(self, column: str, respondents: Iterable[str] | None = None) -> list[str]:
        pool = self.values if respondents is None else respondents
        return [r for r in pool if column in self.values.get(r, {})]

    def is_high(self, respondent: str, column: str) -> bool | None:
        value = self.get(respondent, column)
        return None if value is None else value in self.scales[column].high

    def warnings(self) -> list[str]:
        notes = []
        for column, counts in sorted(self.unknown.items()):
            listed = ", ".join(f"'{value}' ({n})" for value, n in counts.most_common(5))
            levels = ", ".join(self.scales[column].levels)
            notes.append(f"rating column {column}: {sum(counts.values())} value(s) not on its scale ({levels}) "
                         f"counted as not rated: {listed}; set mapping.rating_levels or mapping.rating_scales")
        return notes


def category_columns(categories: Sequence[Category]) -> list[str]:
    return list(dict.fromkeys(c.rating_column for c in categories if c.rating_column))


def _first_values(answers: Sequence[Answer], columns: Sequence[str], unrated: set[str],
                  only: set[str] | None) -> tuple[dict[str, dict[str, str]], Counter]:
    firsts: dict[str, dict[str, str]] = {}
    dont_know: Counter = Counter()
    decided: set[tuple[str, str]] = set()
    for answer in answers:
        if only is not None and answer.respondent_id not in only:
            continue
        held = firsts.setdefault(answer.respondent_id, {})
        for column in columns:
            value = norm(answer.ratings.get(column))
            key = (answer.respondent_id, column)
            if not value or key in decided:
                continue
            decided.add(key)
            if value in unrated:
                dont_know[column] += 1
            else:
                held[column] = value
    return firsts, dont_know


def _scale(column: str, seen: set[str], config: MappingConfig, is_category: bool) -> Scale:
    default = tuple(norm(v) for v in config.rating_levels)
    if column in config.rating_scales and not is_category:
        levels = tuple(norm(v) for v in config.rating_scales[column])
        return Scale(column, levels, frozenset(levels[(len(levels) + 1) // 2:]))
    if is_category or (default and seen <= set(default)):
        levels = default or tuple(sorted(seen))
        return Scale(column, levels, frozenset(norm(v) for v in config.major_barrier_values), bool(default),
                     frozenset(norm(v) for v in config.barrier_values))
    return Scale(column, tuple(sorted(seen)), frozenset(), ordered=False)


def read_ratings(answers: Sequence[Answer], categories: Sequence[Category], config: MappingConfig,
                 respondents: Iterable[str] | None = None) -> Ratings:
    """Every rating column the answers carry (the categories' first, then the extra ones), read once.

    ``respondents`` limits the reading to those respondents (e.g. the ones with kept free text)."""
    own = category_columns(categories)
    extra = [c for c in dict.fromkeys(col for a in answers for col in a.ratings) if c not in own]
    columns = own + extra
    unrated = {norm(v) for v in config.unrated_values}
    only = set(respondents) if respondents is not None else None
    firsts, dont_know = _first_values(answers, columns, unrated, only)
    scales, unknown = {}, {}
    for column in columns:
        seen = {held[column] for held in firsts.values() if column in held}
        scale = scales[column] = _scale(column, seen, config, column in own)
        outside = Counter(held[column] for held in firsts.values()
                          if column in held and scale.ordered and held[column] not in scale.levels)
        if outside:
            unknown[column] = outside
            for held in firsts.values():
                if held.get(column) in outside:
                    del held[column]
    return Ratings(scales, firsts, dont_know, unknown)
