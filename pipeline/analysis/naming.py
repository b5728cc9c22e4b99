"""Labels a reader can use for themes found without the closed list: the most central phrase of the members' own
words, acronyms written out as the glossary writes them, never a person's or a place's name.

Candidates (:func:`phrase_candidates`) are the 1-3 word n-grams of each member's own text (``Segment.text``, not
the normalised text, so a label is always words a respondent wrote): runs of word tokens not crossing punctuation
that neither start nor end with a stop word, hold no number, and are not only domain stop words
(``themes.stop_words``: "nhs", "stp", "barrier", ...). Forms are matched by lower-cased lookup lemma, so
"deadlines" counts with "deadline"; a phrase is shown in the form its members use most.

Per theme, a candidate must be used by at least ``max(2, 10%)`` of the members. It is scored by

    coverage * log2(lift)   (coverage: share of members using it; lift: coverage over the corpus's share)

which rewards what is common in the theme and rare elsewhere (c-TF-IDF's idea at phrase level); the top
``SHORTLIST`` are embedded and the label is the one whose embedding is closest to the theme's centroid, ties to
the higher statistic: "the most central phrase, checked against the members' own words". When it covers less than
``SECOND_PHRASE_BELOW`` of the members, a second phrase that adds members joins it ("Purdah and local elections").
No phrase with a name (:class:`~pipeline.analysis.identify.Identifier`) is ever a candidate.

Label quality (:func:`label_fit`): ``coverage`` = share of members whose own words contain a word of the label,
``lift`` = how much more common that is than in the corpus. A label is ``weak`` when coverage is below
``WEAK_COVERAGE`` or lift below ``WEAK_LIFT``; the report prints the score beside a weak label.
"""
from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.analysis.names import _lookups_file

SHORTLIST = 12
MAX_WORDS = 3
MIN_SHARE = 0.1
SECOND_PHRASE_BELOW = 0.3
WEAK_COVERAGE = 0.25
WEAK_LIFT = 1.5


@dataclass(frozen=True)
class Phrase:
    key: str  # lemma key, e.g. "deadline"
    text: str  # as the members write it most often, e.g. "deadlines"
    coverage: float
    lift: float
    statistic: float
    centrality: float = float("nan")


GENERIC_HEADS = frozenset({"people", "thing", "way", "need", "lack", "issue", "problem", "lot", "bit", "part",
                           "level", "fact", "point", "case", "kind", "sort", "place", "view", "work", "term"})


@lru_cache(maxsize=1)
def word_classes() -> dict[str, frozenset[str]]:
    """WordNet's nouns, verbs and adjectives (spacy-lookups-data's ``en_lemma_index``)."""
    path = _lookups_file("en_lemma_index.json.gz")
    if path is None:
        return {"noun": frozenset(), "verb": frozenset(), "adj": frozenset(), "adv": frozenset()}
    index = json.loads(gzip.decompress(path.read_bytes()))
    return {part: frozenset(w.lower() for w in words) for part, words in index.items()}


def can_head(word: str, lemma: str) -> bool:
    """Whether a phrase may end in this word (as written, and its lemma): a noun as written ("funding"), a plural
    of one ("councillors"), or a word WordNet does not know (an acronym, a domain term); never a generic noun, an
    adjective ("local") nor a verb form ("rushed", "told")."""
    classes = word_classes()
    if lemma in GENERIC_HEADS or lemma in classes["adj"] or word in classes["adj"]:
        return False  # "local", "public", "political": an adjective heads no label, even when WordNet has a noun
    if word in classes["noun"] or (lemma in classes["noun"] and word.endswith("s") and word != lemma):
        return True
    known = any(w in classes[part] for part in classes for w in (word, lemma))
    return not known and not word.endswith(("ed", "ing"))


class PhraseIndex:
    """Each segment's candidate phrases (lemma keys), and the surface forms seen for each key."""

    def __init__(self, texts: Sequence[str], stop_words: set[str], domain_stop: set[str],
                 lemma: Callable[[str], str], tokenize: Callable[[str], list[str]], reject: Callable[[str], bool]):
        self.docs: list[set[str]] = []
        self.forms: dict[str, Counter] = {}
        for text in texts:
            keys: set[str] = set()
            for run in _word_runs(tokenize(text)):
                for phrase in _ngrams(run, stop_words, domain_stop):
                    key = " ".join(lemma(w.lower()) for w in phrase)
                    if not can_head(phrase[-1].lower(), key.rsplit(" ", 1)[-1]):
                        continue
                    surface = " ".join(phrase)
                    if key not in self.forms:
                        self.forms[key] = Counter()
                    self.forms[key][surface] += 1
                    keys.add(key)
            self.docs.append(keys)
        self.rejected = {key for key, forms in self.forms.items() if any(reject(form) for form in forms)}
        self.df = Counter(key for doc in self.docs for key in doc)

    def shown(self, key: str) -> str:
        return self.forms[key].most_common(1)[0][0]


