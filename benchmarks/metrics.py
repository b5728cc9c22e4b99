"""Scores for themes and category codes against gold labels, computed the same way for every method.

Conventions (also stated in docs/benchmarks.md):

- Partition scores (NMI, AMI, ARI) compare a method's theme ids with the FIRST gold label; the unassigned
  theme (-1) is one more cluster, so leaving rows out is not free.
- Category scores: a segment without a category (an outlier, or a theme the mapper calls emergent) is wrong.
  Rule "first": correct only if the category equals the first gold label. Rule "any": correct if it is among
  the segment's gold labels (multi-label sets). Macro-F1 averages over the gold classes present in the
  evaluated rows, so a gold class that nothing maps to scores 0.
- Topic words: the top-10 c-TF-IDF words of each theme over the same texts and the same vectoriser for every
  method; NPMI uses document co-occurrence in those texts; diversity is the share of unique words.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import combinations

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, f1_score, normalized_mutual_info_score

UNASSIGNED = -1
NO_CATEGORY = "\x00unassigned"  # never a gold label; stands for "no category" in F1


def partition_scores(gold_first: Sequence[str], labels: Sequence[Hashable]) -> dict[str, float]:
    """NMI, AMI and ARI of a partition against the first gold labels (unassigned is a cluster of its own)."""
    gold = list(gold_first)
    predicted = [str(label) for label in labels]
    return {
        "nmi": float(normalized_mutual_info_score(gold, predicted)),
        "ami": float(adjusted_mutual_info_score(gold, predicted)),
        "ari": float(adjusted_rand_score(gold, predicted)),
    }


def effective_gold(gold: Sequence[Sequence[str]], predicted: Sequence[str | None], rule: str) -> list[str]:
    """The gold label each prediction is judged against: the first, or the predicted one when it is among them."""
    if rule not in ("first", "any"):
        raise ValueError(f"rule must be 'first' or 'any', got {rule!r}")
    if rule == "first":
        return [labels[0] for labels in gold]
    return [category if category in labels else labels[0] for labels, category in zip(gold, predicted)]


def category_scores(gold: Sequence[Sequence[str]], predicted: Sequence[str | None], rule: str = "any"
                    ) -> dict[str, float | int]:
    """Macro-F1, accuracy, gold classes hit and unassigned share of per-segment categories (None = unassigned)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold rows but {len(predicted)} predictions")
    truth = effective_gold(gold, predicted, rule)
    guess = [category if category is not None else NO_CATEGORY for category in predicted]
    classes = sorted(set(truth))
    per_class = f1_score(truth, guess, labels=classes, average=None, zero_division=0)
    hits = {t for t, g in zip(truth, guess) if t == g}
    n = max(len(truth), 1)
    return {
        "macro_f1": float(np.mean(per_class)) if classes else 0.0,
        "accuracy": sum(t == g for t, g in zip(truth, guess)) / n,
        "classes_hit": len(hits),
        "n_classes": len(classes),
        "unassigned_share": sum(category is None for category in predicted) / n,
    }


def majority_categories(gold_first: Sequence[str], labels: Sequence[Hashable]) -> list[str | None]:
    """Each theme takes its members' most common first gold label (an optimistic, label-peeking reference)."""
    by_theme: dict[Hashable, dict[str, int]] = {}
    for label, gold in zip(labels, gold_first):
        counts = by_theme.setdefault(label, {})
        counts[gold] = counts.get(gold, 0) + 1
    best = {label: max(sorted(counts), key=counts.__getitem__) for label, counts in by_theme.items()}
    return [None if label == UNASSIGNED else best[label] for label in labels]


def seed_stability(labels_a: Sequence[Hashable], labels_b: Sequence[Hashable]) -> float:
    """ARI between two seeds' partitions over all rows, unassigned (-1) counted as a label."""
    return float(adjusted_rand_score([str(x) for x in labels_a], [str(x) for x in labels_b]))


def count_themes(labels: Sequence[Hashable]) -> int:
    return len({label for label in labels if label != UNASSIGNED})


