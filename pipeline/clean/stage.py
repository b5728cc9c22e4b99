"""The clean stage, read from the stage cache when these answers, this clean config and this code were cleaned
before (``pipeline.io.stage_cache``): a re-run on an unchanged corpus spent half its time cleaning again."""
from __future__ import annotations

from pipeline.clean.cleaner import Cleaner
from pipeline.core.artifacts import Cleaned, Ingested
from pipeline.core.context import RunContext
from pipeline.core.records import LedgerEntry
from pipeline.core.versions import CLEANING_PACKAGES, package_versions
from pipeline.io.stage_cache import StageCache

# the modules whose code decides the cleaning result: a changed version of any of them cleans again
CLEAN_CODE = ("pipeline.clean.cleaner", "pipeline.clean.normalize", "pipeline.clean.segment", "pipeline.clean.language",
              "pipeline.clean.dedupe", "pipeline.core.records")


def clean_stage(ctx: RunContext, ingest: Ingested) -> Cleaned:
    answers = list(ingest.answers)

    def compute():
        return Cleaner(ctx.config.clean).transform(answers)

    hit = None
    if ctx.cache_dir is None:
        cleaned = compute()
    else:
        cache = StageCache(ctx.cache_dir.parent / "cleaned", code_modules=CLEAN_CODE)
        answer_keys = [(a.answer_id, a.file, a.row, a.respondent_id, a.text) for a in answers]
        cleaned = cache.get([ctx.config.clean, package_versions(CLEANING_PACKAGES), answer_keys], compute)
        hit = cache.hit_
    ledger = _ordered_ledger([*ingest.ledger, *cleaned.ledger])
    return Cleaned(tuple(cleaned.segments), tuple(ledger), tuple(cleaned.warnings), hit)


def _ordered_ledger(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    return sorted(entries, key=lambda e: (e.file, e.row))
