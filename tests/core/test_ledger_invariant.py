"""The ledger invariant (issue 15): every answer read is kept or dropped with a reason, per file and in total.

The runner checks it after the clean stage on every run; here it is shown to catch a lost answer, and a property
test over random corpora with random corruptions shows that every record written into a file comes out of ingest +
clean exactly once, under its own file and row (and with its exact text when nothing damaged it).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.artifacts import Cleaned, Ingested
from pipeline.core.invariants import LedgerInvariantError, check_ledger, ledger_problems
from pipeline.core.records import DROPPED, KEPT, Answer, LedgerEntry, Segment, SourceFile


def _answers(n: int) -> tuple[Answer, ...]:
    return tuple(Answer(f"a.csv:{i}", "a.csv", i, f"R{i}", f"answer number {i}") for i in range(1, n + 1))


def _consistent(n: int) -> tuple[Ingested, Cleaned]:
    answers = _answers(n)
    ingested = Ingested((SourceFile("a.csv", "csv", "", n),), answers, (), sources={"a.csv": n})
    segments = tuple(Segment(f"{a.answer_id}#0", a.answer_id, a.respondent_id, a.file, a.row, 0, 0, len(a.text),
                             a.text, a.text) for a in answers)
    ledger = tuple(LedgerEntry(a.answer_id, a.file, a.row, a.respondent_id, KEPT, n_segments=1) for a in answers)
    return ingested, Cleaned(segments, ledger)


def test_invariant_holds_for_a_consistent_ledger():
    check_ledger(*_consistent(3))


@pytest.mark.parametrize("break_it, fragment", [
    (lambda i, c: (i, dataclasses.replace(c, ledger=c.ledger[:-1], segments=c.segments[:-1])), "has no ledger entry"),
    (lambda i, c: (i, dataclasses.replace(c, ledger=c.ledger + c.ledger[:1])), "has 2 ledger entries"),
    (lambda i, c: (dataclasses.replace(i, sources={"a.csv": 4}), c), "its reader returned 4 records"),
    (lambda i, c: (i, dataclasses.replace(c, segments=c.segments[1:])), "kept with 1 segments but has 0"),
    (lambda i, c: (i, dataclasses.replace(c, segments=(dataclasses.replace(c.segments[0], start=1),)
                                          + c.segments[1:])), "text is not answer.text[1:"),
    (lambda i, c: (i, dataclasses.replace(c, ledger=c.ledger + (LedgerEntry("b.csv:1", "b.csv", 1, "x", DROPPED,
                                                                            "empty"),))), "is not an answer read"),
], ids=["lost", "twice", "reader-count", "segments", "offsets", "invented"])
def test_invariant_catches_every_way_of_losing_an_answer(break_it, fragment):
    ingested, cleaned = break_it(*_consistent(3))
    with pytest.raises(LedgerInvariantError, match="ledger invariant broken") as caught:
        check_ledger(ingested, cleaned)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_runner_stops_a_run_that_loses_an_answer(tmp_path, monkeypatch):
    """A (simulated) bug in the cleaner that loses one answer fails the run as an internal error."""
    from pipeline import runner
    from pipeline.clean import cleaner
    from pipeline.core.config import load_config

    original = cleaner.Cleaner.transform

    def lossy(self, answers):
        result = original(self, answers)
        return dataclasses.replace(result, ledger=result.ledger[1:])

    monkeypatch.setattr(cleaner.Cleaner, "transform", lossy)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Not enough staff for planning\nThe money runs out in March\n", encoding="utf-8")
    with pytest.raises(LedgerInvariantError, match="a.txt:1 has no ledger entry"):
        runner.run(corpus, load_config(None, {"embed.model": "fake-hash.v1"}), until="ingest")


# --- the property: random corpora, random corruptions -----------------------------------------------------------

WORDS = st.sampled_from(["staff", "money", "time", "plans", "care", "beds", "roads", "data", "trust", "rules",
                         "vague", "late", "\u00e9t\u00e9", "na\u00efve", "caf\u00e9", "quote\"d", "semi;colon",
                         "com,ma", "tab\there"])
TEXT = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
CORRUPTIONS = ("none", "nul", "unclosed-quote", "extra-field", "blank-line", "blank-id", "too-long", "crlf",
               "bom", "cp1252-byte")


@st.composite
def corpus_files(draw):
    files = {}
    for number in range(draw(st.integers(1, 3))):
        fmt = draw(st.sampled_from(["csv", "tsv", "jsonl", "txt", "xlsx"]))
        texts = draw(st.lists(TEXT, min_size=1, max_size=8))
        corruption = draw(st.sampled_from(CORRUPTIONS))
        target = draw(st.integers(0, len(texts) - 1))
        files[f"f{number}.{fmt}"] = (texts, corruption, target)
    return files


def _write(path: Path, texts: list[str], corruption: str, target: int) -> tuple[list[int], set[int]]:
    """Write the file; return (the row number each text must come out under, rows whose text may change)."""
    fmt = path.suffix[1:]
    ids = [f"R{i}" for i in range(len(texts))]
    if corruption == "blank-id":
        ids[target] = ""
    if corruption == "too-long":
        texts[target] = texts[target] + " and" * 80  # over the max_chars of 200 set below
    damaged = {target + 1} if corruption in ("nul", "unclosed-quote", "cp1252-byte") else set()
    if fmt == "xlsx":
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["id", "text"])
        rows = []
        for i, text in enumerate(texts):
            if corruption == "blank-line" and i == target:
                sheet.append([None, None])
            sheet.append([ids[i], text])
            rows.append(sheet.max_row - 1)
        workbook.save(path)
        return rows, set()
    lines, rows = [], []
    for i, text in enumerate(texts):
        if corruption == "blank-line" and i == target:
            lines.append("")
        if corruption == "nul" and i == target:
            text = text[:1] + "\x00" + text[1:]
        if fmt == "txt":
            lines.append(text.replace("\t", " "))
            rows.append(len(lines))
        elif fmt == "jsonl":
            lines.append(json.dumps({"id": ids[i], "text": text}))
            rows.append(len(lines))
        else:
            delimiter = "," if fmt == "csv" else "\t"
            buffer = io.StringIO()
            fields = [ids[i], text] + (["extra"] if corruption == "extra-field" and i == target else [])
            csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(fields)
            line = buffer.getvalue()
            if corruption == "unclosed-quote" and i == target:
                line = f'{ids[i]}{delimiter}"{text.replace(chr(34), "")}'
            lines.append(line)
            rows.append(len(lines))
    header = {"csv": "id,text", "tsv": "id\ttext"}.get(fmt)
    ending = "\r\n" if corruption == "crlf" else "\n"
    body = ending.join(([header] if header else []) + lines) + ending
    data = body.encode("utf-8")
    if corruption == "bom":
        data = b"\xef\xbb\xbf" + data
    if corruption == "cp1252-byte":
        # the byte goes into the target's text, never into a header name, an id or a JSON key
        index = rows[target] - 1
        before = ((header + ending) if header else "") + "".join(line + ending for line in lines[:index])
        line = lines[index]
        into = line.index('"text": ') + len('"text": ') if fmt == "jsonl" else 0 if fmt == "txt" else \
            len(ids[target]) + 1
        start = len((before + line[:into]).encode("utf-8"))
        if texts[target][:1].isascii():
            first = texts[target][:1].encode()
            data = data[:start] + data[start:].replace(first, first + b"\x96", 1)
        damaged = set(rows)  # the whole file is decoded differently
    path.write_bytes(data)
    return rows, damaged


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(corpus_files())
def test_every_record_written_comes_out_once_under_its_row(tmp_path_factory, files):
    from pipeline import runner
    from pipeline.core.config import load_config

    corpus = tmp_path_factory.mktemp("corpus")
    expected: dict[str, set[int]] = {}
    exact: dict[str, str] = {}
    for name, (texts, corruption, target) in files.items():
        texts = list(texts)
        rows, damaged = _write(corpus / name, texts, corruption, target)
        expected[name] = set(rows)
        exact.update({f"{name}:{row}": text for row, text in zip(rows, texts) if row not in damaged})
    config = load_config(None, {"embed.model": "fake-hash.v1", "ingest.text_column": "text",
                                "ingest.id_column": "id", "ingest.txt_mode": "line", "ingest.max_chars": 200})
    result = runner.run(corpus, config, until="ingest")  # the runner checks the ledger invariant itself
    counts = Counter(e.answer_id for e in result.ledger)
    assert all(n == 1 for n in counts.values())
    for name, rows in expected.items():
        assert {e.row for e in result.ledger if e.file == name} == rows, name
    got = {a.answer_id: a.text for a in result.answers}
    for answer_id, text in exact.items():
        if answer_id in got:
            assert got[answer_id] == (text.replace("\t", " ") if answer_id.split(":")[0].endswith(".txt") else text)
    assert ledger_problems(result.outputs["ingest"], result.outputs["clean"]) == []
