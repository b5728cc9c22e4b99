"""How a closed category is represented and compared with text, shared by the theme and mapping stages.

A category is a set of *items*, each one embedding: its label in a few prompt templates ("a comment about
<label>", ...) averaged; each sentence or ``;``-separated clause of its description; each keyword. A text's
similarity to a category is the MAX cosine over the category's items (max beat mean clearly in the evaluation
notes: a comment usually touches one facet of a category, not all of them).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from pipeline.records import Category
from pipeline.embed import unit_rows

LABEL_TEMPLATES: tuple[str, ...] = (
    "{}",
    "a comment about {}",
    "the problem is {}",
)

# Written by us: neutral sentences on topics no survey about health-service planning is about. They give the
# scores an unrelated theme gets, one side of the emergent-threshold calibration.
OFF_TOPIC_SENTENCES: tuple[str, ...] = (
    "The recipe needs two eggs and a cup of flour.",
    "We went hiking in the mountains last summer.",
    "The football match ended in a goalless draw.",
    "My cat likes to sleep on the windowsill in the afternoon.",
    "The train to the coast was delayed by twenty minutes.",
    "She painted the kitchen a pale shade of yellow.",
    "The museum opened a new exhibition of ancient coins.",
    "Tomatoes grow best in a sunny, sheltered spot.",
    "He practises the violin for an hour every evening.",
    "The bakery on the corner sells fresh bread at dawn.",
    "A thunderstorm knocked out the power overnight.",
    "The novel follows two sisters across three decades.",
    "Our neighbours are building an extension at the back.",
    "The river freezes over in a very cold winter.",
    "I prefer tea to coffee in the mornings.",
    "The band released their third album last month.",
    "Penguins huddle together to stay warm.",
    "The chess tournament lasted four days.",
    "He lost his umbrella on the bus again.",
    "The garden fence needs a fresh coat of paint.",
    "The telescope showed the rings of Saturn clearly.",
    "She knitted a scarf for her grandson.",
    "The ferry crossing was calm and sunny.",
    "The recipe calls for fresh basil and garlic.",
    "Our dog barks at the postman every morning.",
    "The mountain village has one small shop.",
    "They danced until midnight at the wedding.",
    "The old clock in the hall chimes every hour.",
    "A new coffee shop opened near the station.",
    "The children built a sandcastle on the beach.",
    "The film was too long and the ending was weak.",
    "Bees visit the lavender all through July.",
    "He repaired the bicycle puncture with a patch kit.",
    "The choir rehearses in the church hall on Thursdays.",
    "Snow fell heavily across the hills overnight.",
    "The crossword was harder than usual today.",
)


# Labels of a closed question's catch-all option. Such a category names no topic (its words, "Other", resemble
# nothing in particular), so no answer is coded to it by similarity; the answers the listed topics miss, the
# emergent themes, are what it stands for.
RESIDUAL_LABELS = frozenset({
    "other", "others", "other (please specify)", "other - please specify", "other, please specify", "something else",
    "none of the above", "none of these", "none", "not listed", "can't tell", "cannot tell", "can not tell",
    "don't know", "do not know", "not sure", "unclear", "n/a", "misc", "miscellaneous", "general / other",
})


def is_residual(category: Category) -> bool:
    """Whether ``category`` is the catch-all option: set in categories.yaml, else recognised from its label."""
    if category.residual is not None:
        return bool(category.residual)
    label = re.sub(r"\s+", " ", category.label.strip().lower().replace("\u2019", "'")).rstrip(".:")
    return label in RESIDUAL_LABELS


def topical(categories: Sequence[Category]) -> list[Category]:
    """The categories that name a topic (every one but the catch-all options)."""
    return [category for category in categories if not is_residual(category)]


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


def keyword_overlap(theme_lemmas: set[str], category_lemmas: set[str]) -> float:
    """Share of the theme's keyword lemmas that are among the category's lemmas (0 when it has none)."""
    if not theme_lemmas:
        return 0.0
    return len(theme_lemmas & category_lemmas) / len(theme_lemmas)


def _description_items(description: str) -> list[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+(?=[A-Z])|;\s*|\n+", description or "") if part.strip()]


@dataclasses.dataclass(frozen=True)
class CategoryItems:
    """A category's item texts, their embeddings (one row per item) and the lemmas of each item."""

    texts: tuple[str, ...]
    vectors: np.ndarray
    lemmas: tuple[frozenset[str], ...]

    @property
    def all_lemmas(self) -> set[str]:
        return set().union(*self.lemmas) if self.lemmas else set()


