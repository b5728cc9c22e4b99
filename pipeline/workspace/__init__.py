"""The analyst's and editor's workspace: `pipeline serve` over a completed run (themes, segments, edits stored in
SQLite with an audit trail and mirrored to labels.yaml, coding the blind sample, picking quotes)."""
from pipeline.workspace.session import RunView, Workspace
from pipeline.workspace.store import EditStore, store_path

__all__ = ["EditStore", "RunView", "Workspace", "store_path"]
