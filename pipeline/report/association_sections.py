"""The associations section of both reports: how the ratings were tested (and why), the primary hypotheses with
effect sizes and intervals, and the strongest exploratory cells, each corrected within its own family."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.core.records import CrosstabCell
from pipeline.report.format import escape, percent
from pipeline.report.tables import is_significant


def _label(view: dict[str, Any], theme_id: int) -> str:
    return next((t["label"] for t in view["themes"] if t["theme_id"] == theme_id), str(theme_id))


def _points(share: float) -> str:
    """A share difference in percentage points, signed, never "-0"."""
    return f"{int(round(share * 100)):+d}"


def effect_text(cell: CrosstabCell) -> str:
    """"+33 pp [+16, +46]; OR 4.1 [2.0, 8.3]" (or "—" for an unordered column)."""
    if cell.risk_difference != cell.risk_difference:
        return "—"
    text = f"{_points(cell.risk_difference)} pp"
    if cell.risk_difference_low == cell.risk_difference_low:
        text += f" [{_points(cell.risk_difference_low)}, {_points(cell.risk_difference_high)}]"
    if cell.odds_ratio == cell.odds_ratio:
        text += f"; OR {cell.odds_ratio:.2g} [{cell.odds_ratio_low:.2g}, {cell.odds_ratio_high:.2g}]"
    return text


def note_text(cell: CrosstabCell, alpha: float) -> str:
    notes = [("significant", is_significant(cell, alpha)),
             ("small cell: few respondents, read with care", cell.small_cell and cell.test != "none"),
             ("not tested", cell.test == "none")]
    return "; ".join(word for word, on in notes if on)


def _share(cell: CrosstabCell, with_theme: bool) -> str:
    share, high, n = ((cell.share_with, cell.barrier_with, cell.n_with) if with_theme
                      else (cell.share_without, cell.barrier_without, cell.n_without))
    return "—" if share != share else f"{percent(share)} ({high}/{n})"


def _p_text(value: float) -> str:
    return "—" if value != value else f"{value:.2g}"


def _html_rows(view: dict[str, Any], cells: list[CrosstabCell]) -> list[str]:
    rows = []
    for cell in cells:
        column = view["column_labels"].get(cell.category_id, cell.category_id)
        rows.append(f'<tr class="{cell.family}"><th scope="row">{escape(_label(view, cell.theme_id))}</th>'
                    f'<td>{escape(column)}</td><td class="num">{_share(cell, True)}</td>'
                    f'<td class="num">{_share(cell, False)}</td><td class="num">{escape(effect_text(cell))}</td>'
                    f'<td class="num">{_p_text(cell.p_value)}</td><td class="num">{_p_text(cell.p_adjusted)}</td>'
                    f'<td>{escape(note_text(cell, view["alpha"]))}</td></tr>')
    return rows


def _html_table(view: dict[str, Any], cells: list[CrosstabCell], ident: str, caption: str) -> str:
    head = ('<thead><tr><th scope="col">Theme</th><th scope="col">Rated</th>'
            f'<th scope="col" class="num">{escape(view["high_label"])}, with theme</th>'
            '<th scope="col" class="num">Without</th><th scope="col" class="num">Difference [95% CI]; odds ratio</th>'
            '<th scope="col" class="num">p</th><th scope="col" class="num">Adjusted p</th><th scope="col">Note</th>'
            '</tr></thead>')
    return (f'<table id="{ident}"><caption class="caption">{escape(caption)}</caption>{head}<tbody>'
            + "".join(_html_rows(view, cells)) + "</tbody></table>")


def associations_html(view: dict[str, Any]) -> str:
    if not view.get("crosstab"):
        return '<p class="caption">No structured ratings to compare with.</p>'
    primary, exploratory = view["primary"], view["exploratory"]
    found = sum(is_significant(c, view["alpha"]) for c in primary)
    out = [f'<p class="caption" id="association-method">{escape(view["test_sentence"])}</p>']
    if primary:
        out.append(_html_table(view, primary, "primary-associations",
                               f"Primary hypotheses: each theme against the category it stands for "
                               f"({found} of {len(primary)} significant after their own correction)"))
    else:
        out.append('<p class="caption">No theme stands for a rated category, so there is no primary hypothesis.</p>')
    if exploratory:
        out.append(_html_table(view, exploratory, "exploratory-associations",
                               "Exploratory: the strongest other cells (corrected among all exploratory cells; "
                               "a lead to follow, not a finding)"))
    return "".join(out)


def associations_markdown(view: dict[str, Any], md: Callable[[Any], str]) -> list[str]:
    if not view.get("crosstab"):
        return ["No structured ratings to compare with."]
    lines = [md(view["test_sentence"]), ""]
    header = [f"| Theme | Rated | {md(view['high_label'])}, with | Without | Difference [95% CI]; OR | p (adj.) | |",
              "|---|---|---:|---:|---:|---:|---|"]
    for title, cells in (("Primary hypotheses (each theme against the category it stands for)", view["primary"]),
                         ("Exploratory: strongest other cells", view["exploratory"])):
        if not cells:
            continue
        lines += [f"**{title}**", ""] + header
        for cell in cells:
            column = view["column_labels"].get(cell.category_id, cell.category_id)
            lines.append(f"| {md(_label(view, cell.theme_id))} | {md(column)} | {_share(cell, True)} | "
                         f"{_share(cell, False)} | {effect_text(cell)} | {_p_text(cell.p_adjusted)} | "
                         f"{md(note_text(cell, view['alpha']))} |")
        lines.append("")
    return lines
