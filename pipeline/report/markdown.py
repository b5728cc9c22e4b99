"""report.md: the report as Markdown, with every answer's text escaped so none renders as HTML."""
from __future__ import annotations

from typing import Any

from pipeline.core.safe_text import markdown_inline as _md
from pipeline.report.tables import is_significant


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
