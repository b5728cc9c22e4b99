"""A completed run as the exports need it: themes, codes (closed categories, analyst codes), segments with their
answer, and every answer with its respondent's attributes and ratings (answers.csv)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.records import UNASSIGNED, Answer, Assignment, Category, Segment, Theme
from pipeline.io.run_reader import load_answers, load_run, read_manifest, read_rows
from pipeline.io.rundir import read_run_status


@dataclass
class RunData:
    name: str
    run_id: str
    themes: list[Theme]
    segments: list[Segment]
    assignments: list[Assignment]
    answers: list[Answer]
    categories: list[Category]  # closed categories and analyst codes that themes are mapped or pinned to
    codebook: list[dict[str, str]] = field(default_factory=list)

    @property
    def coded_themes(self) -> list[Theme]:
        return [t for t in self.themes if not t.noise and t.theme_id != UNASSIGNED]

    def codings(self) -> list[tuple[Segment, Theme]]:
        """Each segment with its primary theme (unassigned and noise segments carry none)."""
        by_id = {t.theme_id: t for t in self.coded_themes}
        return [(s, by_id[a.theme_id]) for s, a in zip(self.segments, self.assignments) if a.theme_id in by_id]


def load_run_data(run_dir: Path) -> RunData:
    themes, segments, assignments = load_run(run_dir)
    answers = load_answers(run_dir)
    manifest = read_manifest(run_dir)
    categories = _categories(run_dir, manifest)
    codebook = read_rows(run_dir / "codebook.csv") if (run_dir / "codebook.csv").is_file() else []
    name = Path(str(manifest.get("corpus_dir") or run_dir.name)).name or run_dir.name
    return RunData(name, str((read_run_status(run_dir) or {}).get("run_id", "")), themes, segments, assignments,
                   answers, categories, codebook)


def _categories(run_dir: Path, manifest: dict) -> list[Category]:
    """categories.yaml of the run's corpus when it is still there (labels, descriptions), then any other category
    a theme names (analyst codes, or a corpus moved away) with the label themes.csv gives it."""
    from pipeline.ingest import load_categories

    found: list[Category] = []
    corpus = manifest.get("corpus_dir")
    name = manifest.get("config", {}).get("categories_file", "categories.yaml")
    path = Path(corpus) / name if corpus else None
    if path is not None and path.is_file():
        found = list(load_categories(path))
    if corpus:  # the analyst's codes beyond the closed list, with their definitions
        from pipeline.analyst import load_labels
        from pipeline.analyst.labels_file import analyst_codes

        labels_path = Path(corpus) / manifest.get("config", {}).get("labels_file", "labels.yaml")
        found += analyst_codes(load_labels(labels_path), found) if labels_path.is_file() else []
    known = {c.category_id for c in found}
    for row in read_rows(run_dir / "themes.csv"):
        category_id = row.get("category_id") or ""
        if category_id and category_id not in known and row.get("emergent") != "True":
            known.add(category_id)
            found.append(Category(category_id, row.get("category_label") or category_id))
    return found
