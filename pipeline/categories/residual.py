"""The closed list's catch-all option ("Other", "None of the above"): it names no topic, so nothing is coded to it by
similarity; the emergent themes are what it stands for."""
from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.core.records import Category

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
