"""Coded sheets in, one code per segment out: what `pipeline code` trains on.

A coded sheet is any CSV (comma, semicolon or tab; UTF-8 or the Windows code page) with a ``code`` column and a
``segment_id`` or ``answer_id`` column (an answer id codes every segment of that answer); an optional ``coder``
column names the coder, else the file name does. The blind sheet of `pipeline validate sample` and the sheets of
`validate sample --next N` both qualify. A code is a category id or label from categories.yaml, an analyst code id
or label (labels.yaml ``codes:``), or, on the blind sheet, a theme's code from coding_codes.csv (the category that
theme is mapped or pinned to). Blank codes and ``none of these`` are skipped.

Several coders: each segment's code is adjudicated by a stated rule (:data:`RULES`):

- ``majority`` (default): the code most coders gave; a tie goes to the coder whose sheet was given first;
- ``first``: the first sheet (in the order given) that coded the segment wins;
- ``unanimous``: only segments on which every coder who coded them agrees; the rest are left out and counted.

The adjudicated codes are merged into the corpus's coded file (``validate.coded_file``, default ``coded.csv``:
``segment_id, code, coders, chosen_by``), newer codes replacing older ones per segment, so they survive re-runs and a
corpus that grows (segment ids are ``<file>:<row>#<index>``). ``chosen_by`` says how the segment came to be coded:
``random`` (the blind sheet), ``audit`` (the random share of a ``--next`` sheet), ``active`` (the rest of a
``--next`` sheet) or ``analyst`` (any other sheet): the machine's accuracy is estimated from the random and audit
ones when there are enough. Every problem is a one-line error naming file
and row.
"""
from __future__ import annotations

import csv
import difflib
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.analyst.sheets import NONE_CODE
from pipeline.core.errors import PipelineError
from pipeline.core.records import Category
from pipeline.io.atomic import write_csv
from pipeline.io.csv_safe import restore as _restore  # our sheets are written formula-safe

RULES = ("majority", "first", "unanimous")
STORE_COLUMNS = ["segment_id", "code", "coders", "chosen_by"]
# how a coded segment was chosen: the accuracy estimate depends on it (pipeline.analyst.accuracy)
RANDOM, AUDIT, ACTIVE, ANALYST_CHOICE = "random", "audit", "active", "analyst"
AT_RANDOM = (RANDOM, AUDIT)  # chosen at random: what the machine's accuracy is estimated from


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class CodeBook:
    """Every code a sheet may use: id -> Category, and the spellings that resolve to an id."""

    codes: dict[str, Category]
    spellings: dict[str, str | None]  # normalised id / label / blind-sheet code -> code id (None: not a code)

    @classmethod
    def build(cls, categories: Sequence[Category], theme_codes: Mapping[str, str | None] = ()) -> CodeBook:
        codes = {c.category_id: c for c in categories}
        spellings: dict[str, str | None] = {_norm(NONE_CODE): None}
        spellings.update({_norm(k): v for k, v in dict(theme_codes).items()})
        spellings.update({_norm(c.label): c.category_id for c in categories if c.label.strip()})
        spellings.update({_norm(c.category_id): c.category_id for c in categories})
        return cls(codes, spellings)

    def resolve(self, value: str, name: str, row: int) -> str | None:
        key = _norm(value)
        if key in self.spellings:
            return self.spellings[key]
        close = difflib.get_close_matches(key, [k for k, v in self.spellings.items() if v], n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PipelineError(f"unknown code {value!r}{hint} (codes: the category ids or labels of categories.yaml and "
                            "labels.yaml codes)", file=name, row=row)


@dataclass
class Adjudicated:
    codes: dict[str, str]  # segment id -> code id
    coders: dict[str, tuple[str, ...]]  # segment id -> who coded it
    chosen_by: dict[str, str] = field(default_factory=dict)  # segment id -> random / audit / active / analyst
    warnings: list[str] = field(default_factory=list)
    disagreements: int = 0


def read_table(path: Path) -> list[dict[str, str]]:
    """A user's CSV as rows of stripped cells keyed by the normalised header; errors name the file."""
    name = str(path)
    if not path.is_file():
        raise PipelineError("coded sheet not found", file=name)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise PipelineError("the coded sheet is empty (expected a header with segment_id or answer_id, and code)",
                            file=name)
    first = text.splitlines()[0]
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=max(",;\t", key=first.count))
    header = [h for h in reader.fieldnames or [] if h is not None]
    keys = {h: _norm(_restore(h)) for h in header}
    if "code" not in keys.values() or not {"segment_id", "answer_id"} & set(keys.values()):
        raise PipelineError(f"header needs a 'code' column and a 'segment_id' or 'answer_id' column, got "
                            f"{', '.join(header) or 'nothing'}", file=name)
    return [{keys[h]: _restore((record.get(h) or "").strip()) for h in header} for record in reader]


