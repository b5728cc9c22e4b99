"""Reading a completed run back from its output folder: themes, segments and assignments as records."""
from __future__ import annotations

import csv
from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.core.records import Answer, Assignment, Segment, Theme
from pipeline.io.csv_safe import restore
from pipeline.io.rundir import read_run_status


DEFAULT_OUTPUTS = Path("outputs")


def latest_run(root: Path = DEFAULT_OUTPUTS) -> Path:
    """The run folder under ``root`` whose run.json says complete and finished last (what `pipeline quotes` and
    `pipeline validate` read when no --run is given)."""
    runs = []
    for status_file in sorted(root.glob("[!.]*/run.json")) if root.is_dir() else []:  # not a run's staging folder
        status = read_run_status(status_file.parent)
        if status and status.get("status") == "complete":
            runs.append((str(status.get("finished") or ""), status_file.parent.as_posix(), status_file.parent))
    if not runs:
        raise PipelineError(f"no completed run under {root.as_posix()}/; run `pipeline run CORPUS_DIR` first or "
                            "pass --run", file=str(root))
    return max(runs)[2]


def read_manifest(run_dir: Path) -> dict:
    """The run's manifest.json (its config, seed, counts), or {} when it has none."""
    import json

    try:
        return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def require_complete_run(run_dir: Path) -> None:
    status = read_run_status(run_dir)
    if status is None:
        raise PipelineError("no run found here; run `pipeline run CORPUS_DIR` first or pass --run", file=str(run_dir))
    if status.get("status") != "complete":
        raise PipelineError(f"the run here is '{status.get('status')}', not complete; re-run it first",
                            file=str(run_dir))


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise PipelineError("missing from the run folder; re-run `pipeline run`", file=str(path))
    with path.open(encoding="utf-8", newline="") as handle:
        # the run wrote every cell neutralised against spreadsheet formulas; the exact values come back
        return [{restore(key): restore(value or "") for key, value in row.items() if key is not None}
                for row in csv.DictReader(handle)]


def _parse_secondary(text: str) -> tuple[tuple[int, float], ...]:
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        theme_id, weight = item.split(":")
        pairs.append((int(theme_id), float(weight)))
    return tuple(pairs)


def _optional_float(text: str | None) -> float | None:
    """A number cell that may be empty (a theme with no confidence, a run written before the column existed)."""
    return float(text) if text not in (None, "") else None


def load_run(run_dir: Path):
    """Themes, segments and assignments of a completed run, rebuilt as records from its CSV files."""
    require_complete_run(run_dir)
    themes = [Theme(theme_id=int(r["theme_id"]), label=r["label"],
                    keywords=tuple(k.strip() for k in r["keywords"].split(";") if k.strip()),
                    size=int(r["size"]), stability=float(r["stability"] or 0), unstable=r["unstable"] == "True",
                    category_id=r["category_id"] or None, emergent=r["emergent"] == "True",
                    definition=r["definition"], noise=r.get("noise") == "True", memo=r.get("memo") or "",
                    confidence=_optional_float(r.get("confidence")),
                    off_list_score=_optional_float(r.get("off_list_score")))
              for r in read_rows(run_dir / "themes.csv")]
    segments, assignments = [], []
    for r in read_rows(run_dir / "segments.csv"):
        segments.append(Segment(segment_id=r["segment_id"], answer_id=r["answer_id"], respondent_id=r["respondent_id"],
                                file=r["file"], row=int(r["row"]), index=int(r["index"]), start=int(r["start"]),
                                end=int(r["end"]), text=r["text"], clean_text=r["clean_text"]))
        assignments.append(Assignment(segment_id=r["segment_id"], theme_id=int(r["theme_id"]),
                                      weight=float(r["weight"] or 0), secondary=_parse_secondary(r["secondary"])))
    return themes, segments, assignments


def load_answers(run_dir: Path) -> list[Answer]:
    """Every answer of a completed run (answers.csv: whole text, ratings and other structured columns)."""
    import json

    require_complete_run(run_dir)
    path = run_dir / "answers.csv"
    if not path.is_file():
        raise PipelineError("missing: this run predates answers.csv; rebuild it with `pipeline report CORPUS_DIR`",
                            file=str(path))
    answers = []
    for number, r in enumerate(read_rows(path), 1):
        try:
            ratings, attributes = json.loads(r["ratings"] or "{}"), json.loads(r["attributes"] or "{}")
        except ValueError as exc:
            raise PipelineError(f"unreadable ratings or attributes ({exc})", file=str(path), row=number) from None
        answers.append(Answer(r["answer_id"], r["file"], int(r["row"]), r["respondent_id"], r["text"], ratings,
                              attributes))
    return answers
