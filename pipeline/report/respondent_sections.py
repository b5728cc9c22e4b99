"""report.html's parts about respondents (issue 14): the theme x attribute tables, each theme's answers behind a
disclosure, each quote's full answer, each label's fit, and the labels.yaml entries to check. Every piece of
user text passes through ``escape``."""
from __future__ import annotations

from typing import Any

from pipeline.report.format import escape, percent

MAX_ANSWERS_SHOWN = 200  # per theme in report.html; theme_answers.csv has every one

CSS = """
html{scroll-padding-top:7rem}[id]{scroll-margin-top:7rem}
.quote blockquote{white-space:pre-line}.full-answer{grid-column:2;margin:.1rem 0}
.full-answer summary,.theme-answers summary{cursor:pointer;color:var(--accent);font-size:.9rem}
.full-answer .answer{white-space:pre-line;margin:.3rem 0;padding:.3rem .6rem;border-left:3px solid var(--line)}
table.matrix td{font-variant-numeric:tabular-nums}table.matrix .meta{display:block;font-size:.8rem}
.theme-answers table{font-size:.9rem}.theme-answers td.answer{white-space:pre-line;min-width:18rem}
.badge.weak{background:#feebc8;color:#7b341e}.label-warnings{background:var(--warn-bg);border-left:4px solid #dd6b20;
 padding:.4rem .8rem}
"""


def _interval(share: float, low: float, high: float) -> str:
    if share != share:
        return "—"
    return f"{percent(share)} [{percent(low)}–{percent(high)}]"


def attribute_tables_html(view: dict[str, Any]) -> str:
    tables = view.get("attribute_tables") or []
    if not tables:
        note = ("No respondent attributes: the survey files have no column besides the text, the id and the "
                "ratings." if not view.get("attribute_columns") else
                "No attribute has few enough distinct values to tabulate (report.max_attribute_levels).")
        return (f'<section id="attributes" aria-labelledby="attributes-h"><h2 id="attributes-h">Themes by respondent '
                f'attributes</h2><p class="caption">{escape(note)}</p></section>')
    themes = [t for t in view["themes"] if not t["noise"]]
    out = ['<section id="attributes" aria-labelledby="attributes-h"><h2 id="attributes-h">Themes by respondent '
           'attributes</h2><p class="caption">Respondents with kept free text, as in a matrix coding query: each '
           'cell counts the respondents who carry the theme and have the value; below it, their share of the '
           'theme\u2019s respondents (row) and of the value\u2019s respondents (column), with Wilson 95% '
           'intervals. Every answer with its attributes is in theme_answers.csv; the table is '
           'theme_attributes.csv.</p>']
    for table in tables:
        values = table["values"]
        head = "".join(f'<th scope="col" class="num">{escape(v)}</th>' for v in values)
        totals = "".join(f'<td class="num">{table["totals"][v]}</td>' for v in values)
        out.append(f'<table class="matrix" id="attribute-{escape(table["attribute"])}"><caption class="caption">'
                   f'{escape(table["attribute"])}</caption><thead><tr><th scope="col">Theme</th>{head}</tr></thead>'
                   f'<tbody><tr><th scope="row">All respondents ({table["n_total"]})</th>{totals}</tr>')
        for theme in themes:
            cells = []
            for value in values:
                cell = table["cells"].get((theme["theme_id"], value))
                if cell is None:
                    cells.append('<td class="num">—</td>')
                    continue
                cells.append(f'<td class="num">{cell.n}<span class="meta">row {_interval(cell.row_share, cell.row_low, cell.row_high)}'
                             f'</span><span class="meta">col {_interval(cell.column_share, cell.column_low, cell.column_high)}'
                             '</span></td>')
            out.append(f'<tr><th scope="row">{escape(theme["label"])}</th>{"".join(cells)}</tr>')
        out.append("</tbody></table>")
    out.append("</section>")
    return "".join(out)


def theme_answers_html(view: dict[str, Any], theme_id: int) -> str:
    rows = view.get("theme_answers", {}).get(theme_id, [])
    if not rows:
        return ""
    prefix = view.get("attribute_prefix", "attr_")
    attributes = [c for c in view.get("attribute_columns", [])]
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in attributes)
    body = []
    for row in rows[:MAX_ANSWERS_SHOWN]:
        cells = "".join(f"<td>{escape(row.get(prefix + c, ''))}</td>" for c in attributes)
        body.append(f'<tr><th scope="row">{escape(row["respondent_id"])}</th>'
                    f'<td>{escape(row["category_rating"]) or "—"}</td>{cells}'
                    f'<td class="answer">{escape(row["answer"])}{_flag_note(row.get("flags"))}</td></tr>')
    more = (f'<p class="meta">… and {len(rows) - MAX_ANSWERS_SHOWN} more in theme_answers.csv.</p>'
            if len(rows) > MAX_ANSWERS_SHOWN else "")
    return (f'<details class="theme-answers" id="theme-{theme_id}-answers"><summary>All {len(rows)} answers in this '
            'theme, with ratings and attributes</summary><table><thead><tr><th scope="col">Respondent</th>'
            f'<th scope="col">Its category\u2019s rating</th>{head}<th scope="col">Answer</th></tr></thead><tbody>'
            + "".join(body) + f"</tbody></table>{more}</details>")


def _flag_note(flags) -> str:
    if not flags:
        return ""
    return (f'<span class="flag-warning" role="note">\u26a0 May identify someone ({escape(", ".join(flags))}) \u2014 '
            'check before quoting any of it.</span>')


def full_answer_html(quote: dict[str, Any]) -> str:
    text = quote.get("answer_text", "")
    if not text or " ".join(text.split()) == " ".join(str(quote.get("text", "")).split()):
        return ""
    return (f'<details class="full-answer"><summary>Full answer</summary><p class="answer">{escape(text)}</p>'
            f'{_flag_note(quote.get("answer_flags"))}</details>')


def label_fit_html(fit: dict[str, Any]) -> str:
    if not fit:
        return ""
    text = (f"Label from the answers\u2019 own words: {percent(fit.get('coverage', 0.0))} of its answers use them, "
            f"x{fit.get('lift', 0.0):.1f} as often as answers elsewhere")
    if fit.get("previous"):
        text += f" (machine keywords were \u201c{fit['previous']}\u201d)"
    badge = (f' <span class="badge weak">weak label: fit {fit.get("coverage", 0.0):.2f} — {escape(fit.get("reason", ""))}'
             '</span>' if fit.get("weak") else "")
    return f'<p class="meta label-fit">{escape(text)}.{badge}</p>'


def label_warnings_html(view: dict[str, Any]) -> str:
    warnings = view.get("label_warnings") or []
    if not warnings:
        return ""
    items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
    return (f'<div class="label-warnings" role="note" id="label-warnings"><strong>Check labels.yaml:</strong> '
            f"{len(warnings)} entr{'y' if len(warnings) == 1 else 'ies'} written for a theme that has changed since"
            f"<ul>{items}</ul></div>")