def topic_diversity(topic_words: Mapping[Hashable, Sequence[str]], top_n: int = 10) -> float:
    """Share of unique words among all themes' top-n words (1 = no word repeated across themes)."""
    words = [word for topic in topic_words.values() for word in list(topic)[:top_n]]
    return len(set(words)) / len(words) if words else 0.0


def npmi_coherence(topic_words: Mapping[Hashable, Sequence[str]], documents: Sequence[str],
                   analyzer: Callable[[str], list[str]], top_n: int = 10) -> float:
    """Mean NPMI over word pairs of each theme's top-n words, from document co-occurrence in ``documents``.

    A pair that never co-occurs scores -1; themes with fewer than two known words are skipped.
    """
    doc_sets = [set(analyzer(document)) for document in documents]
    n_docs = len(doc_sets)
    if not n_docs:
        return float("nan")
    vocabulary = {word for topic in topic_words.values() for word in list(topic)[:top_n]}
    postings = {word: {i for i, words in enumerate(doc_sets) if word in words} for word in vocabulary}
    per_topic: list[float] = []
    for topic in topic_words.values():
        known = [word for word in list(topic)[:top_n] if postings.get(word)]
        pairs = []
        for first, second in combinations(known, 2):
            joint = len(postings[first] & postings[second]) / n_docs
            if joint == 0:
                pairs.append(-1.0)
                continue
            p_first, p_second = len(postings[first]) / n_docs, len(postings[second]) / n_docs
            if joint == 1.0:
                pairs.append(1.0)
                continue
            pairs.append(math.log(joint / (p_first * p_second)) / -math.log(joint))
        if pairs:
            per_topic.append(float(np.mean(pairs)))
    return float(np.mean(per_topic)) if per_topic else float("nan")


def top_words(texts: Sequence[str], labels: Sequence[Hashable], vectorizer, top_n: int = 10
              ) -> dict[Hashable, list[str]]:
    """Top-n c-TF-IDF words per theme (BERTopic's ClassTfidfTransformer), unassigned rows left out."""
    from bertopic.vectorizers import ClassTfidfTransformer

    themes = sorted({label for label in labels if label != UNASSIGNED}, key=str)
    if not themes:
        return {}
    joined = [" ".join(t for t, label in zip(texts, labels) if label == theme) for theme in themes]
    counts = vectorizer.fit_transform(joined)
    weights = ClassTfidfTransformer().fit_transform(counts).toarray()
    vocabulary = np.asarray(vectorizer.get_feature_names_out())
    result = {}
    for theme, row in zip(themes, weights):
        order = np.argsort(-row, kind="stable")[:top_n]
        result[theme] = [str(vocabulary[j]) for j in order if row[j] > 0]
    return result


def paired_f1_difference(gold: Sequence[Sequence[str]], a: Sequence[str | None], b: Sequence[str | None],
                         rule: str = "any", n_resamples: int = 1000, seed: int = 0) -> dict[str, float]:
    """Macro-F1 of ``a`` minus that of ``b`` on the same rows, with a 95% paired bootstrap interval.

    Rows are resampled together for both, so the interval reflects only how much the difference depends on which
    answers happened to be sampled. A change "loses" on a set when the whole interval lies below zero."""
    if not (len(gold) == len(a) == len(b)):
        raise ValueError("gold and both predictions must have the same length")
    gold = list(gold)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_resamples):
        rows = rng.integers(0, len(gold), len(gold))
        picked = [gold[i] for i in rows]
        diffs.append(category_scores(picked, [a[i] for i in rows], rule)["macro_f1"]
                     - category_scores(picked, [b[i] for i in rows], rule)["macro_f1"])
    point = category_scores(gold, a, rule)["macro_f1"] - category_scores(gold, b, rule)["macro_f1"]
    low, high = np.quantile(diffs, [0.025, 0.975])
    return {"difference": float(point), "low": float(low), "high": float(high), "n_resamples": n_resamples}
