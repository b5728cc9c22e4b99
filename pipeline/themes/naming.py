"""Step 5 of a theme fit: a short label for each theme found without the closed list (a category theme keeps its
category's label).

Up to 3 keywords that at least 10% of the theme's members use, no two sharing a word stem, joined by " / "; domain
stop words (``stop_words``) may be keywords but enter a label only when distinctive (twice as common in the theme
as in the corpus).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


class KeywordLabeler:
    """Labels from the keywords of themes over one corpus; members' lemma sets are computed once per corpus."""

    def __init__(self, texts: Sequence[str], analyzer: Callable[[str], list[str]], stop_words: Sequence[str]):
        self.tokens = [set(analyzer(t)) for t in texts]
        self.stop = {w.lower() for w in stop_words}

    def label(self, words: list[str], members: np.ndarray) -> str:
        """2-3 keywords that several members use (no one-off phrase), not overlapping, domain stop words only
        when distinctive."""
        member_sets = [self.tokens[i] for i in np.flatnonzero(members)]
        min_docs = max(2, int(np.ceil(0.1 * len(member_sets))))
        words = words[:max(3, len(words) // 2 + 1)]  # the label comes from the top keywords only
        common = [w for w in words if sum(w in m for m in member_sets) >= min_docs]
        chosen: list[str] = []
        for word in common + [w for w in words if w not in common]:
            if any(a[:5] == b[:5] for c in chosen for a in word.split() for b in c.split()):
                continue  # same word or a near form of one already in the label (political / politic)
            if set(word.split()) & self.stop and not self.distinctive(word, members):
                continue
            chosen.append(word)
            if len(chosen) == 3 or (len(chosen) == 2 and word not in common):
                break
        return " / ".join(chosen) or (words[0] if words else "(no keywords)")

    def distinctive(self, word: str, members: np.ndarray) -> bool:
        has = np.array([word in tokens for tokens in self.tokens])
        inside, overall = has[members].mean(), has.mean()
        return bool(overall > 0 and inside >= 0.3 and inside >= 2 * overall)
