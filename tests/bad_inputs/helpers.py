"""What the bad-input suites share: answers written for them, a run of ingest + clean, and the ledger as a dict."""
from __future__ import annotations

from pathlib import Path

from pipeline.core.records import KEPT

# Nouns for answers written for these tests; each answer gets its own, so no two are near-duplicates.
NOUNS = ("funding", "staffing", "rotas", "estates", "transport", "housing", "training", "software", "parking",
         "referrals", "waiting lists", "discharges", "pharmacy", "dentistry", "outreach", "translation",
         "volunteers", "governance", "procurement", "audits", "contracts", "boundaries", "leadership", "morale",
         "recruitment", "retention", "supervision", "paperwork", "meetings", "deadlines")


def answer(i: int, tag: str = "") -> str:
    """A short, distinct English answer (under 40 characters, so no language check applies)."""
    return f"{NOUNS[i % len(NOUNS)].capitalize()} {tag}worries us {i}"


def ingest(corpus: Path, **overrides):
    """Ingest + clean ``corpus`` in memory (nothing written) with every default config value."""
    from pipeline import runner
    from pipeline.core.config import load_config

    config = load_config(None, {"embed.model": "fake-hash.v1", **overrides})
    return runner.run(corpus, config, until="ingest")


def ledger(result) -> dict[str, str]:
    """answer_id -> "kept" or the reason it was dropped, for every ledger entry."""
    return {e.answer_id: (KEPT if e.status == KEPT else e.reason) for e in result.ledger}


def texts(result) -> dict[str, str]:
    return {a.answer_id: a.text for a in result.answers}
