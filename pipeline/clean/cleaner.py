"""Clean answers, set aside the ones that carry no analysable text, and cut the rest into segments.

Segment spans are found on the *original* text (never on a cleaned copy), so ``Segment.text`` is always
``answer.text[start:end]`` and an editor can quote it verbatim. HTML tags are masked by same-length blanks
before layout is read, so offsets survive them. ``Segment.clean_text`` is the normalised span with
acronyms expanded: that is what gets embedded.

Every answer given to :meth:`Cleaner.transform` gets exactly one ledger entry: kept (with its number of
segments) or dropped with a reason, checked in this order: ``empty``, ``non-answer``, ``non-english``,
``duplicate``, ``near-duplicate``. Duplicates are only ever recorded against an answer that was kept.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.clean.dedupe import find_near_duplicates
from pipeline.clean.language import clearly_english, detect_language
from pipeline.clean.normalize import (
    answer_key, compile_boilerplate, expand_acronyms, is_non_answer, mask_layout, normalize, phrase_keys,
)
from pipeline.clean.segment import layout_items, segment_spans, sentence_spans
from pipeline.core.config import CleanConfig
from pipeline.core.errors import PipelineError
from pipeline.core.records import DROPPED, KEPT, Answer, LedgerEntry, Segment

@dataclass(frozen=True)
class CleanResult:
    segments: list[Segment]  # kept answers' segments, in input order
    ledger: list[LedgerEntry]  # exactly one entry per answer given, in input order
    warnings: list[str] = field(default_factory=list)


class Cleaner:
    """Clean, filter and segment answers.

    Parameters
    ----------
    config : CleanConfig
        Acronym glossary, non-answer phrases, boilerplate regexes, thresholds and segmentation settings.

    Attributes
    ----------
    nlp_ : spacy.Language
        The sentence splitter, built on first use.
    """

    def __init__(self, config: CleanConfig | None = None):
        self.config = config

    def _build_nlp(self, config: CleanConfig, warnings: list[str]) -> Any:
        if getattr(self, "nlp_", None) is not None:
            return self.nlp_
        import spacy

        nlp = None
        if config.spacy_model:
            try:
                nlp = spacy.load(config.spacy_model, exclude=["ner", "lemmatizer", "textcat", "attribute_ruler"])
            except OSError:
                warnings.append(f"spaCy model {config.spacy_model!r} is not installed; splitting sentences with "
                                "spaCy's rule-based sentencizer instead")
        if nlp is None:
            nlp = spacy.blank("en")
        if not any(nlp.has_pipe(name) for name in ("parser", "senter", "sentencizer")):
            nlp.add_pipe("sentencizer")
        self.nlp_ = nlp
        return nlp

    def transform(self, answers: Sequence[Answer]) -> CleanResult:
        """Segments of the kept answers and one ledger entry per answer, both in input order."""
        config = CleanConfig.ensure(self.config)  # the model's rules, re-checked in case it was changed in place
        answers = list(answers)
        _check_answers(answers)
        warnings: list[str] = []
        boilerplate = compile_boilerplate(config.boilerplate)
        masked = [mask_layout(a.text) for a in answers]
        items = [layout_items(m, boilerplate) for m in masked]
        whole = [" ".join(filter(None, (normalize(a.text[it.start:it.end]) for it in its)))
                 for a, its in zip(answers, items)]
        drops = [self._first_check(config, text, a.text) for text, a in zip(whole, answers)]
        self._mark_duplicates(config, whole, drops, answers)

        kept = [i for i, drop in enumerate(drops) if drop is None]
        nlp = self._build_nlp(config, warnings) if kept else None
        segments: list[Segment] = []
        n_segments: dict[int, int] = {}
        for i in kept:
            answer = answers[i]
            spans = segment_spans(items[i], sentence_spans(nlp, masked[i], items[i]), config.segment_min_chars,
                                   config.max_sentences_per_segment)
            made = [(s, e, expand_acronyms(normalize(answer.text[s:e]), config.acronyms)) for s, e in spans]
            made = [m for m in made if m[2]] or [(items[i][0].start, items[i][-1].end, whole[i])]
            for index, (start, end, clean_text) in enumerate(made):
                segments.append(Segment(
                    segment_id=f"{answer.answer_id}#{index}", answer_id=answer.answer_id,
                    respondent_id=answer.respondent_id, file=answer.file, row=answer.row, index=index,
                    start=start, end=end, text=answer.text[start:end], clean_text=clean_text))
            n_segments[i] = len(made)
        ledger = [
            LedgerEntry(answer_id=a.answer_id, file=a.file, row=a.row, respondent_id=a.respondent_id,
                        status=KEPT if drop is None else DROPPED, reason=drop[0] if drop else "",
                        detail=drop[1] if drop else "", n_segments=n_segments.get(i, 0))
            for i, (a, drop) in enumerate(zip(answers, drops))
        ]
        return CleanResult(segments=segments, ledger=ledger, warnings=warnings)

    def _first_check(self, config: CleanConfig, text: str, raw: str) -> tuple[str, str] | None:
        if not text:  # nothing left; but "-" or "n/a" in a bullet is a non-answer rather than empty
            raw = normalize(raw)
            return ("non-answer", "") if raw and is_non_answer(raw, config.non_answers) else ("empty", "")
        key = answer_key(text)
        if len(text) < config.min_chars or not key or key in phrase_keys(tuple(config.non_answers)):
            return ("non-answer", "")
        if config.language and len(text) >= config.language_min_chars and not (
                config.language == "en" and clearly_english(text)):
            language, probability = detect_language(expand_acronyms(text, config.acronyms)[:600])
            if language != config.language and probability >= config.language_confidence:
                return ("non-english" if config.language == "en" else "other-language", language)
        return None

    @staticmethod
    def _mark_duplicates(config: CleanConfig, whole: list[str], drops: list[tuple[str, str] | None],
                         answers: list[Answer]) -> None:
        """Exact duplicates by key first; near-duplicates among the distinct keys; copies follow their original."""
        first_with_key: dict[str, int] = {}
        copies: list[tuple[int, int]] = []
        for i, drop in enumerate(drops):
            if drop is None:
                key = answer_key(whole[i])
                if key in first_with_key:
                    copies.append((i, first_with_key[key]))
                else:
                    first_with_key[key] = i
        originals = list(first_with_key.values())
        near = find_near_duplicates([answer_key(whole[i]) for i in originals], config.near_duplicate_threshold)
        for i, match in zip(originals, near):
            if match is not None:
                drops[i] = ("near-duplicate", f"{answers[originals[match[0]]].answer_id}; jaccard={match[1]:.3f}")
        for i, original in copies:
            drops[i] = drops[original] or ("duplicate", answers[original].answer_id)


def _check_answers(answers: list[Answer]) -> None:
    seen: set[str] = set()
    for position, answer in enumerate(answers, start=1):
        if not isinstance(answer, Answer):
            raise PipelineError(f"clean: item {position} is a {type(answer).__name__}, not an Answer")
        if not isinstance(answer.text, str):
            raise PipelineError(f"answer text is {type(answer.text).__name__}, not text", file=answer.file,
                                row=answer.row)
        if answer.answer_id in seen:
            raise PipelineError(f"answer id {answer.answer_id!r} occurs twice", file=answer.file, row=answer.row)
        seen.add(answer.answer_id)
