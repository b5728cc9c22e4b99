"""labels.yaml written back from a ``LabelsFile`` (``pipeline serve`` regenerates the file after every edit, so the
file route keeps working): ``load_labels(path)`` of what :func:`dump_labels` wrote gives the same entries."""
from __future__ import annotations

from typing import Any

import yaml

from pipeline.analyst.labels_file import LabelsFile

HEADER = ("# The analyst's labels: renames, definitions, merges, noise marks, pins, codes, recodes, splits and\n"
          "# memos (schema: pipeline/analyst/labels_file.py). {origin}\n")


def labels_data(labels: LabelsFile) -> dict[str, Any]:
    """The plain data of labels.yaml: only the fields an entry sets, sections in schema order, empty ones left out."""
    data: dict[str, Any] = {}
    themes = {}
    for theme_id, entry in sorted(labels.themes.items()):
        fields = {"label": entry.label, "definition": entry.definition, "category": entry.category,
                  "merge_into": entry.merge_into, "noise": entry.noise or None, "memo": entry.memo}
        themes[theme_id] = {key: value for key, value in fields.items() if value is not None}
    if themes:
        data["themes"] = themes
    if labels.codes:
        data["codes"] = {code_id: {"label": code.label, **({"definition": code.definition} if code.definition else {})}
                         for code_id, code in sorted(labels.codes.items())}
    if labels.segments:
        data["segments"] = {target: {"theme": recode.theme} for target, recode in sorted(labels.segments.items())}
    if labels.splits:
        data["split"] = [{key: value for key, value in {
            "id": split.theme_id, "label": split.label, "definition": split.definition, "category": split.category,
            "segments": list(split.segments)}.items() if value is not None} for split in labels.splits]
    return data


def dump_labels(labels: LabelsFile, origin: str = "") -> str:
    """labels.yaml text for ``labels``; ``origin`` is a comment line saying who wrote it."""
    body = yaml.safe_dump(labels_data(labels), sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)
    return HEADER.format(origin=origin).rstrip() + "\n" + ("" if body.strip() == "{}" else body)