def _word_runs(tokens: list[str]) -> list[list[str]]:
    runs, current = [], []
    for token in tokens:
        if re.fullmatch(r"[A-Za-z][A-Za-z'’&-]*[A-Za-z]|[A-Za-z]&[A-Za-z]", token):
            current.append(token)
        else:
            if current:
                runs.append(current)
            current = []
    return runs + ([current] if current else [])


def _ngrams(run: list[str], stop_words: set[str], domain_stop: set[str]):
    for n in range(1, MAX_WORDS + 1):
        for i in range(len(run) - n + 1):
            phrase = run[i:i + n]
            lowered = [w.lower() for w in phrase]
            if lowered[0] in stop_words or lowered[-1] in stop_words or "'" in lowered[-1] or "’" in lowered[-1]:
                continue
            if all(w in domain_stop or w in stop_words for w in lowered):
                continue
            yield phrase


def candidates(index: PhraseIndex, members: Sequence[int]) -> list[Phrase]:
    """Phrases enough members use, best statistic first."""
    n_members, n_docs = len(members), len(index.docs)
    if not n_members:
        return []
    inside = Counter(key for row in members for key in index.docs[row])
    min_docs = max(2, math.ceil(MIN_SHARE * n_members))
    out = []
    for key, count in inside.items():
        if count < min_docs or key in index.rejected:
            continue
        coverage = count / n_members
        lift = coverage / (index.df[key] / n_docs)
        if lift <= 1.0:
            continue
        out.append(Phrase(key, index.shown(key), coverage, lift, coverage * math.log2(lift) * (1 + 0.15 * key.count(" "))))
    return sorted(out, key=lambda p: (-p.statistic, p.key))


def choose_label(found: list[Phrase], members: Sequence[int], index: PhraseIndex, centroid: np.ndarray,
                 encode: Callable[[list[str]], np.ndarray]) -> list[Phrase]:
    """The most central shortlisted phrase, plus a second one when the first covers few members."""
    shortlist = [p for p in found if not any(p.key != q.key and _contains(q.key, p.key) and q.coverage >= p.coverage
                                             for q in found)][:SHORTLIST]
    if not shortlist:
        return []
    vectors = encode([p.text for p in shortlist])
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scored = [Phrase(p.key, p.text, p.coverage, p.lift, p.statistic, float(v @ centroid))
              for p, v in zip(shortlist, vectors)]
    scored.sort(key=lambda p: (-(p.centrality + 0.5 * p.statistic), p.key))
    chosen = [scored[0]]
    if chosen[0].coverage < SECOND_PHRASE_BELOW:
        covered = {row for row in members if chosen[0].key in index.docs[row]}
        for phrase in scored[1:]:
            words = set(phrase.key.split())
            adds = {row for row in members if phrase.key in index.docs[row]} - covered
            if not words & set(chosen[0].key.split()) and len(adds) >= 2 and phrase.lift >= WEAK_LIFT:
                chosen.append(phrase)
                break
    return chosen


def _contains(longer: str, shorter: str) -> bool:
    return f" {shorter} " in f" {longer} "


def render(chosen: Sequence[Phrase], acronyms: Mapping[str, str]) -> str:
    """"Purdah and local elections": phrases joined, acronyms written out, first letter capitalised."""
    def expand(text: str) -> str:
        return " ".join(acronyms.get(word, word) if word.isupper() or word in acronyms else word
                        for word in text.split())
    text = " and ".join(expand(p.text) for p in chosen)
    return text[:1].upper() + text[1:]


def label_fit(words: set[str], members: Sequence[int], index_docs: Sequence[set[str]]) -> dict[str, float | bool | str]:
    """Coverage and lift among the members of ``words`` (lemma keys: the label's phrases, or its content words),
    see the module docstring."""
    if not members or not words or not index_docs:
        return {"coverage": 0.0, "lift": 0.0, "weak": True, "reason": "no content words"}
    uses = [bool(words & index_docs[row]) for row in members]
    coverage = sum(uses) / len(members)
    overall = sum(bool(words & doc) for doc in index_docs) / len(index_docs)
    lift = coverage / overall if overall else 0.0
    reasons = ([f"only {coverage:.0%} of its answers use these words"] if coverage < WEAK_COVERAGE else []) + (
        [f"these words are barely commoner here than elsewhere (x{lift:.1f})"] if lift < WEAK_LIFT else [])
    return {"coverage": round(coverage, 3), "lift": round(lift, 2), "weak": bool(reasons), "reason": "; ".join(reasons)}