def embed_categories(categories: Sequence[Category], embedder) -> list[CategoryItems]:
    """Embed every category's items (label in templates averaged, description parts, keywords) in one batch."""
    plans: list[list[list[str]]] = []  # per category, per item: the texts whose mean embedding is the item
    for category in categories:
        label = category.label.strip() or category.category_id
        items = [[template.format(label) for template in LABEL_TEMPLATES]]
        items += [[part] for part in _description_items(category.description)]
        items += [[keyword.strip()] for keyword in category.keywords if keyword.strip()]
        plans.append(items)
    flat = [text for items in plans for item in items for text in item]
    vectors = np.asarray(embedder.encode(flat), dtype=np.float32) if flat else np.zeros((0, 0), np.float32)
    result: list[CategoryItems] = []
    cursor = 0
    for category, items in zip(categories, plans):
        rows = []
        for item in items:
            rows.append(unit_rows(vectors[cursor:cursor + len(item)].mean(axis=0)).astype(np.float32))
            cursor += len(item)
        # the label item's words are the label's, not the template filler's
        texts = (category.label,) + tuple(item[0] for item in items[1:])
        result.append(CategoryItems(texts=texts, vectors=np.vstack(rows),
                                    lemmas=tuple(frozenset(content_lemmas([t])) for t in texts)))
    return result


def item_similarity(vectors: np.ndarray, items: Sequence[CategoryItems]) -> np.ndarray:
    """(n_texts, n_categories) max cosine of each row of ``vectors`` over each category's items."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    out = np.zeros((vectors.shape[0], len(items)), dtype=np.float64)
    for j, category_items in enumerate(items):
        out[:, j] = (vectors @ category_items.vectors.T).max(axis=1)
    return out


# Off-topic sentences in a survey answer's register (what respondents write that is about nothing in the closed
# list): the null for the zero-shot claim threshold, whose segments are answers, not themes.
SURVEY_REGISTER_NULL: tuple[str, ...] = (
    "The weather was lovely on the day we met.", "I filled this in on my phone during lunch.",
    "Thank you for asking my views.", "The questionnaire took about ten minutes to complete.",
    "My favourite food is pasta with tomato sauce.", "We moved offices to the third floor last spring.",
    "I have been in this job for six years.", "The car park is being resurfaced next month.",
    "Please send me a copy of the results.", "Our team won the quiz night at the local pub.",
    "I am not sure what this question is asking.", "The train was late again this morning.",
    "We painted the meeting room a brighter colour.", "My children started at a new school in September.",
    "The coffee machine on our floor is broken.", "I prefer to answer surveys by email.",
    "The printer keeps running out of paper.", "I enjoy walking in the hills at weekends.",
    "There was a fire drill in the building yesterday.", "The website font is too small to read easily.",
    "Some of the questions were repeated twice.", "I would like the results broken down by region.",
    "We celebrated a colleague's retirement last week.", "The canteen now serves vegetarian options.",
)


def core_items(items: Sequence[CategoryItems], categories: Sequence[Category]) -> list[CategoryItems]:
    """Each category's label and description items without its keywords: what the category *is*, as opposed to
    words for its setting ("local authority", "council budgets") that a theme about something else may share."""
    core = []
    for category_items, category in zip(items, categories):
        keep = len(category_items.texts) - len([k for k in category.keywords if k.strip()])
        core.append(CategoryItems(texts=category_items.texts[:keep], vectors=category_items.vectors[:keep],
                                  lemmas=category_items.lemmas[:keep]))
    return core


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
