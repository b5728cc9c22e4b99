"""Blind coding sheets and agreement between analysts and the machine.

Labels file and stable ids live in :mod:`pipeline.labels`; the codebook and label quality in
:mod:`pipeline.codebook`. This module covers the check that the themes mean what their labels say.

``pipeline validate sample --n 60`` (:func:`sample_sheet` + :func:`write_sample`) writes three files:

- ``coding_sheet.csv``: ``item, segment_id, text, code``. A stratified sample (every theme at least once,
  otherwise in proportion to size, the unassigned/noise segments as a stratum of their own), shuffled, with
  no machine codes. Give a copy to each coder; they fill ``code`` and keep the file name as their coder name.
- ``coding_codes.csv``: ``number, code, definition``: the allowed codes (theme labels, plus ``none of these``
  numbered 0). A coder may write the code or its number; case and spacing do not matter.
- ``coding_key.json``: the machine's code for each item. Keep it away from the coders; ``score`` reads it.

``pipeline validate score A.csv B.csv`` (:func:`score_sheets`) checks every sheet against the key and raises
PipelineError naming the sheet and row for an unknown code (suggesting the closest valid one), an item number
that is not a whole number or not in the key, a changed segment id, a duplicate item, or missing items. Rows
are counted as in the rest of the pipeline: 1 = first data row after the header.
Blank codes are allowed: an item a coder left blank is *uncoded*, excluded from that coder's scores, and
reported in a warning (coders legitimately skip items they cannot decide; a sheet scored halfway through is
still useful). A sheet with no code at all is an error.

Scores (:func:`agreement`): Cohen's kappa and raw agreement for every pair of raters (each coder vs the machine
and coders with each other, on the items both coded), Krippendorff's alpha (nominal, value domain fixed to the
code list) over all raters and over the human coders only, per-code precision/recall/F1 of the machine against
each coder (the coder is the reference), the confusion matrix (coder rows, machine columns, all coders pooled),
and suggested merges: pairs of codes that raters swap for each other in at least ``merge_share`` of the items
either of them was given (at least ``merge_min_items`` items).
"""
from __future__ import annotations

import csv
import difflib
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from pipeline.codebook import build_codebook, codebook_markdown, label_quality, write_codebook
from pipeline.errors import PipelineError
from pipeline.labels import (
    IdMatch, LabelsFile, ThemeState, apply_labels, keep_pins, label_reassignments, load_labels, load_theme_state,
    match_theme_ids, renumber, save_theme_state, theme_centroids,
)
from pipeline.outputs import atomic_write_text, write_csv, write_json
from pipeline.records import UNASSIGNED, Assignment, Segment, Theme

__all__ = [  # the analyst-workflow API in one place; labels and codebook names are re-exported
    "AgreementReport", "CodingKey", "agreement", "agreement_tables", "coding_codes", "load_key", "read_sheet",
    "render_agreement", "sample_sheet", "score_sheets", "write_agreement", "write_sample",
    "build_codebook", "codebook_markdown", "label_quality", "write_codebook", "IdMatch", "LabelsFile", "ThemeState",
    "apply_labels", "keep_pins", "label_reassignments", "load_labels", "load_theme_state", "match_theme_ids",
    "renumber", "save_theme_state", "theme_centroids",
]
NONE_CODE = "none of these"
MACHINE = "machine"
SHEET_COLUMNS = ["item", "segment_id", "text", "code"]
SHEET_FILE, CODES_FILE, KEY_FILE = "coding_sheet.csv", "coding_codes.csv", "coding_key.json"


