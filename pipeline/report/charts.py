"""Inline SVG charts for report.html: drawn in Python, no JavaScript library, no network."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from pipeline.core.records import CrosstabCell
from pipeline.report.format import escape, percent
from pipeline.report.tables import EMERGENT_TEXT, is_significant

THEME_COLOUR, BARRIER_COLOUR = "#2b6cb0", "#c05621"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg_open(ident: str, width: int, height: int, title: str, desc: str) -> str:
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="{ident}-title {ident}-desc" id="{ident}">'
            f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>')


def _mix(low: tuple[int, int, int], high: tuple[int, int, int], t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high))


def prevalence_chart(view: dict[str, Any]) -> str:
    """Paired bars per theme: share of respondents raising it, and share rating its mapped category a barrier;
    then closed categories no theme maps to (barrier bar only)."""
    shares, categories = view["barrier_shares"], view["category_by_id"]
    rows: list[tuple[str, float | None, str, float | None, str]] = []
    for theme in (t for t in view["themes"] if not t["noise"]):
        category = categories.get(theme["category_id"] or "")
        if theme["emergent"] or category is None:
            rows.append((theme["label"], theme["share"], EMERGENT_TEXT if theme["emergent"] else "no closed category",
                         None, ""))
            continue
        rated, barrier = shares.get(category.category_id, (0, 0))
        rows.append((theme["label"], theme["share"], category.label,
                     barrier / rated if rated else None, f"{barrier} of {rated}"))
    for category in view["uncovered"]:
        rated, barrier = shares.get(category.category_id, (0, 0))
        rows.append((f"(no theme) {category.label}", None, category.label, barrier / rated if rated else None,
                     f"{barrier} of {rated}"))
    left, bar_max, row_height, top = 250, 330, 46, 34
    width, height = 900, top + row_height * len(rows) + 8
    parts = [_svg_open("prevalence-chart", width, height, "Theme prevalence beside closed-question barrier ratings",
                       "For each theme, a blue bar gives the share of respondents with kept free text whose answer "
                       "carries the theme; an orange bar gives the share of respondents who rated the theme's "
                       f"closed category {view['high_label']}. Emergent themes have no orange bar; closed categories with no "
                       "theme have no blue bar.")]
    parts.append(f'<rect x="{left}" y="6" width="12" height="12" fill="{THEME_COLOUR}"/>'
                 f'<text x="{left + 18}" y="17" font-size="12">share of respondents raising the theme</text>'
                 f'<rect x="{left + 290}" y="6" width="12" height="12" fill="{BARRIER_COLOUR}"/>'
                 f'<text x="{left + 308}" y="17" font-size="12">share rating the mapped category '
                 f'{escape(view["high_label"])}</text>')
    for i, (label, share, category_label, barrier, counts) in enumerate(rows):
        y = top + i * row_height
        parts.append(f'<text x="{left - 8}" y="{y + 19}" font-size="13" text-anchor="end">'
                     f'<title>{escape(label)}</title>{escape(_short(label, 34))}</text>')
        if share is not None:
            parts.append(_bar(left, y + 2, share * bar_max, 16, THEME_COLOUR, f"{label}: {percent(share)} of respondents",
                              percent(share)))
        if barrier is not None:
            parts.append(_bar(left, y + 21, barrier * bar_max, 16, BARRIER_COLOUR,
                              f"{category_label}: {percent(barrier)} rated it {view['high_label']} ({counts})",
                              f"{percent(barrier)} · {_short(category_label, 40)}"))
        else:
            note = category_label if share is not None else f"{category_label}: not rated"
            parts.append(f'<text x="{left + 4}" y="{y + 34}" font-size="12" font-style="italic" fill="#553c9a">'
                         f'{escape(_short(note, 70))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _bar(x: float, y: float, length: float, thickness: float, colour: str, tooltip: str, label: str) -> str:
    length = max(length, 1.5)  # a zero share still shows a sliver, so "none" differs from "not measured"
    return (f'<rect class="bar" x="{x}" y="{y}" width="{length:.1f}" height="{thickness}" fill="{colour}">'
            f'<title>{escape(tooltip)}</title></rect>'
            f'<text x="{x + length + 5:.1f}" y="{y + thickness - 3}" font-size="12">{escape(label)}</text>')


def heatmap(ident: str, title: str, desc: str, row_labels: Sequence[str], column_labels: Sequence[str],
            values: Sequence[Sequence[float | None]], cell_text: Callable[[int, int], str],
            tooltip: Callable[[int, int], str], colour: Callable[[float], str],
            outlined: set[tuple[int, int]] = frozenset()) -> str:
    left, top, cell_w, cell_h = 250, 160, 56, 28
    width = left + cell_w * len(column_labels) + 190  # room for the last rotated column label
    height = top + cell_h * len(row_labels) + 10
    parts = [_svg_open(ident, width, height, title, desc),
             f'<text x="{left - 8}" y="{top - 8}" font-size="12" font-weight="600" text-anchor="end">theme ↓ · '
             f'closed category →</text>']
    for j, label in enumerate(column_labels):
        x, y = left + j * cell_w + cell_w / 2, top - 8
        parts.append(f'<text x="{x}" y="{y}" font-size="12" transform="rotate(-40 {x} {y})">'
                     f'<title>{escape(label)}</title>{escape(_short(label, 30))}</text>')
    for i, label in enumerate(row_labels):
        y = top + i * cell_h
        parts.append(f'<text x="{left - 8}" y="{y + 18}" font-size="12" text-anchor="end">'
                     f'<title>{escape(label)}</title>{escape(_short(label, 36))}</text>')
        for j, value in enumerate(values[i]):
            x = left + j * cell_w
            fill = "#f7fafc" if value is None else colour(value)
            stroke = ' stroke="#1a202c" stroke-width="2.5"' if (i, j) in outlined else ' stroke="#fff"'
            parts.append(f'<rect class="cell" x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}"'
                         f'{stroke}><title>{escape(tooltip(i, j))}</title></rect>')
            dark = value is not None and _is_dark(fill)
            parts.append(f'<text x="{x + cell_w / 2}" y="{y + 18}" font-size="11" text-anchor="middle" '
                         f'fill="{"#fff" if dark else "#1a202c"}">{escape(cell_text(i, j))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _is_dark(fill: str) -> bool:
    r, g, b = (int(fill[k:k + 2], 16) for k in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def mapping_heatmap(view: dict[str, Any]) -> str:
    themes = [t for t in view["themes"] if not t["noise"]]
    categories = view["categories"]
    scores = view["scores"]
    if not themes or not categories or not scores:
        return '<p class="caption">No theme–category scores (no categories file, or mapping not run).</p>'
    values = [[scores.get((t["theme_id"], c.category_id)) for c in categories] for t in themes]
    present = [v for row in values for v in row if v is not None]
    low, high = min(present), max(present)
    spread = (high - low) or 1.0
    outlined = {(i, j) for i, t in enumerate(themes) for j, c in enumerate(categories)
                if t["category_id"] == c.category_id and not t["emergent"]}
    return heatmap(
        "mapping-heatmap", "Theme × closed category: mapping score",
        "Rows are themes, columns closed categories; darker cells score higher. An outlined cell is the category "
        "the theme was mapped to; emergent themes have none.",
        [t["label"] + (" (emergent)" if t["emergent"] else "") for t in themes], [c.label for c in categories],
        values, lambda i, j: "" if values[i][j] is None else f"{values[i][j]:.2f}",
        lambda i, j: f"{themes[i]['label']} × {categories[j].label}: "
                     + ("no score" if values[i][j] is None else f"score {values[i][j]:.3f}"),
        lambda v: _mix((247, 251, 255), (8, 81, 156), (v - low) / spread), outlined)


def crosstab_heatmap(view: dict[str, Any]) -> str:
    themes = [t for t in view["themes"] if not t["noise"]]
    cells: dict[tuple[int, str], CrosstabCell] = view["crosstab"]
    columns = [c for c in view.get("columns", []) if any(key[1] == c for key in cells)]
    if not themes or not columns:
        return '<p class="caption">No structured ratings to cross-tabulate.</p>'
    names = [view["column_labels"].get(c, c) for c in columns]
    grid = [[cells.get((t["theme_id"], c)) for c in columns] for t in themes]
    values = [[None if cell is None or cell.risk_difference != cell.risk_difference else cell.risk_difference
               for cell in row] for row in grid]
    outlined = {(i, j) for i, row in enumerate(grid) for j, cell in enumerate(row)
                if cell is not None and cell.family == "primary"}

    def text(i: int, j: int) -> str:
        cell = grid[i][j]
        if cell is None or values[i][j] is None:
            return ""
        return f"{values[i][j] * 100:+.0f}" + ("*" if is_significant(cell, view["alpha"]) else "")

    def tooltip(i: int, j: int) -> str:
        cell = grid[i][j]
        if cell is None or values[i][j] is None:
            return f"{themes[i]['label']} × {names[j]}: not tested"
        return (f"{themes[i]['label']} × {names[j]} ({cell.family}): {percent(cell.share_with)} with the theme "
                f"({cell.barrier_with}/{cell.n_with}) vs {percent(cell.share_without)} without "
                f"({cell.barrier_without}/{cell.n_without}); adjusted p = {cell.p_adjusted:.3g}"
                + (" (small cell)" if cell.small_cell else ""))

    def colour(v: float) -> str:
        return _mix((255, 255, 255), (178, 24, 43), v / 0.5) if v >= 0 else _mix((255, 255, 255), (33, 102, 172), -v / 0.5)

    return heatmap("crosstab-heatmap", "Theme × closed category: difference in major-barrier ratings",
                   "Each cell is the share of respondents rating the category a major barrier among those whose "
                   "answer carries the theme minus the share among those whose answer does not, in percentage "
                   "points. Red is higher with the theme, blue lower; outlined cells are primary hypotheses (a "
                   "theme against its own category); * marks differences significant after the correction within "
                   "their family.", [t["label"] for t in themes], names, values, text, tooltip, colour, outlined)
