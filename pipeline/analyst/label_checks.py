"""What labels.yaml did, and whether its entries still fit the themes they name.

- :func:`merge_summary`: each surviving theme's merged ids and the closed categories its parts stood for, so a
  merged theme keeps supporting every category its parts did (the crosstab's primary hypotheses,
  disagreements.csv, "categories with no supporting free text", the codebook);
- :func:`renamed_themes`: themes whose label the analyst wrote (never relabelled by the naming stage);
- :func:`stale_entries`: entries carried over from an earlier run whose theme has changed since: its centroid
  moved (cosine with the previous run's below ``min_similarity``) or the machine's label for it changed. The
  entry still applies (ids are matched across runs), but the analyst should check it: one warning each, shown in
  the terminal and the report.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pipeline.analyst.labels_file import LabelsFile
from pipeline.core.records import Theme
from pipeline.core.vectors import unit_rows


def merge_summary(themes: Sequence[Theme], labels: LabelsFile
                  ) -> tuple[dict[int, tuple[int, ...]], dict[int, tuple[str, ...]]]:
    """(survivor -> merged theme ids, survivor -> its parts' categories other than its own), for merges only."""
    by_id = {theme.theme_id: theme for theme in themes}
    merges: dict[int, list[int]] = {}
    for theme_id in by_id:
        final = labels.merge_target(theme_id)
        if final != theme_id and final in by_id:
            merges.setdefault(final, []).append(theme_id)
    categories = {}
    for survivor, parts in merges.items():
        own = by_id[survivor].category_id
        found = [by_id[p].category_id for p in parts if by_id[p].category_id and not by_id[p].emergent]
        extra = tuple(dict.fromkeys(c for c in found if c != own))
        if extra:
            categories[survivor] = extra
    return {k: tuple(sorted(v)) for k, v in merges.items()}, categories


def renamed_themes(themes: Sequence[Theme], labels: LabelsFile) -> frozenset[int]:
    """Themes whose label the analyst gave: a ``themes:`` entry with a label, and every split (its label is
    required), so the naming stage keeps them."""
    ids = {theme.theme_id for theme in themes}
    return frozenset([theme_id for theme_id, entry in labels.themes.items() if entry.label and theme_id in ids]
                     + [split.theme_id for split in labels.splits])


def _what(entry) -> str:
    parts = [f"label '{entry.label}'" if entry.label else "", "noise" if entry.noise else "",
             f"category {entry.category}" if entry.category else "",
             f"merge into {entry.merge_into}" if entry.merge_into is not None else "",
             "definition" if entry.definition else ""]
    return ", ".join(p for p in parts if p) or "entry"


def stale_entries(labels: LabelsFile, themes: Sequence[Theme], centroids: Mapping[int, np.ndarray], previous,
                  min_similarity: float) -> list[str]:
    """One warning per labels.yaml entry whose theme changed since the previous run (``previous``: its
    ``ThemeState``, or None on a first run)."""
    if previous is None or not labels.themes:
        return []
    where = f"{labels.path}: " if labels.path else "labels: "
    by_id = {theme.theme_id: theme for theme in themes}
    notes = []
    for theme_id, entry in sorted(labels.themes.items()):
        if theme_id not in by_id or theme_id not in previous.centroids or theme_id not in centroids:
            continue
        similarity = float(unit_rows(np.asarray(centroids[theme_id], float))
                           @ unit_rows(np.asarray(previous.centroids[theme_id], float)))
        before, now = previous.labels.get(theme_id, ""), by_id[theme_id].label
        changed = [f"its content moved (similarity {similarity:.2f} to the previous run's, below "
                   f"{min_similarity:.2f})"] if similarity < min_similarity else []
        if before and before != now:
            changed.append(f"the machine's label changed from '{before}' to '{now}'")
        if changed:
            line = f" (line {entry.line})" if entry.line else ""
            notes.append(f"{where}theme {theme_id}{line} ({_what(entry)}) was written for a theme that has changed "
                         f"since: {'; '.join(changed)}; check the entry still applies")
    return notes
