"""Agreement between analysts and the machine on a blind coding sheet.

Scores (:func:`agreement`): Cohen's kappa and raw agreement for every pair of raters (each coder vs the machine
and coders with each other, on the items both coded), Krippendorff's alpha (nominal, value domain fixed to the
code list) over all raters and over the human coders only, per-code precision/recall/F1 of the machine against
each coder (the coder is the reference), the confusion matrix (coder rows, machine columns, all coders pooled),
and suggested merges: pairs of codes that raters swap for each other in at least ``merge_share`` of the items
either of them was given (at least ``merge_min_items`` items).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from pipeline.analyst.sheets import MACHINE, NONE_CODE, CodingKey, load_key, read_sheet
from pipeline.core.errors import PipelineError
from pipeline.core.safe_text import markdown_inline, one_line
from pipeline.io.atomic import atomic_write_text, write_csv


@dataclass
class AgreementReport:
    codes: list[str]
    raters: list[str]  # MACHINE first, then coders in the order given
    n_items: int
    pairwise: list[dict[str, Any]]  # rater_a, rater_b, n, agreement, kappa
    alpha: float  # all raters, machine included
    alpha_coders: float | None  # human coders only (None with one coder)
    per_code: list[dict[str, Any]]  # coder, code, precision, recall, f1, support
    confusion: np.ndarray  # coder code (rows) x machine code (columns), coders pooled, in `codes` order
    suggested_merges: list[dict[str, Any]]  # code_a, code_b, share, n_swapped
    warnings: list[str] = field(default_factory=list)


def agreement(ratings: Mapping[str, Sequence[str | None]], codes: Sequence[str], reference: str = MACHINE,
              merge_share: float = 0.25, merge_min_items: int = 3) -> AgreementReport:
    """Agreement among raters; ``ratings`` maps rater -> one code (or None = uncoded) per item, items aligned."""
    codes = list(codes)
    index = {code: k for k, code in enumerate(codes)}
    raters = list(ratings)
    n_items = len(next(iter(ratings.values()), []))
    pairwise = []
    for a, b in itertools.combinations(raters, 2):
        both = [(x, y) for x, y in zip(ratings[a], ratings[b]) if x is not None and y is not None]
        xs, ys = [x for x, _ in both], [y for _, y in both]
        kappa = _kappa(xs, ys, codes)
        pairwise.append({"rater_a": a, "rater_b": b, "n": len(both),
                         "agreement": float(np.mean([x == y for x, y in both])) if both else float("nan"),
                         "kappa": kappa})
    coders = [r for r in raters if r != reference]
    per_code, pooled = [], np.zeros((len(codes), len(codes)), dtype=int)
    for coder in coders if reference in ratings else []:
        pairs = [(x, y) for x, y in zip(ratings[coder], ratings[reference]) if x is not None and y is not None]
        truth, predicted = [x for x, _ in pairs], [y for _, y in pairs]
        pooled += confusion_matrix(truth, predicted, labels=codes)
        precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=codes,
                                                                         zero_division=0)
        per_code += [{"coder": coder, "code": code, "precision": float(p), "recall": float(r), "f1": float(f),
                      "support": int(s)} for code, p, r, f, s in zip(codes, precision, recall, f1, support)]
    return AgreementReport(
        codes=codes, raters=raters, n_items=n_items, pairwise=pairwise,
        alpha=_alpha([ratings[r] for r in raters], index),
        alpha_coders=_alpha([ratings[r] for r in coders], index) if len(coders) >= 2 else None,
        per_code=per_code, confusion=pooled,
        suggested_merges=_suggest_merges(ratings, codes, merge_share, merge_min_items),
    )


def _kappa(xs: Sequence[str], ys: Sequence[str], codes: Sequence[str]) -> float:
    if not xs:
        return float("nan")
    if len(set(xs) | set(ys)) == 1:  # both raters used one and the same code: perfect, but kappa is 0/0
        return 1.0
    return float(cohen_kappa_score(xs, ys, labels=list(codes)))


def _alpha(rows: Sequence[Sequence[str | None]], index: Mapping[str, int]) -> float:
    if len(rows) < 2:
        return float("nan")
    data = np.array([[np.nan if code is None else index[code] for code in row] for row in rows], dtype=float)
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    values = set(data[:, pairable][~np.isnan(data[:, pairable])].tolist())
    if not pairable.any():
        return float("nan")
    if len(values) == 1:  # every rater used one code on every item: perfect, but alpha is 0/0
        return 1.0
    return float(krippendorff.alpha(reliability_data=data, value_domain=list(range(len(index))),
                                     level_of_measurement="nominal"))


def _suggest_merges(ratings: Mapping[str, Sequence[str | None]], codes: Sequence[str], share: float,
                    min_items: int) -> list[dict[str, Any]]:
    """Code pairs raters swap for each other: swaps / items any rater of the pair gave either code."""
    swapped: dict[tuple[str, str], int] = {}
    involved: dict[tuple[str, str], int] = {}
    themed = [c for c in codes if c != NONE_CODE]
    for a, b in itertools.combinations(list(ratings), 2):
        for x, y in zip(ratings[a], ratings[b]):
            if x is None or y is None:
                continue
            for pair in itertools.combinations(themed, 2):
                if x in pair or y in pair:
                    involved[pair] = involved.get(pair, 0) + 1
                    if {x, y} == set(pair):
                        swapped[pair] = swapped.get(pair, 0) + 1
    merges = [{"code_a": a, "code_b": b, "share": swapped[(a, b)] / involved[(a, b)], "n_swapped": swapped[(a, b)]}
              for (a, b) in swapped if swapped[(a, b)] >= min_items and swapped[(a, b)] / involved[(a, b)] >= share]
    return sorted(merges, key=lambda m: (-m["share"], m["code_a"], m["code_b"]))


def score_sheets(sheets: Sequence[str | Path], key: str | Path | CodingKey, **options: Any) -> AgreementReport:
    """Read and check the coders' sheets against the key, then score them (``options`` go to :func:`agreement`)."""
    if not sheets:
        raise PipelineError("give at least one filled-in coding sheet")
    key = key if isinstance(key, CodingKey) else load_key(key)
    items = sorted(key.segment_ids)
    ratings: dict[str, list[str | None]] = {MACHINE: [key.machine[i] for i in items]}
    warnings: list[str] = []
    for sheet in sheets:
        coder = Path(sheet).stem
        if coder in ratings:
            coder = f"{coder} ({Path(sheet).parent.name or len(ratings)})"
        coded, sheet_warnings = read_sheet(sheet, key)
        ratings[coder] = [coded[i] for i in items]
        warnings += sheet_warnings
    report = agreement(ratings, key.codes, **options)
    report.warnings = warnings
    return report


