"""One config tree with documented defaults, read from ``<corpus>/pipeline.toml`` and overridden by flags.

Every field's comment is its documentation; ``corpus/pipeline.toml`` repeats them for users. Unknown keys and
wrong types are rejected when the file is loaded, naming the key.
"""
from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.errors import ConfigError

DEFAULT_ACRONYMS: dict[str, str] = {
    "NHSE": "NHS England",
    "NHSI": "NHS Improvement",
    "CCG": "clinical commissioning group",
    "CCGs": "clinical commissioning groups",
    "STP": "sustainability and transformation plan",
    "STPs": "sustainability and transformation plans",
    "OD": "organisational development",
    "LA": "local authority",
    "LAs": "local authorities",
    "GP": "general practitioner",
    "GPs": "general practitioners",
    "A&E": "accident and emergency",
    "ACO": "accountable care organisation",
    "FT": "foundation trust",
    "FTs": "foundation trusts",
    "HWB": "health and wellbeing board",
    "CQC": "Care Quality Commission",
    "PbR": "payment by results",
    "QIPP": "quality, innovation, productivity and prevention",
}

DEFAULT_NON_ANSWERS: list[str] = [
    "n/a", "na", "n.a.", "none", "nothing", "no", "nil", "-", "--", ".", "?", "see above", "as above",
    "no comment", "no comments", "not applicable", "don't know", "dont know", "dk", "nothing to add",
    "nothing further", "nothing else", "none that i can think of", "not sure", "no other barriers", "x",
]


@dataclass
class IngestConfig:
    text_column: str | None = None  # column holding the free text; None = auto-detect (longest text column)
    id_column: str | None = None  # respondent id column; None = auto-detect ("respondent_id", "id", ...)
    rating_columns: list[str] = field(default_factory=list)  # extra rating columns beyond categories.yaml's
    encoding: str | None = None  # None = detect (utf-8, utf-8-sig, cp1252, latin-1)
    max_chars: int = 20_000  # answers longer than this are dropped as "too-long" (a pasted document, not an answer)
    txt_mode: str = "auto"  # TXT/MD: "line" (one answer per line), "block" (blank-line separated), "auto"


@dataclass
class CleanConfig:
    acronyms: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACRONYMS))  # expanded in embedded text only
    non_answers: list[str] = field(default_factory=lambda: list(DEFAULT_NON_ANSWERS))  # whole-answer non-answers
    boilerplate: list[str] = field(default_factory=list)  # extra regexes for lines to strip (signatures, disclaimers)
    near_duplicate_threshold: float = 0.9  # character-shingle Jaccard at or above which two answers are near-duplicates
    min_chars: int = 3  # answers shorter than this after cleaning are non-answers
    language: str = "en"  # answers detected as another language are set aside as "non-english"
    language_min_chars: int = 40  # shorter answers are too short to judge their language, so they are kept
    language_confidence: float = 0.9  # py3langid probability needed before an answer is set aside as another language
    spacy_model: str | None = None  # a trained spaCy pipeline name if installed; None = blank("en") + lookup lemmas
    segment_min_chars: int = 25  # a sentence shorter than this is joined to its neighbour rather than made a segment
    max_sentences_per_segment: int = 2  # unbulleted paragraphs are split into groups of this many sentences


@dataclass
class EmbedConfig:
    model: str = "minilm-local.v1"  # registry name, or a path to a local sentence-transformers model folder
    batch_size: int = 32  # 32 beats 128 on 2 CPU cores
    cache_dir: str = "outputs/.cache/embeddings"  # content-addressed embedding cache (relative to the working dir)
    device: str = "cpu"


@dataclass
class ThemesConfig:
    cluster_model: str = "auto"  # "auto" (= seeded-kmeans.v1), "kmeans.v1", "agglomerative.v1" or "hdbscan.v1"
    n_themes: int | None = None  # fix the number of themes; None = choose by the stated criterion
    min_themes: int = 4  # floor on the number of themes considered
    max_themes: int = 30  # ceiling on the number of themes considered
    n_seeds: int = 5  # fits with different seeds used for consensus and per-theme stability
    unstable_below: float = 0.6  # themes whose stability is below this are flagged unstable
    min_segments: int = 12  # fewer kept segments than this is "too little text" to theme
    zeroshot: bool = True  # use categories.yaml as BERTopic zero-shot topics when a categories file is given
    zeroshot_min_similarity: float | None = None  # None = calibrate for the embedding model in use
    category_themes: str = "coded"  # "coded": each segment joins its own category's theme unless its cluster is off the closed list (emergent); "clustered": category themes are the seeded clusters
    confident_never_emergent: bool = True  # "coded": segments the coder is most sure of (its self-training set) stay in their category's theme even inside an off-list cluster
    off_list_elevation: float = 0.5  # "coded": a cluster is off the list when its similarity to its best category stands fewer corpus SDs than this above the corpus as a whole (as mapping.min_elevation)
    outlier_strategy: str = "embeddings"  # BERTopic reduce_outliers strategy
    outlier_threshold: float = 0.0  # minimum similarity for an outlier to be reassigned
    secondary_min_weight: float = 0.15  # secondary themes below this weight are not recorded
    n_keywords: int = 10
    stop_words: list[str] = field(default_factory=lambda: ["nhs", "ccg", "ccgs", "stp", "stps", "barrier", "barriers"])


