"""Trained coding over a completed run (issue 13): what `pipeline code` and `pipeline validate sample --next N` do,
and the workspace's :class:`~pipeline.workspace.coding.ActiveLearner` hook.

- :func:`code_from_sheets`: coded sheets -> adjudicated codes merged into the corpus's coded file -> the report
  re-run from the saved theme fit (every output, segments.csv's ``code``/``code_source``/``code_confidence``,
  accuracy.csv, learning_curve.csv, the report's accuracy section).
- :func:`next_sheet`: the N segments whose codes would most improve the coding (``ActiveSelector``), never one
  already coded or asked on an earlier ``next`` sheet, written as a sheet `pipeline code` reads back.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pipeline.analyst.accuracy import headline_text
from pipeline.analyst.active import ActiveSelector, audited_batch
from pipeline.analyst.coded_sheets import (
    ACTIVE, ANALYST_CHOICE, AUDIT, RANDOM, CodeBook, adjudicate, merge_store, read_coded_sheet, read_store,
    read_table,
)
from pipeline.analyst.sheets import KEY_FILE, SHEET_COLUMNS
from pipeline.core.errors import PipelineError
from pipeline.io.atomic import write_csv
from pipeline.io.run_reader import load_run

NEXT_PREFIX, NEXT_CODES = "next_", "next_codes.csv"


@dataclass(frozen=True)
class CodingOutcome:
    n_new: int  # segments coded on the sheets given (after adjudication)
    n_stored: int  # segments in the coded file now
    result: Any  # the re-run's RunResult
    warnings: tuple[str, ...] = ()


def _setup(run_dir: Path, corpus_dir: Path | None, config: Any):
    from pipeline.workspace.session import corpus_of

    corpus = Path(corpus_dir) if corpus_dir is not None else corpus_of(run_dir)
    if config is None:
        from pipeline.core.config import load_config

        config = load_config(corpus / "pipeline.toml")
    return corpus, config


def _rerun(corpus: Path, config: Any, out_dir: Path | None, model_dir: Path | None):
    from pipeline import runner

    return runner.run(corpus, config, out_dir, until="report", model_dir=model_dir or runner.default_model_dir(corpus),
                      cache_dir=config.embed.cache_dir, reuse_only=True)


def code_list(corpus: Path, config: Any) -> list:
    """The closed list (categories.yaml) plus the analyst's codes (labels.yaml ``codes:``)."""
    from pipeline.analyst.labels_file import analyst_codes, load_labels
    from pipeline.ingest.categories_file import load_categories

    path = corpus / config.categories_file
    closed = list(load_categories(path)) if path.is_file() else []
    return closed + list(analyst_codes(load_labels(corpus / config.labels_file), closed))


def blind_theme_codes(run_dir: Path, themes: Sequence[Any]) -> dict[str, str | None]:
    """The blind sheet's codes (theme labels in coding_key.json) -> the category each theme is mapped or pinned
    to (None for an emergent theme without a code: not a code to train on)."""
    path = run_dir / "validation" / KEY_FILE
    if not path.is_file():
        return {}
    category = {t.theme_id: (None if t.emergent else t.category_id) for t in themes}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {c["code"]: category.get(c.get("theme_id")) for c in data.get("codes", [])}


