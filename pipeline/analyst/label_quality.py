"""Label quality per theme (:func:`label_quality`), one dict per theme:

- ``coherence``: mean NPMI over pairs of the first 10 content words of the theme's keywords (lower-cased lookup
  lemmas, stop words dropped, phrases split into words: whole phrases rarely recur in short answers), each
  segment one document (above ``DOCUMENT_SAMPLE`` segments, a seeded sample of them). -1 = never together, 0 = as by chance, 1 = always together. On a small corpus of short
  answers most word pairs never meet, so absolute NPMI runs low; the floor is therefore calibrated on the corpus:
  the 95th percentile of the same score for 200 random sets of as many content words, drawn by document
  frequency (``coherence_floor``; pass ``min_coherence`` to fix it instead). Keywords that do not beat the floor
  co-occur no better than random words.
- ``distinctiveness``: 1 - the highest cosine between the theme's centroid and another theme's. Below
  ``min_distinctiveness`` (0.05, i.e. a centroid cosine above 0.95) it is hard to tell from its neighbour.
- ``cohesion``: mean cosine of the theme's members to its centroid. Below ``min_cohesion`` (0.3) its members
  are loosely related.
- ``weak``: True when coherence does not beat its floor or another score falls below its threshold;
  ``weak_reason`` says which and by how much.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Mapping, Sequence

import numpy as np

from pipeline.analyst.stable_ids import theme_centroids, theme_rows
from pipeline.categories import lemma_pipeline, lemma_table
from pipeline.core.records import UNASSIGNED, Assignment, Segment, Theme

N_COHERENCE_WORDS = 10
DOCUMENT_SAMPLE = 50_000  # coherence of larger corpora is counted on a seeded sample of this many segments


def lemma_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased lookup lemmas of the word tokens of each text (lookup lemmas are case-sensitive).

    The lookup lemmatizer is a table look-up per token, so it is applied directly to the tokenizer's output
    instead of building full Docs through the pipeline (4x faster on 10k segments, same lemmas)."""
    nlp = lemma_pipeline()
    table = lemma_table()
    return [[table.get(token.text, token.text).lower() for token in doc if token.is_alpha]
            for doc in nlp.tokenizer.pipe(t.lower() for t in texts)]


def npmi_coherence(keywords: Sequence[str], documents: Sequence[set[str]]) -> float:
    """Mean normalised PMI over keyword pairs; ``keywords`` and ``documents`` already lemmatised."""
    return _npmi([tuple(k.split()) for k in keywords if k.strip()], _inverted_index(documents), len(documents))


def _inverted_index(documents: Sequence[set[str]]) -> dict[str, set[int]]:
    index: dict[str, set[int]] = {}
    for position, doc in enumerate(documents):
        for word in doc:
            index.setdefault(word, set()).add(position)
    return index


def _npmi(terms: Sequence[tuple[str, ...]], index: Mapping[str, set[int]], n_docs: int) -> float:
    if n_docs == 0 or len(terms) < 2:
        return float("nan")
    docs = [set.intersection(*(index.get(word, set()) for word in term)) for term in terms]
    scores = []
    for i, j in itertools.combinations(range(len(terms)), 2):
        p_i, p_j, p_ij = len(docs[i]) / n_docs, len(docs[j]) / n_docs, len(docs[i] & docs[j]) / n_docs
        if p_ij == 0:
            scores.append(-1.0)
        elif p_ij == 1:
            scores.append(1.0)
        else:
            scores.append(math.log(p_ij / (p_i * p_j)) / -math.log(p_ij))
    return float(np.mean(scores))


def content_words(keywords: Sequence[str], n: int = N_COHERENCE_WORDS) -> list[str]:
    """The first ``n`` distinct non-stop-word lemmas of a theme's keywords (phrases split into words)."""
    stop_words = lemma_pipeline().Defaults.stop_words
    words = [w for phrase in lemma_tokens(keywords) for w in phrase if w not in stop_words and len(w) > 1]
    return list(dict.fromkeys(words))[:n]


