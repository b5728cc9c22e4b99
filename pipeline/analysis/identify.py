"""Details in a text that might identify a respondent, as flags a quote carries wherever it is shown, and the one
check that guards every place text is shown: quotes, theme labels, keywords and codebook examples.

Flags (in ``FLAG_ORDER``):

- ``email``; ``phone`` (UK numbers); ``postcode`` (UK, upper case as written on mail);
- ``titled-name``: a title and a capitalised word ("Dr Smith", "Cllr Patel", "Sister Bridget O'Connor");
- ``untitled-name``: a capitalised word that is probably a person's or a place's name
  (``pipeline.analysis.names``: "Tracey", "Okafor", "Aldhelm's");
- ``named-organisation``: a configured organisation or place term (``quotes.identifying_terms``), whole words,
  any case, curly or straight apostrophes alike ("St Aldhelm’s Hospital" matches "St Aldhelm's Hospital");
- ``named-entity``: a person, place or facility found by a trained spaCy pipeline, only when one is configured
  (``quotes.ner_model``) and installed.

:class:`Identifier` carries what the checks need from the corpus (the words it writes in lower case, the names
found in it), so a label or keyword in lower case ("dr okafor", "tracey") is recognised by the names the corpus's
answers contain.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pipeline.analysis.names import NameFinder, base_form

_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# a run that starts like a UK number; its digits are counted afterwards
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+\s?44\s?(?:\(0\)\s?)?|\(?0)[\d\s().-]{7,16}\d(?!\d)")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])")
TITLES = ("Dr", "Mr", "Mrs", "Ms", "Miss", "Mx", "Prof", "Professor", "Cllr", "Councillor", "Sir", "Dame", "Lord",
          "Lady", "Rev", "Revd", "Sister", "Matron", "Nurse", "Father")
_NAME_WORD = r"[A-Z][A-Za-z]*(?:['’-][A-Z]?[A-Za-z]+)*"
_TITLED_NAME = re.compile(rf"\b(?:{'|'.join(TITLES)})\.?\s+(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})*)")
# titles that stand only before a name, so one in a keyword means a name was there ("dr okafor"); "councillor"
# or "sister" alone are ordinary words in a keyword
KEYWORD_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "cllr", "rev", "revd", "sir", "dame"})
_REDACTED = re.compile(r"^x{2,}$", re.IGNORECASE)  # "Dr XXXX": a redacted name is still a name's place

FLAG_ORDER = ("email", "phone", "postcode", "titled-name", "untitled-name", "named-organisation", "named-entity")
NER_LABELS = frozenset({"PERSON", "GPE", "LOC", "FAC"})


def _is_uk_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip().startswith("+"):
        if not digits.startswith("44"):
            return False
        national = digits[2:]
        national = national.removeprefix("0")  # "+44 (0)20 ..."
    else:
        national = digits[1:]  # drop the trunk 0
    return len(national) in (9, 10) and national[0] in "12378"


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _straight(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def titled_names(text: str) -> list[str]:
    """The words of the names after a title ("Sister Bridget O'Connor" -> "Bridget", "O'Connor"); "the Dr. Then
    we left" is a title ending a sentence, not a name."""
    stop_words = _stop_words()
    words = []
    for match in _TITLED_NAME.finditer(text):
        name = match.group("name").split()
        if name[0].lower() not in stop_words:
            words += [w for w in name if w.lower() not in stop_words]
    return words


class Identifier:
    """The identifiability check of one run: configured terms, public names, the corpus's own words, and a trained
    NER pipeline when one is given (``ner``: a loaded spaCy ``Language`` with an ``ner`` component)."""

    def __init__(self, terms: Sequence[str] = (), public: Sequence[str] = (), corpus_texts: Iterable[str] = (),
                 ner=None):
        texts = list(corpus_texts)
        self.terms = [_straight(t.strip()) for t in terms if t.strip()]
        self.finder = NameFinder(texts, public)
        self.ner = ner
        self.name_words: set[str] = set()  # lower-cased name words seen in the corpus, for labels and keywords
        for text in texts:
            self.name_words |= {base_form(w) for w in self.finder.names(text) + titled_names(text)}
        common = self.finder.lower_words
        self.name_words |= {base_form(w) for term in self.terms for w in re.findall(r"[A-Za-z'’]+", term)
                            if not self.finder.is_common(base_form(w), False) and base_form(w) not in common}

    def flags(self, text: str) -> tuple[str, ...]:
        """Which kinds of possibly identifying detail ``text`` contains, in ``FLAG_ORDER``."""
        found: set[str] = set()
        if _EMAIL.search(text):
            found.add("email")
        if any(_is_uk_phone(match.group()) for match in _PHONE_CANDIDATE.finditer(text)):
            found.add("phone")
        if _POSTCODE.search(text):
            found.add("postcode")
        titled = titled_names(text)
        if titled:
            found.add("titled-name")
        named = {w.lower() for w in titled}
        if any(w.lower() not in named for w in self.finder.names(text)):
            found.add("untitled-name")
        straight = _straight(text)
        if any(re.search(rf"(?<!\w){re.escape(term)}(?!\w)", straight, flags=re.IGNORECASE) for term in self.terms):
            found.add("named-organisation")
        if self.ner is not None and any(ent.label_ in NER_LABELS for ent in self.ner(text).ents):
            found.add("named-entity")
        return tuple(flag for flag in FLAG_ORDER if flag in found)

    def names_in_phrase(self, phrase: str) -> bool:
        """Whether a label or keyword (any case) holds a name: a name word the corpus contains, a title, a
        redacted name, a configured term or anything ``flags`` finds."""
        words = [base_form(w) for w in re.findall(r"[A-Za-z][A-Za-z'’]*", phrase)]
        if any(w in self.name_words or w in KEYWORD_TITLES or _REDACTED.match(w) for w in words):
            return True
        return bool(self.flags(phrase))


def identifiability_flags(text: str, terms: Sequence[str] = ()) -> tuple[str, ...]:
    """Flags of ``text`` judged on its own (no corpus): see :class:`Identifier`."""
    return Identifier(terms, corpus_texts=[text]).flags(text)


def load_ner(model: str | None) -> tuple[object | None, list[str]]:
    """(the trained spaCy pipeline ``model``, warnings): None and a warning when it is not installed."""
    if not model:
        return None, []
    import spacy

    try:
        nlp = spacy.load(model, exclude=["parser", "lemmatizer", "textcat"])
    except (OSError, ImportError, ValueError) as exc:
        return None, [f"quotes.ner_model: cannot load spaCy pipeline '{model}' ({type(exc).__name__}); "
                      "identifiability checked without statistical NER"]
    if "ner" not in nlp.pipe_names:
        return None, [f"quotes.ner_model: spaCy pipeline '{model}' has no 'ner' component; statistical NER skipped"]
    return nlp, []
