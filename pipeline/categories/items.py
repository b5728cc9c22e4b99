"""How a closed category is represented and compared with text, shared by the theme and mapping stages.

A category is a set of *items*, each one embedding: its label in a few prompt templates ("a comment about
<label>", ...) averaged; each sentence or ``;``-separated clause of its description; each keyword. A text's
similarity to a category is the MAX cosine over the category's items (max beat mean clearly in the evaluation
notes: a comment usually touches one facet of a category, not all of them).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np

from pipeline.categories.lemmas import content_lemmas
from pipeline.core.records import Category
from pipeline.core.vectors import unit_rows

LABEL_TEMPLATES: tuple[str, ...] = (
    "{}",
    "a comment about {}",
    "the problem is {}",
)


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


def core_items(items: Sequence[CategoryItems], categories: Sequence[Category]) -> list[CategoryItems]:
    """Each category's label and description items without its keywords: what the category *is*, as opposed to
    words for its setting ("local authority", "council budgets") that a theme about something else may share."""
    core = []
    for category_items, category in zip(items, categories):
        keep = len(category_items.texts) - len([k for k in category.keywords if k.strip()])
        core.append(CategoryItems(texts=category_items.texts[:keep], vectors=category_items.vectors[:keep],
                                  lemmas=category_items.lemmas[:keep]))
    return core
