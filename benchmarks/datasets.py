"""Labelled free-text sets for the benchmarks, read in place (never copied into the repo).

The shared sets in ``../shared/data`` follow one tidy schema (``id``, ``text``, ``labels`` ';'-joined), described by
each folder's SOURCE.md. ``SHARED_SETS`` records, per set, which column is gold and which labels are pseudo-labels
(non-answer or residual codes that name no theme). Any other CSV/TSV works with ``--text-col``/``--label-col``.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.core.errors import PipelineError

DEFAULT_DATA_DIR = Path(os.environ.get("BENCHMARK_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
PSEUDO_RULES = ("exclude", "class")


@dataclass(frozen=True)
class SetSpec:
    """How to read one labelled file: which columns, and which labels are not real categories."""

    name: str
    path: str  # relative to the data dir, or absolute
    text_col: str = "text"
    label_col: str = "labels"
    separator: str = ";"
    pseudo_labels: tuple[str, ...] = ()  # non-answer / "not codable" codes
    note: str = ""


SHARED_SETS: dict[str, SetSpec] = {spec.name: spec for spec in (
    SetSpec("napire-causes", "napire-re-problems/causes.csv", label_col="categories", pseudo_labels=("NotCodable",),
            note="gold = top-level category (5 + 'Other'); NotCodable is the coders' non-answer code"),
    SetSpec("napire-effects", "napire-re-problems/effects.csv", label_col="categories",
            pseudo_labels=("NotCodable",),
            note="gold = top-level category (5); NotCodable is the coders' non-answer code"),
    SetSpec("nhs-fft-phase1", "nhs-fft-phase1/tidy.csv",
            note="gold = 9 top-level labels, single-label; 'Couldn't be improved' kept as a class"),
    SetSpec("nhs-fft-v6", "nhs-fft-v6-multilabel/tidy.csv", pseudo_labels=("Labelling not possible", "Not assigned"),
            note="multi-label framework v6; 'Labelling not possible'/'Not assigned' are pseudo-labels"),
    SetSpec("airline", "airline-complaints/tidy.csv",
            note="10 complaint reasons; 'Can't Tell' kept as the residual class"),
)}


@dataclass
class LabelledSet:
    """Texts with gold labels (each a non-empty tuple, first label first) and the closed category names."""

    name: str
    source: str
    ids: list[str]
    texts: list[str]
    gold: list[tuple[str, ...]]
    categories: list[str]  # the gold label names, most frequent first: the closed list a method is given
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> rows not scored
    pseudo_rule: str = "exclude"
    note: str = ""
    n_read: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def first_labels(self) -> list[str]:
        return [labels[0] for labels in self.gold]

    @property
    def multi_label(self) -> bool:
        return any(len(labels) > 1 for labels in self.gold)

    def subset(self, indices: Sequence[int], reason: str = "") -> LabelledSet:
        keep = list(indices)
        dropped = dict(self.dropped)
        if reason and len(keep) < len(self):
            dropped[reason] = dropped.get(reason, 0) + len(self) - len(keep)
        return LabelledSet(self.name, self.source, [self.ids[i] for i in keep], [self.texts[i] for i in keep],
                           [self.gold[i] for i in keep], list(self.categories), dropped, self.pseudo_rule,
                           self.note, self.n_read)


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except FileNotFoundError:
        raise PipelineError("file not found", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise PipelineError(f"not utf-8 text ({exc.reason} at byte {exc.start})", file=str(path)) from None
    except csv.Error as exc:
        raise PipelineError(f"not a readable CSV: {exc}", file=str(path)) from None


def load_labelled(spec: SetSpec, data_dir: str | Path = DEFAULT_DATA_DIR, pseudo_rule: str = "exclude") -> LabelledSet:
    """Read one labelled file; drop empty texts and (with ``pseudo_rule="exclude"``) pseudo-labels.

    A row whose labels are all pseudo-labels is dropped (counted in ``dropped``); a row with a real label keeps
    only its real labels. ``pseudo_rule="class"`` keeps pseudo-labels as ordinary categories.
    """
    if pseudo_rule not in PSEUDO_RULES:
        raise PipelineError(f"pseudo-label rule must be one of {', '.join(PSEUDO_RULES)}, got {pseudo_rule!r}")
    path = Path(spec.path)
    if not path.is_absolute():
        path = Path(data_dir) / path
    header, rows = _read_rows(path)
    for column in (spec.text_col, spec.label_col):
        if column not in header:
            raise PipelineError(f"no column '{column}'; columns are: {', '.join(header)}", file=str(path))
    id_col = "id" if "id" in header else None
    pseudo = set(spec.pseudo_labels) if pseudo_rule == "exclude" else set()
    ids, texts, gold = [], [], []
    dropped: dict[str, int] = {}
    for row_number, row in enumerate(rows, start=2):
        text = (row.get(spec.text_col) or "").strip()
        labels = tuple(label.strip() for label in (row.get(spec.label_col) or "").split(spec.separator)
                       if label.strip())
        real = tuple(dict.fromkeys(label for label in labels if label not in pseudo))
        reason = "empty text" if not text else "no label" if not labels else "pseudo-label only" if not real else ""
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        ids.append(row.get(id_col) if id_col else str(row_number))
        texts.append(text)
        gold.append(real)
    if not texts:
        raise PipelineError(f"no labelled, non-empty rows in columns '{spec.text_col}'/'{spec.label_col}'",
                            file=str(path))
    counts: dict[str, int] = {}
    for labels in gold:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    categories = sorted(counts, key=lambda label: (-counts[label], label))
    return LabelledSet(spec.name, str(path), ids, texts, gold, categories, dropped, pseudo_rule, spec.note, len(rows))


def stratified_sample(labelled: LabelledSet, max_rows: int | None, seed: int = 42) -> LabelledSet:
    """At most ``max_rows`` rows, stratified on the first gold label, in file order; every class keeps a row.

    Class quotas are proportional (largest remainder); the draw within each class is seeded.
    """
    n = len(labelled)
    if not max_rows or max_rows >= n:
        return labelled
    first = np.array(labelled.first_labels)
    classes, counts = np.unique(first, return_counts=True)
    quotas = np.maximum(1, np.floor(counts * max_rows / n)).astype(int)
    quotas = np.minimum(quotas, counts)
    remainders = counts * max_rows / n - np.floor(counts * max_rows / n)
    for index in np.argsort(-remainders, kind="stable"):
        if quotas.sum() >= max_rows:
            break
        if quotas[index] < counts[index]:
            quotas[index] += 1
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label, quota in zip(classes, quotas):
        members = np.flatnonzero(first == label)
        chosen.extend(rng.choice(members, size=quota, replace=False).tolist())
    return labelled.subset(sorted(chosen), reason=f"not sampled (--max-rows {max_rows}, seed {seed})")


def resolve_specs(target: str | None, text_col: str | None = None, label_col: str | None = None,
                  data_dir: str | Path = DEFAULT_DATA_DIR) -> list[SetSpec]:
    """Specs for a set name, a folder of the shared data, a labelled file, or every shared set (None/"all")."""
    if target in (None, "", "all"):
        return list(SHARED_SETS.values())
    if target in SHARED_SETS:
        return [SHARED_SETS[target]]
    path = Path(target).expanduser().resolve()
    data_dir = Path(data_dir).resolve()
    known = [spec for spec in SHARED_SETS.values() if (data_dir / spec.path).resolve() == path
             or (path.is_dir() and (data_dir / spec.path).resolve().parent == path)]
    if known and not (text_col or label_col):
        return known
    if path.is_dir():
        candidates = sorted(path.glob("tidy.csv")) or sorted(path.glob("*.csv"))
        if len(candidates) != 1:
            raise PipelineError("folder has no single tidy.csv; pass the labelled file itself", file=str(path))
        path = candidates[0]
    if not path.is_file():
        names = ", ".join(SHARED_SETS)
        raise PipelineError(f"neither a file, a folder nor a known set ({names})", file=str(target))
    base = known[0] if known else SetSpec(path.stem, str(path))
    return [SetSpec(base.name, str(path), text_col or base.text_col, label_col or base.label_col, base.separator,
                    base.pseudo_labels, base.note)]
