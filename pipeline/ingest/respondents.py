"""Respondent ids across the corpus: repeated ids, blank ids, and made-up ids that collide with real ones.

An answer without an id gets ``<file stem>-<row>``. When that made-up id is also a real respondent's id (a blank
id on row 3 of survey.csv became ``survey-3``, the id of another respondent, and the two were counted as one), the
answer gets its answer id instead (``survey.csv:3``, unique in the run), with a warning.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

from pipeline.core.records import Answer, LedgerEntry

MAX_DUPLICATE_WARNINGS = 20


def respondent_warnings(answers: list[Answer], ledger: list[LedgerEntry], with_ids: set[str],
                        corpus_dir: Path) -> tuple[list[Answer], list[LedgerEntry], list[str]]:
    """(answers, ledger) with colliding made-up ids replaced, and the warnings about ids."""
    real = {a.respondent_id for a in answers if a.answer_id in with_ids}
    real |= {e.respondent_id for e in ledger if e.answer_id in with_ids}
    notes: list[str] = []
    renamed: dict[str, str] = {}  # answer_id -> its new respondent id
    for item in [*answers, *ledger]:
        if item.answer_id in with_ids or not item.respondent_id or item.respondent_id not in real:
            continue
        new = item.answer_id
        while new in real:
            new += "#"
        renamed[item.answer_id] = new
    for answer_id, new in list(renamed.items())[:MAX_DUPLICATE_WARNINGS]:
        file, _, row = answer_id.rpartition(":")
        notes.append(f"{(corpus_dir / file).as_posix()}:{row}: no respondent id, and the id made from the file and "
                     f"row is a real respondent's id; this answer's respondent is '{new}'")
    if len(renamed) > MAX_DUPLICATE_WARNINGS:
        notes.append(f"{corpus_dir.as_posix()}: {len(renamed) - MAX_DUPLICATE_WARNINGS} more answers without an "
                     "id were given their answer id as respondent id")
    answers = [dataclasses.replace(a, respondent_id=renamed[a.answer_id]) if a.answer_id in renamed else a
               for a in answers]
    ledger = [dataclasses.replace(e, respondent_id=renamed[e.answer_id]) if e.answer_id in renamed else e
              for e in ledger]
    return answers, ledger, notes + _repeated(answers, with_ids, corpus_dir)


def _repeated(answers: list[Answer], with_ids: set[str], corpus_dir: Path) -> list[str]:
    """One warning per respondent id that labels more than one answer (the answers are all kept)."""
    by_id: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        if answer.answer_id in with_ids:
            by_id[answer.respondent_id].append(answer)
    repeated = [(rid, group) for rid, group in by_id.items() if len(group) > 1]
    notes = []
    for rid, group in repeated[:MAX_DUPLICATE_WARNINGS]:
        first, others = group[0], group[1:]
        listed = ", ".join(a.answer_id for a in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        notes.append(f"{(corpus_dir / first.file).as_posix()}:{first.row}: respondent id '{rid}' also labels "
                     f"{listed}; answers kept")
    if len(repeated) > MAX_DUPLICATE_WARNINGS:
        notes.append(f"{corpus_dir.as_posix()}: {len(repeated) - MAX_DUPLICATE_WARNINGS} more respondent ids "
                     "label more than one answer")
    return notes
