"""Typed records passed between stages. Stages take records and return records; only ingest and report
touch files. Offsets (``start``/``end``) always index the *original* answer text, so a quote can be traced
back to the exact characters the respondent wrote."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

UNASSIGNED = -1  # theme id for a segment no theme claims (BERTopic's outlier topic)

KEPT = "kept"
DROPPED = "dropped"
FILE_ROW = 0  # the row of a ledger entry about a whole file that was not read (a link, a FIFO, a damaged file)


def _frozen_map(values: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file the ingest stage read (or tried to read)."""

    path: str  # relative to the corpus folder, posix separators
    format: str  # csv, tsv, xlsx, jsonl, txt, md
    sha256: str
    n_answers: int
    encoding: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """One free-text answer exactly as read, with its provenance and the respondent's structured fields."""

    answer_id: str  # "<file>:<row>", unique within a run
    file: str  # relative to the corpus folder
    row: int  # 1-based record number in the file (CSV/XLSX: data row after the header; TXT: line/block)
    respondent_id: str
    text: str  # decoded, otherwise untouched
    ratings: Mapping[str, str] = field(default_factory=dict)  # rating column -> raw value
    meta: Mapping[str, str] = field(default_factory=dict)  # other structured columns (role, region, ...)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratings", _frozen_map(self.ratings))
        object.__setattr__(self, "meta", _frozen_map(self.meta))


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What happened to one input answer. Every answer read gets exactly one entry."""

    answer_id: str
    file: str
    row: int
    respondent_id: str
    status: str  # KEPT or DROPPED
    reason: str = ""  # empty, non-answer, duplicate, near-duplicate, non-english, too-long, unreadable, not-an-answer, ...
    detail: str = ""  # e.g. the answer_id this duplicates, the detected language
    n_segments: int = 0


@dataclass(frozen=True, slots=True)
class Segment:
    """A span of one kept answer: one point of a multi-point answer, or the whole answer."""

    segment_id: str  # "<answer_id>#<index>"
    answer_id: str
    respondent_id: str
    file: str
    row: int
    index: int  # 0-based position within the answer
    start: int  # character offsets into Answer.text
    end: int
    text: str  # == answer.text[start:end]; what editors quote
    clean_text: str  # normalised, acronyms expanded; what is embedded and themed


@dataclass(frozen=True, slots=True)
class Category:
    """One closed-question category from categories.yaml."""

    category_id: str
    label: str
    group: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    rating_column: str | None = None
    residual: bool | None = None  # an "Other" / "none of the above" option; None = decide from the label


@dataclass(frozen=True, slots=True)
class Theme:
    theme_id: int
    label: str
    keywords: tuple[str, ...]
    size: int  # number of segments whose primary theme this is
    stability: float  # 0..1, how often its members stay together across seeds
    unstable: bool = False
    category_id: str | None = None  # best-matching closed category (filled by mapping)
    confidence: float | None = None
    emergent: bool = False  # no closed category describes it
    definition: str = ""
    noise: bool = False  # marked as noise by an analyst
    pinned: bool = False  # category/emergent set by an analyst in labels.yaml, not by the mapping
    memo: str = ""  # the analyst's note on the theme (labels.yaml ``memo``); never used to code anything
    # mean calibrated probability that its segments belong to no listed category (pipeline.categories.offlist_score)
    off_list_score: float | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """A segment's primary theme (UNASSIGNED if none) and any secondary themes with weights."""

    segment_id: str
    theme_id: int
    weight: float
    secondary: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Reassignment:
    """An audited change of a segment's theme, e.g. an outlier moved into a theme."""

    segment_id: str
    from_theme: int
    to_theme: int
    strategy: str
    score: float


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """How well one theme matches one closed category (theme_category_map.csv)."""

    theme_id: int
    category_id: str
    similarity: float  # theme centroid vs category name/description/keyword embeddings
    keyword_overlap: float  # 0..1 overlap of theme keywords with the category's words
    score: float  # the combined score used to pick the best category


@dataclass(frozen=True, slots=True)
class CrosstabCell:
    """Respondent-level association of one theme with one category's structured rating (crosstab.csv)."""

    theme_id: int  # UNASSIGNED for the "unassigned" column
    category_id: str  # the category rated; for an extra rating column (ingest.rating_columns), the column's name
    n_with: int  # respondents whose answer carries the theme (and who rated the category)
    barrier_with: int  # of those, how many gave the binarised "high" rating (a major barrier)
    n_without: int
    barrier_without: int
    share_with: float
    share_with_low: float  # confidence interval (Wilson)
    share_with_high: float
    share_without: float
    share_without_low: float
    share_without_high: float
    odds_ratio: float
    p_value: float
    p_adjusted: float  # Benjamini-Hochberg within the cell's family (primary or exploratory)
    test: str  # "fisher" (major vs rest), "trend" (linear-by-linear), "chi2" (unordered column) or "none"
    small_cell: bool
    family: str = "exploratory"  # "primary": the theme against its own mapped category; else "exploratory"
    rating_column: str = ""
    levels: tuple[str, ...] = ()  # the column's rating levels, lowest first
    levels_with: tuple[int, ...] = ()  # respondents per level, carrying the theme
    levels_without: tuple[int, ...] = ()
    risk_difference: float = float("nan")  # share_with - share_without
    risk_difference_low: float = float("nan")  # Newcombe 95% interval
    risk_difference_high: float = float("nan")
    odds_ratio_low: float = float("nan")  # Woolf 95% interval (0.5 added to every cell when one is 0)
    odds_ratio_high: float = float("nan")


@dataclass(frozen=True, slots=True)
class AttributeCell:
    """One theme x attribute value cell of the matrix (theme_attributes.csv): respondents with kept text."""

    theme_id: int
    attribute: str  # the column, e.g. "region"
    value: str
    n: int  # respondents carrying the theme with this value
    n_theme: int  # respondents carrying the theme with any value of this attribute
    n_value: int  # respondents with this value
    n_total: int  # respondents with any value of this attribute
    row_share: float  # n / n_theme, Wilson 95% interval below
    row_low: float
    row_high: float
    column_share: float  # n / n_value
    column_low: float
    column_high: float


@dataclass(frozen=True, slots=True)
class Quote:
    """A candidate quote for editors, with everything needed to check and attribute it."""

    theme_id: int
    rank: int  # 1 = best
    segment_id: str
    respondent_id: str
    file: str
    row: int
    text: str
    centrality: float
    flags: tuple[str, ...] = ()  # identifiability flags (pipeline.analysis.identify.FLAG_ORDER)
    ratings: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)  # the respondent's role, region, ...
    answer_id: str = ""  # the answer it is quoted from (its full text is one click away in the report)
    confidence: float | None = None  # how surely the segment is coded to the theme's category (None: not coded)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratings", _frozen_map(self.ratings))
        object.__setattr__(self, "attributes", _frozen_map(self.attributes))
