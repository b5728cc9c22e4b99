"""report.html: one self-contained file (inline CSS, inline SVG drawn here, a little vanilla JS; nothing fetched).

Every piece of user text passes through ``_e`` (html.escape); the quotes the export buttons need travel as JSON
in a ``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, so no answer can close it.
"""
from __future__ import annotations

import json
from typing import Any

from pipeline.report.coding_section import coding_html
from pipeline.report.format import escape, percent
from pipeline.report.tables import EMERGENT_TEXT
from pipeline.report.association_sections import associations_html
from pipeline.report.charts import crosstab_heatmap, mapping_heatmap, prevalence_chart
from pipeline.report.respondent_sections import CSS as RESPONDENT_CSS
from pipeline.report.respondent_sections import (
    attribute_tables_html, full_answer_html, label_fit_html, label_warnings_html, theme_answers_html,
)


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
    // a spreadsheet runs a cell that starts with = + - @ (or a tab/CR) as a formula: an answer must stay text
    if (/^[=+\\-@\\t\\r]/.test(text)) { text = "'" + text; }
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
  // Markdown renderers pass raw HTML through: angle brackets are backslash-escaped so no answer renders as HTML
  function mdLine(text) { return oneLine(text).replace(/[<>]/g, function (c) { return "\\\\" + c; }); }
  function toMarkdown(rows) {
    var out = ["# Selected quotes", "", "Run " + runId, ""], theme = null;
    rows.forEach(function (q) {
      if (q.theme !== theme) { theme = q.theme; out.push("## " + mdLine(theme), ""); }
      var by = "respondent " + q.respondent_id + ", " + q.source;
      if (q.ratings) { by += " · " + q.ratings; }
      if (q.flags.length) { by += " · ⚠ FLAGGED, may identify the respondent: " + q.flags.join(", "); }
      out.push("> " + mdLine(q.text), ">", "> — " + mdLine(by), "");
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
  window.pipelineReport = {toCsv: toCsv, toMarkdown: toMarkdown};  // for tests and the browser console
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


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


# ---------------------------------------------------------------- sections

def _summary(view: dict[str, Any]) -> str:
    counts = view["counts"]
    stats = [("files", counts["files"]), ("answers read", counts["answers_read"]), ("kept", counts["answers_kept"]),
             ("dropped", counts["answers_dropped"]), ("segments", counts["segments"]),
             ("themes" + (f" (+{counts['noise_themes']} noise)" if counts.get("noise_themes") else ""), counts["themes"]),
             ("emergent themes", counts["emergent_themes"]), ("unstable themes", counts["unstable_themes"]),
             ("unassigned segments", f"{counts['unassigned_segments']} ({percent(counts['unassigned_share'])})"),
             ("embedding cache hits / misses", f"{counts['cache_hits']} / {counts['cache_misses']}")]
    if counts.get("files_not_read"):
        stats.insert(1, ("files not read (see ledger.csv)", counts["files_not_read"]))
    out = ['<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Run summary</h2><div class="stats">']
    out += [f'<div class="stat"><b>{escape(value)}</b>{escape(name)}</div>' for name, value in stats]
    out.append('</div>')
    if view.get("theme_method"):
        out.append(f'<p class="caption" id="theme-method">{escape(view["theme_method"])}</p>')
    out.append('<table><caption class="caption">Input files</caption><thead><tr><th scope="col">File</th>'
               '<th scope="col">Format</th><th scope="col" class="num">Answers</th><th scope="col">SHA-256</th>'
               '</tr></thead><tbody>')
    out += [f'<tr><th scope="row">{escape(f["path"])}</th><td>{escape(f["format"])}</td><td class="num">{f["n_answers"]}'
            f'</td><td><code title="{escape(f["sha256"])}">{escape(f["sha256"][:12])}</code></td></tr>' for f in view["files"]]
    out.append('</tbody></table>')
    if counts["dropped_by_reason"]:
        out.append('<table><caption class="caption">Answers set aside, by reason (each is listed in ledger.csv)'
                   '</caption><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Answers</th></tr>'
                   '</thead><tbody>')
        out += [f'<tr><th scope="row">{escape(reason)}</th><td class="num">{n}</td></tr>'
                for reason, n in counts["dropped_by_reason"].items()]
        out.append('</tbody></table>')
    if view["warnings"]:
        out.append(f'<details><summary>{len(view["warnings"])} warning(s)</summary><ul>')
        out += [f"<li>{escape(w)}</li>" for w in view["warnings"]]
        out.append("</ul></details>")
    out.append("</section>")
    return "".join(out)


def _category_cell(theme: dict[str, Any]) -> str:
    if theme["emergent"]:
        return f'<span class="badge emergent">{escape(EMERGENT_TEXT)}</span>'
    if not theme["category_label"]:
        return "—"
    confidence = f' <span class="meta">({theme["confidence"]:.2f})</span>' if theme["confidence"] is not None else ""
    return escape(theme["category_label"]) + confidence


def _stability(theme: dict[str, Any]) -> str:
    flag = ' <span class="badge unstable">unstable</span>' if theme["unstable"] else ""
    return f'{theme["stability"]:.2f}{flag}'


def _theme_table(view: dict[str, Any]) -> str:
    out = ['<section id="themes" aria-labelledby="themes-h"><h2 id="themes-h">Themes</h2>' + label_warnings_html(view)
           + '<table>'
           '<caption class="caption">Share = respondents whose kept free text carries the theme, of all respondents '
           'with kept free text. Stability = how often the theme\'s members stay together across seeds. '
           'Confidence = the label-free coder\'s mean probability that a segment here is in that category: its own '
           'estimate, not a measured accuracy (over-confident where the category names say little); code a sample '
           'and run <code>pipeline code</code> for a measured one.</caption>'
           '<thead><tr><th scope="col">Theme</th><th scope="col" class="num">Segments</th><th scope="col" '
           'class="num">Respondents</th><th scope="col" class="num">Share</th><th scope="col" class="num">Stability'
           '</th><th scope="col">Closed category (confidence)</th></tr></thead><tbody>']
    for t in view["themes"]:
        noise = ' <span class="badge noise">noise</span>' if t["noise"] else ""
        noise += ' <span class="badge weak">weak label</span>' if view["label_fit"].get(t["theme_id"], {}).get("weak") else ""
        out.append(f'<tr><th scope="row"><a href="#theme-{t["theme_id"]}">{escape(t["label"])}</a>{noise}</th>'
                   f'<td class="num">{t["size"]}</td><td class="num">{t["n_respondents"]}</td>'
                   f'<td class="num">{percent(t["share"])}</td><td class="num">{_stability(t)}</td>'
                   f'<td>{_category_cell(t)}</td></tr>')
    out.append("</tbody></table></section>")
    return "".join(out)


def _charts(view: dict[str, Any]) -> str:
    uncovered = "".join(f"<li>{escape(c.label)}" + (f' <span class="meta">— {escape(c.description)}</span>'
                                                 if c.description else "") + "</li>" for c in view["uncovered"])
    return ('<section id="prevalence" aria-labelledby="prevalence-h"><h2 id="prevalence-h">What the free text raises '
            'vs what the closed question rated</h2><figure>' + prevalence_chart(view) +
            '<figcaption class="caption">Blue: share of respondents with kept free text whose answer carries the '
            f'theme. Orange: share of respondents who rated the mapped closed category {escape(view["high_label"])} '
            '(of all who rated it; blanks and \u201cdon\u2019t know\u201d left out).</figcaption>'
            '</figure></section><section id="uncovered" aria-labelledby="uncovered-h"><h2 id="uncovered-h">Closed '
            'categories with no supporting free text</h2>'
            + (f"<ul>{uncovered}</ul>" if uncovered else "<p>None: every closed category has a theme.</p>") +
            '</section><section id="mapping" aria-labelledby="mapping-h"><h2 id="mapping-h">Theme × category</h2>'
            '<figure>' + mapping_heatmap(view) + '<figcaption class="caption">Mapping score of each theme against '
            'each closed category (darker = closer); the outlined cell is the category the theme was mapped to.'
            '</figcaption></figure><figure>' + crosstab_heatmap(view) + '<figcaption class="caption">Difference, in '
            'percentage points, in the share rating the category a major barrier between respondents whose answer carries '
            'the theme and those whose answer does not (red higher, blue lower; outlined: a primary hypothesis; '
            '* significant after the correction within its family). Hover a cell for counts.</figcaption></figure>'
            + associations_html(view) + "</section>")


def _quote_cards(view: dict[str, Any], export: list[dict[str, Any]]) -> str:
    out = ['<section id="quotes" aria-labelledby="quotes-h"><h2 id="quotes-h">Themes and quotes</h2>'
           '<div class="export" role="group" aria-label="Export selected quotes">'
           '<span id="selected-count" aria-live="polite">0 quotes selected</span>'
           '<button type="button" id="export-csv">Export selected quotes (CSV)</button>'
           '<button type="button" id="export-md">Export selected quotes (Markdown)</button>'
           '<button type="button" id="clear-selection">Clear selection</button></div>']
    for t in view["themes"]:
        badges = (f'<span class="badge emergent">{escape(EMERGENT_TEXT)}</span>' if t["emergent"] else "") + (
            '<span class="badge unstable">unstable</span>' if t["unstable"] else "") + (
            '<span class="badge noise">noise</span>' if t["noise"] else "")
        keywords = ", ".join(t["keywords"][: view["top_keywords"]])
        out.append(f'<article class="theme-card" id="theme-{t["theme_id"]}" aria-labelledby="theme-{t["theme_id"]}-h">'
                   f'<h3 id="theme-{t["theme_id"]}-h">{escape(t["label"])}{badges}</h3>'
                   f'<p class="meta">{t["size"]} segments · {_plural(t["n_respondents"], "respondent")} ({percent(t["share"])}) · '
                   f'stability {_stability(t)} · closed category: {_category_cell(t)}</p>'
                   f'<p><strong>Keywords:</strong> {escape(keywords) or "—"}</p>'
                   + label_fit_html(view["label_fit"].get(t["theme_id"], {}))
                   + _label_quality(view["label_quality"].get(t["theme_id"], {}))
                   + (f'<p class="definition">{escape(t["definition"])}</p>' if t["definition"] else ""))
        quotes = view["quotes"].get(t["theme_id"], [])
        if not quotes:
            out.append('<p class="meta">No quotable segment.</p>' + theme_answers_html(view, t["theme_id"])
                       + '</article>')
            continue
        out.append('<ul class="quotes">')
        for q in quotes:
            index = len(export)
            export.append({"theme_id": t["theme_id"], "theme": t["label"], "text": q["text"],
                           "respondent_id": q["respondent_id"], "source": q["source"], "flags": list(q["flags"]),
                           "ratings": q["ratings_display"]})
            box = f"quote-{index}"
            warning = (f'<p class="flag-warning" role="note">⚠ May identify the respondent ({escape(", ".join(q["flags"]))})'
                       ' — check before publishing.</p>' if q["flags"] else "")
            out.append(f'<li class="quote{" flagged" if q["flags"] else ""}"><div class="pick">'
                       f'<input type="checkbox" class="quote-select" id="{box}" value="{index}" '
                       f'aria-describedby="{box}-text"><label for="{box}">Select</label></div>'
                       f'<blockquote id="{box}-text">{escape(q["text"])}</blockquote>'
                       f'<p class="source">Respondent <strong>{escape(q["respondent_id"])}</strong> · '
                       f'<code>{escape(q["source"])}</code>'
                       + (f" · {escape(q['ratings_display'])}" if q["ratings_display"] else "") + f"</p>{warning}"
                       + full_answer_html(q) + "</li>")
        out.append("</ul>" + theme_answers_html(view, t["theme_id"]) + "</article>")
    out.append("</section>")
    return "".join(out)


QUALITY_MEASURES = ("coherence", "distinctiveness", "cohesion")


def _label_quality(metrics: dict[str, Any]) -> str:
    """Coherence (NPMI of top words), distinctiveness and cohesion, with the weak-label warning if any."""
    if not metrics:
        return ""
    numbers = ", ".join(f"{name} {metrics[name]:.2f}" for name in QUALITY_MEASURES
                        if isinstance(metrics.get(name), (int, float)))
    html = f'<p class="meta">Label quality: {escape(numbers)}</p>'
    if metrics.get("weak"):
        html += f'<p class="flag-warning">Weak label: {escape(metrics.get("weak_reason", ""))}</p>'
    return html


def render_html(view: dict[str, Any]) -> str:
    export: list[dict[str, Any]] = []
    quotes = _quote_cards(view, export)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="run-id" content="{escape(view["run_id"])}"><title>{escape(view["title"])} — {escape(view["corpus"])}</title>'
        f"<style>{CSS}{RESPONDENT_CSS}</style></head>"
        f'<body data-run-id="{escape(view["run_id"])}"><header><h1>{escape(view["title"])}</h1>'
        f'<p class="runline">Corpus <strong>{escape(view["corpus"])}</strong> · run <code>{escape(view["run_id"])}</code> · '
        f'generated {escape(view["generated"])}. Check run.json beside this file: it names the run in progress or last '
        'finished, and its status.</p></header>'
        '<nav aria-label="Contents"><ul><li><a href="#summary">Summary</a></li><li><a href="#themes">Themes</a></li>'
        '<li><a href="#prevalence">Prevalence vs ratings</a></li><li><a href="#uncovered">Uncovered categories</a>'
        '</li><li><a href="#mapping">Theme × category</a></li><li><a href="#attributes">Attributes</a></li>'
        '<li><a href="#quotes">Quotes</a></li>'
        + ('<li><a href="#coding">Trained coding</a></li>' if view.get("coding") else "") + '</ul></nav>'
        f"<main>{_summary(view)}{_theme_table(view)}{_charts(view)}{attribute_tables_html(view)}{quotes}"
        f"{coding_html(view.get('coding', {}))}</main>"
        f'<script type="application/json" id="quote-data">{_script_json(export)}</script>'
        f"<script>{JS}</script></body></html>\n")
