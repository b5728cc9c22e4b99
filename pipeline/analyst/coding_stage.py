"""The ``coding`` stage: every segment's code, from the analyst's codes where there are any (trained), else from the
label-free coder the themes came from. It runs before ``labels``, which moves the segments these codes decide into
their code's theme (``pipeline.analyst.code_moves``), so themes, quotes, crosstab and codebook follow the codes.

The analyst's codes are the corpus's coded file (``validate.coded_file``, written by `pipeline code`) plus the
labels.yaml recodes that name a code (``segments: {"f.csv:3#0": {theme: political_will}}``); the code list is the
closed list plus the analyst's codes (labels.yaml ``codes:``, promoted emergent themes included). A coded segment
that no longer exists, or a code no longer on the list, is a warning: a re-run on a changed corpus never fails.
"""
from __future__ import annotations

import numpy as np

from pipeline.analyst.accuracy import accuracy_report
from pipeline.analyst.coded_sheets import AT_RANDOM, read_store
from pipeline.analyst.labels_file import LabelsFile, analyst_codes, load_labels
from pipeline.analyst.trained import LABEL_FREE, TrainedCoder
from pipeline.core.artifacts import Categories, Cleaned, Coded, Embedded, ThemeFit
from pipeline.core.context import RunContext


def run_labels(ctx: RunContext) -> LabelsFile:
    """The run's labels.yaml: the one given to the context, else the corpus's file, else none."""
    if ctx.labels is not None:
        return ctx.labels
    path = ctx.configured_file("labels_file", "labels.yaml")
    return load_labels(path) if path is not None else LabelsFile()


def analyst_coded(ctx: RunContext, segment_ids: list[str], code_ids: set[str]
                  ) -> tuple[dict[str, str], set[str], list[str]]:
    """segment id -> code id from the coded file and labels.yaml recodes to a code; the segments coded from a
    random sample (the blind sheet, the audit rows of --next sheets); warnings for stale entries."""
    path = ctx.corpus_file(ctx.config.validate.coded_file)
    rows = read_store(path)
    known = set(segment_ids)
    coded, gone, stale, random_sample = {}, 0, set(), set()
    for row in rows:
        if row["segment_id"] not in known:
            gone += 1
        elif row["code"] not in code_ids:
            stale.add(row["code"])
        else:
            coded[row["segment_id"]] = row["code"]
            if row.get("chosen_by") in AT_RANDOM:
                random_sample.add(row["segment_id"])
    labels = run_labels(ctx)
    by_answer: dict[str, list[str]] = {}
    for segment in segment_ids:
        by_answer.setdefault(segment.rpartition("#")[0], []).append(segment)
    recodes = sorted(getattr(labels, "segments", {}).values(), key=lambda r: "#" in r.target) if labels else []
    for recode in recodes:  # answer-level first, so a segment-level recode wins; labels.yaml wins over sheets
        if isinstance(recode.theme, str) and recode.theme in code_ids:
            coded.update(dict.fromkeys([recode.target] if recode.target in known else by_answer.get(recode.target, []),
                                       recode.theme))
    warnings = []
    if gone:
        warnings.append(f"{path}: {gone} coded segment(s) no longer in the corpus; their codes are kept in the file "
                        "but not used")
    if stale:
        warnings.append(f"{path}: codes no longer on the code list, not used: {', '.join(sorted(stale))}")
    return coded, random_sample, warnings


def coding_stage(ctx: RunContext, clean: Cleaned, embed: Embedded, stable_ids: ThemeFit,
                 categories: Categories) -> Coded:
    themes = stable_ids
    code_list = [*categories.categories, *analyst_codes(run_labels(ctx), categories.categories)]
    segment_ids = [s.segment_id for s in clean.segments]
    coded, random_sample, warnings = analyst_coded(ctx, segment_ids, {c.category_id for c in code_list})
    if not coded or len(code_list) < 2:
        label_free = tuple((code, LABEL_FREE, float(score) if score is not None else float("nan"))
                           for code, score in themes.segment_categories)
        return Coded(label_free, warnings=tuple(warnings))
    row_of = {segment: i for i, segment in enumerate(segment_ids)}
    index = sorted(row_of[s] for s in coded)
    coder = TrainedCoder(random_state=ctx.config.seed).fit(
        embed.embeddings, code_list, index, [coded[segment_ids[i]] for i in index], embedder=embed.embedder)
    report = accuracy_report(coder, embed.embeddings, {c.category_id: c.label for c in code_list},
                             random_rows=np.array([segment_ids[i] in random_sample for i in index], dtype=bool))
    codes = tuple((coder.classes_[label], str(source), round(float(conf), 4))
                  for label, source, conf in zip(coder.labels_, coder.source_, coder.confidence_))
    return Coded(codes, tuple(coder.classes_), coder.proba_, report, len(index), tuple(warnings))