def _fmt(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.3f}"


def agreement_tables(report: AgreementReport) -> dict[str, list[dict[str, Any]]]:
    """The report as plain tables (name -> rows), shared by the CSV, Markdown and terminal renderings."""
    confusion = [{"coder_code": code, **{m: int(v) for m, v in zip(report.codes, report.confusion[k])}}
                 for k, code in enumerate(report.codes)]
    summary = [{"measure": "krippendorff_alpha_all", "value": report.alpha},
               {"measure": "krippendorff_alpha_coders", "value": report.alpha_coders},
               {"measure": "items", "value": report.n_items}]
    return {"summary": summary, "pairwise": report.pairwise, "per_code": report.per_code,
            "confusion": confusion, "merges": report.suggested_merges}


def write_agreement(out_dir: str | Path, report: AgreementReport) -> list[Path]:
    """agreement_<table>.csv for each table, and agreement.md with all of them."""
    out_dir = Path(out_dir)
    tables = agreement_tables(report)
    columns = {"pairwise": ["rater_a", "rater_b", "n", "agreement", "kappa"],
               "per_code": ["coder", "code", "precision", "recall", "f1", "support"],
               "merges": ["code_a", "code_b", "share", "n_swapped"], "summary": ["measure", "value"],
               "confusion": ["coder_code", *report.codes]}
    paths = []
    for name, rows in tables.items():
        paths.append(out_dir / f"agreement_{name}.csv")
        write_csv(paths[-1], rows, columns=columns[name])
    lines = ["# Agreement with the machine's coding", "",
             f"{report.n_items} items; raters: {markdown_inline(', '.join(report.raters))}.", "",
             f"Krippendorff's alpha (nominal), all raters: {_fmt(report.alpha)}; coders only: "
             f"{_fmt(report.alpha_coders) or 'n/a (one coder)'}."]
    for name in ("pairwise", "per_code", "confusion", "merges"):
        lines += ["", f"## {name.replace('_', ' ').capitalize()}", ""] + _markdown_table(tables[name], columns[name])
    lines += [""] + [f"- warning: {markdown_inline(w)}" for w in report.warnings]
    paths.append(out_dir / "agreement.md")
    atomic_write_text(paths[-1], "\n".join(lines).rstrip() + "\n")
    return paths


def _markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    if not rows:
        return ["_none_"]
    # codes are theme labels and coders are file names: escaped so none renders as HTML
    out = ["| " + " | ".join(markdown_inline(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        out.append("| " + " | ".join(_fmt(v) if isinstance(v, float) else markdown_inline(v)
                                     for v in (row.get(c, "") for c in columns)) + " |")
    return out


def render_agreement(report: AgreementReport):
    """Rich tables for the terminal: pairwise kappa, alpha, per-code F1 (pooled over coders), suggested merges."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    def cell(value: Any) -> Text:  # coder names and codes are user text: never Rich markup, never escapes
        return Text(one_line(value))

    pairs = Table("rater A", "rater B", "items", "agreement", "Cohen's kappa", title="Agreement by pair")
    for row in report.pairwise:
        pairs.add_row(cell(row["rater_a"]), cell(row["rater_b"]), str(row["n"]), _fmt(row["agreement"]), _fmt(row["kappa"]))
    pairs.caption = (f"Krippendorff's alpha (nominal): all {_fmt(report.alpha)}"
                     + (f", coders only {_fmt(report.alpha_coders)}" if report.alpha_coders is not None else ""))
    codes = Table("coder", "code", "precision", "recall", "F1", "support", title="Machine vs each coder, by code")
    for row in report.per_code:
        codes.add_row(cell(row["coder"]), cell(row["code"]), _fmt(row["precision"]), _fmt(row["recall"]), _fmt(row["f1"]),
                      str(row["support"]))
    parts: list[Any] = [pairs, codes]
    if report.suggested_merges:
        merges = Table("code A", "code B", "swap share", "swapped items",
                       title="Codes raters confuse: consider merging")
        for row in report.suggested_merges:
            merges.add_row(cell(row["code_a"]), cell(row["code_b"]), _fmt(row["share"]), str(row["n_swapped"]))
        parts.append(merges)
    return Group(*parts)
