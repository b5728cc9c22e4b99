"""The library API: the whole pipeline as one scikit-learn style estimator, for a notebook or a script.

    from pipeline import Pipeline, load_config

    model = Pipeline(load_config("corpus/pipeline.toml")).fit(texts, categories=["Staff capacity", "Funding"])
    model.themes_            # list of Theme records (label, size, closed category or emergent, ...)
    model.assignments_       # each segment's theme, aligned with model.segments_
    model.transform(["We have no time to plan."])   # share of each new text's segments in each theme

Nothing is written unless asked: ``out_dir`` writes the same tables and report as ``pipeline run``, ``model_dir``
saves (and reuses) the theme fit, ``cache_dir`` keeps an embedding cache on disk.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.core.artifacts import Categories, Ingested
from pipeline.core.config import Config
from pipeline.core.context import RunContext
from pipeline.core.errors import ConfigError
from pipeline.core.records import UNASSIGNED, Answer, Category, SourceFile
from pipeline.runner import RunResult, execute, model_lock, write_outputs
from pipeline.stages import CHECKPOINTS, stages_until

TEXTS_FILE = "texts"  # the "file" of answers given as a list: answer ids are texts:1, texts:2, ...


class Pipeline(BaseEstimator):
    """Themes from free-text answers, mapped to the survey's closed categories.

    Parameters
    ----------
    config : Config or None
        The one validated config (``load_config``); None = every default.
    random_state : int or None
        Seeds every random step; None = ``config.seed``.
    out_dir, model_dir, cache_dir : path or None
        Where to write the run's outputs, save the theme fit, and cache embeddings; None = nowhere.

    Attributes
    ----------
    result_ : RunResult
        Every stage's output.
    themes_ : list of Theme
        Themes after labels and mapping (noise themes included, marked ``noise``).
    assignments_, segments_ : list
        Each kept segment and its theme, aligned.
    ledger_ : list of LedgerEntry
        One entry per answer given: kept, or dropped with a reason.
    category_scores_, quotes_, codebook_ : list
        The theme x category scores, the chosen quotes, the codebook rows.
    """

    def __init__(self, config: Config | None = None, *, random_state: int | None = None,
                 out_dir: str | Path | None = None, model_dir: str | Path | None = None,
                 cache_dir: str | Path | None = None):
        self.config = config
        self.random_state = random_state
        self.out_dir = out_dir
        self.model_dir = model_dir
        self.cache_dir = cache_dir

    # ------------------------------------------------------------------ fit
    def fit(self, texts: Iterable[Any], categories: Any = None, *, ratings: Sequence[Mapping[str, str]] | None = None,
            respondent_ids: Sequence[str] | None = None, labels: Any = None) -> Pipeline:
        """Theme ``texts`` (one answer each; None or NaN counts as blank).

        ``categories``: the closed list, as Category records, names, ``{"id", "label", ...}`` mappings, or the
        path of a categories.yaml. ``ratings``: per text, the structured ratings (column -> value) the crosstab
        compares with. ``labels``: a ``LabelsFile`` (or the path of a labels.yaml) to apply.
        """
        answers = _answers(texts, ratings, respondent_ids)
        given = {
            "categories": Categories(tuple(_categories(categories))),
            "ingest": Ingested((SourceFile(TEXTS_FILE, "list", "", len(answers)),), tuple(answers), (),
                               sources={TEXTS_FILE: len(answers)}),
        }
        return self._fit(self._context(None, labels), given)

    def fit_corpus(self, corpus_dir: str | Path, labels: Any = None) -> Pipeline:
        """Theme a folder of survey exports, as ``pipeline run`` does (categories.yaml and labels.yaml from it)."""
        return self._fit(self._context(Path(corpus_dir), labels), {})

    def _fit(self, ctx: RunContext, given: dict[str, Any]) -> Pipeline:
        stages = stages_until(CHECKPOINTS["report"])
        if self.out_dir is None:
            with model_lock(ctx.model_dir):
                outputs, timings = execute(ctx, stages, given)
            self.result_ = RunResult(ctx.config, outputs, timings, ctx.corpus_dir)
        else:
            from pipeline.io.rundir import RunDirectory

            # written into a staging folder, swapped in when complete; the folders are locked for the run
            with RunDirectory(Path(self.out_dir), corpus=ctx.corpus_dir) as run_dir, \
                    model_lock(ctx.model_dir, run_dir.run_id):
                outputs, timings = execute(ctx, stages, given)
                self.result_ = RunResult(ctx.config, outputs, timings, ctx.corpus_dir, Path(self.out_dir),
                                         run_dir.run_id, tuple(run_dir.notes))
                write_outputs(self.result_, "report", run_dir.path)
        result = self.result_
        self.themes_ = list(result.themes)
        self.assignments_ = list(result.assignments)
        self.segments_ = list(result.segments)
        self.ledger_ = list(result.ledger)
        self.category_scores_ = list(result.category_scores)
        self.quotes_ = list(result.quotes)
        self.codebook_ = list(result.codebook)
        self._ctx = ctx
        return self

    def _context(self, corpus_dir: Path | None, labels: Any) -> RunContext:
        config = self.config if self.config is not None else Config()
        if self.random_state is not None:
            config = _with_seed(config, int(self.random_state))
        if labels is not None and not hasattr(labels, "themes"):
            from pipeline.analyst import load_labels

            labels = load_labels(labels)
        return RunContext(config=config, corpus_dir=corpus_dir,
                          out_dir=Path(self.out_dir) if self.out_dir is not None else None,
                          model_dir=Path(self.model_dir) if self.model_dir is not None else None,
                          cache_dir=Path(self.cache_dir) if self.cache_dir is not None else None, labels=labels)

    # ------------------------------------------------------------------ use the fitted themes
    @property
    def theme_ids_(self) -> list[int]:
        """The columns of ``transform``: every theme that is not noise, in ``themes_`` order."""
        self._check_fitted()
        return [t.theme_id for t in self.themes_ if not t.noise and t.theme_id != UNASSIGNED]

    def transform(self, texts: Iterable[Any]) -> np.ndarray:
        """(n_texts, n_themes): the share of each text's segments whose theme is each of ``theme_ids_`` (a row of
        zeros for a text with nothing to theme: blank, a non-answer, too short)."""
        columns = {theme_id: j for j, theme_id in enumerate(self.theme_ids_)}
        texts = list(texts)
        out = np.zeros((len(texts), len(columns)), dtype=np.float64)
        for row, themes in enumerate(self._segment_themes(texts)):
            for theme_id in themes:
                if theme_id in columns:
                    out[row, columns[theme_id]] += 1.0 / len(themes)
        return out

    def predict(self, texts: Iterable[Any]) -> np.ndarray:
        """Each text's theme: the one most of its segments carry (UNASSIGNED, -1, when none)."""
        weights = self.transform(texts)
        ids = np.asarray(self.theme_ids_, dtype=np.int64)
        best = weights.argmax(axis=1) if weights.shape[1] else np.zeros(len(weights), dtype=int)
        return np.where(weights.max(axis=1, initial=0.0) > 0, ids[best] if len(ids) else UNASSIGNED, UNASSIGNED)

    def _segment_themes(self, texts: list[Any]) -> list[list[int]]:
        """Per text, the (stable, labelled) theme of each of its segments."""
        from pipeline.analyst import apply_labels
        from pipeline.clean import Cleaner

        self._check_fitted()
        answers = _answers(texts, None, None)
        cleaned = Cleaner(self._ctx.config.clean).transform(answers)
        if not cleaned.segments:
            return [[] for _ in answers]
        fit = self.result_.outputs["stable_ids"]
        embedder = self.result_.embedder
        X = embedder.encode([s.clean_text for s in cleaned.segments])
        fresh = fit.model.transform([s.clean_text for s in cleaned.segments], X,
                                    [s.segment_id for s in cleaned.segments])
        stable = [dataclasses.replace(a, theme_id=fit.id_map.get(a.theme_id, a.theme_id)) for a in fresh]
        labels = self._ctx.labels if self._ctx.labels is not None else _corpus_labels(self._ctx)
        _, relabelled, _ = apply_labels(list(fit.themes), stable, labels, list(self.result_.categories))
        by_answer: dict[str, list[int]] = {}
        for segment, assignment in zip(cleaned.segments, relabelled):
            by_answer.setdefault(segment.answer_id, []).append(assignment.theme_id)
        # a repeated text is dropped as a duplicate of its first occurrence: it gets that one's themes
        copies = {e.answer_id: e.detail.split(";")[0] for e in cleaned.ledger
                  if e.reason in ("duplicate", "near-duplicate")}
        return [by_answer.get(a.answer_id) or by_answer.get(copies.get(a.answer_id, ""), []) for a in answers]

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Pipeline is not fitted yet; call fit(texts) or fit_corpus(folder) first")


