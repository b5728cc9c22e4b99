"""The report's "Trained coding" section (HTML and Markdown): where the codes came from, the machine's estimated
accuracy, per-code precision/recall/F1 with intervals from the analyst's own codes, and the learning curve."""
from __future__ import annotations

from collections import Counter
from typing import Any

from pipeline.report.format import escape


def coding_view(result) -> dict[str, Any]:
    """What the section shows ({} when the run has no coding stage)."""
    coded = getattr(result, "coded", None)
    if coded is None or not coded.codes:
        return {}
    sources = Counter(source for _, source, _ in coded.codes)
    report = coded.accuracy
    view: dict[str, Any] = {"sources": dict(sources), "n_coded": coded.n_coded}
    if report is not None:
        view.update(per_code=list(report.per_code), machine=dict(report.machine), curve=list(report.curve),
                    advice=report.advice, headline=report.headline)
    return view


def _num(value: Any) -> str:
    return "–" if value is None or value != value else f"{value:.2f}"


def _interval(row: dict[str, Any], metric: str) -> str:
    return f"{_num(row[metric])} ({_num(row[metric + '_low'])}–{_num(row[metric + '_high'])})"


def _sources_line(view: dict[str, Any]) -> str:
    names = {"analyst": "coded by the analyst", "trained": "coded by the trained coder",
             "label-free": "coded label-free (no analyst codes yet)"}
    return "; ".join(f"{n} {names.get(s, s)}" for s, n in sorted(view["sources"].items()))


def _headline(view: dict[str, Any]) -> str:
    best = view.get("machine", {}).get(view.get("headline", ""))
    if not best:
        return ""
    how = {"cv_random": f"cross-validated on the {best['n']} segments coded at random (blind sheet, audit rows)",
           "calibrated": f"the calibrated confidence of the machine codes, {best['n']} analyst codes; not yet "
                         "checked on segments coded at random",
           "cv": f"cross-validated on the {best['n']} coded segments"}.get(view["headline"], view["headline"])
    return (f"Estimated share of machine codes that are right: {best['estimate']:.0%} (95% interval "
            f"{best['low']:.0%}–{best['high']:.0%}; {how}).")


def curve_svg(curve: list[dict[str, Any]], width: int = 360, height: int = 150) -> str:
    """Held-out accuracy (0-1) against codes trained on, as an inline SVG polyline with points."""
    if len(curve) < 2:
        return ""
    xs = [row["n_trained"] for row in curve]
    span = max(max(xs) - min(xs), 1)

    def point(row):
        return (30 + (row["n_trained"] - min(xs)) / span * (width - 40), height - 20 - row["accuracy"] * (height - 30))
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(point, curve))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{row["n_trained"]} coded: accuracy '
                   f'{row["accuracy"]:.2f}</title></circle>' for row, (x, y) in zip(curve, map(point, curve)))
    return (f'<svg role="img" aria-label="Learning curve" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><line x1="30" y1="{height - 20}" x2="{width - 10}" y2="{height - 20}" '
            f'stroke="#cbd5e0"/><line x1="30" y1="10" x2="30" y2="{height - 20}" stroke="#cbd5e0"/>'
            f'<text x="2" y="14" font-size="10">1.0</text><text x="2" y="{height - 20}" font-size="10">0</text>'
            f'<text x="{width / 2:.0f}" y="{height - 4}" font-size="10">codes trained on</text>'
            f'<polyline points="{points}" fill="none" stroke="#2b6cb0" stroke-width="2"/>{dots}</svg>')


def coding_html(view: dict[str, Any]) -> str:
    if not view:
        return ""
    out = ['<section id="coding" aria-labelledby="coding-h"><h2 id="coding-h">Trained coding</h2>',
           f'<p>{escape(_sources_line(view))}. segments.csv names each segment\'s code, its source and its '
           'calibrated confidence; analyst codes always win.</p>']
    if view.get("per_code"):
        out.append(f"<p><strong>{escape(_headline(view))}</strong></p>")
        out.append('<table><thead><tr><th>Code</th><th class="num">Coded</th><th class="num">Precision</th>'
                   '<th class="num">Recall</th><th class="num">F1</th><th class="num">Share of machine codes</th>'
                   '</tr></thead><tbody>')
        for row in view["per_code"]:
            out.append(f'<tr><td>{escape(row["label"])}</td><td class="num">{row["n_coded"]}</td>'
                       f'<td class="num">{_interval(row, "precision")}</td><td class="num">{_interval(row, "recall")}'
                       f'</td><td class="num">{_interval(row, "f1")}</td>'
                       f'<td class="num">{row["machine_share"]:.0%}</td></tr>')
        out.append('</tbody></table><p class="caption">Cross-validated on the analyst\'s own codes (each code predicted '
                   'by a model trained without it); 95% intervals: Wilson for precision and recall, bootstrap for '
                   'F1.</p>')
        out.append(f'<figure>{curve_svg(view.get("curve", []))}<figcaption class="caption">Learning curve: held-out '
                   f'accuracy vs codes trained on. {escape(view.get("advice", ""))}</figcaption></figure>')
    out.append("</section>")
    return "".join(out)


def coding_markdown(view: dict[str, Any], md) -> list[str]:
    if not view:
        return []
    lines = ["", "## Trained coding", "", md(_sources_line(view)) + "."]
    if view.get("per_code"):
        lines += ["", md(_headline(view)), "", "| Code | Coded | Precision | Recall | F1 |", "|---|---|---|---|---|"]
        lines += [f"| {md(row['label'])} | {row['n_coded']} | {_interval(row, 'precision')} | "
                  f"{_interval(row, 'recall')} | {_interval(row, 'f1')} |" for row in view["per_code"]]
        lines += ["", "Learning curve (codes trained on: held-out accuracy): "
                  + ", ".join(f"{r['n_trained']}: {r['accuracy']:.2f}" for r in view.get("curve", [])),
                  "", md(view.get("advice", ""))]
    return lines