def code_from_sheets(run_dir: str | Path, sheets: Sequence[str | Path], corpus_dir: str | Path | None = None,
                     config: Any = None, rule: str | None = None, model_dir: str | Path | None = None) -> CodingOutcome:
    """Train the coding of every segment on the coded ``sheets`` (see ``pipeline.analyst.coded_sheets``)."""
    run_dir = Path(run_dir)
    if not sheets:
        raise PipelineError("give at least one coded sheet")
    corpus, config = _setup(run_dir, corpus_dir, config)
    themes, segments, _ = load_run(run_dir)
    book = CodeBook.build(code_list(corpus, config), blind_theme_codes(run_dir, themes))
    ids = {s.segment_id for s in segments}
    by_answer: dict[str, list[str]] = {}
    for s in segments:
        by_answer.setdefault(s.answer_id, []).append(s.segment_id)
    by_coder: list[tuple[str, dict[str, str]]] = []
    kinds: list[str] = []
    blind = _blind_segments(run_dir)
    for sheet in sheets:
        for coder, codes in read_coded_sheet(Path(sheet), book, by_answer, ids).items():
            by_coder.append((coder, codes))
            kinds.append(_kind(Path(sheet), codes, blind))
    adjudicated = adjudicate(by_coder, rule or config.validate.adjudication, kinds)
    if not adjudicated.codes:
        raise PipelineError("no segment has a code the coding can learn from (blank, 'none of these', or an "
                            "emergent theme without a code)", file=str(sheets[0]))
    stored = merge_store(corpus / config.validate.coded_file, adjudicated)
    result = _rerun(corpus, config, run_dir, Path(model_dir) if model_dir else None)
    return CodingOutcome(len(adjudicated.codes), stored, result, tuple(adjudicated.warnings))


def _blind_segments(run_dir: Path) -> set[str]:
    path = run_dir / "validation" / KEY_FILE
    return {i["segment_id"] for i in json.loads(path.read_text(encoding="utf-8"))["items"]} if path.is_file() else set()


def _kind(sheet: Path, codes: dict[str, str], blind: set[str]) -> str | dict[str, str]:
    """How a sheet's segments were chosen: per row on a --next sheet (``active`` or ``audit``), ``random`` (the
    blind sample), else the analyst's own choice."""
    rows = read_table(sheet)
    if rows and rows[0].get("chosen_by") in (ACTIVE, AUDIT):
        return {row.get("segment_id", ""): AUDIT if row.get("chosen_by") == AUDIT else ACTIVE for row in rows}
    return RANDOM if codes and set(codes) <= blind else ANALYST_CHOICE


def _asked(folder: Path) -> tuple[set[str], int]:
    """The segments asked on earlier --next sheets, and how many of them were audit rows."""
    asked: set[str] = set()
    audited = 0
    for path in sorted(folder.glob(f"{NEXT_PREFIX}*.csv")) if folder.is_dir() else []:
        if path.name != NEXT_CODES:
            rows = read_table(path)
            asked.update(row.get("segment_id", "") for row in rows)
            audited += sum(row.get("chosen_by") == AUDIT for row in rows)
    return asked, audited


def _proba(coded: Any, classes: list[str]) -> np.ndarray:
    """The trained coder's probabilities, or (nothing coded yet) the label-free code with its score."""
    if coded.proba is not None:
        return np.asarray(coded.proba)
    position = {c: j for j, c in enumerate(classes)}
    P = np.full((len(coded.codes), len(classes)), 0.0)
    for i, (code, _, score) in enumerate(coded.codes):
        score = float(score) if score == score else 0.5
        P[i] = (1 - score) / max(len(classes) - 1, 1)
        P[i, position.get(code, 0)] = score
    return P


