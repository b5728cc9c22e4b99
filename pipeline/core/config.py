"""One validated config tree, read from ``<corpus>/pipeline.toml`` and overridden by flags.

``Config`` and its sections are pydantic models. Every default, range and allowed value is declared once, on its
field, with the field's documentation as its ``description``; rules across fields are model validators. The checks
run whenever a config is built, loaded or assigned to, so a bad value fails before any work is done: unknown keys
(``extra="forbid"``), wrong types (strict: a string is never read as a number, a bool never as a number; an int is
accepted for a float), values out of range. The failure is a one-line :class:`ConfigError` naming the file, the
dotted key, the value given and what is allowed, e.g.
``corpus/pipeline.toml: themes.outlier_strategy must be one of embeddings, c-tf-idf, distributions, got 'nearest'``.

The same fields are the documentation (``pipeline.core.config_docs``: ``python -m pipeline.core.config_docs >
docs/config.md``) and the parameter constraints of the estimators that take them as keywords
(:mod:`pipeline.core.params`).
"""
from __future__ import annotations

import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Optional

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from pipeline.core.errors import ConfigError
from pipeline.core.section import ConfigSection as _Section
from pipeline.core.fields import (  # noqa: F401 -- the value types are also for the estimators' own parameters
    SEED_MAX, Accepts, Bool, Float, Int, Seed, Share, Similarity, Str, StrList, as_list, config_error, describe,
    field_spec, section_model,
)
from pipeline.core.defaults import DEFAULT_ACRONYMS, DEFAULT_NON_ANSWERS, DEFAULT_PUBLIC_NAMES  # noqa: F401
from pipeline.core.validators import (
    check_acronyms, check_encoding, check_language, check_not_above, check_regex, merged_tables, nested_overrides,
)

# ---------------------------------------------------------------- sections


class IngestConfig(_Section):
    section: ClassVar[str] = "ingest"

    text_column: Optional[Str] = Field(
        None, min_length=1, description="Column holding the free text; unset = auto-detect (the longest text column).")
    id_column: Optional[Str] = Field(
        None, min_length=1, description='Respondent id column; unset = auto-detect ("respondent_id", "id", ...).')
    rating_columns: StrList = Field(
        default_factory=list, description="Extra rating columns beyond those named in categories.yaml.")
    encoding: Optional[Annotated[str, AfterValidator(check_encoding),
                                 Accepts("an encoding Python knows, such as utf-8, cp1252 or latin-1")]] = Field(
        None, description="File encoding; unset = detect (utf-8, utf-8-sig, cp1252, latin-1).")
    max_chars: Int = Field(
        20_000, ge=1, description='Answers longer than this are dropped as "too-long" (a pasted document, not an '
                                  "answer).")
    txt_mode: Literal["auto", "line", "block"] = Field(
        "auto", description='TXT/MD files: "line" (one answer per line), "block" (answers separated by blank lines) '
                            'or "auto".')
    attribute_columns: Optional[StrList] = Field(
        None, description="Respondent attribute columns (role, region, ...) carried into segments.csv, quotes.csv, "
                          "theme_answers.csv and the theme x attribute tables; unset = every column that is not the "
                          "text, the respondent id or a rating.")


class CleanConfig(_Section):
    section: ClassVar[str] = "clean"

    acronyms: Annotated[dict[str, str], AfterValidator(check_acronyms),
                        Accepts("a table of acronym = expansion strings")] = Field(
        default_factory=lambda: dict(DEFAULT_ACRONYMS),
        description="Acronyms expanded in the embedded text only (quotes keep the respondent's words). Setting it "
                    "replaces the whole default table.")
    non_answers: StrList = Field(
        default_factory=lambda: list(DEFAULT_NON_ANSWERS),
        description="Whole answers treated as non-answers, matched case-insensitively. Setting it replaces the whole "
                    "default list.")
    boilerplate: Annotated[list[Annotated[str, AfterValidator(check_regex)]], BeforeValidator(as_list),
                           Accepts("a list of regular expressions")] = Field(
        default_factory=list,
        description="Extra regular expressions (case-insensitive) for lines to strip, e.g. signatures or disclaimers.")
    near_duplicate_threshold: Float = Field(
        0.9, gt=0, le=1,
        description="Character-shingle Jaccard similarity at or above which two answers are near-duplicates.")
    min_chars: Int = Field(3, ge=0, description="Answers shorter than this after cleaning are non-answers.")
    language: Annotated[str, AfterValidator(check_language),
                        Accepts('a lower-case ISO 639 language code such as "en", or ""')] = Field(
        "en", description='Answers detected as another language are set aside ("non-english" when this is "en"); '
                          '"" keeps every language.')
    language_min_chars: Int = Field(
        40, ge=0, description="Shorter answers are too short to judge their language, so they are kept.")
    language_confidence: Float = Field(
        0.9, gt=0, le=1,
        description="py3langid probability needed before an answer is set aside as another language.")
    spacy_model: Optional[Str] = Field(
        None, min_length=1,
        description='A trained spaCy pipeline to split sentences, if installed (e.g. "en_core_web_sm"); unset = '
                    'blank("en") with the rule-based sentencizer.')
    segment_min_chars: Int = Field(
        25, ge=0, description="A sentence shorter than this is joined to its neighbour rather than made a segment.")
    max_sentences_per_segment: Int = Field(
        2, ge=1, description="Unbulleted paragraphs are split into segments of this many sentences.")


