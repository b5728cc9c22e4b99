"""Learning from the analyst's coded sample (issue 13): every segment coded from the analyst's codes combined with the
label-free prior, on the frozen sentence embeddings.

``TrainedCoder`` is the design that measured best in ``benchmarks/trained.py`` (docs/benchmarks.md):

1. Label-free prior: ``CategoryCoder`` (max-over-items cosine, two self-training rounds; used as it is) gives class
   probabilities for every code that has a definition and is not the catch-all option; the other codes (the
   catch-all option, a code the analyst added without a definition) get the uniform share. ``prior_floor`` of the
   uniform distribution is mixed in, so no code is impossible.
2. Supervised part: a class-balanced logistic regression (``C``) on the coded segments plus every category item
   vector (label in templates, description parts, keywords) as a pseudo-example of its code, weight
   ``item_weight``: the definitions are examples too.
3. Product of experts: ``score = (log p_sup + beta * log prior) / T``; ``beta`` is chosen among ``prior_weights``
   by stratified ``cv``-fold cross-validated log-loss on the analyst's own codes (a survey whose names say little
   learns to ignore the prior), then the temperature ``T`` is fitted on the same out-of-fold scores.
4. Analyst codes always win: a coded segment keeps its code (``source_ == "analyst"``, confidence 1).

The out-of-fold probabilities of step 3 are kept (``oof_proba_``): the accuracy report (``pipeline.analyst.accuracy``)
costs no extra fit.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import Field
from scipy.optimize import minimize_scalar
from scipy.special import softmax
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from pipeline.categories import CategoryCoder, embed_categories, is_residual
from pipeline.core.config import Bool, Float, Int, Seed
from pipeline.core.errors import PipelineError
from pipeline.core.params import ParameterConstraints, check_parameters
from pipeline.core.records import Category

ANALYST, TRAINED, LABEL_FREE = "analyst", "trained", "label-free"
PRIOR_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)


def has_definition(category: Category) -> bool:
    return bool(category.label.strip() or category.description.strip() or any(k.strip() for k in category.keywords))


def log_loss(scores: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-probability of ``y`` under softmax(``scores``)."""
    if not len(y):
        return 0.0
    p = softmax(scores, axis=1)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    result = minimize_scalar(lambda log_t: log_loss(scores / np.exp(log_t), y), bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def stratified_folds(y: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold id per row; each class dealt round-robin after a shuffle (a class with one row sits in one fold)."""
    folds = np.zeros(len(y), dtype=int)
    offset = 0
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        folds[rng.permutation(rows)] = (offset + np.arange(len(rows))) % n_folds
        offset += len(rows)
    return folds


def label_free_prior(embeddings: np.ndarray, categories: Sequence[Category], embedder, rounds: int = 2,
                     random_state: int = 0) -> tuple[np.ndarray, np.ndarray, list]:
    """(prior (n, C) unfloored, mask of the codes the prior speaks for, their CategoryItems).

    Reusable across refits while the code list is unchanged: pass it back as ``TrainedCoder.fit(..., prior=...)``."""
    categories = list(categories)
    speaks = np.array([has_definition(c) and not is_residual(c) for c in categories], dtype=bool)
    idx = np.flatnonzero(speaks)
    prior = np.zeros((len(embeddings), len(categories)))
    items: list = []
    if len(idx) >= 2:
        chosen = [categories[i] for i in idx]
        coder = CategoryCoder(n_self_training=rounds, random_state=random_state).fit(embeddings, chosen, embedder)
        scores = np.asarray(coder.scores_, dtype=float)
        prior[:, idx] = softmax(scores / 0.05, axis=1) if coder.n_rounds_ == 0 else scores  # similarities: to probabilities
        items = embed_categories(chosen, embedder)
    return prior, speaks, items


class TrainedCoder(BaseEstimator):
    """Code every segment from the analyst's coded sample combined with the label-free prior.

    Parameters
    ----------
    C : float
        Inverse regularisation of the class-balanced logistic regression.
    item_weight : float
        Sample weight of each category item vector used as a pseudo-example of its code (0 turns it off).
    prior_floor : float
        Share of the uniform distribution mixed into the prior.
    cv : int
        Folds of the cross-validation on the coded segments (a code with fewer segments is in fewer folds).
    calibrate : bool
        Fit a temperature on the out-of-fold scores.
    label_free_rounds : int
        Self-training rounds of the label-free prior (``CategoryCoder.n_self_training``).
    random_state : int
        Seeds the folds and the regressions.

    Attributes
    ----------
    classes_ : list of str
        Code ids, in the order of ``categories`` given to ``fit``.
    prior_ : ndarray (n, C)
        The label-free prior (floored); rows sum to 1.
    prior_weight_ : float
        The chosen ``beta``; ``cv_loss_`` holds the cross-validated log-loss of every candidate.
    temperature_ : float
    proba_ : ndarray (n, C)
        Calibrated probabilities for every segment (coded ones too: the model's, not one-hot).
    labels_ : ndarray of int (n,)
        Code index per segment; coded segments keep the analyst's code.
    source_ : ndarray of str (n,)
        ``"analyst"`` or ``"trained"``.
    confidence_ : ndarray (n,)
        Calibrated probability of the assigned code (1.0 for analyst codes).
    oof_proba_ : ndarray (n_coded, C)
        Out-of-fold calibrated probabilities of the coded segments (models trained without them).
    coded_index_, coded_labels_ : ndarray of int
    """

    _parameter_constraints = ParameterConstraints(
        C=Annotated[Float, Field(gt=0)], item_weight=Annotated[Float, Field(ge=0)],
        prior_floor=Annotated[Float, Field(ge=0, lt=1)], cv=Annotated[Int, Field(ge=2)], calibrate=Bool,
        label_free_rounds=Annotated[Int, Field(ge=0)], random_state=Seed)

    def __init__(self, C: float = 10.0, item_weight: float = 1.0, prior_floor: float = 0.02, cv: int = 5,
                 calibrate: bool = True, label_free_rounds: int = 2, random_state: int = 0):
        self.C = C
        self.item_weight = item_weight
        self.prior_floor = prior_floor
        self.cv = cv
        self.calibrate = calibrate
        self.label_free_rounds = label_free_rounds
        self.random_state = random_state

    def label_free_prior(self, embeddings: np.ndarray, categories: Sequence[Category], embedder) -> tuple:
        return label_free_prior(np.asarray(embeddings, dtype=np.float32), categories, embedder,
                                self.label_free_rounds, self.random_state)

    def fit(self, embeddings: np.ndarray, categories: Sequence[Category], coded_index: Sequence[int],
            coded_codes: Sequence[str], embedder: Any = None, prior: tuple | None = None) -> TrainedCoder:
        """Fit on the analyst's codes: ``coded_index`` rows of ``embeddings`` carry the code ids ``coded_codes``
        (each among ``categories``' ids). ``prior``: what :meth:`label_free_prior` returned, to skip recomputing."""
        check_parameters(self)
        X = np.asarray(embeddings, dtype=np.float32)
        categories = list(categories)
        self.classes_ = [c.category_id for c in categories]
        L, yL = self._coded(coded_index, coded_codes, len(X))
        if prior is None:
            if embedder is None:
                raise PipelineError("trained coding needs an embedder (category items) or a precomputed prior")
            prior = self.label_free_prior(X, categories, embedder)
        raw_prior, speaks, items = prior
        self.prior_ = self._floored(raw_prior, speaks)
        log_prior = np.log(self.prior_)
        item_X, item_y = _item_examples(items, speaks) if self.item_weight else (None, np.zeros(0, dtype=int))
        self._items = (item_X, item_y)  # the definitions as examples (the learning curve refits with them)
        oof = self._cross_validate(X, L, yL, item_X, item_y, log_prior)
        self.cv_loss_ = {b: log_loss(v, yL) for b, v in oof.items()}
        self.prior_weight_ = float(min(self.cv_loss_, key=self.cv_loss_.get)) if self.cv_loss_ else 1.0
        oof_scores = oof.get(self.prior_weight_, self.prior_weight_ * log_prior[L])
        self.temperature_ = fit_temperature(oof_scores, yL) if (self.calibrate and self.cv_loss_) else 1.0
        self.oof_proba_ = softmax(oof_scores / self.temperature_, axis=1)
        model = self._fit_model(X[L], yL, item_X, item_y)
        scores = self._scores(model, X) + self.prior_weight_ * log_prior
        self.proba_ = softmax(scores / self.temperature_, axis=1)
        labels = self.proba_.argmax(axis=1)
        labels[L] = yL
        self.labels_ = labels
        self.source_ = np.full(len(X), TRAINED, dtype=object)
        self.source_[L] = ANALYST
        self.confidence_ = self.proba_[np.arange(len(X)), labels]
        self.confidence_[L] = 1.0
        self.coded_index_, self.coded_labels_ = L, yL
        return self

    @property
    def codes_(self) -> list[str]:
        return [self.classes_[j] for j in self.labels_]

    def _coded(self, coded_index: Sequence[int], coded_codes: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
        position = {cid: j for j, cid in enumerate(self.classes_)}
        unknown = sorted(set(coded_codes) - set(position))
        if unknown:
            raise PipelineError(f"coded segments use codes not in the code list: {', '.join(unknown[:5])}")
        L = np.asarray(coded_index, dtype=int)
        if len(set(L.tolist())) != len(L):
            raise PipelineError("a segment is coded twice; adjudicate first (one code per segment)")
        if len(L) and (L.min() < 0 or L.max() >= n):
            raise PipelineError("a coded segment's row is outside the embeddings")
        return L, np.array([position[c] for c in coded_codes], dtype=int)

    def _floored(self, prior: np.ndarray, speaks: np.ndarray) -> np.ndarray:
        n_classes = prior.shape[1]
        P = np.where(speaks[None, :], prior, 0.0)
        total = P.sum(axis=1, keepdims=True)
        share = speaks.sum() / n_classes  # the mass of the codes the prior speaks for under the uniform distribution
        P = np.where(total > 0, P / np.where(total > 0, total, 1) * share, 0.0)
        P[:, ~speaks] = 1.0 / n_classes
        P = (1 - self.prior_floor) * P + self.prior_floor / n_classes
        return P / P.sum(axis=1, keepdims=True)

    def _cross_validate(self, X, L, yL, item_X, item_y, log_prior) -> dict[float, np.ndarray]:
        """Out-of-fold scores of the coded segments for every prior weight (one cross-validation serves all)."""
        n_folds = int(max(2, min(self.cv, len(L))))
        if len(L) < 2 or len(np.unique(yL)) < 2:
            return {}
        folds = stratified_folds(yL, n_folds, np.random.default_rng(self.random_state))
        sup = np.full((len(L), len(self.classes_)), np.log(1.0 / len(self.classes_)))
        for f in range(n_folds):
            test = folds == f
            if test.any() and (~test).any():
                sup[test] = self._scores(self._fit_model(X[L[~test]], yL[~test], item_X, item_y), X[L[test]])
        return {b: sup + b * log_prior[L] for b in PRIOR_WEIGHTS}

    def _fit_model(self, X, y, item_X, item_y):
        """Class-balanced logistic regression on coded segments (+ item pseudo-examples); a constant for one class."""
        weights = np.ones(len(y))
        if len(item_y):
            X = np.vstack([X, item_X])
            y = np.concatenate([y, item_y])
            weights = np.concatenate([weights, np.full(len(item_y), float(self.item_weight))])
        present = np.unique(y)
        if len(present) < 2:
            return int(present[0]) if len(present) else None
        total = np.bincount(y, weights=weights, minlength=len(self.classes_))
        weights = weights * (weights.sum() / (len(present) * total[y]))
        model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y, sample_weight=weights)
        return model

    def _scores(self, model, X) -> np.ndarray:
        """Log-probabilities of the regression (a tiny floor for the codes it never saw)."""
        out = np.full((len(X), len(self.classes_)), np.log(1e-6))
        if model is None:
            out[:] = np.log(1.0 / len(self.classes_))
        elif isinstance(model, int):
            out[:, model] = 0.0
        else:
            out[:, model.classes_] = np.log(np.clip(model.predict_proba(X), 1e-9, 1.0))
        return out


def _item_examples(items, speaks) -> tuple[np.ndarray | None, np.ndarray]:
    if not items:
        return None, np.zeros(0, dtype=int)
    idx = np.flatnonzero(speaks)
    labels = np.concatenate([[j] * len(it.vectors) for j, it in zip(idx, items)]).astype(int)
    return np.vstack([it.vectors for it in items]).astype(np.float32), labels
