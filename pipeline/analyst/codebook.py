"""The codebook (codebook.csv / codebook.md) analysts exchange.

The codebook has one row per theme (the unassigned bin is not a code): id, label, definition, keywords, category
or "emergent", size, stability, the quality scores, three typical examples (members closest to the centroid) and
two borderline ones (members whose similarity to their own centroid beats the nearest other theme's by the
smallest margin), each borderline example naming the theme it borders. A theme the analyst marked noise is
listed last, as ``noise`` (set aside, no examples), and a theme others were merged into names them
(``merged_from``), so the codebook accounts for every theme of the fit. An example never carries an
identifiability flag (``flags``, one tuple per segment): flagged segments are skipped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pipeline.analyst.stable_ids import theme_centroids
from pipeline.core.records import UNASSIGNED, Assignment, Category, Segment, Theme
from pipeline.core.safe_text import markdown_inline
from pipeline.core.vectors import unit_rows_times
from pipeline.io.atomic import atomic_write_text, write_csv

N_TYPICAL = 3
N_BORDERLINE = 2
EXAMPLE_CHARS = 300
CODEBOOK_COLUMNS = [
    "theme_id", "label", "definition", "keywords", "category_id", "category", "category_confidence", "size",
    "stability", "status", "merged_from",
    "coherence", "distinctiveness", "cohesion", "weak", "weak_reason",
    *[f"typical_{i}" for i in range(1, N_TYPICAL + 1)],
    *[name for i in range(1, N_BORDERLINE + 1) for name in (f"borderline_{i}", f"borderline_{i}_vs")],
    "memo",
]


def build_codebook(  # long: one row per theme, code rows then the noise themes
    themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment], embeddings: np.ndarray,
    categories: Sequence[Category] = (), quality: Mapping[int, Mapping[str, Any]] | None = None,
    flags: Sequence[Sequence[str]] = (), merges: Mapping[int, Sequence[int]] | None = None,
) -> list[dict[str, Any]]:
    """One codebook row per theme in theme order (``CODEBOOK_COLUMNS``), the noise themes last."""
    quality, merges = quality or {}, merges or {}
    flagged = np.array([bool(f) for f in flags], dtype=bool) if len(flags) == len(segments) else \
        np.zeros(len(segments), dtype=bool)
    coded = [t for t in themes if not t.noise and t.theme_id != UNASSIGNED]
    labels_by_id = {t.theme_id: t.label for t in coded}
    category_labels = {c.category_id: c.label for c in categories}
    centroids = theme_centroids(assignments, embeddings, [t.theme_id for t in coded], unit_members=True)
    ids = list(centroids)
    sims = (unit_rows_times(embeddings, np.array([centroids[i] for i in ids]).T) if ids
            else np.zeros((len(segments), 0)))
    primary = np.array([a.theme_id for a in assignments])
    rows = []
    for theme in coded:
        row: dict[str, Any] = {
            "theme_id": theme.theme_id, "label": theme.label, "definition": theme.definition,
            "keywords": ", ".join(theme.keywords), "category_id": theme.category_id or "",
            "category": "emergent" if theme.emergent or not theme.category_id
            else category_labels.get(theme.category_id, theme.category_id),
            "category_confidence": theme.confidence if theme.confidence is not None and not theme.emergent else "",
            "size": theme.size, "stability": round(theme.stability, 3), "status": "code",
            "merged_from": ", ".join(map(str, merges.get(theme.theme_id, ()))), "memo": theme.memo,
        }
        scores = quality.get(theme.theme_id, {})
        row.update({key: scores.get(key, "")
                    for key in ("coherence", "distinctiveness", "cohesion", "weak", "weak_reason")})
        for key in ("coherence", "distinctiveness", "cohesion"):
            if isinstance(row[key], float):
                row[key] = round(row[key], 3)
        row.update(_examples(theme.theme_id, ids, sims, primary, segments, labels_by_id, flagged))
        rows.append(row)
    for theme in (t for t in themes if t.noise and t.theme_id != UNASSIGNED):
        rows.append({name: "" for name in CODEBOOK_COLUMNS} | {
            "theme_id": theme.theme_id, "label": theme.label, "definition": theme.definition,
            "keywords": ", ".join(theme.keywords), "category": "noise (set aside: its segments count as unassigned)",
            "size": theme.size, "stability": round(theme.stability, 3), "status": "noise",
            "merged_from": ", ".join(map(str, merges.get(theme.theme_id, ())))})
    return rows


def _examples(theme_id: int, ids: list[int], sims: np.ndarray, primary: np.ndarray, segments: Sequence[Segment],
              labels_by_id: Mapping[int, str], flagged: np.ndarray) -> dict[str, str]:
    row = {name: "" for name in CODEBOOK_COLUMNS if name.startswith(("typical_", "borderline_"))}
    members = np.flatnonzero((primary == theme_id) & ~flagged)
    if theme_id not in ids or not len(members):
        return row
    own = ids.index(theme_id)
    own_sims = sims[members, own]
    typical = members[np.argsort(-own_sims, kind="stable")[:N_TYPICAL]]
    for k, index in enumerate(typical, 1):
        row[f"typical_{k}"] = _clip(segments[index].text)
    if len(ids) < 2:
        return row
    others = sims[members].copy()
    others[:, own] = -np.inf
    nearest = others.argmax(axis=1)
    margins = own_sims - others[np.arange(len(members)), nearest]
    chosen = set(typical.tolist())
    k = 0
    for position in np.argsort(margins, kind="stable"):
        if k == N_BORDERLINE:
            break
        if members[position] in chosen:
            continue
        k += 1
        row[f"borderline_{k}"] = _clip(segments[members[position]].text)
        row[f"borderline_{k}_vs"] = labels_by_id.get(ids[nearest[position]], str(ids[nearest[position]]))
    return row


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1].rstrip() + "…"


def _confidence_note(row: Mapping[str, Any]) -> str:
    confidence = row.get("category_confidence", "")
    if confidence in ("", None):
        return ""
    return (f"; confidence {float(confidence):.2f} (the label-free coder's mean calibrated probability that a segment "
            "here is in this category: an estimate, not a measurement; `pipeline code` on a coded sample measures it)")


def codebook_markdown(rows: Sequence[Mapping[str, Any]], title: str = "Codebook") -> str:
    """The codebook as Markdown: an index table, then one section per code with its examples. Every text from the
    corpus or the analyst is escaped (``markdown_inline``), so no answer renders as HTML: Markdown renderers pass
    raw HTML through (pandoc, MkDocs and Jekyll do), and ``<img src=x onerror=...>`` in an example ran."""
    md = markdown_inline
    lines = [f"# {md(title)}", "", "| id | code | category | size | stability | weak |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['theme_id']} | {md(row['label'])} | {md(row['category'])} | {row['size']} | "
                     f"{row['stability']} | {'yes' if row.get('weak') is True else ''} |")
    for row in rows:
        lines += ["", f"## {row['theme_id']}. {md(row['label'])}", ""]
        lines.append(f"**Definition.** {md(row['definition']) or '_None yet: add one in labels.yaml._'}")
        if row.get("status") == "noise":
            lines += ["", "**Marked noise** in labels.yaml: set aside, its segments count as unassigned."]
        if row.get("merged_from"):
            lines += ["", f"**Merged from** theme(s) {md(row['merged_from'])} (labels.yaml)."]
        lines += ["", f"**Keywords.** {md(row['keywords'])}", "",
                  f"**Category.** {md(row['category'])}" + (f" (`{md(row['category_id'])}`)" if row["category_id"]
                                                            else "") + _confidence_note(row), "",
                  f"**Size.** {row['size']} segments; stability {row['stability']}"]
        if row.get("coherence", "") != "":
            lines.append(f"; coherence {row['coherence']}, distinctiveness {row['distinctiveness']}, "
                         f"cohesion {row['cohesion']}")
        if row.get("weak") is True:
            lines += ["", f"**Weak label:** {md(row['weak_reason'])}"]
        typical = [row[f"typical_{i}"] for i in range(1, N_TYPICAL + 1) if row.get(f"typical_{i}")]
        if typical:
            lines += ["", "**Typical examples**", ""] + [f"> {md(text)}\n" for text in typical]
        borderline = [(row[f"borderline_{i}"], row[f"borderline_{i}_vs"]) for i in range(1, N_BORDERLINE + 1)
                      if row.get(f"borderline_{i}")]
        if borderline:
            lines += ["", "**Borderline examples**", ""]
            lines += [f"> {md(text)}\n>\n> _(close to: {md(other)})_\n" for text, other in borderline]
    return "\n".join(lines).rstrip() + "\n"


def write_codebook(out_dir: str | Path, rows: Sequence[Mapping[str, Any]],
                   title: str = "Codebook") -> tuple[Path, Path]:
    """Write codebook.csv and codebook.md into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    csv_path, md_path = out_dir / "codebook.csv", out_dir / "codebook.md"
    write_csv(csv_path, rows, columns=CODEBOOK_COLUMNS)
    atomic_write_text(md_path, codebook_markdown(rows, title))
    return csv_path, md_path
