"""The trained coding's tables: accuracy.csv (per code, then the machine's estimated accuracy) and
learning_curve.csv (accuracy vs number coded). Empty tables (header only) when the analyst has coded nothing."""
from __future__ import annotations

from typing import Any

ACCURACY_COLUMNS = ["row", "code", "label", "n_coded", "precision", "precision_low", "precision_high", "recall",
                    "recall_low", "recall_high", "f1", "f1_low", "f1_high", "machine_share"]
CURVE_COLUMNS = ["fraction", "n_trained", "accuracy", "low", "high"]
ESTIMATORS = {"cv_random": "cross-validated accuracy of the segments coded at random (the blind sheet and the "
                           "audit rows of --next sheets)",
              "calibrated": "mean calibrated confidence of the machine codes (for segments chosen by the active "
                            "learner)",
              "cv": "cross-validated accuracy of every coded segment (pessimistic after active selection)"}


def accuracy_rows(report: Any) -> list[dict[str, Any]]:
    """One row per code (``row = code``), then one per accuracy estimator (``row = machine``: the estimate and its
    interval in the ``f1`` columns, the coded segments it rests on in ``n_coded``)."""
    if report is None:
        return []
    rows = [{"row": "code", **row} for row in report.per_code]
    for name, estimate in report.machine.items():
        label = ESTIMATORS.get(name, name) + ("; the headline" if name == report.headline else "")
        rows.append({"row": "machine", "code": name, "label": label, "n_coded": estimate["n"],
                     "f1": estimate["estimate"], "f1_low": estimate["low"], "f1_high": estimate["high"]})
    return rows


def curve_rows(report: Any) -> list[dict[str, Any]]:
    return [] if report is None else [dict(row) for row in report.curve]


def code_labels(result: Any) -> dict[str, str]:
    """Code id -> label over the closed list and the analyst's codes."""
    return {c.category_id: c.label for c in [*result.categories, *getattr(result, "analyst_codes", ())]}


def code_columns(coded: Any, labels: dict[str, str], position: int) -> dict[str, Any]:
    """segments.csv's code columns for the segment at ``position`` (empty without a coding stage)."""
    codes = getattr(coded, "codes", ()) if coded is not None else ()
    if position >= len(codes):
        return {"code": "", "code_label": "", "code_source": "", "code_confidence": None}
    code, source, confidence = codes[position]
    return {"code": code, "code_label": labels.get(code, code), "code_source": source,
            "code_confidence": confidence}