def coding_codes(themes: Sequence[Theme]) -> list[dict[str, Any]]:
    """The allowed codes: one per non-noise theme (label, made unique with the id if two share it), then none."""
    coded = [t for t in themes if not t.noise and t.theme_id != UNASSIGNED]
    counts: dict[str, int] = {}
    for theme in coded:
        counts[_norm(theme.label)] = counts.get(_norm(theme.label), 0) + 1
    codes = [{"number": k, "code": theme.label if counts[_norm(theme.label)] == 1 and _norm(theme.label) != NONE_CODE
              else f"{theme.label} (theme {theme.theme_id})", "theme_id": theme.theme_id,
              "definition": theme.definition}
             for k, theme in enumerate(coded, 1)]
    return codes + [{"number": 0, "code": NONE_CODE, "theme_id": UNASSIGNED,
                     "definition": "the text fits none of the codes above"}]


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def sample_sheet(segments: Sequence[Segment], assignments: Sequence[Assignment], themes: Sequence[Theme], n: int,
                 random_state: int | None = None) -> list[dict[str, Any]]:
    """A shuffled, stratified sample of ``n`` segments as blank coding-sheet rows (``SHEET_COLUMNS``).

    Each stratum (every non-noise theme, plus the unassigned/noise segments) gets one item, the rest are shared
    in proportion to stratum size (largest remainders). If ``n`` is smaller than the number of strata, the
    largest strata get one item each. ``assignments`` are aligned with ``segments``.
    """
    if n < 1:
        raise PipelineError(f"sample size must be at least 1, got {n}")
    if not segments:
        raise PipelineError("the run has no segments to sample")
    rng = np.random.default_rng(random_state)
    coded = {t.theme_id for t in themes if not t.noise and t.theme_id != UNASSIGNED}
    strata: dict[int, list[int]] = {}
    for index, assignment in enumerate(assignments):
        key = assignment.theme_id if assignment.theme_id in coded else UNASSIGNED
        strata.setdefault(key, []).append(index)
    n = min(n, len(segments))
    order = sorted(strata, key=lambda k: (-len(strata[k]), k))
    quota = dict.fromkeys(order[:n], 1)
    spare = n - len(quota)
    if spare > 0:
        room = {k: len(strata[k]) - 1 for k in order}
        total = sum(room.values())
        exact = {k: spare * room[k] / total for k in order}
        extra = {k: int(exact[k]) for k in order}
        for k in sorted(order, key=lambda k: (-(exact[k] - extra[k]), k))[:spare - sum(extra.values())]:
            extra[k] += 1
        quota = {k: quota[k] + extra[k] for k in order}
    chosen = [int(i) for k in order for i in rng.choice(strata[k], size=quota.get(k, 0), replace=False)]
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]
    return [{"item": item, "segment_id": segments[i].segment_id, "text": segments[i].text, "code": ""}
            for item, i in enumerate(chosen, 1)]


def write_sample(out_dir: str | Path, rows: Sequence[Mapping[str, Any]], assignments: Sequence[Assignment],
                 segments: Sequence[Segment], themes: Sequence[Theme],
                 sheet: str | Path | None = None) -> dict[str, Path]:
    """Write the key into ``out_dir`` and the sheet (default ``out_dir/coding_sheet.csv``) with the code list
    beside it; returns their paths by role ("sheet", "codes", "key")."""
    out_dir = Path(out_dir)
    sheet = Path(sheet) if sheet else out_dir / SHEET_FILE
    codes = coding_codes(themes)
    code_of = {c["theme_id"]: c["code"] for c in codes}
    theme_of = {s.segment_id: a.theme_id for s, a in zip(segments, assignments, strict=True)}
    items = []
    for row in rows:
        theme_id = theme_of[row["segment_id"]]
        items.append({"item": row["item"], "segment_id": row["segment_id"], "theme_id": theme_id,
                      "machine_code": code_of.get(theme_id, NONE_CODE)})
    paths = {"sheet": sheet, "codes": sheet.parent / CODES_FILE, "key": out_dir / KEY_FILE}
    write_csv(paths["sheet"], rows, columns=SHEET_COLUMNS)
    write_csv(paths["codes"], codes, columns=["number", "code", "definition"])
    write_json(paths["key"], {"version": 1, "codes": codes, "items": items})
    return paths


@dataclass(frozen=True, slots=True)
class CodingKey:
    codes: list[str]  # allowed codes, NONE_CODE last
    machine: dict[int, str]  # item -> machine code
    segment_ids: dict[int, str]  # item -> segment id
    numbers: dict[str, str] = field(default_factory=dict)  # "3" -> code