class EmbedConfig(_Section):
    section: ClassVar[str] = "embed"

    model: Str = Field(
        "minilm-local.v1", min_length=1,
        description="Registered embedding model name, or a path to a local sentence-transformers model folder.")
    batch_size: Int = Field(32, ge=1, description="Encoding batch size; 32 beats 128 on 2 CPU cores.")
    cache_dir: Str = Field(
        "outputs/.cache/embeddings", min_length=1,
        description="Content-addressed embedding cache, relative to the working directory.")
    device: Str = Field("cpu", min_length=1, description='Torch device for the embedding model ("cpu", "cuda", ...).')
    backend: Literal["auto", "torch", "onnx", "onnx-int8", "static"] = Field(
        "auto", description='How the packaged model (minilm-local.v1) is run: "torch" (sentence-transformers), "onnx" '
                            '(exported once to models/encoders/, onnxruntime), "onnx-int8" (that export, int8 weights), '
                            '"static" (static token embeddings distilled from it: the fast mode); "auto" = the fastest '
                            "backend whose quality is within noise of torch's, and the fast mode above "
                            "embed.fast_above segments (docs/benchmarks.md). Other models always run on torch.")
    models_dir: Str = Field(
        "models/encoders", min_length=1,
        description="Where the ONNX export and the static embeddings derived from the packaged model are kept (made "
                    "once, offline; rebuilt when damaged), relative to the working directory.")
    fast_above: Optional[Int] = Field(
        200_000, ge=1, description='With backend "auto": corpora with more segments than this use the fast mode '
                                   '("static"); unset = never.')


