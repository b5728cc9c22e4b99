"""Language identification (py3langid), skipped for answers that are clearly English."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

@lru_cache(maxsize=1)
def _language_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


_ENGLISH_FUNCTION_WORDS = frozenset(
    "the and of to in is are was were that this it for not with be by as at from have has but or our their they "
    "we there which would will can been too more very".split())


def clearly_english(text: str) -> bool:
    """True when English function words make up at least 30% of eight or more words: no need to ask the
    language model, which is the slow part of cleaning."""
    words = [w.strip(".,;:!?\"'()[]") for w in text.lower().split()]
    return len(words) >= 8 and sum(w in _ENGLISH_FUNCTION_WORDS for w in words) >= 0.3 * len(words)


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) from py3langid."""
    language, probability = _language_identifier().classify(text)
    return str(language), float(probability)