def load_key(path: str | Path) -> CodingKey:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        codes = [c["code"] for c in data["codes"]]
        numbers = {str(c["number"]): c["code"] for c in data["codes"]}
        machine = {int(i["item"]): i["machine_code"] for i in data["items"]}
        segment_ids = {int(i["item"]): i["segment_id"] for i in data["items"]}
    except FileNotFoundError:
        raise PipelineError("coding key not found; run `pipeline validate sample` first", file=str(path)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise PipelineError(f"not a coding key written by `pipeline validate sample` ({exc})", file=str(path)) from None
    return CodingKey(codes, machine, segment_ids, numbers)


def read_sheet(path: str | Path, key: CodingKey) -> tuple[dict[int, str | None], list[str]]:
    """One coder's codes by item (None = left blank), checked against the key; and warnings."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise PipelineError("coding sheet not found", file=name)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # a spreadsheet saved it in the Windows code page
        text = raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = {_norm(h): h for h in reader.fieldnames or [] if h is not None}
    missing = [c for c in ("item", "segment_id", "code") if c not in header]
    if missing:
        raise PipelineError(f"header lacks column(s) {', '.join(missing)}; expected {', '.join(SHEET_COLUMNS)}",
                            file=name)
    records = [{col: (record.get(header[col]) or "").strip() for col in ("item", "segment_id", "code")}
               for record in reader]
    known = {(str(item), segment_id) for item, segment_id in key.segment_ids.items()}
    if sum((r["item"], r["segment_id"]) in known for r in records) * 2 < len(known):
        raise PipelineError("most items on this sheet do not match the coding key: was it drawn by an earlier "
                            "`pipeline validate sample`?", file=name)
    lookup = {_norm(code): code for code in key.codes}
    coded: dict[int, str | None] = {}
    rows_of: dict[int, int] = {}
    for row_number, values in enumerate(records, 1):
        if not any(values.values()):
            continue  # trailing empty rows spreadsheets add
        if not values["item"].isdigit() or int(values["item"]) not in key.segment_ids:
            raise PipelineError(f"item {values['item']!r} is not an item of this sample (1..{len(key.segment_ids)})",
                                file=name, row=row_number)
        item = int(values["item"])
        if item in coded:
            raise PipelineError(f"item {item} appears twice (also row {rows_of[item]})", file=name, row=row_number)
        if values["segment_id"] != key.segment_ids[item]:
            raise PipelineError(f"item {item}: segment id {values['segment_id']!r} was changed; the key has "
                                f"{key.segment_ids[item]!r}", file=name, row=row_number)
        coded[item] = _code(values["code"], key, lookup, name, row_number, item)
        rows_of[item] = row_number
    absent = sorted(set(key.segment_ids) - set(coded))
    if absent:
        raise PipelineError(f"{len(absent)} item(s) missing from the sheet: {_list(absent)}", file=name)
    blank = sorted(item for item, code in coded.items() if code is None)
    if len(blank) == len(coded):
        raise PipelineError("no item has a code yet", file=name)
    warnings = [f"{name}: {len(blank)} item(s) left blank and not scored: {_list(blank)}"] if blank else []
    return coded, warnings


def _code(value: str, key: CodingKey, lookup: Mapping[str, str], name: str, row: int, item: int) -> str | None:
    if not value:
        return None
    if value in key.numbers:
        return key.numbers[value]
    if _norm(value) in lookup:
        return lookup[_norm(value)]
    close = difflib.get_close_matches(_norm(value), list(lookup), n=1, cutoff=0.0)
    hint = f"; did you mean '{lookup[close[0]]}'?" if close else ""
    raise PipelineError(f"item {item}: unknown code {value!r}{hint} (codes are listed in {CODES_FILE})",
                        file=name, row=row)


def _list(items: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


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
             f"{report.n_items} items; raters: {', '.join(report.raters)}.", "",
             f"Krippendorff's alpha (nominal), all raters: {_fmt(report.alpha)}; coders only: "
             f"{_fmt(report.alpha_coders) or 'n/a (one coder)'}."]
    for name in ("pairwise", "per_code", "confusion", "merges"):
        lines += ["", f"## {name.replace('_', ' ').capitalize()}", ""] + _markdown_table(tables[name], columns[name])
    lines += [""] + [f"- warning: {w}" for w in report.warnings]
    paths.append(out_dir / "agreement.md")
    atomic_write_text(paths[-1], "\n".join(lines).rstrip() + "\n")
    return paths


def _markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    if not rows:
        return ["_none_"]
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        out.append("| " + " | ".join(_fmt(v) if isinstance(v, float) else str(v).replace("|", "\\|")
                                     for v in (row.get(c, "") for c in columns)) + " |")
    return out


def render_agreement(report: AgreementReport):
    """Rich tables for the terminal: pairwise kappa, alpha, per-code F1 (pooled over coders), suggested merges."""
    from rich.console import Group
    from rich.table import Table

    pairs = Table("rater A", "rater B", "items", "agreement", "Cohen's kappa", title="Agreement by pair")
    for row in report.pairwise:
        pairs.add_row(row["rater_a"], row["rater_b"], str(row["n"]), _fmt(row["agreement"]), _fmt(row["kappa"]))
    pairs.caption = (f"Krippendorff's alpha (nominal): all {_fmt(report.alpha)}"
                     + (f", coders only {_fmt(report.alpha_coders)}" if report.alpha_coders is not None else ""))
    codes = Table("coder", "code", "precision", "recall", "F1", "support", title="Machine vs each coder, by code")
    for row in report.per_code:
        codes.add_row(row["coder"], row["code"], _fmt(row["precision"]), _fmt(row["recall"]), _fmt(row["f1"]),
                      str(row["support"]))
    parts: list[Any] = [pairs, codes]
    if report.suggested_merges:
        merges = Table("code A", "code B", "swap share", "swapped items",
                       title="Codes raters confuse: consider merging")
        for row in report.suggested_merges:
            merges.add_row(row["code_a"], row["code_b"], _fmt(row["share"]), str(row["n_swapped"]))
        parts.append(merges)
    return Group(*parts)