class ThemesConfig(_Section):
    section: ClassVar[str] = "themes"

    cluster_model: Literal["auto", "seeded-kmeans.v1", "kmeans.v1", "agglomerative.v1", "hdbscan.v1"] = Field(
        "auto", description='"auto" (= "seeded-kmeans.v1": the categories seed their themes, k-means finds the rest), '
                            '"kmeans.v1", "agglomerative.v1" or "hdbscan.v1".')
    n_themes: Optional[Int] = Field(
        None, ge=2, description="Fix the number of themes; unset = choose it by the stated criterion.")
    min_themes: Int = Field(4, ge=2, description="Floor on the number of themes considered.")
    max_themes: Int = Field(30, ge=2, description="Ceiling on the number of themes considered (at least min_themes).")
    n_seeds: Int = Field(
        5, ge=1, description="Fits with different seeds, used for the consensus and per-theme stability.")
    unstable_below: Share = Field(0.6, description="Themes whose stability is below this are flagged unstable.")
    min_segments: Int = Field(
        12, ge=1, description='Fewer distinct kept segments than this is "too little text" to find themes in.')
    zeroshot: Bool = Field(
        True, description="Use categories.yaml as BERTopic zero-shot topics when a categories file is given.")
    zeroshot_min_similarity: Optional[Similarity] = Field(
        None, description="Cosine similarity a segment needs to be claimed by a category's zero-shot topic; unset = "
                          "calibrate for the embedding model in use.")
    category_themes: Literal["coded", "clustered"] = Field(
        "coded", description='"coded": each segment joins its own category\'s theme (per-segment coder) unless its '
                             'cluster is off the closed list (then an emergent theme); "clustered": category themes '
                             "are the category-seeded clusters, other clusters are mapped whole.")
    confident_never_emergent: Bool = Field(
        True, description='"coded": the segments the coder is most sure of (its self-training set) stay in their '
                          "category's theme even inside an off-list cluster.")
    off_list_elevation: Float = Field(
        0.5, description='"coded": a cluster is off the list when its similarity to its best category stands fewer '
                         "corpus standard deviations than this above the corpus as a whole (the rule of "
                         "mapping.min_elevation).")
    off_list_rule: Literal["elevation", "score"] = Field(
        "elevation", description='"coded": which clusters are off the list. "elevation": off_list_elevation; '
                                 '"score": the mean calibrated off-list score of its segments (segments.csv '
                                 "off_list_score) is at least off_list_threshold.")
    off_list_threshold: Share = Field(
        0.5, description='off_list_rule = "score": the mean off-list score (a probability, 0.5 = the evidence leans '
                         "neither way) from which a cluster is off the list.")
    emergent_grouping: Literal["consensus", "co-association"] = Field(
        "consensus", description='Coded themes: how the off-list segments form emergent themes. "consensus": as the '
                                 'consensus partition clusters them; "co-association": by how often all the seeds put '
                                 "them in one cluster (pipeline.themes.emergent).")
    emergent_recruit: Bool = Field(
        False, description='Coded themes: each emergent theme also takes the segments the coder is unsure of that a '
                           "classifier trained on the confident and the emergent segments puts in it.")
    outlier_strategy: Literal["embeddings", "c-tf-idf", "distributions"] = Field(
        "embeddings", description="BERTopic reduce_outliers strategy for segments no cluster took.")
    outlier_threshold: Similarity = Field(
        0.0, description="Minimum similarity for an outlier to be reassigned to a theme.")
    secondary_min_weight: Share = Field(
        0.15, description="Secondary themes of a segment below this weight are not recorded.")
    n_keywords: Int = Field(10, ge=1, description="Keywords kept per theme.")
    stop_words: StrList = Field(
        default_factory=lambda: ["nhs", "ccg", "ccgs", "stp", "stps", "barrier", "barriers"],
        description="Extra words left out of theme keywords.")

    @classmethod
    def check_rules(cls, values: Mapping[str, Any]) -> None:
        check_not_above(values, "themes", "min_themes", "max_themes")


class MappingConfig(_Section):
    section: ClassVar[str] = "mapping"

    emergent_threshold: Optional[Similarity] = Field(
        None, description='Fixed theme->category score below which a theme is "emergent"; unset = calibrate on the '
                          "corpus.")
    min_elevation: Float = Field(
        0.5, description="Calibrated mode: a theme maps to its best category only if its similarity stands this many "
                         "corpus standard deviations above the corpus as a whole.")
    min_support: Share = Field(
        0.8, description="Calibrated mode: ...and only if its best category stays best in this share of bootstrap "
                         "resamples of its segments.")
    keyword_weight: Share = Field(
        0.25, description="Weight of keyword overlap against semantic similarity in the theme->category score.")
    barrier_values: StrList = Field(
        default_factory=lambda: ["major barrier", "small barrier"],
        description='Rating values that mean "some barrier"; a respondent who writes about a category but rates it '
                    'outside these (e.g. "not a barrier") is a disagreement (disagreements.csv).')
    fdr_alpha: Float = Field(
        0.05, gt=0, lt=1,
        description="Benjamini-Hochberg false-discovery rate, applied to each family of crosstab tests on its own "
                    "(primary: each theme against its mapped category; exploratory: every other cell).")
    min_cell: Int = Field(
        5, ge=0, description="Crosstab cells whose expected count is below this are flagged small (a warning beside "
                             "the result: few respondents carry it).")
    unrated_values: StrList = Field(
        default_factory=lambda: ["don't know", "dont know", "not sure", "n/a", "na", "not applicable"],
        description="Rating values counted as blank (not rated), in every output alike.")
    major_barrier_values: StrList = Field(
        default_factory=lambda: ["major barrier"],
        description='Rating values that mean "a major barrier": the binarised rating of the crosstab (major vs not '
                    "major), the report's chart and disagreements.csv.")
    rating_levels: StrList = Field(
        default_factory=lambda: ["not a barrier", "small barrier", "major barrier"],
        description="The category ratings' scale, lowest first (compared case-insensitively). A value outside it and "
                    "outside unrated_values counts as not rated, with a warning; [] = no order (every value seen is "
                    "a level; the trend test is then unavailable).")
    association_test: Literal["major-vs-rest", "trend"] = Field(
        "major-vs-rest",
        description='"major-vs-rest": Fisher\'s exact test of carrying the theme against rating the category a major '
                    'barrier (the rating binarised: writing about a barrier unprompted goes with calling it major, and '
                    '"small barrier" is the modal answer for most categories); "trend": the linear-by-linear '
                    "(Cochran-Armitage) trend test over the ordered rating_levels.")
    rating_scales: Annotated[dict[str, StrList], Accepts("a table of column = [levels, lowest first]")] = Field(
        default_factory=dict,
        description="Scales of extra rating columns (ingest.rating_columns) that are not on rating_levels: column = "
                    "[levels, lowest first]. Binarised as the upper half of the levels (the middle level counts low). "
                    "A column with neither is tested as unordered values (chi-square).")



    @classmethod
    def check_rules(cls, values: Mapping[str, Any]) -> None:
        levels = {" ".join(v.lower().split()) for v in values["rating_levels"]}
        for key in ("barrier_values", "major_barrier_values"):
            outside = [v for v in values[key] if levels and " ".join(v.lower().split()) not in levels]
            if outside:
                raise ValueError(f"mapping.{key} must be values of mapping.rating_levels "
                                 f"({', '.join(values['rating_levels'])}), got {', '.join(map(repr, outside))}")