@dataclass
class MappingConfig:
    emergent_threshold: float | None = None  # fixed score below which a theme is emergent; None = calibrate on the corpus
    min_elevation: float = 0.5  # calibrated mode: a theme maps only if this many corpus SDs more similar to the category than the corpus
    min_support: float = 0.8  # calibrated mode: a theme maps only if its best category stays best in this share of bootstrap resamples
    keyword_weight: float = 0.25  # weight of keyword overlap against semantic similarity in the theme->category score
    barrier_values: list[str] = field(default_factory=lambda: ["major barrier", "small barrier"])  # ratings meaning "a barrier"
    fdr_alpha: float = 0.05  # Benjamini-Hochberg false-discovery rate for the crosstab tests
    min_cell: int = 5  # expected cell counts below this are flagged as small cells (and use Fisher's exact test)
    unrated_values: list[str] = field(default_factory=lambda: ["don't know", "dont know", "not sure", "n/a", "na", "not applicable"])  # ratings counted as blank (not rated)
    major_barrier_values: list[str] = field(default_factory=lambda: ["major barrier"])  # ratings meaning "a major barrier" (disagreements.csv)


@dataclass
class QuotesConfig:
    per_theme: int = 5
    min_chars: int = 40
    max_chars: int = 320
    diversity: float = 0.5  # MMR trade-off: 0 = most central only, 1 = most diverse only
    identifying_terms: list[str] = field(default_factory=list)  # organisation/place names that identify a respondent


@dataclass
class ReportConfig:
    title: str = "Free-text themes"
    top_keywords: int = 8


@dataclass
class ValidateConfig:
    sample_size: int = 60


@dataclass
class Config:
    seed: int = 42  # seeds every random component
    categories_file: str = "categories.yaml"  # relative to the corpus folder; missing = themes only
    labels_file: str = "labels.yaml"  # analyst's renames/merges, relative to the corpus folder
    ingest: IngestConfig = field(default_factory=IngestConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    themes: ThemesConfig = field(default_factory=ThemesConfig)
    mapping: MappingConfig = field(default_factory=MappingConfig)
    quotes: QuotesConfig = field(default_factory=QuotesConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    validate: ValidateConfig = field(default_factory=ValidateConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_value(key: str, value: Any, annotation: Any) -> Any:
    """Return ``value`` if it fits ``annotation`` (ints accepted for floats), else raise naming ``key``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _check_value(key, value, arg)
            except ConfigError:
                continue
        raise ConfigError(f"{key} must be {_describe(annotation)}, got {value!r}")
    if annotation is type(None):
        if value is None:
            return None
        raise ConfigError(f"{key} must be empty, got {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return [_check_value(f"{key}[{i}]", item, args[0]) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a table, got {value!r}")
        return {str(k): _check_value(f"{key}.{k}", v, args[1]) for k, v in value.items()}
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation in (int, float) and isinstance(value, bool):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if isinstance(annotation, type) and not isinstance(value, annotation):
        raise ConfigError(f"{key} must be {_describe(annotation)}, got {value!r}")
    return value


def _describe(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _merge(obj: Any, values: dict[str, Any], prefix: str) -> None:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            raise ConfigError(f"unknown config key '{dotted}'; known keys: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"'{dotted}' must be a table")
            _merge(current, value, dotted + ".")
        else:
            setattr(obj, key, _check_value(dotted, value, hints[key]))


def _validate(config: Config) -> None:
    rules = [
        (config.themes.n_seeds >= 1, "themes.n_seeds must be at least 1"),
        (2 <= config.themes.min_themes <= config.themes.max_themes, "themes.min_themes must be between 2 and themes.max_themes"),
        (config.themes.n_themes is None or config.themes.n_themes >= 2, "themes.n_themes must be at least 2"),
        (config.themes.cluster_model in {"auto", "seeded-kmeans.v1", "kmeans.v1", "agglomerative.v1", "hdbscan.v1"},
         "themes.cluster_model must be one of auto, seeded-kmeans.v1, kmeans.v1, agglomerative.v1, hdbscan.v1"),
        (0.0 < config.clean.near_duplicate_threshold <= 1.0, "clean.near_duplicate_threshold must be in (0, 1]"),
        (config.embed.batch_size >= 1, "embed.batch_size must be at least 1"),
        (config.quotes.min_chars <= config.quotes.max_chars, "quotes.min_chars must not exceed quotes.max_chars"),
        (0.0 <= config.quotes.diversity <= 1.0, "quotes.diversity must be in [0, 1]"),
        (config.ingest.txt_mode in {"auto", "line", "block"}, "ingest.txt_mode must be auto, line or block"),
        (config.ingest.max_chars > 0, "ingest.max_chars must be positive"),
        (0.0 < config.mapping.fdr_alpha < 1.0, "mapping.fdr_alpha must be in (0, 1)"),
    ]
    for ok, message in rules:
        if not ok:
            raise ConfigError(message)


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then the TOML file at ``path`` (if it exists), then ``overrides`` (dotted keys allowed)."""
    config = Config()
    if path is not None and Path(path).is_file():
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
        try:
            _merge(config, data, "")
        except ConfigError as exc:
            raise ConfigError(exc.message, file=str(path)) from None
    nested: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    _merge(config, nested, "")
    _validate(config)
    return config