def random_coherence(documents: Sequence[set[str]], n_words: int, quantile: float = 0.95, n_sets: int = 200,
                     random_state: int | None = 0) -> float:
    """The ``quantile`` of NPMI over random content-word sets of ``n_words``, drawn by document frequency."""
    index = _inverted_index(documents)
    stop_words = lemma_pipeline().Defaults.stop_words
    vocabulary = sorted(w for w in index if w not in stop_words and len(w) > 1)
    if len(vocabulary) < max(n_words, 2):
        return float("nan")
    weights = np.array([len(index[w]) for w in vocabulary], dtype=float)
    rng = np.random.default_rng(random_state)
    scores = [_npmi([(w,) for w in rng.choice(vocabulary, n_words, replace=False, p=weights / weights.sum())],
                    index, len(documents)) for _ in range(n_sets)]
    return float(np.quantile(scores, quantile))


def document_rows(n_segments: int, random_state: int | None = 0) -> np.ndarray:
    """The segments coherence is counted over: all of them, or above ``DOCUMENT_SAMPLE`` a seeded sample of that
    many (word and pair document frequencies are shares, which a sample of 50,000 estimates closely)."""
    if n_segments <= DOCUMENT_SAMPLE:
        return np.arange(n_segments)
    return np.sort(np.random.default_rng(random_state).choice(n_segments, DOCUMENT_SAMPLE, replace=False))


def label_quality(
    themes: Sequence[Theme], assignments: Sequence[Assignment], segments: Sequence[Segment], embeddings: np.ndarray,
    tokenized_docs: Sequence[Sequence[str]] | None = None, *, min_coherence: float | None = None,
    min_distinctiveness: float = 0.05, min_cohesion: float = 0.3, random_state: int | None = 0,
) -> dict[int, dict[str, Any]]:
    """Coherence, distinctiveness and cohesion of each non-noise theme, with a ``weak`` flag and its reason.

    ``assignments``, ``segments``, ``embeddings`` (and ``tokenized_docs`` if given) are aligned row by row.
    ``min_coherence=None`` calibrates the coherence floor on this corpus (see the module docstring).
    """
    coded = [t for t in themes if not t.noise and t.theme_id != UNASSIGNED]
    centroids = theme_centroids(assignments, embeddings, [t.theme_id for t in coded], unit_members=True)
    rows = document_rows(len(segments), random_state)
    if tokenized_docs is None:
        tokenized_docs = lemma_tokens([segments[i].clean_text or segments[i].text for i in rows])
    elif len(rows) < len(tokenized_docs):
        tokenized_docs = [tokenized_docs[i] for i in rows]
    documents = [set(doc) for doc in tokenized_docs]
    index = _inverted_index(documents)
    words_of = {t.theme_id: content_words(t.keywords) for t in coded}
    floors: dict[int, float] = {}
    labels = np.array([a.theme_id for a in assignments])
    quality: dict[int, dict[str, Any]] = {}
    for theme in coded:
        words = words_of[theme.theme_id]
        if min_coherence is not None:
            floor = min_coherence
        elif len(words) not in floors:
            floor = floors[len(words)] = random_coherence(documents, len(words), random_state=random_state)
        else:
            floor = floors[len(words)]
        centroid = centroids.get(theme.theme_id)
        others = [c for other, c in centroids.items() if other != theme.theme_id]
        if centroid is None:
            distinctiveness = cohesion = float("nan")
        else:
            distinctiveness = 1.0 - max((float(centroid @ c) for c in others), default=0.0)
            cohesion = float((theme_rows(embeddings, labels == theme.theme_id, unit=True) @ centroid).mean())
        coherence = _npmi([(w,) for w in words], index, len(documents))
        reasons = [f"coherence {coherence:.2f} not above {floor:.2f}"] if coherence <= floor else []
        reasons += [f"{name} {value:.2f} < {low:.2f}" for name, value, low in
                    (("distinctiveness", distinctiveness, min_distinctiveness), ("cohesion", cohesion, min_cohesion))
                    if value < low]
        if centroid is None:
            reasons.append("no members")
        quality[theme.theme_id] = {"coherence": coherence, "coherence_floor": floor, "distinctiveness": distinctiveness,
                                   "cohesion": cohesion, "weak": bool(reasons), "weak_reason": "; ".join(reasons)}
    return quality