def next_sheet(run_dir: str | Path, n: int, corpus_dir: str | Path | None = None, config: Any = None,
               model_dir: str | Path | None = None) -> tuple[Path, list[str], str]:
    """Write ``RUN/validation/next_<k>.csv`` with the ``n`` segments worth coding next; (path, segment ids, advice)."""
    run_dir = Path(run_dir)
    if n < 1:
        raise PipelineError(f"--next must be at least 1, got {n}")
    corpus, config = _setup(run_dir, corpus_dir, config)
    result = _rerun(corpus, config, None, Path(model_dir) if model_dir else None)
    codes = code_list(corpus, config)
    classes = list(result.coded.classes) or [c.category_id for c in codes]
    segments = list(result.segments)
    coded = {row["segment_id"]: row["code"] for row in read_store(corpus / config.validate.coded_file)}
    folder = run_dir / "validation"
    asked, audited = _asked(folder)
    blocked = coded.keys() | asked
    rows = [i for i, s in enumerate(segments) if s.segment_id in coded]
    position = {c: j for j, c in enumerate(classes)}
    k = 1 + sum(1 for p in folder.glob(f"{NEXT_PREFIX}*.csv") if p.name != NEXT_CODES) if folder.is_dir() else 1
    active, audit = audited_batch(
        ActiveSelector(random_state=config.seed), result.embeddings, _proba(result.coded, classes), rows, n,
        config.validate.audit_share, np.random.default_rng([config.seed, k]),
        coded_labels=[position[coded[segments[i].segment_id]] for i in rows if coded[segments[i].segment_id] in position],
        candidates=np.array([s.segment_id not in blocked for s in segments]), asked_before=len(asked),
        audited_before=audited)
    # the audit rows are mixed in among the active ones (chosen_by marks them), so a sheet coded halfway has some
    kinds = {int(i): ACTIVE for i in active} | {int(i): AUDIT for i in audit}
    picked = np.random.default_rng([config.seed, k, 1]).permutation(np.concatenate([active, audit]).astype(int))
    path = folder / f"{NEXT_PREFIX}{k}.csv"
    write_csv(path, [{"item": j, "segment_id": segments[i].segment_id, "text": segments[i].text, "code": "",
                      "chosen_by": kinds[int(i)]} for j, i in enumerate(picked, 1)], [*SHEET_COLUMNS, "chosen_by"])
    write_csv(folder / NEXT_CODES, [{"code": c.category_id, "label": c.label, "definition": c.description}
                                    for c in codes], ["code", "label", "definition"])
    report = result.coding_accuracy
    advice = report.advice if report is not None else "nothing coded yet: these are the label-free coder's typical cases"
    return path, [segments[i].segment_id for i in picked], advice


class TrainedLearner:
    """The workspace's :class:`~pipeline.workspace.coding.ActiveLearner` (set by `pipeline serve`): the next blind
    item is the one the trained coding is least sure of (``ActiveSelector`` over the sheet's uncoded items), and
    "Retrain" runs :func:`code_from_sheets` on the coder's sheet."""

    def __init__(self, corpus_dir: Path, config: Any, model_dir: Path | None = None):
        self.corpus_dir, self.config, self.model_dir = Path(corpus_dir), config, model_dir
        self._cached: tuple[Any, Any] | None = None  # (coded file state, (segment ids, X, P, classes))

    def _state(self, run_dir: Path):
        path = self.corpus_dir / self.config.validate.coded_file
        key = (str(run_dir), path.stat().st_mtime_ns if path.is_file() else None)
        if self._cached is None or self._cached[0] != key:
            result = _rerun(self.corpus_dir, self.config, None, self.model_dir)
            classes = list(result.coded.classes) or [c.category_id for c in code_list(self.corpus_dir, self.config)]
            self._cached = (key, ([s.segment_id for s in result.segments], result.embeddings,
                                  _proba(result.coded, classes)))
        return self._cached[1]

    def next_items(self, run_dir: Path, coded: dict[int, str], n: int) -> list[int]:
        key_path = Path(run_dir) / "validation" / KEY_FILE
        items = {int(i["item"]): i["segment_id"] for i in json.loads(key_path.read_text(encoding="utf-8"))["items"]}
        ids, X, P = self._state(Path(run_dir))
        row = {s: i for i, s in enumerate(ids)}
        open_items = {row[s]: item for item, s in items.items() if item not in coded and s in row}
        if not open_items:
            return []
        mask = np.zeros(len(ids), dtype=bool)
        mask[list(open_items)] = True
        picked = ActiveSelector(random_state=self.config.seed, stratify=False).select(X, P, [], n, candidates=mask)
        return [open_items[int(i)] for i in picked]

    def retrain(self, run_dir: Path, sheets: Sequence[Path]) -> str:
        outcome = code_from_sheets(run_dir, sheets, self.corpus_dir, self.config, model_dir=self.model_dir)
        report = outcome.result.coding_accuracy
        if report is None:
            return f"{outcome.n_stored} coded segments stored; no trained coding (fewer than two codes)"
        return (f"trained on {outcome.n_stored} coded segments: machine codes right {headline_text(report)}; "
                f"{report.advice}")
