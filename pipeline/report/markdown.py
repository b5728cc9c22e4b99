"""report.md: the report as Markdown, with every answer's text escaped so none renders as HTML."""
from __future__ import annotations

from typing import Any

from pipeline.core.safe_text import markdown_inline as _md
from pipeline.report.association_sections import associations_markdown
from pipeline.report.coding_section import coding_markdown
from pipeline.report.respondent_markdown import attributes_markdown, label_warnings_markdown


def _set_aside(counts: dict[str, Any]) -> str:
    """"; also 1 marked noise and 2 merged into others" (the themes labels.yaml set aside), or ""."""
    parts = [f"{counts[key]} {what}" for key, what in (("noise_themes", "marked noise"),
                                                       ("merged_themes", "merged into others")) if counts.get(key)]
    return f"; also {' and '.join(parts)}" if parts else ""


def render_markdown(view: dict[str, Any]) -> str:
    counts = view["counts"]
    dropped = ", ".join(f"{reason}: {n}" for reason, n in counts["dropped_by_reason"].items()) or "none"
    lines = [f"# {_md(view['title'])}", "",
             f"Run `{view['run_id']}` · generated {view['generated']} · corpus `{_md(view['corpus'])}`", "",
             "## Summary", "", "| | |", "|---|---|",
             f"| Files | {counts['files']} ({_md(', '.join(f['path'] for f in view['files']))}) |",
             *([f"| Files not read (listed in ledger.csv) | {counts['files_not_read']} |"]
               if counts.get("files_not_read") else []),
             f"| Answers read | {counts['answers_read']} |", f"| Kept | {counts['answers_kept']} |",
             f"| Dropped | {counts['answers_dropped']} ({_md(dropped)}) |", f"| Segments | {counts['segments']} |",
             f"| Themes | {counts['themes']} ({counts['emergent_themes']} emergent, "
             f"{counts['unstable_themes']} unstable){_set_aside(counts)} |",
             f"| Unassigned segments | {counts['unassigned_segments']} ({counts['unassigned_share']:.0%}) |",
             f"| Embedding cache | {counts['cache_hits']} hits, {counts['cache_misses']} misses |", "",
             *([_md(view["theme_method"]), ""] if view.get("theme_method") else []),
             "## Themes", "", *label_warnings_markdown(view, _md),
             "| Theme | Segments | Respondents | Stability | Closed category |", "|---|---:|---:|---:|---|"]
    for theme in view["themes"]:
        stability = f"{theme['stability']:.2f}" + (" ⚠ unstable" if theme["unstable"] else "")
        category = theme["category_label"] or "—"
        if not theme["emergent"] and theme["confidence"] is not None:
            category += f" ({theme['confidence']:.2f})"
        noise = " (noise: set aside, its segments count as unassigned)" if theme["noise"] else ""
        fit = view["label_fit"].get(theme["theme_id"], {})
        noise += f" (weak label: fit {fit['coverage']:.2f})" if fit.get("weak") else ""
        lines.append(f"| {_md(theme['label'])}{noise} | {theme['size']} | {theme['n_respondents']} ({theme['share']:.0%}) "
                     f"| {stability} | {_md(category)} |")
    lines += ["", "## Closed categories with no supporting free text", ""]
    lines += [f"- {_md(category.label)}" for category in view["uncovered"]] or ["None: every category has a theme."]
    lines += ["", "## Themes against the closed ratings", ""] + associations_markdown(view, _md)
    lines += ["", "## Themes by respondent attributes", ""] + attributes_markdown(view, _md)
    lines += ["", "## Quotes", ""]
    for theme in view["themes"]:
        lines += [f"### {_md(theme['label'])}" + (" (noise)" if theme["noise"] else ""), ""]
        if theme["keywords"]:
            lines += [f"Keywords: {_md(', '.join(theme['keywords'][:view['top_keywords']]))}", ""]
        for quote in view["quotes"].get(theme["theme_id"], []):
            attribution = f"respondent {quote['respondent_id']}, {quote['source']}"
            if quote["ratings_display"]:
                attribution += f" · {quote['ratings_display']}"
            if quote["flags"]:
                attribution += f" · ⚠ may identify the respondent: {', '.join(quote['flags'])}"
            lines += [f"> {_md(quote['text'])}", ">", f"> — {_md(attribution)}", ""]
    lines += coding_markdown(view.get("coding", {}), _md)
    return "\n".join(lines).rstrip() + "\n"
