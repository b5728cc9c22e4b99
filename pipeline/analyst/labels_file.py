"""The analyst's labels file (labels.yaml): renames, definitions, merges, noise marks and pinned categories.

labels.yaml (``corpus/labels.yaml`` by default, ``labels_file`` in pipeline.toml) is keyed by theme id::

    # Themes are named by the id shown in themes.csv / the report.
    themes:
      3:
        label: Political will
        definition: Local politicians hesitate to back changes to services voters care about.
        category: emergent          # or a category_id from categories.yaml
      4: Footprint clashes          # a bare string is shorthand for {label: ...}
      5: {merge_into: 3}            # theme 5's segments become theme 3's
      8: {merge_into: 5}            # chains resolve: 8 -> 5 -> 3
      7: {noise: true}

    codes:                          # analyst-defined codes beyond the closed list
      political_will: {label: Political will, definition: Local politicians hesitate to back change.}
    segments:                       # recode one segment (segment id) or every segment of one answer (answer id)
      "survey.csv:14#0": {theme: 3}       # to a theme id
      "survey.csv:15": {theme: noise}     # set aside (unassigned)
      "survey.csv:16#1": {theme: political_will}   # to the theme pinned to that code
    split:                          # segments taken out of their themes into a new theme (ids from 1000 up)
      - {label: Estates, segments: ["survey.csv:20#1", "survey.csv:31#0"]}
      - {id: 1001, label: Parking, definition: ..., category: political_will, segments: ["survey.csv:40#0"]}

Fields per theme: ``label`` (text), ``definition`` (one line), ``category`` (a category id, an analyst code id
or ``emergent``), ``merge_into`` (a theme id), ``noise`` (true/false), ``memo`` (the analyst's note; carried to
themes.csv and the codebook, never used to code). A theme that merges into another may carry nothing else but a
memo (its label would be lost; its memo is appended to the survivor's); a merge cycle is an error. Both are
reported by :func:`load_labels` naming the line. Every section is optional: a file with only ``themes:`` (the
original schema) means what it always meant.

- **codes** (``code id: {label, definition}``): a code id is a word, not a number, never ``emergent`` or
  ``noise``, and should not repeat a categories.yaml id. Promoting an emergent theme to a code is a code plus
  ``category: <code id>`` on the theme: the theme is then pinned to the code (no longer emergent), and every
  output names the code's label where it names a theme's category.
- **segments** (recode): ``theme`` is a theme id (a split theme's id too), ``noise``, or a code id (the lowest-id
  theme pinned to that code; a closed category's id without a pin: the fit's theme of that category). A
  segment-level recode wins over its answer's. Recoded segments get weight 1.0 (the analyst's word) and lose the
  secondary theme they were moved into.
- **split**: each entry makes a new theme (``id``, default 1000, 1001, ... in file order, skipping ids given
  explicitly) holding ``segments``; ``label`` required, ``definition`` and ``category`` optional. The new theme
  can be addressed under ``themes:`` by its id like any other (rename, memo, merge, noise).

What :func:`apply_labels` does:

- **merge**: assignments (primary and secondary) are re-pointed to the surviving theme, following chains
  whatever their order in the file; the survivor's size is the sum of the merged sizes, its stability the
  size-weighted mean, its keywords taken in turn by rank from each part (survivor first). Secondary weights that
  land on the same theme are added (they are shares of one topic distribution), and a secondary that lands on
  the segment's primary theme folds into the primary weight.
- **noise**: the theme stays listed (``noise=True``, size = segments it had) so the report can show what was
  set aside, but its segments' primary theme becomes ``UNASSIGNED`` and secondaries on it are dropped. Every
  downstream stage therefore counts them as unassigned without having to know about noise.
  :func:`label_reassignments` lists every segment whose primary theme the labels changed, for the audit.
- **pin** (``category``): category_id/emergent are set with confidence 1.0, and the theme is marked pinned
  (``Theme.pinned`` when the record has that field); the mapping stage (``pipeline.mapping.stage.keep_pins``) puts pins back after mapping.
- theme ids or categories the file names that the run does not have give warnings, never errors: a re-run on a
  grown corpus may lose a theme.

Splits and recodes are applied first (``pipeline.analyst.labels_moves``), then the theme entries, so a segment
recoded into theme 5 follows theme 5 when it merges into 3. Segment ids are ``<file>:<row>#<index>``, stable
while the corpus file keeps its rows: a recode of a segment that is gone is a warning, never an error.

Applying is idempotent: applying the same file to its own output changes no theme or assignment.
:func:`dump_labels` writes a ``LabelsFile`` back as YAML (what ``pipeline serve`` regenerates labels.yaml with);
``load_labels(dump_labels(x))`` gives ``x`` back.
"""
from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from pipeline.analyst.labels_moves import (
    EMERGENT, CodeLabel, Recode, Split, apply_moves, parse_codes, parse_recodes, parse_splits,
)
from pipeline.core.errors import PipelineError
from pipeline.core.records import UNASSIGNED, Assignment, Category, Reassignment, Theme

