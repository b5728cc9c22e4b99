"""report.html: one self-contained file (inline CSS, inline SVG drawn here, a little vanilla JS; nothing fetched).

Every piece of user text passes through ``_e`` (html.escape); the quotes the export buttons need travel as JSON
in a ``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, so no answer can close it.
"""
from __future__ import annotations

import html
import json
from typing import Any, Callable, Sequence

from pipeline.records import CrosstabCell
from pipeline.report import EMERGENT_TEXT, is_significant

THEME_COLOUR, BARRIER_COLOUR = "#2b6cb0", "#c05621"

CSS = """
:root{--ink:#1a202c;--muted:#4a5568;--line:#cbd5e0;--warn-bg:#fffaf0;--warn:#9c4221;--accent:#2b6cb0}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);margin:0 auto;
  max-width:1100px;padding:1.5rem}
h1{margin:.2rem 0}h2{border-bottom:2px solid var(--line);padding-bottom:.2rem;margin-top:2.2rem}
.runline,.caption,.meta,.source{color:var(--muted);font-size:.9rem}
nav ul{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;padding:0;list-style:none}a{color:var(--accent)}
table{border-collapse:collapse;width:100%;margin:.6rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#edf2f7}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6rem;margin:.6rem 0}
.stat{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}.stat b{display:block;font-size:1.4rem}
.badge{display:inline-block;font-size:.75rem;font-weight:600;border-radius:4px;padding:.05rem .4rem;
 margin-left:.3rem; vertical-align:middle}
.badge.emergent{background:#e9d8fd;color:#44337a}.badge.unstable{background:#fed7d7;color:#822727}
.badge.noise{background:#e2e8f0;color:#2d3748}.warn{color:var(--warn);font-weight:600}figure{margin:1rem 0}
svg{max-width:100%;height:auto}svg text{font-family:inherit}
.theme-card{border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;margin:1rem 0;break-inside:avoid}
.theme-card h3{margin:.1rem 0 .3rem}.quotes{list-style:none;padding:0;margin:.5rem 0 0}
.quote{display:grid;grid-template-columns:5.5rem 1fr;gap:.2rem .6rem;border-top:1px dashed var(--line);
 padding:.5rem 0}
.quote blockquote{margin:0;font-size:1.02rem}.quote .source,.quote .flag-warning{grid-column:2;margin:0}
.flag-warning{background:var(--warn-bg);border-left:4px solid #dd6b20;padding:.2rem .5rem;color:var(--warn)}
.pick label{font-size:.85rem;margin-left:.2rem}
.export{position:sticky;top:0;z-index:1;background:#f7fafc;border:1px solid var(--line);border-radius:6px;
  padding:.5rem .7rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.export button{font:inherit;padding:.3rem .7rem;border-radius:4px;border:1px solid var(--accent);background:#fff;
  color:var(--accent);cursor:pointer}
.export button:disabled{opacity:.45;cursor:default}:focus-visible{outline:3px solid #f6ad55;outline-offset:2px}
@media print{.export,.pick,nav{display:none}.quote{display:block}
  body{max-width:none;padding:0}h2{break-after:avoid}a{color:inherit}}
"""

