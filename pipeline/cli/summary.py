"""What the CLI prints: run counts, theme tables, quotes and agreement. Presentation only; no analysis here."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.core.records import DROPPED, FILE_ROW, KEPT, UNASSIGNED
from pipeline.core.safe_text import literal, one_line, terminal_text
from pipeline.io.run_reader import load_run, read_rows, require_complete_run


def print_summary(result, out_console: Console) -> None:
    ledger = [entry for entry in result.ledger if entry.row != FILE_ROW]  # row 0: a file not read at all
    kept = sum(1 for entry in ledger if entry.status == KEPT)
    dropped = Counter(entry.reason for entry in ledger if entry.status == DROPPED)
    not_read = len(result.ledger) - len(ledger)
    lines = [
        f"files: {len(result.files)}" + (f"  not read: {not_read} (listed in ledger.csv)" if not_read else ""),
        f"answers read: {len(ledger)}  kept: {kept}  dropped: {sum(dropped.values())}"
        + (" (" + ", ".join(f"{reason} {n}" for reason, n in sorted(dropped.items())) + ")" if dropped else ""),
        f"segments: {len(result.segments)}",
    ]
    if "embed" in result.stages_run:
        lines.append(f"embedding cache: {result.cache_hits} hits, {result.cache_misses} newly embedded")
    if result.theme_model_reused:
        lines.append("themes: reused the saved model (same segments, config, seed and model); "
                     "`pipeline themes` re-fits")
    if result.assignments:
        unassigned = sum(1 for a in result.assignments if a.theme_id == UNASSIGNED)
        active = [t for t in result.themes if not t.noise]
        lines.append(f"themes: {len(active)}  unassigned segments: {unassigned} "
                     f"({unassigned / max(len(result.assignments), 1):.1%})")
    timings = "  ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.timings.items())
    lines.append(f"time: {timings}")
    lines.append(f"outputs: {result.out_dir}")
    for line in lines:
        out_console.print(literal(line), markup=False, highlight=False, soft_wrap=True)
    if result.themes and "themes" in result.stages_run:
        print_themes(result, out_console)


def print_themes(result, out_console: Console) -> None:
    categories = {c.category_id: c.label for c in result.categories}
    table = Table(title="Themes", show_lines=False)
    for column in ("id", "label", "size", "stability", "closed category"):
        table.add_column(column)
    for theme in sorted(result.themes, key=lambda t: -t.size):
        if theme.noise:
            continue
        if theme.emergent:
            mapped = "EMERGENT (not in the closed list)"
        elif theme.category_id:
            confidence = f" ({theme.confidence:.2f})" if theme.confidence is not None else ""
            mapped = categories.get(theme.category_id, theme.category_id) + confidence
        else:
            mapped = ""
        stability = f"{theme.stability:.2f}" + (" unstable" if theme.unstable else "")
        # labels are the analyst's text: never read as Rich markup
        table.add_row(str(theme.theme_id), Text(one_line(theme.label)), str(theme.size), stability,
                      Text(one_line(mapped)))
    out_console.print(table)


def print_quotes(run_dir: Path, theme: str, n: int, include_flagged: bool, out_console: Console) -> None:
    from pipeline.analysis.quotes import resolve_theme

    themes, _, _ = load_run(run_dir)
    chosen = resolve_theme(themes, theme)
    rows = [r for r in read_rows(run_dir / "quotes.csv") if int(r["theme_id"]) == chosen.theme_id]
    if not include_flagged:
        rows = [r for r in rows if r["flagged"] != "True"]
    rows = sorted(rows, key=lambda r: int(r["rank"]))[:n]
    out_console.print(f"Theme {chosen.theme_id}: {one_line(chosen.label)}  ({len(rows)} quotes)", markup=False,
                      soft_wrap=True)
    for row in rows:
        flag = f"  [FLAGGED: {one_line(row['flags'])} - check before use]" if row["flagged"] == "True" else ""
        # the answer keeps its line breaks, nothing else a terminal would act on
        out_console.print(f"\n\u201c{terminal_text(row['text'])}\u201d\n  - respondent {one_line(row['respondent_id'])}, "
                          f"{one_line(row['source'])}{flag}", markup=False, highlight=False, soft_wrap=True)
    if len(rows) < n:
        out_console.print(f"\n(only {len(rows)} quotable segments stored for this theme; quotes.per_theme sets how "
                          "many a run keeps)", markup=False, soft_wrap=True)


def write_sample_sheet(run_dir: Path, n: int | None, sheet: Path | None, seed: int | None,
                       out_console: Console) -> None:
    """A blind coding sheet of ``n`` segments (default: the run's ``validate.sample_size``), drawn with ``seed``
    (default: the run's seed), so the same command on the same run draws the same sample."""
    from pipeline.analyst import sample_sheet, write_sample
    from pipeline.io.run_reader import read_manifest

    themes, segments, assignments = load_run(run_dir)
    config = read_manifest(run_dir).get("config", {})
    n = n if n is not None else int(config.get("validate", {}).get("sample_size", 60))
    seed = seed if seed is not None else int(config.get("seed", 42))
    rows = sample_sheet(segments, assignments, themes, n, random_state=seed)
    paths = write_sample(run_dir / "validation", rows, assignments, segments, themes, sheet=sheet)
    out_console.print(f"coding sheet with {len(rows)} segments: {one_line(paths['sheet'])}\n"
                      f"allowed codes: {one_line(paths['codes'])}\n"
                      f"fill in the 'code' column, then: pipeline validate score {one_line(paths['sheet'])}",
                      markup=False, soft_wrap=True)


def score_sheets(run_dir: Path, sheets: list[Path], out_console: Console) -> None:
    from pipeline.analyst import render_agreement, score_sheets, write_agreement

    require_complete_run(run_dir)
    report = score_sheets(sheets, run_dir / "validation" / "coding_key.json")
    for warning in report.warnings:
        out_console.print(f"warning: {literal(warning)}", markup=False, soft_wrap=True)
    out_console.print(render_agreement(report))
    written = write_agreement(run_dir / "validation", report)
    out_console.print("written: " + ", ".join(one_line(path) for path in written), markup=False, soft_wrap=True)