LABEL_FIELDS = ("label", "definition", "category", "merge_into", "noise", "memo")
SECTIONS = ("themes", "codes", "segments", "split")
ANALYST_GROUP = "analyst code"


@dataclass(frozen=True, slots=True)
class ThemeLabel:
    """The analyst's instructions for one theme id."""

    theme_id: int
    label: str | None = None
    definition: str | None = None
    category: str | None = None  # a category_id or EMERGENT
    merge_into: int | None = None
    noise: bool = False
    line: int | None = None  # where the entry starts in the file, for messages
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class LabelsFile:
    path: str = ""
    themes: Mapping[int, ThemeLabel] = field(default_factory=dict)
    codes: Mapping[str, CodeLabel] = field(default_factory=dict)
    segments: Mapping[str, Recode] = field(default_factory=dict)  # by segment or answer id
    splits: tuple[Split, ...] = ()

    def merge_target(self, theme_id: int) -> int:
        """The theme ``theme_id`` finally merges into (itself if it does not merge)."""
        seen = {theme_id}
        while (entry := self.themes.get(theme_id)) is not None and entry.merge_into is not None:
            theme_id = entry.merge_into
            if theme_id in seen:  # load_labels rejects cycles; guard hand-built records too
                raise PipelineError(f"merge cycle through theme {theme_id}", file=self.path or None, row=entry.line)
            seen.add(theme_id)
        return theme_id


