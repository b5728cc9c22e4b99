"""Report: the run's CSV tables, manifest.json, report.md and one self-contained report.html, from one view model."""
from pipeline.report.html import render_html
from pipeline.report.markdown import render_markdown
from pipeline.report.tables import TABLES, write_tables
from pipeline.report.view import build_view
from pipeline.report.writer import write_ingest_outputs, write_report

__all__ = ["TABLES", "build_view", "render_html", "render_markdown", "write_ingest_outputs", "write_report",
           "write_tables"]
