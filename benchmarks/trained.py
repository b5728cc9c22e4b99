"""Simulate the analyst (issue 13, ../shared/evaluation.md "Learning from coded examples"): coded samples train the
coding of the rest, on every shared set. ``python -m benchmarks.trained [sets] [--seeds 3] [--render]``.

- Rows: the 3,000-row stratified sample (seed 42) of airline, nhs-fft-phase1, nhs-fft-v6; the NaPiRE sets whole.
  MiniLM embeddings through the content-addressed cache. The closed list is the gold label names (no descriptions),
  as in benchmarks/quality.py.
- The analyst codes each chosen answer with its FIRST gold label. Selectors at the same budget B_k:
  ``random-per-code`` (k answers of every code: the issue's anchor protocol), ``random`` (B_k answers at random: the
  blind sheet), ``active`` (``ActiveSelector`` in batches of C = number of codes from a cold start, up to B_k).
  A stratified 30% of rows per seed is held out from every selector (``test``) as a second scoring set.
- Scored on the uncoded rows: macro-F1 (rule "any", headline; and "first") as a share of the 5-fold ceiling
  (LogisticRegression C=10, balanced, on the first gold label of all rows); beside it the label-free coder
  (``CategoryCoder``) and the plain logistic regression anchor (C=10, balanced, coded rows only); the paired
  bootstrap interval of trained minus label-free.
- ``active`` mixes audit rows into every batch as `validate sample --next` does (``validate.audit_share`` of each
  batch drawn at random, ``pipeline.analyst.active.audited_batch``); ``active-no-audit`` (``--no-audit-arm`` drops
  it) is the active learner alone, the product before the audit rows.
- Accuracy: the product's estimates (``pipeline.analyst.accuracy``: ``calibrated``, ``cv``, ``cv_random`` on the
  rows coded at random) and ``headline``, the one the product prints (its rule: ``cv_random`` with at least
  MIN_RANDOM random rows, else ``calibrated``), beside an outside random audit sample of max(30, 0.2 B_k) further
  rows (Wilson); each checked for covering the accuracy measured with gold.
- ``themes``: the codes that decide the category themes (``pipeline.analyst.code_moves``): the trained code where
  its confidence is above ``validate.trained_theme_confidence``, else the label-free code; scored like the rest,
  with its paired bootstrap against the label-free coder (``themes_vs_label_free``).
- Codes beyond the list: two listed codes withheld from the list and given back only as analyst codes (with their
  name as definition, and without), k = 10 per code; per-code F1 of that code vs the same code listed.

Nothing from ../shared/data is written: benchmarks/results/trained-<set>.json holds numbers only.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.linear_model import LogisticRegression

from benchmarks import trained_scoring as sc
from benchmarks.datasets import SHARED_SETS, load_labelled, stratified_sample
from pipeline.analyst.accuracy import MIN_RANDOM, machine_accuracy, wilson
from pipeline.analyst.active import ActiveSelector, audited_batch, density
from pipeline.analyst.trained import TrainedCoder
from pipeline.core.config import ValidateConfig
from pipeline.core.records import Category

DEFAULTS = ValidateConfig()

RESULTS = Path(__file__).parent / "results"
SET_NAMES = ("airline", "napire-causes", "napire-effects", "nhs-fft-phase1", "nhs-fft-v6")
KS = (5, 10, 20)
MAX_ROWS, TEST_SHARE = 3000, 0.3


class SetRun:
    """One shared set: embeddings, gold, the label-free prior and the ceiling, computed once for every seed."""

    no_audit_arm = False  # also run the active learner without audit rows
    curve_to = 1.5  # the active run goes on to this multiple of the largest budget

    def __init__(self, name, embedder_name="minilm-local.v1", cache_dir="outputs/.cache/embeddings", log=print):
        from pipeline.embed import CachedEmbedder, EmbeddingCache, get_embedder

        t = time.perf_counter()
        labelled = stratified_sample(load_labelled(SHARED_SETS[name]), MAX_ROWS, seed=42)
        cache = EmbeddingCache(cache_dir)
        raw = get_embedder(embedder_name)
        self.X, stats = cache.embed(labelled.texts, raw)
        self.X = np.asarray(self.X, dtype=np.float32)
        self.embedder = CachedEmbedder(raw, cache)
        self.timings = {"load_and_embed_s": time.perf_counter() - t, "cache_hits": stats.hits,
                        "cache_misses": stats.misses}
        self.name, self.names, self.log = name, list(labelled.categories), log
        index = {n: i for i, n in enumerate(self.names)}
        self.y = np.array([index[g[0]] for g in labelled.gold], dtype=int)
        self.gold_sets = [frozenset(index[label] for label in g) for g in labelled.gold]
        self.multi_label = any(len(g) > 1 for g in labelled.gold)
        self.categories = [Category(f"c{i:02d}", n) for i, n in enumerate(self.names)]
        self.n, self.C = len(self.X), len(self.names)
        t = time.perf_counter()
        self.prior = TrainedCoder().label_free_prior(self.X, self.categories, self.embedder)
        self.timings["label_free_prior_s"] = time.perf_counter() - t
        raw_prior, speaks, _ = self.prior
        self.label_free = np.flatnonzero(speaks)[raw_prior[:, speaks].argmax(axis=1)]
        t = time.perf_counter()
        folds = int(min(5, max(2, np.bincount(self.y).max())))
        self.ceiling_pred = cross_val_predict(LogisticRegression(C=10, class_weight="balanced", max_iter=2000), self.X,
                                              self.y, cv=StratifiedKFold(folds, shuffle=True, random_state=42))
        self.timings["ceiling_s"] = time.perf_counter() - t
        self.ceiling = sc.scores(self.gold_sets, self.y, self.ceiling_pred, self.C)
        t = time.perf_counter()
        self.density = density(self.X)
        self.timings["density_s"] = time.perf_counter() - t

    def score_on(self, rows, pred):
        return sc.scores([self.gold_sets[i] for i in rows], self.y[rows], np.asarray(pred)[rows], self.C)

    def split(self, seed):
        test = np.zeros(self.n, dtype=bool)
        rng = np.random.default_rng([seed, 99])
        for c in np.unique(self.y):
            rows = np.flatnonzero(self.y == c)
            test[rng.choice(rows, size=int(round(TEST_SHARE * len(rows))), replace=False)] = True
        return test

    def fit(self, L, seed, categories=None, prior=None):
        return TrainedCoder(random_state=seed).fit(self.X, categories or self.categories, L,
                                                   [(categories or self.categories)[j].category_id for j in self.y[L]],
                                                   prior=prior or self.prior)

    def evaluate(self, L, seed, test, coder=None, at_random=None):  # long: one flat record of every number
        """``L`` sorted; ``at_random``: the set of rows of ``L`` that were coded at random (None: none)."""
        U = np.setdiff1d(np.arange(self.n), L)
        t = time.perf_counter()
        coder = coder or self.fit(L, seed)
        fit_s = time.perf_counter() - t
        anchor = sc.anchor_predict(self.X, L, self.y[L])
        out = {"n_coded": int(len(L)), "codes_with_examples": int(len(np.unique(self.y[L]))), "fit_s": fit_s,
               "prior_weight": coder.prior_weight_, "temperature": coder.temperature_}
        T = np.flatnonzero(test)
        ceiling_test = self.score_on(T, self.ceiling_pred)
        themes = np.where(coder.confidence_ > DEFAULTS.trained_theme_confidence, coder.labels_, self.label_free)
        for method, pred in (("trained", coder.labels_), ("anchor", anchor), ("label_free", self.label_free),
                             ("themes", themes)):
            s, st = self.score_on(U, pred), self.score_on(T, pred)
            out[method] = {**s, "share_any": s["f1_any"] / self.ceiling["f1_any"],
                           "share_first": s["f1_first"] / self.ceiling["f1_first"],
                           "test": {**st, "share_any": st["f1_any"] / ceiling_test["f1_any"]}}
        out["vs_label_free"] = sc.paired_bootstrap([self.gold_sets[i] for i in U], self.y[U], coder.labels_[U],
                                                   self.label_free[U], self.C, seed=seed)
        out["themes_vs_label_free"] = sc.paired_bootstrap([self.gold_sets[i] for i in U], self.y[U], themes[U],
                                                          self.label_free[U], self.C, seed=seed)
        out["n_at_random"] = len(at_random or ())
        truth = out["trained"]["acc_first"]
        random_rows = np.array([i in at_random for i in coder.coded_index_]) if at_random else None
        estimates = machine_accuracy(coder, seed=seed, random_rows=random_rows, min_random=1)
        product_rule = "cv_random" in estimates and estimates["cv_random"]["n"] >= MIN_RANDOM
        estimates["headline"] = estimates["cv_random" if product_rule else "calibrated"]
        audit = np.random.default_rng([seed, len(L), 1]).choice(U, size=min(max(30, len(L) // 5), len(U)),
                                                                  replace=False)
        hits = int(np.sum(coder.labels_[audit] == self.y[audit]))
        low, high = wilson(hits, len(audit))
        estimates["audit"] = {"estimate": hits / len(audit), "low": low, "high": high, "n": len(audit)}
        out["accuracy"] = {name: {**e, "truth_first": truth, "covers": bool(e["low"] <= truth <= e["high"])}
                           for name, e in estimates.items()}
        return out

    def budgets(self, seed, ks):
        test = self.split(seed)
        pool = np.flatnonzero(~test)
        per_code = {k: np.sort(pool[sc.random_per_code(self.y[pool], k, np.random.default_rng([seed, k]))])
                    for k in ks}
        return {k: len(v) for k, v in per_code.items()}, per_code, test

    def run_seed(self, seed, ks):
        budget, per_code, test = self.budgets(seed, ks)
        results = {"random-per-code": {k: self.evaluate(per_code[k], seed, test) for k in ks}}
        order = np.random.default_rng([seed, 2]).permutation(np.flatnonzero(~test))
        results["random"] = {k: self.evaluate(np.sort(order[:budget[k]]), seed, test,
                                              at_random=set(order[:budget[k]].tolist())) for k in ks}
        results["active"], curve = self.active_run(seed, budget, test, DEFAULTS.audit_share)
        if self.no_audit_arm:
            results["active-no-audit"], _ = self.active_run(seed, budget, test, 0.0)
        return results, curve

    def active_run(self, seed, budget, test, audit_share):
        """Batches of C chosen by the active learner (``audit_share`` of each at random) up to every B_k (snapshots)
        and on to 1.5 B_20 (the curve)."""
        selector = ActiveSelector(random_state=seed)
        rng, at_random, asked = np.random.default_rng([seed, 7]), set(), 0
        targets = sorted(budget.values())
        final = min(int(round(self.curve_to * max(targets))), int((~test).sum()))
        coded, curve, snap = np.zeros(0, dtype=int), [], {}
        P = TrainedCoder()._floored(self.prior[0], self.prior[1])
        while len(coded) < final:
            step = min([t for t in targets if t > len(coded)] + [len(coded) + self.C])
            t0 = time.perf_counter()
            active, audit = audited_batch(selector, self.X, P, coded, step - len(coded), audit_share, rng,
                                          self.y[coded], candidates=~test, dense=self.density,
                                          asked_before=len(coded), audited_before=len(at_random))
            new = np.concatenate([active, audit]).astype(int)
            at_random.update(audit.tolist())
            select_s = time.perf_counter() - t0
            assert not np.isin(new, coded).any() and len(np.unique(new)) == len(new)
            coded = np.concatenate([coded, new])
            t0 = time.perf_counter()
            coder = self.fit(coded, seed)
            fit_s, P = time.perf_counter() - t0, coder.proba_
            U = np.setdiff1d(np.arange(self.n), coded)
            s = self.score_on(U, coder.labels_)
            curve.append({"n_coded": int(len(coded)), "share_any": s["f1_any"] / self.ceiling["f1_any"],
                          "acc_first": s["acc_first"], "estimated_accuracy": float(P[U].max(axis=1).mean()),
                          "select_s": select_s, "fit_s": fit_s})
            for k, b in budget.items():
                if b == len(coded):
                    snap[k] = self.evaluate(np.sort(coded), seed, test, coder=coder, at_random=set(at_random))
        return snap, curve

    def withheld(self, seeds, k=10):
        """A listed code withheld from the list, given back only as analyst codes (+ its name as definition)."""
        rows = []
        for j in sc.withheld_codes(self.y, self.categories):
            others = [c for i, c in enumerate(self.categories) if i != j]
            variants = {"listed": self.categories,
                        "added_with_definition": others + [self.categories[j]],
                        "added_examples_only": others + [replace(self.categories[j], label="")]}
            priors = {name: TrainedCoder().label_free_prior(self.X, cats, self.embedder) if name != "listed"
                      else self.prior for name, cats in variants.items()}
            for seed in seeds:
                L = sc.random_per_code(self.y, k, np.random.default_rng([seed, k]))
                U = np.setdiff1d(np.arange(self.n), L)
                res = {"code": self.names[j], "seed": seed}
                for name, cats in variants.items():
                    coder = TrainedCoder(random_state=seed).fit(
                        self.X, cats, L, [self.categories[c].category_id for c in self.y[L]], prior=priors[name])
                    back = np.array([int(c.category_id[1:]) for c in cats])[coder.labels_]
                    res[name] = float(sc.per_code_gold(self.y[U], back[U], self.C)[j, 2])
                rows.append(res)
        return rows


def run_set(name, seeds, ks, cache_dir, log=print, no_audit_arm=True, withheld=True, curve_to=1.5):
    t0 = time.perf_counter()
    run = SetRun(name, cache_dir=cache_dir, log=log)
    run.no_audit_arm, run.curve_to = no_audit_arm, curve_to
    log(f"{name}: {run.n} rows, {run.C} codes, ceiling F1 {run.ceiling['f1_any']:.3f}; prior "
        f"{run.timings['label_free_prior_s']:.1f}s")
    per_seed, curves = [], []
    for seed in seeds:
        t = time.perf_counter()
        res, curve = run.run_seed(seed, ks)
        per_seed.append(res)
        curves.append(curve)
        log(f"  seed {seed}: active@10 {res['active'][10]['trained']['share_any']:.3f} "
            f"({time.perf_counter() - t:.0f}s)")
    return {"set": name, "rows": run.n, "codes": run.C, "code_names": run.names, "multi_label": run.multi_label,
            "ceiling": run.ceiling, "timings": run.timings, "seeds": list(seeds), "ks": list(ks),
            "coder_params": TrainedCoder().get_params(), "selector_params": ActiveSelector().get_params(),
            "summary": sc.summarise(per_seed, ks), "per_seed": per_seed, "curves": curves,
            "withheld": run.withheld(seeds) if withheld else None, "seconds": time.perf_counter() - t0}


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def machine():
    import os
    import platform

    import sklearn

    return {"python": platform.python_version(), "platform": platform.platform(), "sklearn": sklearn.__version__,
            "numpy": np.__version__, "cpus": os.cpu_count(), "load_average": os.getloadavg()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", default=list(SET_NAMES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cache-dir", default="outputs/.cache/embeddings")
    parser.add_argument("--results-dir", default=str(RESULTS))
    parser.add_argument("--render", action="store_true", help="print the docs/benchmarks.md tables from the results")
    parser.add_argument("--no-audit-arm", action="store_true", help="skip the active learner without audit rows")
    parser.add_argument("--curve-to", type=float, default=1.5, help="the active run goes on to this multiple of "
                                                                     "the largest budget (the learning curve)")
    parser.add_argument("--no-withheld", action="store_true", help="skip the codes-beyond-the-list runs (the "
                                                                    "previous result file's are kept)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    out = Path(args.results_dir)
    if args.render:
        from benchmarks.trained_render import render

        print(render(out, SET_NAMES))
        return
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.trained " + " ".join(sys.argv[1:] if argv is None else argv)
    for name in args.sets:
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        result = run_set(name, list(range(args.seeds)), KS, args.cache_dir, lambda m: print(m, flush=True),
                         no_audit_arm=not args.no_audit_arm, withheld=not args.no_withheld, curve_to=args.curve_to)
        previous = out / f"trained-{name}.json"
        if result["withheld"] is None and previous.exists():
            result["withheld"] = json.loads(previous.read_text(encoding="utf-8")).get("withheld")
            result["withheld_from"] = "the previous run (--no-withheld)"
        result.update({"command": command, "machine": machine(), "started": started,
                       "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})
        (out / f"trained-{name}.json").write_text(json.dumps(result, indent=1, default=_json_default))
        print(f"wrote {out / f'trained-{name}.json'} ({result['seconds']:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