def load_labels(path: str | Path) -> LabelsFile:
    """Read labels.yaml; a missing file means no labels. Bad YAML or a bad entry raises PipelineError."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        return LabelsFile(path=name)
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise PipelineError("not UTF-8 text", file=name) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise PipelineError(f"not valid YAML: {problem}", file=name, row=mark.line + 1 if mark else None) from None
    if data is None:
        return LabelsFile(path=name)
    if not isinstance(data, dict) or set(data) - set(SECTIONS):
        extra = sorted(map(str, set(data) - set(SECTIONS))) if isinstance(data, dict) else []
        raise PipelineError("expected a top-level 'themes:' mapping (and optionally 'codes:', 'segments:', 'split:')"
                            + (f"; unknown key(s) {', '.join(extra)}" if extra else ""), file=name, row=1)
    raw = data.get("themes") or {}
    if not isinstance(raw, dict):
        raise PipelineError("'themes:' must map theme ids to entries", file=name)
    lines = _entry_lines(root, name)
    entries: dict[int, ThemeLabel] = {}
    for key, value in raw.items():
        line = lines.get(str(key))
        theme_id = _theme_id(key, name, line, "theme key")
        entries[theme_id] = _parse_entry(theme_id, value, name, line)
    labels = LabelsFile(path=name, themes=entries,
                        codes=parse_codes(data.get("codes") or {}, _entry_lines(root, name, "codes"), name),
                        segments=parse_recodes(data.get("segments") or {}, _entry_lines(root, name, "segments"),
                                               name),
                        splits=parse_splits(data.get("split") or [], _item_lines(root, "split"), name))
    for theme_id in entries:
        labels.merge_target(theme_id)  # raises on a cycle, naming the entry
    return labels


def _item_lines(root: yaml.Node | None, section: str) -> list[int]:
    """Line of each item of a top-level list (``split:``)."""
    for key_node, value_node in root.value if isinstance(root, yaml.MappingNode) else ():
        if key_node.value == section and isinstance(value_node, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value_node.value]
    return []


def _entry_lines(root: yaml.Node | None, name: str, section: str = "themes") -> dict[str, int]:
    """Line of each entry of a section (yaml.safe_load keeps none); also rejects a key given twice."""
    if not isinstance(root, yaml.MappingNode):
        return {}
    what = "theme" if section == "themes" else section.rstrip("s")
    for key_node, value_node in root.value:
        if key_node.value == section and isinstance(value_node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for entry_key, _ in value_node.value:
                line = entry_key.start_mark.line + 1
                if entry_key.value in lines:
                    raise PipelineError(f"{what} {entry_key.value} is listed twice (also line {lines[entry_key.value]})",
                                        file=name, row=line)
                lines[entry_key.value] = line
            return lines
    return {}


def _theme_id(value: object, name: str, line: int | None, what: str) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise PipelineError(f"{what} {value!r} is not a theme id (a whole number >= 0)", file=name, row=line)
    return int(value)


def _parse_entry(theme_id: int, value: object, name: str, line: int | None) -> ThemeLabel:
    where = f"theme {theme_id}"
    if value is None:
        return ThemeLabel(theme_id, line=line)
    if isinstance(value, str):
        value = {"label": value}
    if not isinstance(value, dict):
        raise PipelineError(f"{where}: expected a label or a mapping of {', '.join(LABEL_FIELDS)}", file=name, row=line)
    unknown = sorted(map(str, set(value) - set(LABEL_FIELDS)))
    if unknown:
        raise PipelineError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(LABEL_FIELDS)}",
                            file=name, row=line)
    texts = {}
    for key in ("label", "definition", "category"):
        item = value.get(key)
        if item is not None and (not isinstance(item, (str, int)) or isinstance(item, bool) or not str(item).strip()):
            raise PipelineError(f"{where}: {key} must be non-empty text, got {item!r}", file=name, row=line)
        texts[key] = " ".join(str(item).split()) if item is not None else None
    memo = value.get("memo")
    if memo is not None and (not isinstance(memo, (str, int, float)) or isinstance(memo, bool)):
        raise PipelineError(f"{where}: memo must be text, got {memo!r}", file=name, row=line)
    memo = str(memo).strip() or None if memo is not None else None
    noise = value.get("noise", False)
    if not isinstance(noise, bool):
        raise PipelineError(f"{where}: noise must be true or false, got {noise!r}", file=name, row=line)
    merge_into = value.get("merge_into")
    if merge_into is not None:
        merge_into = _theme_id(merge_into, name, line, f"{where}: merge_into")
        if merge_into == theme_id:
            raise PipelineError(f"{where}: merges into itself", file=name, row=line)
        clashing = [key for key in ("label", "definition", "category") if texts[key]] + (["noise"] if noise else [])
        if clashing:
            raise PipelineError(f"{where}: merges into {merge_into}, so {', '.join(clashing)} would be lost; "
                                f"put it on theme {merge_into}", file=name, row=line)
    return ThemeLabel(theme_id, texts["label"], texts["definition"], texts["category"], merge_into, noise, line, memo)


def apply_labels(
    themes: Sequence[Theme], assignments: Sequence[Assignment], labels: LabelsFile, categories: Sequence[Category] = (),
) -> tuple[list[Theme], list[Assignment], list[str]]:
    """Apply splits, recodes, renames, merges, noise marks, pins, definitions and memos; returns (themes,
    assignments, warnings)."""
    where = f"{labels.path}: " if labels.path else "labels: "
    labels = _with_split_entries(labels)
    themes, assignments, warnings = apply_moves(themes, assignments, labels, where)
    by_id = {theme.theme_id: theme for theme in themes}
    closed = {category.category_id for category in categories}
    warnings += [f"{where}code '{code}' (line {entry.line}) repeats a categories.yaml id; the category's label wins"
                 for code, entry in labels.codes.items() if code in closed]
    category_ids = closed | set(labels.codes)
    for theme_id, entry in sorted(labels.themes.items()):
        line = f" (line {entry.line})" if entry.line else ""
        if theme_id not in by_id:
            warnings.append(f"{where}theme {theme_id}{line} no longer exists; its entry is ignored")
        elif entry.category and entry.category != EMERGENT and entry.category not in category_ids:
            warnings.append(f"{where}theme {theme_id}{line}: unknown category '{entry.category}'; pin ignored"
                            + (f" (known: {', '.join(sorted(category_ids))}, {EMERGENT})" if category_ids else ""))

    target: dict[int, int] = {}
    for theme_id in by_id:
        final = labels.merge_target(theme_id)
        if final != theme_id and final not in by_id:
            warnings.append(f"{where}theme {theme_id} merges into theme {final}, which no longer exists; not merged")
            final = theme_id
        target[theme_id] = final
    noise = {theme_id for theme_id, final in target.items() if _entry(labels, final).noise or by_id[final].noise}

    groups: dict[int, list[Theme]] = {}
    for theme in themes:
        groups.setdefault(target[theme.theme_id], []).append(theme)
    new_themes = [_merged_theme(by_id[survivor], members, labels, category_ids, survivor in noise)
                  for survivor, members in groups.items()]

    seen_labels: dict[str, int] = {}
    for theme in new_themes:
        if not theme.noise and theme.label.casefold() in seen_labels:
            warnings.append(f"{where}themes {seen_labels[theme.label.casefold()]} and {theme.theme_id} share the "
                            f"label '{theme.label}'")
        seen_labels.setdefault(theme.label.casefold(), theme.theme_id)

    def point(theme_id: int) -> int:
        final = target.get(theme_id, theme_id)
        return UNASSIGNED if final in noise else final

    return new_themes, [_relabelled(assignment, point) for assignment in assignments], warnings


def _with_split_entries(labels: LabelsFile) -> LabelsFile:
    """``labels`` with each split's label, definition and category as a theme entry (an explicit ``themes:``
    entry for the split's id wins field by field)."""
    if not labels.splits:
        return labels
    themes = dict(labels.themes)
    for split in labels.splits:
        given = themes.get(split.theme_id) or ThemeLabel(split.theme_id)
        themes[split.theme_id] = dataclasses.replace(
            given, label=given.label or split.label, definition=given.definition or split.definition,
            category=given.category or split.category, line=given.line or split.line)
    return dataclasses.replace(labels, themes=themes)


