"""The clean stage, read from the stage cache when these answers, this clean config and this code were cleaned
before (``pipeline.io.stage_cache``): a re-run on an unchanged corpus spent half its time cleaning again.

Cached results are plain JSON (segments and ledger entries as lists of field values), checked field by field
when read back, and used only if they account for exactly these answers (``ledger_problems``): an entry that was
edited, or filed under the wrong key, is recomputed instead of trusted.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from pipeline.clean.cleaner import Cleaner, CleanResult
from pipeline.core.artifacts import Cleaned, Ingested
from pipeline.core.context import RunContext
from pipeline.core.invariants import ledger_problems
from pipeline.core.records import LedgerEntry, Segment
from pipeline.core.versions import CLEANING_PACKAGES, package_versions
from pipeline.io.stage_cache import StageCache

# the modules whose code decides the cleaning result: a changed version of any of them cleans again
CLEAN_CODE = ("pipeline.clean.cleaner", "pipeline.clean.normalize", "pipeline.clean.segment", "pipeline.clean.language",
              "pipeline.clean.dedupe", "pipeline.core.records")


def clean_stage(ctx: RunContext, ingest: Ingested) -> Cleaned:
    answers = list(ingest.answers)

    def compute():
        return Cleaner(ctx.config.clean).transform(answers)

    def accept(cleaned: CleanResult) -> bool:
        return not ledger_problems(ingest, Cleaned(tuple(cleaned.segments), tuple([*ingest.ledger,
                                                                                      *cleaned.ledger])))

    hit, problems = None, []
    if ctx.cache_dir is None:
        cleaned = compute()
    else:
        cache = StageCache(ctx.cache_dir.parent / "cleaned", code_modules=CLEAN_CODE, encode=encode_clean_result,
                           decode=decode_clean_result)
        answer_keys = [(a.answer_id, a.file, a.row, a.respondent_id, a.text) for a in answers]
        cleaned = cache.get([ctx.config.clean, package_versions(CLEANING_PACKAGES), answer_keys], compute, accept)
        hit = cache.hit_
        problems = [cache.problem_] if cache.problem_ else []
    ledger = _ordered_ledger([*ingest.ledger, *cleaned.ledger])
    return Cleaned(tuple(cleaned.segments), tuple(ledger), tuple(problems + list(cleaned.warnings)), hit)


def _ordered_ledger(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    return sorted(entries, key=lambda e: (e.file, e.row))


_SEGMENT_TYPES = tuple((f.name, int if f.type == "int" else str) for f in fields(Segment))
_LEDGER_TYPES = tuple((f.name, int if f.type == "int" else str) for f in fields(LedgerEntry))


def encode_clean_result(result: CleanResult) -> dict[str, Any]:
    return {"segments": [[getattr(s, name) for name, _ in _SEGMENT_TYPES] for s in result.segments],
            "ledger": [[getattr(e, name) for name, _ in _LEDGER_TYPES] for e in result.ledger],
            "warnings": list(result.warnings)}


def decode_clean_result(payload: dict[str, Any]) -> CleanResult:
    """The cached result as records; ValueError for any value of the wrong shape or type."""
    return CleanResult(segments=[Segment(*_checked(row, _SEGMENT_TYPES)) for row in payload["segments"]],
                       ledger=[LedgerEntry(*_checked(row, _LEDGER_TYPES)) for row in payload["ledger"]],
                       warnings=[str(w) for w in _listed(payload["warnings"])])


def _listed(value: Any) -> list:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _checked(row: Any, types: tuple[tuple[str, type], ...]) -> list:
    row = _listed(row)
    if len(row) != len(types) or any(type(v) is not t for v, (_, t) in zip(row, types)):
        raise ValueError(f"a record of the wrong shape: {str(row)[:80]}")
    return row
