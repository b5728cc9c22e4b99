"""Step 4 of a theme fit: BERTopic (manual mode) turns the partition into keywords, and reduces any outliers.

BERTopic runs with ``BaseDimensionalityReduction`` + ``BaseCluster`` + ``y=`` (the partition is ours) and computes
c-TF-IDF over spaCy lemmas (unigrams and bigrams of adjacent content words, English stop words removed). Any -1
rows go through ``reduce_outliers``; ``update_topics`` then runs KeyBERTInspired + MaximalMarginalRelevance once.
Every outlier move is logged (score = cosine to the theme's centroid).

BERTopic warns on every custom representation list and logs at INFO; ``quiet_bertopic`` silences both for the
duration of a call only, so the caller's warning filters and logging levels are left as they were.
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from pipeline.categories import LemmaAnalyzer
from pipeline.core.records import UNASSIGNED, Reassignment
from pipeline.core.vectors import unit_rows
from pipeline.themes.bertopic_adapter import memo_backend


@contextlib.contextmanager
def quiet_bertopic() -> Iterator[None]:
    """BERTopic's warnings and log lines off inside the block; the logger's level and state restored after it."""
    logger = logging.getLogger("BERTopic")
    level, disabled = logger.level, logger.disabled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)
            logger.disabled = disabled


def make_vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    # domain stop words stay in the vocabulary (they may be a theme's keyword); the labels keep them out of labels
    return CountVectorizer(analyzer=LemmaAnalyzer())


def representation_models(n_keywords: int, random_state: int):
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

    return [KeyBERTInspired(top_n_words=2 * n_keywords, nr_repr_docs=5, nr_candidate_words=max(30, 3 * n_keywords),
                            random_state=random_state),
            MaximalMarginalRelevance(diversity=0.3, top_n_words=n_keywords)]


def fit_bertopic(texts: Sequence[str], X: np.ndarray, labels: np.ndarray, embedder, vectorizer, n_keywords: int):
    """A BERTopic model fitted on our partition ``labels``; returns (model, its topic per text)."""
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    model = BERTopic(embedding_model=memo_backend(embedder, texts, X), umap_model=BaseDimensionalityReduction(),
                     hdbscan_model=BaseCluster(), vectorizer_model=vectorizer,
                     ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True), top_n_words=n_keywords)
    with quiet_bertopic():
        topics, _ = model.fit_transform(texts, embeddings=X, y=labels)
    return model, [int(t) for t in topics]


def reduce_outliers(model, texts: Sequence[str], X: np.ndarray, topics: list[int], ids: Sequence[str], *,
                    strategy: str, threshold: float, vectorizer, representation,
                    n_keywords: int) -> tuple[list[int], list[Reassignment]]:
    """reduce_outliers on the -1 rows, then update_topics, which also runs the representation models once
    (BERTopic was fitted with c-TF-IDF only so KeyBERTInspired does not run twice)."""
    new, moves = list(topics), []
    with quiet_bertopic():
        if UNASSIGNED in topics and len(set(topics) - {UNASSIGNED}) > 0:
            new = [int(t) for t in model.reduce_outliers(texts, topics, strategy=strategy, embeddings=X,
                                                         threshold=threshold)]
            vectors = {t: unit_rows(X[np.asarray(topics) == t].mean(axis=0), np.float32)
                       for t in set(topics) - {UNASSIGNED}}
            moves = [Reassignment(ids[i], UNASSIGNED, new[i], strategy, round(float(X[i] @ vectors[new[i]]), 4))
                     for i in range(len(topics)) if topics[i] == UNASSIGNED and new[i] != UNASSIGNED]
        model.update_topics(texts, topics=new, top_n_words=n_keywords, vectorizer_model=vectorizer,
                            ctfidf_model=model.ctfidf_model, representation_model=representation)
    return new, moves
