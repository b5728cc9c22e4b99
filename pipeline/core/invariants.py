"""The ledger invariant, checked on every run after the clean stage (``pipeline.stages``): no answer is lost.

- Every record a reader returned is one answer or one dropped ledger entry, per source (file, or file[sheet]):
  ``answers + dropped at ingest == records read``; a file not read at all has one entry of its own (row 0).
- Every answer read has exactly one entry in the final ledger (kept, or dropped with a reason), and the ledger
  holds nothing else: ``read == kept + dropped``, per source and in total.
- A kept answer's ``n_segments`` is its number of segments, every segment belongs to a kept answer, and every
  segment's text is exactly ``answer.text[start:end]``.

A broken invariant is a bug in the pipeline, never the user's input: it raises ``LedgerInvariantError``, which the
CLI reports as an internal error, instead of letting a run with a silently lost answer finish.
"""
from __future__ import annotations

from collections import Counter

from pipeline.core.artifacts import Cleaned, Ingested
from pipeline.core.records import DROPPED, FILE_ROW, KEPT

MAX_SHOWN = 5


class LedgerInvariantError(RuntimeError):
    """An answer was lost or counted twice between reading and cleaning (a bug; the run stops)."""


def check_ledger(ingested: Ingested, cleaned: Cleaned) -> None:
    problems = ledger_problems(ingested, cleaned)
    if problems:
        more = f" (and {len(problems) - MAX_SHOWN} more)" if len(problems) > MAX_SHOWN else ""
        raise LedgerInvariantError("ledger invariant broken: " + "; ".join(problems[:MAX_SHOWN]) + more)


def ledger_problems(ingested: Ingested, cleaned: Cleaned) -> list[str]:
    """Every way the ledger fails to account for the answers read (empty when it accounts for all of them)."""
    problems = _ingest_problems(ingested)
    read = Counter(a.answer_id for a in ingested.answers) + Counter(e.answer_id for e in ingested.ledger)
    final = Counter(e.answer_id for e in cleaned.ledger)
    problems += [f"{answer_id} read {n} times" for answer_id, n in read.items() if n > 1]
    problems += [f"{answer_id} has no ledger entry" for answer_id in read if answer_id not in final]
    problems += [f"{answer_id} has {n} ledger entries" for answer_id, n in final.items() if n > 1]
    problems += [f"ledger entry {answer_id} is not an answer read" for answer_id in final if answer_id not in read]
    statuses = Counter(e.status for e in cleaned.ledger)
    if statuses[KEPT] + statuses[DROPPED] != sum(final.values()):
        problems.append(f"ledger statuses other than kept/dropped: {sorted(set(statuses) - {KEPT, DROPPED})}")
    if sum(final.values()) != sum(read.values()):
        problems.append(f"{sum(read.values())} answers read but {sum(final.values())} ledger entries")
    return problems + _segment_problems(ingested, cleaned)


def _ingest_problems(ingested: Ingested) -> list[str]:
    problems = []
    per_source = Counter(a.file for a in ingested.answers)
    per_source.update(e.file for e in ingested.ledger if e.row != FILE_ROW)
    if ingested.sources:
        for source, n in ingested.sources.items():
            if per_source.get(source, 0) != n:
                problems.append(f"{source}: its reader returned {n} records but {per_source.get(source, 0)} "
                                "are answers or dropped entries")
        problems += [f"{source}: answers from a source no reader returned" for source in per_source
                     if source not in ingested.sources]
    for entry in ingested.ledger:
        if entry.status != DROPPED:
            problems.append(f"{entry.answer_id}: an ingest ledger entry that is not dropped")
        if entry.row == FILE_ROW and ingested.sources.get(entry.file, 0):
            problems.append(f"{entry.file}: listed as not read, yet records were read from it")
    return problems


def _segment_problems(ingested: Ingested, cleaned: Cleaned) -> list[str]:
    answers = {a.answer_id: a for a in ingested.answers}
    n_segments = Counter(s.answer_id for s in cleaned.segments)
    kept = {e.answer_id: e for e in cleaned.ledger if e.status == KEPT}
    problems = [f"{e.answer_id}: kept with {e.n_segments} segments but has {n_segments.get(e.answer_id, 0)}"
                for e in kept.values() if e.n_segments != n_segments.get(e.answer_id, 0)]
    problems += [f"{answer_id}: segments of an answer that is not kept" for answer_id in n_segments
                 if answer_id not in kept]
    for segment in cleaned.segments:
        answer = answers.get(segment.answer_id)
        if answer is not None and answer.text[segment.start:segment.end] != segment.text:
            problems.append(f"{segment.segment_id}: text is not answer.text[{segment.start}:{segment.end}]")
    return problems