JS = """
(function () {
  "use strict";
  var quotes = JSON.parse(document.getElementById("quote-data").textContent);
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.quote-select"));
  var counter = document.getElementById("selected-count");
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".export button"));
  var runId = document.body.getAttribute("data-run-id");
  function selected() {
    return boxes.filter(function (b) { return b.checked; }).map(function (b) { return quotes[Number(b.value)]; });
  }
  function update() {
    var n = selected().length;
    counter.textContent = n + (n === 1 ? " quote" : " quotes") + " selected";
    buttons.forEach(function (b) { b.disabled = n === 0; });
  }
  function cell(value) {
    var text = String(value == null ? "" : value);
    return /[",\\r\\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function toCsv(rows) {
    var columns = ["theme_id", "theme", "text", "respondent_id", "source", "flagged", "flags", "ratings"];
    var lines = [columns.join(",")];
    rows.forEach(function (q) {
      var record = Object.assign({}, q, {flagged: q.flags.length ? "yes" : "no", flags: q.flags.join("; ")});
      lines.push(columns.map(function (c) { return cell(record[c]); }).join(","));
    });
    return "\\ufeff" + lines.join("\\r\\n") + "\\r\\n";
  }
  function oneLine(text) { return String(text).replace(/\\s+/g, " ").trim(); }
  function toMarkdown(rows) {
    var out = ["# Selected quotes", "", "Run " + runId, ""], theme = null;
    rows.forEach(function (q) {
      if (q.theme !== theme) { theme = q.theme; out.push("## " + oneLine(theme), ""); }
      var by = "respondent " + q.respondent_id + ", " + q.source;
      if (q.ratings) { by += " · " + q.ratings; }
      if (q.flags.length) { by += " · ⚠ FLAGGED, may identify the respondent: " + q.flags.join(", "); }
      out.push("> " + oneLine(q.text), ">", "> — " + oneLine(by), "");
    });
    return out.join("\\n");
  }
  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], {type: type}));
    var link = document.createElement("a");
    link.href = url; link.download = name; link.hidden = true;
    document.body.appendChild(link); link.click();
    setTimeout(function () { URL.revokeObjectURL(url); link.remove(); }, 1000);
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  document.getElementById("export-csv").addEventListener("click", function () {
    download("quotes-" + runId + ".csv", "text/csv;charset=utf-8", toCsv(selected()));
  });
  document.getElementById("export-md").addEventListener("click", function () {
    download("quotes-" + runId + ".md", "text/markdown;charset=utf-8", toMarkdown(selected()));
  });
  document.getElementById("clear-selection").addEventListener("click", function () {
    boxes.forEach(function (b) { b.checked = false; }); update();
  });
  update();
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _svg_open(ident: str, width: int, height: int, title: str, desc: str) -> str:
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="{ident}-title {ident}-desc" id="{ident}">'
            f'<title id="{ident}-title">{_e(title)}</title><desc id="{ident}-desc">{_e(desc)}</desc>')


def _mix(low: tuple[int, int, int], high: tuple[int, int, int], t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high))


# ---------------------------------------------------------------- charts

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
                       "closed category a barrier. Emergent themes have no orange bar; closed categories with no "
                       "theme have no blue bar.")]
    parts.append(f'<rect x="{left}" y="6" width="12" height="12" fill="{THEME_COLOUR}"/>'
                 f'<text x="{left + 18}" y="17" font-size="12">share of respondents raising the theme</text>'
                 f'<rect x="{left + 290}" y="6" width="12" height="12" fill="{BARRIER_COLOUR}"/>'
                 f'<text x="{left + 308}" y="17" font-size="12">share rating the mapped category a barrier</text>')
    for i, (label, share, category_label, barrier, counts) in enumerate(rows):
        y = top + i * row_height
        parts.append(f'<text x="{left - 8}" y="{y + 19}" font-size="13" text-anchor="end">'
                     f'<title>{_e(label)}</title>{_e(_short(label, 34))}</text>')
        if share is not None:
            parts.append(_bar(left, y + 2, share * bar_max, 16, THEME_COLOUR, f"{label}: {_pct(share)} of respondents",
                              _pct(share)))
        if barrier is not None:
            parts.append(_bar(left, y + 21, barrier * bar_max, 16, BARRIER_COLOUR,
                              f"{category_label}: {_pct(barrier)} rated it a barrier ({counts})",
                              f"{_pct(barrier)} · {_short(category_label, 40)}"))
        else:
            note = category_label if share is not None else f"{category_label}: not rated"
            parts.append(f'<text x="{left + 4}" y="{y + 34}" font-size="12" font-style="italic" fill="#553c9a">'
                         f'{_e(_short(note, 70))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _bar(x: float, y: float, length: float, thickness: float, colour: str, tooltip: str, label: str) -> str:
    length = max(length, 1.5)  # a zero share still shows a sliver, so "none" differs from "not measured"
    return (f'<rect class="bar" x="{x}" y="{y}" width="{length:.1f}" height="{thickness}" fill="{colour}">'
            f'<title>{_e(tooltip)}</title></rect>'
            f'<text x="{x + length + 5:.1f}" y="{y + thickness - 3}" font-size="12">{_e(label)}</text>')


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
                     f'<title>{_e(label)}</title>{_e(_short(label, 30))}</text>')
    for i, label in enumerate(row_labels):
        y = top + i * cell_h
        parts.append(f'<text x="{left - 8}" y="{y + 18}" font-size="12" text-anchor="end">'
                     f'<title>{_e(label)}</title>{_e(_short(label, 36))}</text>')
        for j, value in enumerate(values[i]):
            x = left + j * cell_w
            fill = "#f7fafc" if value is None else colour(value)
            stroke = ' stroke="#1a202c" stroke-width="2.5"' if (i, j) in outlined else ' stroke="#fff"'
            parts.append(f'<rect class="cell" x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}"'
                         f'{stroke}><title>{_e(tooltip(i, j))}</title></rect>')
            dark = value is not None and _is_dark(fill)
            parts.append(f'<text x="{x + cell_w / 2}" y="{y + 18}" font-size="11" text-anchor="middle" '
                         f'fill="{"#fff" if dark else "#1a202c"}">{_e(cell_text(i, j))}</text>')
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
    categories = [c for c in view["categories"] if any(key[1] == c.category_id for key in cells)]
    if not themes or not categories:
        return '<p class="caption">No structured ratings to cross-tabulate.</p>'
    grid = [[cells.get((t["theme_id"], c.category_id)) for c in categories] for t in themes]
    values = [[None if cell is None else cell.share_with - cell.share_without for cell in row] for row in grid]

    def text(i: int, j: int) -> str:
        cell = grid[i][j]
        if cell is None:
            return ""
        return f"{(cell.share_with - cell.share_without) * 100:+.0f}" + ("*" if is_significant(cell, view["alpha"]) else "")

    def tooltip(i: int, j: int) -> str:
        cell = grid[i][j]
        if cell is None:
            return f"{themes[i]['label']} × {categories[j].label}: not tested"
        return (f"{themes[i]['label']} × {categories[j].label}: {_pct(cell.share_with)} with the theme "
                f"({cell.barrier_with}/{cell.n_with}) vs {_pct(cell.share_without)} without "
                f"({cell.barrier_without}/{cell.n_without}); adjusted p = {cell.p_adjusted:.3g}"
                + (" (small cell)" if cell.small_cell else ""))

    def colour(v: float) -> str:
        return _mix((255, 255, 255), (178, 24, 43), v / 0.5) if v >= 0 else _mix((255, 255, 255), (33, 102, 172), -v / 0.5)

    return heatmap("crosstab-heatmap", "Theme × closed category: difference in barrier ratings",
                   "Each cell is the share of respondents rating the category a barrier among those whose answer "
                   "carries the theme minus the share among those whose answer does not, in percentage points. Red "
                   "is higher with the theme, blue lower; * marks differences significant after Benjamini-Hochberg.",
                   [t["label"] for t in themes], [c.label for c in categories], values, text, tooltip, colour)


# ---------------------------------------------------------------- sections

def _summary(view: dict[str, Any]) -> str:
    counts = view["counts"]
    stats = [("files", counts["files"]), ("answers read", counts["answers_read"]), ("kept", counts["answers_kept"]),
             ("dropped", counts["answers_dropped"]), ("segments", counts["segments"]), ("themes", counts["themes"]),
             ("emergent themes", counts["emergent_themes"]), ("unstable themes", counts["unstable_themes"]),
             ("unassigned segments", f"{counts['unassigned_segments']} ({_pct(counts['unassigned_share'])})"),
             ("embedding cache hits / misses", f"{counts['cache_hits']} / {counts['cache_misses']}")]
    out = ['<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Run summary</h2><div class="stats">']
    out += [f'<div class="stat"><b>{_e(value)}</b>{_e(name)}</div>' for name, value in stats]
    out.append('</div><table><caption class="caption">Input files</caption><thead><tr><th scope="col">File</th>'
               '<th scope="col">Format</th><th scope="col" class="num">Answers</th><th scope="col">SHA-256</th>'
               '</tr></thead><tbody>')
    out += [f'<tr><th scope="row">{_e(f["path"])}</th><td>{_e(f["format"])}</td><td class="num">{f["n_answers"]}'
            f'</td><td><code title="{_e(f["sha256"])}">{_e(f["sha256"][:12])}</code></td></tr>' for f in view["files"]]
    out.append('</tbody></table>')
    if counts["dropped_by_reason"]:
        out.append('<table><caption class="caption">Answers set aside, by reason (each is listed in ledger.csv)'
                   '</caption><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Answers</th></tr>'
                   '</thead><tbody>')
        out += [f'<tr><th scope="row">{_e(reason)}</th><td class="num">{n}</td></tr>'
                for reason, n in counts["dropped_by_reason"].items()]
        out.append('</tbody></table>')
    if view["warnings"]:
        out.append(f'<details><summary>{len(view["warnings"])} warning(s)</summary><ul>')
        out += [f"<li>{_e(w)}</li>" for w in view["warnings"]]
        out.append("</ul></details>")
    out.append("</section>")
    return "".join(out)


def _category_cell(theme: dict[str, Any]) -> str:
    if theme["emergent"]:
        return f'<span class="badge emergent">{_e(EMERGENT_TEXT)}</span>'
    if not theme["category_label"]:
        return "—"
    confidence = f' <span class="meta">({theme["confidence"]:.2f})</span>' if theme["confidence"] is not None else ""
    return _e(theme["category_label"]) + confidence


def _stability(theme: dict[str, Any]) -> str:
    flag = ' <span class="badge unstable">unstable</span>' if theme["unstable"] else ""
    return f'{theme["stability"]:.2f}{flag}'


def _theme_table(view: dict[str, Any]) -> str:
    out = ['<section id="themes" aria-labelledby="themes-h"><h2 id="themes-h">Themes</h2><table>'
           '<caption class="caption">Share = respondents whose kept free text carries the theme, of all respondents '
           'with kept free text. Stability = how often the theme\'s members stay together across seeds.</caption>'
           '<thead><tr><th scope="col">Theme</th><th scope="col" class="num">Segments</th><th scope="col" '
           'class="num">Respondents</th><th scope="col" class="num">Share</th><th scope="col" class="num">Stability'
           '</th><th scope="col">Closed category (confidence)</th></tr></thead><tbody>']
    for t in view["themes"]:
        noise = ' <span class="badge noise">noise</span>' if t["noise"] else ""
        out.append(f'<tr><th scope="row"><a href="#theme-{t["theme_id"]}">{_e(t["label"])}</a>{noise}</th>'
                   f'<td class="num">{t["size"]}</td><td class="num">{t["n_respondents"]}</td>'
                   f'<td class="num">{_pct(t["share"])}</td><td class="num">{_stability(t)}</td>'
                   f'<td>{_category_cell(t)}</td></tr>')
    out.append("</tbody></table></section>")
    return "".join(out)


def _charts(view: dict[str, Any]) -> str:
    uncovered = "".join(f"<li>{_e(c.label)}" + (f' <span class="meta">— {_e(c.description)}</span>'
                                                 if c.description else "") + "</li>" for c in view["uncovered"])
    return ('<section id="prevalence" aria-labelledby="prevalence-h"><h2 id="prevalence-h">What the free text raises '
            'vs what the closed question rated</h2><figure>' + prevalence_chart(view) +
            '<figcaption class="caption">Blue: share of respondents with kept free text whose answer carries the '
            'theme. Orange: share of respondents who rated the mapped closed category a barrier.</figcaption>'
            '</figure></section><section id="uncovered" aria-labelledby="uncovered-h"><h2 id="uncovered-h">Closed '
            'categories with no supporting free text</h2>'
            + (f"<ul>{uncovered}</ul>" if uncovered else "<p>None: every closed category has a theme.</p>") +
            '</section><section id="mapping" aria-labelledby="mapping-h"><h2 id="mapping-h">Theme × category</h2>'
            '<figure>' + mapping_heatmap(view) + '<figcaption class="caption">Mapping score of each theme against '
            'each closed category (darker = closer); the outlined cell is the category the theme was mapped to.'
            '</figcaption></figure><figure>' + crosstab_heatmap(view) + '<figcaption class="caption">Difference, in '
            'percentage points, in the share rating the category a barrier between respondents whose answer carries '
            'the theme and those whose answer does not (red higher, blue lower; * significant after '
            'Benjamini-Hochberg). Hover a cell for counts.</figcaption></figure>'
            + _associations(view) + "</section>")


def _associations(view: dict[str, Any]) -> str:
    if not view["associations"]:
        return ""
    labels = {t["theme_id"]: t["label"] for t in view["themes"]}
    out = [f'<table><caption class="caption">Strongest associations (Benjamini-Hochberg, α = {view["alpha"]}; '
           'significant first)</caption><thead><tr><th scope="col">Theme</th><th scope="col">Category</th>'
           '<th scope="col" class="num">Barrier, with theme</th><th scope="col" class="num">Without</th>'
           '<th scope="col" class="num">Adjusted p</th><th scope="col">Note</th></tr></thead><tbody>']
    for cell in view["associations"]:
        category = view["category_by_id"].get(cell.category_id)
        note = "; ".join(word for word, on in (("significant", is_significant(cell, view["alpha"])),
                                               ("small cell", cell.small_cell)) if on)
        out.append(f'<tr><th scope="row">{_e(labels.get(cell.theme_id, cell.theme_id))}</th>'
                   f'<td>{_e(category.label if category else cell.category_id)}</td>'
                   f'<td class="num">{_pct(cell.share_with)} ({cell.barrier_with}/{cell.n_with})</td>'
                   f'<td class="num">{_pct(cell.share_without)} ({cell.barrier_without}/{cell.n_without})</td>'
                   f'<td class="num">{cell.p_adjusted:.3g}</td><td>{_e(note)}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _quote_cards(view: dict[str, Any], export: list[dict[str, Any]]) -> str:
    out = ['<section id="quotes" aria-labelledby="quotes-h"><h2 id="quotes-h">Themes and quotes</h2>'
           '<div class="export" role="group" aria-label="Export selected quotes">'
           '<span id="selected-count" aria-live="polite">0 quotes selected</span>'
           '<button type="button" id="export-csv">Export selected quotes (CSV)</button>'
           '<button type="button" id="export-md">Export selected quotes (Markdown)</button>'
           '<button type="button" id="clear-selection">Clear selection</button></div>']
    for t in view["themes"]:
        badges = (f'<span class="badge emergent">{_e(EMERGENT_TEXT)}</span>' if t["emergent"] else "") + (
            '<span class="badge unstable">unstable</span>' if t["unstable"] else "") + (
            '<span class="badge noise">noise</span>' if t["noise"] else "")
        keywords = ", ".join(t["keywords"][: view["top_keywords"]])
        out.append(f'<article class="theme-card" id="theme-{t["theme_id"]}" aria-labelledby="theme-{t["theme_id"]}-h">'
                   f'<h3 id="theme-{t["theme_id"]}-h">{_e(t["label"])}{badges}</h3>'
                   f'<p class="meta">{t["size"]} segments · {_plural(t["n_respondents"], "respondent")} ({_pct(t["share"])}) · '
                   f'stability {_stability(t)} · closed category: {_category_cell(t)}</p>'
                   f'<p><strong>Keywords:</strong> {_e(keywords) or "—"}</p>'
                   + _label_quality(view["label_quality"].get(t["theme_id"], {}))
                   + (f'<p class="definition">{_e(t["definition"])}</p>' if t["definition"] else ""))
        quotes = view["quotes"].get(t["theme_id"], [])
        if not quotes:
            out.append('<p class="meta">No quotable segment.</p></article>')
            continue
        out.append('<ul class="quotes">')
        for q in quotes:
            index = len(export)
            export.append({"theme_id": t["theme_id"], "theme": t["label"], "text": q["text"],
                           "respondent_id": q["respondent_id"], "source": q["source"], "flags": list(q["flags"]),
                           "ratings": q["ratings_display"]})
            box = f"quote-{index}"
            warning = (f'<p class="flag-warning" role="note">⚠ May identify the respondent ({_e(", ".join(q["flags"]))})'
                       ' — check before publishing.</p>' if q["flags"] else "")
            out.append(f'<li class="quote{" flagged" if q["flags"] else ""}"><div class="pick">'
                       f'<input type="checkbox" class="quote-select" id="{box}" value="{index}" '
                       f'aria-describedby="{box}-text"><label for="{box}">Select</label></div>'
                       f'<blockquote id="{box}-text">{_e(q["text"])}</blockquote>'
                       f'<p class="source">Respondent <strong>{_e(q["respondent_id"])}</strong> · '
                       f'<code>{_e(q["source"])}</code>'
                       + (f" · {_e(q['ratings_display'])}" if q["ratings_display"] else "") + f"</p>{warning}</li>")
        out.append("</ul></article>")
    out.append("</section>")
    return "".join(out)


QUALITY_MEASURES = ("coherence", "distinctiveness", "cohesion")


def _label_quality(metrics: dict[str, Any]) -> str:
    """Coherence (NPMI of top words), distinctiveness and cohesion, with the weak-label warning if any."""
    if not metrics:
        return ""
    numbers = ", ".join(f"{name} {metrics[name]:.2f}" for name in QUALITY_MEASURES
                        if isinstance(metrics.get(name), (int, float)))
    html = f'<p class="meta">Label quality: {_e(numbers)}</p>'
    if metrics.get("weak"):
        html += f'<p class="flag-warning">Weak label: {_e(metrics.get("weak_reason", ""))}</p>'
    return html


def render_html(view: dict[str, Any]) -> str:
    export: list[dict[str, Any]] = []
    quotes = _quote_cards(view, export)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="run-id" content="{_e(view["run_id"])}"><title>{_e(view["title"])} — {_e(view["corpus"])}</title>'
        f"<style>{CSS}</style></head>"
        f'<body data-run-id="{_e(view["run_id"])}"><header><h1>{_e(view["title"])}</h1>'
        f'<p class="runline">Corpus <strong>{_e(view["corpus"])}</strong> · run <code>{_e(view["run_id"])}</code> · '
        f'generated {_e(view["generated"])}. Check run.json beside this file: it names the run in progress or last '
        'finished, and its status.</p></header>'
        '<nav aria-label="Contents"><ul><li><a href="#summary">Summary</a></li><li><a href="#themes">Themes</a></li>'
        '<li><a href="#prevalence">Prevalence vs ratings</a></li><li><a href="#uncovered">Uncovered categories</a>'
        '</li><li><a href="#mapping">Theme × category</a></li><li><a href="#quotes">Quotes</a></li></ul></nav>'
        f"<main>{_summary(view)}{_theme_table(view)}{_charts(view)}{quotes}</main>"
        f'<script type="application/json" id="quote-data">{_script_json(export)}</script>'
        f"<script>{JS}</script></body></html>\n")
