"""Zero-shot claims: segments that clearly describe one closed category seed that category's theme.

A segment is claimed by its best category when its score (max cosine over the category's items, see
``pipeline.categories``) reaches a threshold calibrated for the embedder and the category list, AND it leads the
runner-up category by at least the corpus's median lead. The threshold is the higher of the NULL_QUANTILE
quantile of off-topic answers' best score (``SURVEY_REGISTER_NULL``) and the same quantile of the segments'
*runner-up* scores: in-domain text resembles every category a little, so a claim must beat that background,
not only unrelated text (the off-topic quantile alone gave 0.34 on the sample survey and let categories swallow
the politics and timescale answers). A category with fewer than ``min_claims`` claims seeds no theme.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.categories.items import embed_categories, item_similarity
from pipeline.categories.null_texts import SURVEY_REGISTER_NULL
from pipeline.core.records import Category

NULL_QUANTILE = 0.95


def category_similarity(embeddings: np.ndarray, categories: Sequence[Category], embedder) -> np.ndarray:
    """(n, n_categories): each row's max cosine over a category's items (``pipeline.categories``)."""
    return item_similarity(embeddings, embed_categories(categories, embedder)).astype(np.float32)


def calibrate_zeroshot_threshold(categories: Sequence[Category], embedder) -> tuple[float, dict]:
    """The NULL_QUANTILE quantile of off-topic sentences' best category score, for this model and category list."""
    null_best = category_similarity(embedder.encode(list(SURVEY_REGISTER_NULL)), categories, embedder).max(axis=1)
    threshold = float(np.quantile(null_best, NULL_QUANTILE))
    return threshold, {"method": f"q{NULL_QUANTILE:g} of {len(SURVEY_REGISTER_NULL)} off-topic sentences' best score",
                       "null_mean": float(null_best.mean()), "null_max": float(null_best.max()),
                       "threshold": threshold}


def claim_segments(scores: np.ndarray, categories: Sequence[Category], embedder,
                   min_similarity: float | None = None) -> tuple[np.ndarray, float, dict]:
    """Category index per segment (-1 = none), the threshold used, and how it was calibrated."""
    ranked = np.sort(scores, axis=1)
    best, runner_up = ranked[:, -1], ranked[:, -2] if scores.shape[1] > 1 else np.zeros(len(scores))
    margin = best - runner_up
    if min_similarity is None:
        null_threshold, calibration = calibrate_zeroshot_threshold(categories, embedder)
        background = float(np.quantile(runner_up, NULL_QUANTILE))
        threshold = max(null_threshold, background)
        min_margin = float(np.median(margin))
        calibration.update({"method": f"max(q{NULL_QUANTILE:g} of off-topic sentences' best score, "
                                      f"q{NULL_QUANTILE:g} of segments' runner-up category score); "
                                      "margin over the runner-up >= the median margin",
                            "runner_up_quantile": background, "min_margin": min_margin, "threshold": threshold})
    else:
        threshold, min_margin = float(min_similarity), 0.0
        calibration = {"method": "fixed by themes.zeroshot_min_similarity", "threshold": threshold, "min_margin": 0.0}
    claims = np.where((best >= threshold) & (margin >= min_margin), scores.argmax(axis=1), -1)
    # a category claiming one or two segments is not a theme yet: they join the free clustering instead
    min_claims = max(2, min(5, len(scores) // 20))
    counts = np.bincount(claims[claims >= 0], minlength=scores.shape[1])
    claims[np.isin(claims, np.flatnonzero((counts > 0) & (counts < min_claims)))] = -1
    calibration.update({"min_claims": min_claims, "n_claimed": int((claims >= 0).sum())})
    return claims, threshold, calibration