def _answers(texts: Iterable[Any], ratings: Sequence[Mapping[str, str]] | None,
             respondent_ids: Sequence[str] | None) -> list[Answer]:
    texts = ["" if text is None or (isinstance(text, float) and text != text) else str(text) for text in texts]
    for name, values in (("ratings", ratings), ("respondent_ids", respondent_ids)):
        if values is not None and len(values) != len(texts):
            raise ConfigError(f"{name} has {len(values)} entries for {len(texts)} texts")
    return [Answer(f"{TEXTS_FILE}:{row}", TEXTS_FILE, row,
                   str(respondent_ids[row - 1]) if respondent_ids is not None else str(row), text,
                   dict(ratings[row - 1]) if ratings is not None else {})
            for row, text in enumerate(texts, start=1)]


def _categories(categories: Any) -> list[Category]:
    if categories is None:
        return []
    if isinstance(categories, (str, Path)):
        from pipeline.ingest import load_categories

        path = Path(categories)
        if not path.is_file():
            raise ConfigError("categories file not found", file=str(path))
        return load_categories(path)
    out = []
    for number, item in enumerate(categories, start=1):
        if isinstance(item, Category):
            out.append(item)
        elif isinstance(item, str):
            out.append(Category(category_id=f"c{number:02d}", label=item))
        elif isinstance(item, Mapping):
            fields = {**item, "category_id": item.get("id", item.get("category_id", f"c{number:02d}"))}
            fields.pop("id", None)
            fields["keywords"] = tuple(fields.get("keywords", ()))
            out.append(Category(**fields))
        else:
            raise ConfigError(f"category {number}: expected a Category, a name or a mapping, got {item!r}")
    return out


def _corpus_labels(ctx: RunContext):
    from pipeline.analyst import LabelsFile, load_labels

    path = ctx.configured_file("labels_file", "labels.yaml")
    return load_labels(path) if path is not None else LabelsFile()


def _with_seed(config: Config, seed: int) -> Config:
    """A copy of ``config`` with another seed, validated (the caller's config object is never changed)."""
    return Config.model_validate({**config.model_dump(), "seed": seed})
