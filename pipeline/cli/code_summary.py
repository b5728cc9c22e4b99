"""What `pipeline code` and `pipeline validate sample --next N` print. Presentation only."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.analyst.accuracy import headline_text
from pipeline.core.safe_text import literal, one_line
from pipeline.io.run_reader import require_complete_run


def print_coding(outcome, out_console: Console) -> None:
    """Codes learned from, the machine's estimated accuracy, per-code F1 with intervals, the advice."""
    for warning in outcome.warnings:
        out_console.print(f"warning: {literal(warning)}", markup=False, soft_wrap=True)
    report = outcome.result.coding_accuracy
    out_console.print(f"coded segments: {outcome.n_new} from these sheets, {outcome.n_stored} in the coded file",
                      markup=False, soft_wrap=True)
    if report is None:
        out_console.print("no trained coding (fewer than two codes on the list)", markup=False)
        return
    out_console.print(f"estimated share of machine codes that are right: {headline_text(report)}", markup=False,
                      soft_wrap=True)
    table = Table(title="Cross-validated on your codes")
    for column in ("code", "coded", "precision", "recall", "F1 (95% interval)"):
        table.add_column(column)
    for row in report.per_code:  # labels are the analyst's text: never read as Rich markup
        table.add_row(Text(literal(str(row["label"]))), str(row["n_coded"]), _share(row["precision"]),
                      _share(row["recall"]), f"{_share(row['f1'])} ({_share(row['f1_low'])}-{_share(row['f1_high'])})")
    out_console.print(table)
    out_console.print(report.advice, markup=False, soft_wrap=True)
    out_console.print(f"outputs: {one_line(outcome.result.out_dir)} (segments.csv code columns, accuracy.csv, "
                      "learning_curve.csv, report.html)", markup=False, soft_wrap=True)


def _share(value) -> str:
    return "-" if value is None or value != value else f"{value:.2f}"


def write_next_sheet(run_dir: Path, n: int, out_console: Console) -> None:
    from pipeline.cli.options import load
    from pipeline.workspace.session import corpus_of
    from pipeline.workspace.trained import next_sheet

    require_complete_run(run_dir)
    corpus = corpus_of(run_dir)
    path, picked, advice = next_sheet(run_dir, n, corpus, load(corpus))
    out_console.print(f"{len(picked)} segments to code next: {one_line(path)}\nallowed codes: "
                      f"{one_line(path.parent / 'next_codes.csv')}\n{advice}\nfill in the 'code' column, then: "
                      f"pipeline code {one_line(path)}", markup=False, soft_wrap=True)