class QuotesConfig(_Section):
    section: ClassVar[str] = "quotes"

    per_theme: Int = Field(5, ge=1, description="Quotes chosen per theme.")
    min_chars: Int = Field(40, ge=0, description="Shortest quote offered.")
    max_chars: Int = Field(320, ge=1, description="Longest quote offered (at least min_chars).")
    diversity: Share = Field(0.5, description="MMR trade-off: 0 = most central only, 1 = most diverse only.")
    identifying_terms: StrList = Field(
        default_factory=list,
        description="Organisation or place names that would identify a respondent; quotes containing them are "
                    "flagged.")
    public_names: StrList = Field(
        default_factory=lambda: list(DEFAULT_PUBLIC_NAMES),
        description="Capitalised names that identify no one (national bodies, nations, regions); never flagged as a "
                    "name. Setting it replaces the whole default list.")
    ner_model: Optional[Str] = Field(
        None, min_length=1, description='A trained spaCy pipeline with NER, if installed (e.g. "en_core_web_sm"): '
                                        "people, places and facilities it finds are flagged too; unset = no NER.")
    confident_share: Share = Field(
        0.5, description="Quotes come only from the most surely coded share of a theme's segments: by the coder's "
                         "score for the theme's category (its calibrated confidence when the run has one), or by "
                         "membership weight for a theme found without the closed list. 1 = every segment.")

    @classmethod
    def check_rules(cls, values: Mapping[str, Any]) -> None:
        check_not_above(values, "quotes", "min_chars", "max_chars")


class ReportConfig(_Section):
    section: ClassVar[str] = "report"

    title: Str = Field("Free-text themes", description="Title of report.html and report.md.")
    top_keywords: Int = Field(8, ge=1, description="Keywords shown per theme in the report.")
    max_attribute_levels: Int = Field(
        12, ge=1, description="Respondent attributes with more distinct values than this (ids, dates, text) are "
                              "carried into the outputs but not tabulated against the themes.")


class ScaleConfig(_Section):
    section: ClassVar[str] = "scale"

    fit_above: Int = Field(
        50_000, ge=1, description="Corpora with more segments than this fit their themes on a stratified sample of "
                                  "scale.fit_sample segments; the rest join their nearest theme and get the coder's "
                                  "category, in batches.")
    fit_sample: Int = Field(
        30_000, ge=100, description="Segments the themes are fitted on above scale.fit_above (all of them when the "
                                    "corpus has fewer).")
    batch_rows: Int = Field(
        20_000, ge=10, description="Segments per batch when assigning those outside the fit sample, and per "
                                    "partition of the dask engine.")
    memmap_above: Int = Field(
        200_000, ge=1, description="Embedding matrices of more segments than this are kept in a memory-mapped .npy "
                                   "file beside the embedding cache instead of in memory.")
    engine: Literal["local", "dask"] = Field(
        "local", description='"local": every stage in this process; "dask": embedding and assignment in partitions on '
                             'dask workers (pip install "pipeline[dask]").')
    scheduler: Optional[Str] = Field(
        None, min_length=1, description='The dask scheduler to use (e.g. "tcp://10.0.0.5:8786"); unset = a '
                                        "LocalCluster on this machine.")
    workers: Int = Field(2, ge=1, description="Worker processes of the LocalCluster (one thread each).")


