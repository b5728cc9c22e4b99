"""One workspace over one completed run: what its pages show (read from the run folder), the edit store, and the
rebuild of every output after an edit (the report re-run through ``pipeline.runner`` from the saved theme fit, so
labels.yaml reaches every output exactly as `pipeline report` does)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Category, Segment, Theme
from pipeline.io.run_reader import load_answers, load_run, read_manifest, read_rows
from pipeline.io.rundir import read_run_status
from pipeline.workspace.store import EditStore

MAX_FACET_VALUES = 40  # an attribute with more distinct values (free text, ids) is not offered as a filter


class RebuildError(PipelineError):
    """An edit was stored and labels.yaml written, but re-running the report failed."""


@dataclass
class RunView:
    """A completed run as the pages need it; rebuilt from the files after every re-run."""

    run_dir: Path
    run_id: str
    themes: list[Theme]
    theme_rows: dict[int, dict[str, str]]  # themes.csv by id (extra columns such as off_list_score kept)
    segments: list[Segment]
    assignments: list[Assignment]
    answers: dict[str, Answer]
    quotes: list[dict[str, str]]
    segment_rows: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: Path) -> "RunView":
        themes, segments, assignments = load_run(run_dir)
        answers = {answer.answer_id: answer for answer in load_answers(run_dir)}
        quotes = read_rows(run_dir / "quotes.csv") if (run_dir / "quotes.csv").is_file() else []
        status = read_run_status(run_dir) or {}
        return cls(run_dir, str(status.get("run_id", "")), themes,
                   {int(r["theme_id"]): r for r in read_rows(run_dir / "themes.csv")}, segments, assignments,
                   answers, quotes, {r["segment_id"]: r for r in read_rows(run_dir / "segments.csv")})

    def theme(self, theme_id: int) -> Theme:
        for theme in self.themes:
            if theme.theme_id == theme_id:
                return theme
        raise PipelineError(f"no theme {theme_id} in this run")

    def members(self, theme_id: int) -> list[tuple[Segment, Assignment]]:
        return [(s, a) for s, a in zip(self.segments, self.assignments) if a.theme_id == theme_id]

    def label(self, theme_id: int) -> str:
        if theme_id == UNASSIGNED:
            return "unassigned"
        return next((t.label for t in self.themes if t.theme_id == theme_id), f"theme {theme_id}")

    def rating_names(self) -> set[str]:
        return {name for answer in self.answers.values() for name in answer.ratings}

    def facets(self) -> dict[str, list[str]]:
        """Attribute and rating columns with few enough distinct values to filter on, with those values."""
        values: dict[str, set[str]] = {}
        for answer in self.answers.values():
            for name, value in [*answer.meta.items(), *answer.ratings.items()]:
                if str(value).strip():
                    values.setdefault(name, set()).add(str(value).strip())
        return {name: sorted(found) for name, found in values.items() if len(found) <= MAX_FACET_VALUES}


class Workspace:
    """The run being served, its corpus (for labels.yaml and the re-run) and the analyst's edit store."""

    def __init__(self, run_dir: str | Path, corpus_dir: str | Path, config: Any, who: str,
                 model_dir: str | Path | None = None, categories: list[Category] | None = None,
                 rebuild: Callable[["Workspace"], None] | None = None):
        self.run_dir = Path(run_dir)
        self.corpus_dir = Path(corpus_dir)
        self.config = config
        self.who = who
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.categories = list(categories) if categories is not None else _closed_categories(self.corpus_dir,
                                                                                              config)
        self._rebuild = rebuild or rerun_report
        self.lock = threading.RLock()
        self.view = RunView.load(self.run_dir)
        self.labels_path = self.corpus_dir / config.labels_file
        self.store = EditStore(self.labels_path, who, self.view.run_id)
        self.store.sync_from_file()  # a hand-edited labels.yaml is recorded in the audit trail before any edit

    def edit(self, action: str, target: str, change: Callable) -> str:
        """Apply one edit, rebuild every output, reload the view; returns the audit line."""
        with self.lock:
            detail = self.store.apply(action, target, change)
            try:
                self.rebuild()
            except PipelineError as exc:
                raise RebuildError(f"{detail}: saved to {self.labels_path.name}, but the outputs were not rebuilt: "
                                   f"{exc}") from None
            return detail

    def rebuild(self) -> None:
        with self.lock:
            self._rebuild(self)
            self.view = RunView.load(self.run_dir)

    def store_codes(self) -> list[Category]:
        labels = self.store.labels()
        return [Category(c.code_id, c.label, description=c.definition) for c in labels.codes.values()]

    def pin_choices(self) -> list[tuple[str, str]]:
        """(value, label) of everything a theme can be pinned to: closed categories, analyst codes, emergent."""
        return ([(c.category_id, c.label) for c in self.categories]
                + [(c.category_id, f"{c.label} (analyst code)") for c in self.store_codes()]
                + [("emergent", "emergent: not in the closed list")])


def _closed_categories(corpus_dir: Path, config: Any) -> list[Category]:
    from pipeline.ingest import load_categories

    path = corpus_dir / config.categories_file
    return load_categories(path) if path.is_file() else []


def rerun_report(workspace: Workspace) -> None:
    """Every output of the run rebuilt from the saved theme fit with the current labels.yaml (never re-fits:
    a corpus or config changed since the fit is an error telling to run `pipeline run`)."""
    from pipeline import runner

    runner.run(workspace.corpus_dir, workspace.config, workspace.run_dir, until="report",
               model_dir=workspace.model_dir or runner.default_model_dir(workspace.corpus_dir), reuse_only=True)


def corpus_of(run_dir: Path) -> Path:
    """The corpus folder a run was made from (manifest.json), as recorded (relative to where it was run)."""
    recorded = read_manifest(run_dir).get("corpus_dir")
    if not recorded:
        raise PipelineError("manifest.json names no corpus folder; pass --corpus", file=str(run_dir / "manifest.json"))
    return Path(recorded)
