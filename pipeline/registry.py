"""Versioned names -> factories, in one place: embedders (``pipeline.embed``) and cluster models
(``pipeline.clusters``). A name keeps its meaning once released; a changed behaviour gets a new version."""
from __future__ import annotations

from pipeline.clusters import CLUSTERERS
from pipeline.embed import EMBEDDERS

__all__ = ["CLUSTERERS", "EMBEDDERS"]
