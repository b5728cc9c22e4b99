"""What the CLI prints: run counts, theme tables, quotes and agreement. Presentation only; no analysis here."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.records import DROPPED, KEPT, UNASSIGNED


def print_summary(result, out_console: Console) -> None:
    ledger = result.ledger
    kept = sum(1 for entry in ledger if entry.status == KEPT)
    dropped = Counter(entry.reason for entry in ledger if entry.status == DROPPED)
    lines = [
        f"files: {len(result.files)}",
        f"answers read: {len(ledger)}  kept: {kept}  dropped: {sum(dropped.values())}"
        + (" (" + ", ".join(f"{reason} {n}" for reason, n in sorted(dropped.items())) + ")" if dropped else ""),
        f"segments: {len(result.segments)}",
    ]
    if "embed" in result.stages_run:
        lines.append(f"embedding cache: {result.cache_hits} hits, {result.cache_misses} newly embedded")
    if result.assignments:
        unassigned = sum(1 for a in result.assignments if a.theme_id == UNASSIGNED)
        active = [t for t in result.themes if not t.noise]
        lines.append(f"themes: {len(active)}  unassigned segments: {unassigned} "
                     f"({unassigned / max(len(result.assignments), 1):.1%})")
    timings = "  ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.timings.items())
    lines.append(f"time: {timings}")
    lines.append(f"outputs: {result.out_dir}")
    for line in lines:
        out_console.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.themes and "report" in result.stages_run or "themes" in result.stages_run:
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
        table.add_row(str(theme.theme_id), theme.label, str(theme.size), stability, mapped)
    out_console.print(table)