def analyst_codes(labels: LabelsFile, categories: Sequence[Category] = ()) -> list[Category]:
    """The analyst's codes as Category records (group ``analyst code``, no rating column), so every output can
    name a theme pinned to one; codes repeating a categories.yaml id are left out."""
    closed = {category.category_id for category in categories}
    return [Category(code.code_id, code.label, group=ANALYST_GROUP, description=code.definition, residual=False)
            for code in labels.codes.values() if code.code_id not in closed]


def _entry(labels: LabelsFile, theme_id: int) -> ThemeLabel:
    return labels.themes.get(theme_id) or ThemeLabel(theme_id)


def _merged_theme(survivor: Theme, members: list[Theme], labels: LabelsFile, category_ids: set[str],
                  noise: bool) -> Theme:
    entry = _entry(labels, survivor.theme_id)
    size = sum(member.size for member in members)
    ordered = [survivor] + sorted((m for m in members if m is not survivor), key=lambda m: (-m.size, m.theme_id))
    # Round-robin by rank so the merged keywords describe every part, not only the survivor.
    ranked = itertools.zip_longest(*(member.keywords for member in ordered))
    keywords = list(dict.fromkeys(w for rank in ranked for w in rank if w))[:max(len(m.keywords) for m in members)]
    stability = (sum(m.stability * m.size for m in members) / size) if size else survivor.stability
    # Merging unstable fragments often yields a stable theme, so the flag follows where most segments come from.
    unstable = sum(m.size for m in members if m.unstable) * 2 > size if size else survivor.unstable
    changes: dict[str, object] = dict(size=size, keywords=tuple(keywords), stability=stability, unstable=unstable,
                                      noise=noise)
    # the survivor's own memo already holds the entry's when this is the output of an earlier application
    own = survivor.memo if entry.memo and survivor.memo.startswith(entry.memo) else entry.memo or survivor.memo
    memos = [own] + [f"(from theme {m.theme_id}) {_entry(labels, m.theme_id).memo}"
                                            for m in ordered[1:] if _entry(labels, m.theme_id).memo]
    if any(memos):
        changes["memo"] = "\n".join(memo for memo in memos if memo)
    if entry.label:
        changes["label"] = entry.label
    if entry.definition:
        changes["definition"] = entry.definition
    if entry.category == EMERGENT or (entry.category and entry.category in category_ids):
        emergent = entry.category == EMERGENT
        changes.update(category_id=None if emergent else entry.category, emergent=emergent, confidence=1.0)
        if "pinned" in Theme.__dataclass_fields__:
            changes["pinned"] = True
    return dataclasses.replace(survivor, **changes)


