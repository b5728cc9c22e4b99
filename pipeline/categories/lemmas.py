"""Lemmas without a trained model: spaCy's blank English tokenizer and the lookup table of spacy-lookups-data."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=1)
def lemma_pipeline():
    """spaCy's blank English pipeline with the lookup lemmatizer (spacy-lookups-data); no trained model needed."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def lemma_table():
    """The lookup lemmatizer's table: applying it to tokenizer output gives the pipeline's lemmas without
    building Docs through every component (what the theme analyzer and label quality need, at corpus scale)."""
    return lemma_pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


def content_lemmas(texts: Iterable[str]) -> set[str]:
    """Lower-cased lookup lemmas of the words in ``texts``, without stop words, punctuation or numbers."""
    lemmas: set[str] = set()
    nlp = lemma_pipeline()
    for doc in nlp.pipe(str(text).lower() for text in texts):
        for token in doc:
            if token.is_stop or token.is_punct or token.is_space or token.like_num or len(token.text) < 2:
                continue
            lemma = token.lemma_.lower().strip()
            if lemma and not lemma_pipeline().vocab[lemma].is_stop:
                lemmas.add(lemma)
    return lemmas


class LemmaAnalyzer:
    """CountVectorizer analyzer: lower-cased lookup lemmas of content words (English stop words, numbers and
    punctuation out), plus bigrams of content words adjacent in the text. A removed stop word breaks a bigram,
    so no phrase joins words the writer never put side by side ("believe conversation").

    BERTopic's c-TF-IDF hands it one document per theme (all the theme's segments joined, millions of characters
    at 100k segments), so text is tokenized in whitespace-bounded chunks, below spaCy's max_length, and
    lemmatized by the lookup table directly (what the lookup lemmatizer does per token)."""

    chunk_chars = 100_000

    def __call__(self, text: str) -> list[str]:
        nlp = lemma_pipeline()
        table = lemma_table()
        terms: list[str] = []
        for chunk in _whitespace_chunks(str(text).lower(), self.chunk_chars):
            previous: str | None = None
            for token in nlp.tokenizer(chunk):
                lemma = table.get(token.text, token.text).lower().strip() \
                    if token.is_alpha and len(token.text) > 1 else ""
                if not lemma or token.is_stop or nlp.vocab[lemma].is_stop:
                    previous = None
                    continue
                terms.append(lemma)
                if previous is not None:
                    terms.append(f"{previous} {lemma}")
                previous = lemma
        return terms


def _whitespace_chunks(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of at most ~``size`` characters, each cut at a space."""
    chunks, start = [], 0
    while len(text) - start > size:
        cut = text.rfind(" ", start, start + size)
        cut = start + size if cut <= start else cut
        chunks.append(text[start:cut])
        start = cut
    chunks.append(text[start:])
    return chunks