def read_coded_sheet(path: Path, book: CodeBook, segments_of: Mapping[str, Sequence[str]],
                     segment_ids: set[str]) -> dict[str, dict[str, str]]:
    """coder -> {segment id: code id} for one sheet. ``segments_of``: answer id -> its segment ids."""
    name = str(path)
    out: dict[str, dict[str, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row, values in enumerate(read_table(path), 1):
        if not any(values.values()) or not values.get("code"):
            continue
        targets = _targets(values, segments_of, segment_ids, name, row)
        code = book.resolve(values["code"], name, row)
        coder = values.get("coder") or path.stem
        for target in targets:
            if (coder, target) in seen and out[coder].get(target) != code:
                raise PipelineError(f"segment {target} is coded twice by {coder} (also row {seen[coder, target]})",
                                    file=name, row=row)
            seen[coder, target] = row
            if code is not None:
                out.setdefault(coder, {})[target] = code
    if not out and not seen:
        raise PipelineError("no row has a code yet", file=name)
    return out


def _targets(values, segments_of, segment_ids, name, row) -> list[str]:
    segment, answer = values.get("segment_id", ""), values.get("answer_id", "")
    if segment:
        if segment not in segment_ids:
            raise PipelineError(f"unknown segment id {segment!r} (not in this run's segments.csv)", file=name,
                                row=row)
        return [segment]
    if answer:
        if answer not in segments_of:
            raise PipelineError(f"unknown answer id {answer!r} (not in this run's segments.csv)", file=name,
                                row=row)
        return list(segments_of[answer])
    raise PipelineError("the row has a code but no segment_id or answer_id", file=name, row=row)


def adjudicate(by_coder: Sequence[tuple[str, Mapping[str, str]]], rule: str = "majority",
               kinds: Sequence[str | Mapping[str, str]] = ()) -> Adjudicated:
    """One code per segment from several coders (in the order given), by ``rule`` (see the module docstring);
    ``kinds``: how each entry's segments were chosen (aligned with ``by_coder``: one kind for the whole sheet, or
    segment id -> kind; the first entry coding a segment names it)."""
    if rule not in RULES:
        raise PipelineError(f"adjudication rule must be one of {', '.join(RULES)}, got {rule!r}")
    votes: dict[str, list[tuple[str, str]]] = {}
    result = Adjudicated({}, {})
    for k, (coder, codes) in enumerate(by_coder):
        for segment, code in codes.items():
            votes.setdefault(segment, []).append((coder, code))
            kind = kinds[k] if k < len(kinds) else ANALYST_CHOICE
            result.chosen_by.setdefault(segment, kind.get(segment, ANALYST_CHOICE) if isinstance(kind, Mapping)
                                        else kind)
    for segment, given in votes.items():
        codes = [code for _, code in given]
        if len(set(codes)) > 1:
            result.disagreements += 1
        if rule == "unanimous" and len(set(codes)) > 1:
            continue
        if rule == "majority":
            counts = Counter(codes)
            top = max(counts.values())
            chosen = next(code for code in codes if counts[code] == top)  # ties: the earliest sheet's code
        else:
            chosen = codes[0]
        result.codes[segment] = chosen
        result.coders[segment] = tuple(coder for coder, _ in given)
    if result.disagreements:
        left = " (left out)" if rule == "unanimous" else ""
        result.warnings.append(f"{result.disagreements} segment(s) coded differently by different coders, "
                               f"adjudicated by rule '{rule}'{left}")
    return result


def read_store(path: Path | None) -> list[dict[str, str]]:
    """The corpus's coded file (``segment_id, code, coders``); [] when there is none."""
    if path is None or not path.is_file():
        return []
    rows = read_table(path)
    for row, values in enumerate(rows, 1):
        if not values.get("segment_id") or not values.get("code"):
            raise PipelineError("each row needs a segment_id and a code", file=str(path), row=row)
    return rows


def merge_store(path: Path, adjudicated: Adjudicated) -> int:
    """Merge ``adjudicated`` into the coded file at ``path`` (new codes win per segment); rows written."""
    rows = {row["segment_id"]: row for row in read_store(path)}
    for segment, code in adjudicated.codes.items():
        rows[segment] = {"segment_id": segment, "code": code, "coders": "; ".join(adjudicated.coders[segment]),
                         "chosen_by": adjudicated.chosen_by.get(segment, ANALYST_CHOICE)}
    write_csv(path, sorted(rows.values(), key=lambda r: r["segment_id"]), STORE_COLUMNS)
    return len(rows)