def _relabelled(assignment: Assignment, point) -> Assignment:
    primary = point(assignment.theme_id)
    weight = assignment.weight
    secondary: dict[int, float] = {}
    for theme_id, share in assignment.secondary:
        moved = point(theme_id)
        if moved == UNASSIGNED:
            continue
        if moved == primary:
            weight += share
        else:
            secondary[moved] = secondary.get(moved, 0.0) + share
    if primary == UNASSIGNED and assignment.theme_id != UNASSIGNED:
        weight = 0.0
    new_secondary = tuple(sorted(((t, min(w, 1.0)) for t, w in secondary.items()),
                                 key=lambda item: (-item[1], item[0])))
    if primary == assignment.theme_id and new_secondary == assignment.secondary and weight == assignment.weight:
        return assignment
    return dataclasses.replace(assignment, theme_id=primary, weight=min(weight, 1.0), secondary=new_secondary)


def label_reassignments(before: Sequence[Assignment], after: Sequence[Assignment],
                        labels: LabelsFile | None = None) -> list[Reassignment]:
    """Audit records for every segment whose primary theme the labels changed: ``labels:recode`` or
    ``labels:split`` for segments the file names (when ``labels`` is given), else ``labels:noise`` or
    ``labels:merge``."""
    recoded = set(labels.segments) if labels is not None else set()
    split = {s for entry in labels.splits for s in entry.segments} if labels is not None else set()

    def strategy(old: Assignment, new: Assignment) -> str:
        if old.segment_id in recoded or old.segment_id.rpartition("#")[0] in recoded:
            return "labels:recode"
        if old.segment_id in split:
            return "labels:split"
        return "labels:noise" if new.theme_id == UNASSIGNED else "labels:merge"

    return [
        Reassignment(old.segment_id, old.theme_id, new.theme_id, strategy(old, new), new.weight)
        for old, new in zip(before, after, strict=True) if old.theme_id != new.theme_id
    ]