class ValidateConfig(_Section):
    section: ClassVar[str] = "validate"

    sample_size: Int = Field(60, ge=1, description="Segments in the blind coding sample for analysts.")
    labels_min_similarity: Similarity = Field(
        0.95, description="A labels.yaml entry carried from an earlier run is warned about when its theme's centroid "
                          "has a cosine below this to the previous run's (or the machine's label for it changed): "
                          "the theme changed since the entry was written.")
    coded_file: Str = Field("coded.csv", min_length=1, description=(
        "The analyst's codes per segment (`pipeline code` writes it), relative to the corpus folder; they train "
        "the coding of every other segment. A file named coded.csv is never read as answers; give another name "
        "a path outside the corpus folder."))
    adjudication: Literal["majority", "first", "unanimous"] = Field(
        "majority", description="How `pipeline code` settles coders who disagree: majority (ties: the sheet given "
        "first), first (the first sheet given wins) or unanimous (disagreements left out).")
    audit_share: Float = Field(0.25, ge=0, lt=1, description=(
        "Share of each `validate sample --next N` sheet drawn uniformly at random from the uncoded segments (audit "
        "rows, ceil(share x N), never the whole sheet): the machine's accuracy is estimated from them (and the "
        "blind sheet), since the actively chosen segments are not a random sample. 0 turns it off."))
    trained_theme_confidence: Float = Field(0.5, ge=0, le=1, description=(
        "A trained code (learned from the analyst's codes) moves its segment out of a category theme into its "
        "code's theme when its calibrated confidence is above this; 1 never moves, 0 always. Analyst codes always "
        "decide the theme."))


with warnings.catch_warnings():
    # the [validate] table is the field ``validate``, which shadows pydantic's deprecated ``BaseModel.validate``
    warnings.filterwarnings("ignore", message='Field name "validate"', category=UserWarning)

    class Config(_Section):
        """The whole pipeline.toml: top-level keys, then one table per stage."""

        seed: Seed = Field(42, description="Seeds every random component.")
        categories_file: Str = Field(
            "categories.yaml", min_length=1,
            description="Closed-question categories, relative to the corpus folder; a missing file = themes only.")
        labels_file: Str = Field(
            "labels.yaml", min_length=1,
            description="The analyst's theme renames and merges, relative to the corpus folder.")
        ingest: IngestConfig = Field(default_factory=IngestConfig, description="Reading the survey files.")
        clean: CleanConfig = Field(
            default_factory=CleanConfig, description="Cleaning, filtering and segmenting answers.")
        embed: EmbedConfig = Field(default_factory=EmbedConfig, description="Embedding segments.")
        themes: ThemesConfig = Field(default_factory=ThemesConfig, description="Finding themes.")
        mapping: MappingConfig = Field(
            default_factory=MappingConfig, description="Mapping themes to categories, and the rating crosstabs.")
        quotes: QuotesConfig = Field(default_factory=QuotesConfig, description="Choosing quotes.")
        report: ReportConfig = Field(default_factory=ReportConfig, description="The report.")
        scale: ScaleConfig = Field(
            default_factory=ScaleConfig, description="Large corpora: sampled theme fits, memory, the dask engine.")
        validate: ValidateConfig = Field(default_factory=ValidateConfig, description="Analyst validation.")

        def to_dict(self) -> dict[str, Any]:
            """Every key and value, nested by table (what manifest.json records)."""
            return self.model_dump()


SECTIONS: tuple[type[_Section], ...] = (IngestConfig, CleanConfig, EmbedConfig, ThemesConfig, MappingConfig,
                                        QuotesConfig, ReportConfig, ScaleConfig, ValidateConfig)


# ---------------------------------------------------------------- loading

def _validated(data: Mapping[str, Any], file: str | None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, Config, file=file) from None
    except ConfigError as exc:  # from a section's own __init__, which pydantic calls for a nested table
        raise ConfigError(exc.message, file=file) from None


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Defaults, then the TOML file at ``path`` (if it exists), then ``overrides`` (dotted keys, None skipped).

    A bad value in the file raises a ConfigError naming the file; one in ``overrides`` (command-line flags) names
    only the key.
    """
    config = Config()
    if path is not None and Path(path).is_file():
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
        config = _validated(data, file=str(path))
    nested = nested_overrides(overrides)
    return _validated(merged_tables(config.model_dump(), nested, Config), file=None) if nested else config
