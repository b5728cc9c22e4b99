"""Writes a run's outputs: CSV tables, manifest.json, report.md and, last, one self-contained report.html.

report.html is written last: a report never sits beside half-written tables. Each report names the ``run_id`` it
belongs to (the one in run.json when written inside ``RunDirectory``), so it can be checked against run.json and
manifest.json.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pipeline.io.atomic import atomic_write_text, write_json
from pipeline.io.rundir import new_run_id, read_run_status
from pipeline.report.html import render_html
from pipeline.report.manifest import manifest
from pipeline.report.markdown import render_markdown
from pipeline.report.tables import TABLES, write_tables
from pipeline.report.view import build_view


def write_ingest_outputs(result, out_dir: str | Path) -> dict[str, Path]:
    """ledger.csv and segments.csv only (``pipeline ingest``)."""
    return write_tables(result, Path(out_dir), ["ledger.csv", "segments.csv"])


def resolve_run_id(out_dir: Path) -> str:
    """The run id of the run in progress in ``out_dir`` (see ``RunDirectory``), else a fresh one."""
    status = read_run_status(out_dir)
    if status and status.get("status") == "running" and status.get("run_id"):
        return str(status["run_id"])
    return new_run_id()


def write_report(result, out_dir: str | Path, run_id: str | None = None) -> dict[str, Path]:
    """Write every table, manifest.json, report.md and (last) report.html; return name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = run_id or resolve_run_id(out_dir)
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    written = write_tables(result, out_dir, TABLES)
    report_names = ["manifest.json", "report.md", "report.html"]
    write_json(out_dir / "manifest.json", manifest(result, run_id, generated, [*written, *report_names]))
    written["manifest.json"] = out_dir / "manifest.json"
    view = build_view(result, run_id, generated)
    atomic_write_text(out_dir / "report.md", render_markdown(view))
    written["report.md"] = out_dir / "report.md"
    atomic_write_text(out_dir / "report.html", render_html(view))  # last: its presence means the rest is written
    written["report.html"] = out_dir / "report.html"
    return written
