"""Coding the blind sample in the browser: one item at a time, saved after every item as the same coding sheet
`pipeline validate score` reads (``RUN/validation/coded_by_<coder>.csv``: item, segment_id, text, code), and the
agreement with the machine (``pipeline.analyst.agreement``) once every item is coded.

HOOK (trained coding, issue 13): :data:`ACTIVE_LEARNER` is where the trained coder plugs in. When it is set, the
"next item" comes from ``ACTIVE_LEARNER.next_items(run_dir, coded, n)`` instead of the sheet's order, and the
coding page shows a "Retrain" button that calls ``ACTIVE_LEARNER.retrain(run_dir, [sheet])`` and shows the line it
returns. Nothing else in the workspace needs to change.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Protocol, Sequence

from pipeline.analyst.sheets import CODES_FILE, KEY_FILE, SHEET_COLUMNS, SHEET_FILE, sample_sheet, write_sample
from pipeline.core.errors import PipelineError
from pipeline.io.atomic import write_csv
from pipeline.io.run_reader import load_run, read_rows


class ActiveLearner(Protocol):  # HOOK(issue 13): the trained coder implements this
    def next_items(self, run_dir: Path, coded: dict[int, str], n: int) -> list[int]:
        """The items (sheet item numbers) worth coding next, best first."""

    def retrain(self, run_dir: Path, sheets: Sequence[Path]) -> str:
        """Retrain on the coded sheets; one line saying what changed."""


ACTIVE_LEARNER: ActiveLearner | None = None  # HOOK(issue 13): set by the trained-coding package when installed


def coder_file_name(coder: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", coder).strip("._") or "coder"
    return f"coded_by_{safe}.csv"


class CodingSession:
    """One coder's pass over the run's blind sample (drawn by `pipeline validate sample`, or here)."""

    def __init__(self, run_dir: Path, coder: str):
        self.run_dir = Path(run_dir)
        self.folder = self.run_dir / "validation"
        self.coder = coder
        self.sheet_path = self.folder / coder_file_name(coder)

    @property
    def key_path(self) -> Path:
        return self.folder / KEY_FILE

    def exists(self) -> bool:
        return self.key_path.is_file() and (self.folder / SHEET_FILE).is_file()

    def draw(self, n: int, seed: int) -> None:
        """A new blind sample of ``n`` segments (what `pipeline validate sample --n N` writes). Refuses to replace
        a sample that has codes, here or in any coder's sheet."""
        if self.exists() and any(row["code"].strip() for path in self.folder.glob("coded_by_*.csv")
                                 for row in read_rows(path)):
            raise PipelineError("a sample with codes exists; score it, or move its sheets away first",
                                file=str(self.folder))
        themes, segments, assignments = load_run(self.run_dir)
        rows = sample_sheet(segments, assignments, themes, n, random_state=seed)
        write_sample(self.folder, rows, assignments, segments, themes)
        for old in self.folder.glob("coded_by_*.csv"):
            old.unlink()

    def codes(self) -> list[dict[str, Any]]:
        """The allowed codes with their numbers (1.., 0 = none of these) and definitions, as in coding_codes.csv."""
        data = json.loads(self.key_path.read_text(encoding="utf-8"))
        codes = sorted(data["codes"], key=lambda c: (c["number"] == 0, c["number"]))
        return [{"number": int(c["number"]), "code": c["code"], "definition": c.get("definition", "")}
                for c in codes]

    def items(self) -> list[dict[str, str]]:
        """The sheet's rows, with this coder's codes filled in so far."""
        source = self.sheet_path if self.sheet_path.is_file() else self.folder / SHEET_FILE
        return [{column: row.get(column, "") for column in SHEET_COLUMNS} for row in read_rows(source)]

    def coded(self) -> dict[int, str]:
        return {int(row["item"]): row["code"] for row in self.items() if row["code"].strip()}

    def save(self, item: int, number: int) -> None:
        """Code ``item`` with the code numbered ``number`` and write the whole sheet (every item, blanks kept)."""
        by_number = {c["number"]: c["code"] for c in self.codes()}
        if number not in by_number:
            raise PipelineError(f"no code numbered {number}; codes are numbered 0..{max(by_number)}")
        rows = self.items()
        if not any(int(row["item"]) == item for row in rows):
            raise PipelineError(f"no item {item} on the sheet (1..{len(rows)})")
        for row in rows:
            if int(row["item"]) == item:
                row["code"] = by_number[number]
        write_csv(self.sheet_path, rows, columns=SHEET_COLUMNS)

    def next_item(self, after: int | None = None) -> int | None:
        """The next uncoded item (after ``after`` in sheet order, wrapping round), or None when all are coded."""
        coded = self.coded()
        order = [int(row["item"]) for row in self.items()]
        if ACTIVE_LEARNER is not None:  # HOOK(issue 13): the active learner picks what to ask next
            chosen = [i for i in ACTIVE_LEARNER.next_items(self.run_dir, coded, 1) if i not in coded]
            if chosen:
                return chosen[0]
        start = order.index(after) + 1 if after in order else 0
        for item in order[start:] + order[:start]:
            if item not in coded:
                return item
        return None

    def score(self):
        """Agreement of this coder with the machine (kappa, alpha, per-code F1), and the files written."""
        from pipeline.analyst import score_sheets, write_agreement

        report = score_sheets([self.sheet_path], self.key_path)
        return report, write_agreement(self.folder, report)

    def files(self) -> dict[str, Path]:
        return {"sheet": self.sheet_path, "codes": self.folder / CODES_FILE, "key": self.key_path}
