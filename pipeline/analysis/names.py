"""Capitalised words that are probably a person's or a place's name, without a trained model.

A capitalised word (``Okafor``, ``O'Connor``, ``Aldhelm’s``) is a name when the corpus never writes it in lower
case, it is not a public name (``quotes.public_names``, the acronym glossary's expansions) and it is not a common
English word:

- inside a sentence (capitals there are meaningful) a common word is one in the lemma lookup table of
  spacy-lookups-data (inflected forms and their lemmas: names do not inflect, so they are absent);
- at the start of a sentence, where every word is capitalised, the test is stricter: the word must also be missing
  from the WordNet word index shipped with spacy-lookups-data and from spaCy's stop words, and, when it has 8 or
  more letters, not be a likely typo of a listed word (difflib ratio >= 0.85: "Goverance" is not a name); a word
  the corpus capitalises inside a sentence somewhere is a name at the start of one too.

All-capital words are acronyms (NHS, CQC), never names. Hyphenated words (``Pre-election``) are compounds.
"""
from __future__ import annotations

import difflib
import gzip
import importlib.util
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

WORD = re.compile(r"(?<![\w'’-])([A-Z][a-z]*(?:['’][A-Z]?[a-z]+)*)(?![\w-])")
SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)\s*(?:(?:[-•*–]|\d+[.)])\s+)?[\"“‘(]?")
TYPO_RATIO = 0.85
TITLE_WORDS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "cllr", "st", "revd", "rev"})  # never names themselves
TYPO_MIN_LENGTH = 8  # shorter unknown words at a sentence start are names more often than typos ("Tracey")


def _lookups_file(name: str) -> Path | None:
    """A data file of spacy-lookups-data, found without importing the package (its import loads every table)."""
    spec = importlib.util.find_spec("spacy_lookups_data")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - installed with spaCy's lookups
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / name
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def inflected_words() -> frozenset[str]:
    """Lower-cased words of the English lemma lookup table (forms and lemmas)."""
    path = _lookups_file("en_lemma_lookup.json.gz")
    if path is None:
        return frozenset()
    table = json.loads(gzip.decompress(path.read_bytes()))
    return frozenset({k.lower() for k in table} | {v.lower() for v in table.values()})


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Every word the lookups know: the lemma table, the WordNet index and spaCy's stop words."""
    words = set(inflected_words())
    path = _lookups_file("en_lemma_index.json.gz")
    if path is not None:
        index = json.loads(gzip.decompress(path.read_bytes()))
        words |= {w.lower() for part in index.values() for w in part if "_" not in w}
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(words | set(STOP_WORDS))


@lru_cache(maxsize=1)
def _by_initial() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for word in dictionary_words():
        groups.setdefault(word[:1], []).append(word)
    return {letter: tuple(sorted(words)) for letter, words in groups.items()}


def base_form(word: str) -> str:
    """"Aldhelm’s" -> "aldhelm", "They'll" -> "they", "O'Connor" -> "o'connor"."""
    word = word.replace("\u2019", "'").lower()
    head, _, tail = word.partition("'")
    return head if tail in ("s", "ll", "re", "ve", "d", "t", "m") else word


class NameFinder:
    """Finds name-like capitalised words, judged against the words a corpus writes in lower case."""

    def __init__(self, corpus_texts: Iterable[str] = (), public: Iterable[str] = ()):
        self.lower_words = {w.replace("\u2019", "'") for t in corpus_texts for w in re.findall(r"\b[a-z][a-z'’]*", t)}
        self.public = {base_form(w) for phrase in public for w in re.findall(r"[A-Za-z'’]+", phrase)}
        self._typo: dict[str, bool] = {}
        self.known: set[str] = set()  # capitalised inside a sentence somewhere, never in lower case: names
        for text in corpus_texts:
            self.known |= {base_form(word) for word, initial in self._words(text) if not initial
                           and not self.is_common(base_form(word), False)}

    @staticmethod
    def _words(text: str) -> list[tuple[str, bool]]:
        starts = {m.end() for m in SENTENCE_START.finditer(text)}
        return [(m.group(1), m.start() in starts) for m in WORD.finditer(text)
                if len(m.group(1)) >= 2 and not m.group(1).isupper()]

    def is_common(self, base: str, initial: bool) -> bool:
        if base in self.lower_words or base in self.public or base in inflected_words():
            return True
        if not initial:
            return False
        if base in dictionary_words():
            return True
        if len(base) < TYPO_MIN_LENGTH:
            return False
        if base not in self._typo:
            near = [w for w in _by_initial().get(base[:1], ()) if abs(len(w) - len(base)) <= 2]
            self._typo[base] = bool(difflib.get_close_matches(base, near, n=1, cutoff=TYPO_RATIO))
        return self._typo[base]

    def names(self, text: str) -> list[str]:
        """The name-like words of ``text``, as written."""
        return [word for word, initial in self._words(text) if base_form(word) not in TITLE_WORDS
                and (base_form(word) in self.known or not self.is_common(base_form(word), initial))]
