"""Bad input files (issue 15, defects 1-7): each case writes a corpus, reads and cleans it, and checks the exact
outcome (every ledger entry: kept or the reason it was dropped), the text or respondent id of chosen answers, and
the one-line warning that explains it. Every input is generated here; every answer is written by us."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.bad_inputs.helpers import answer, ingest, ledger, texts


@dataclass(frozen=True)
class Case:
    write: Callable[[Path], None]  # writes the corpus into the folder it is given
    ledger: dict[str, str]  # every ledger entry: answer_id -> "kept" or the drop reason
    warning: str = ""  # a fragment of the one-line warning that must explain it ("" = no warning expected)
    texts: dict[str, str] = field(default_factory=dict)  # answer_id -> its exact text
    respondents: dict[str, str] = field(default_factory=dict)  # answer_id -> respondent id


def _xlsx(path: Path, sheets: dict[str, list[list]], formats: dict[tuple[str, str], str] | None = None) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    for (title, cell), number_format in (formats or {}).items():
        workbook[title][cell].number_format = number_format
    workbook.save(path)


def _rows(n: int, start: int = 0, tag: str = "") -> list[list]:
    return [["id", "comment"]] + [[f"R{start + i}", answer(start + i, tag)] for i in range(n)]


def _kept(label: str, n: int) -> dict[str, str]:
    return {f"{label}:{row}": "kept" for row in range(1, n + 1)}


def _three_sheets(corpus: Path) -> None:
    _xlsx(corpus / "book.xlsx", {"North": _rows(10), "South": _rows(10, 10), "Late": _rows(5, 20)})


def _cover_note(corpus: Path) -> None:
    cover = [["About this export"], ["The answers are on the next two sheets; nothing on this page is an answer."]]
    _xlsx(corpus / "book.xlsx", {"Cover": cover, "Wave 1": _rows(10), "Wave 2": _rows(5, 10)})


def _nul_byte(corpus: Path) -> None:
    (corpus / "s.csv").write_bytes(f"id,text\n1,{answer(1)}\n2,foo\x00bar and more\n3,{answer(3)}\n".encode())


RUSSIAN = ["Мало денег", "Нет времени", "Мало врачей", "Плохие дороги", "Старые здания", "Нет данных",
           "Много бумаг", "Слабое руководство", "Длинные очереди", "Нет жилья", "Мало медсестёр", "Нет транспорта",
           "Сложные правила", "Слабая связь"]  # 14 short answers (under 40 characters: no language check)


def _utf16_without_bom(corpus: Path) -> None:
    text = "id,текст\n" + "".join(f"{i},{line}\n" for i, line in enumerate(RUSSIAN, 1))
    (corpus / "s.csv").write_bytes(text.encode("utf-16-le"))


def _unclosed_quote(corpus: Path) -> None:
    (corpus / "s.csv").write_text('id,text\n1,"Opens a quote\n2,"Second answer."\n3,"Third answer."\n',
                                  encoding="utf-8")


def _unclosed_quote_20(corpus: Path) -> None:
    rows = [f"{i},{answer(i)}" for i in range(1, 21)]
    rows[4] = f'5,"{answer(5)}'  # row 5 opens a quote it never closes
    (corpus / "s.csv").write_text("id,text\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _linked_folder(corpus: Path) -> None:
    (corpus / "real").mkdir()
    (corpus / "real" / "a.txt").write_text(answer(1) + "\n", encoding="utf-8")
    os.symlink(corpus / "real", corpus / "linked")


def _link_outside(corpus: Path) -> None:
    outside = corpus.parent / "outside.txt"
    outside.write_text("NAME=not an answer\nID=nothing\n", encoding="utf-8")
    os.symlink(outside, corpus / "other.txt")
    (corpus / "a.txt").write_text(answer(1) + "\n", encoding="utf-8")


def _link_to_dev_zero(corpus: Path) -> None:
    os.symlink("/dev/zero", corpus / "zero.csv")
    (corpus / "a.txt").write_text(answer(1) + "\n", encoding="utf-8")


def _fifo(corpus: Path) -> None:
    os.mkfifo(corpus / "answers.csv")
    (corpus / "a.txt").write_text(answer(1) + "\n", encoding="utf-8")


def _nested_jsonl(corpus: Path) -> None:
    (corpus / "s.jsonl").write_text('{"respondent": {"id": 7}, "answer": {"text": "Nested answers are hard"}}\n',
                                    encoding="utf-8")


def _formula_without_value(corpus: Path) -> None:
    # openpyxl saves formulas without a calculated value, as any program that is not Excel does
    _xlsx(corpus / "book.xlsx", {"A": [["id", "comment"], ["R1", answer(1)], ["R2", '=CONCAT("Too ", "few")'],
                                       ["R3", answer(3)]]})


def _zero_padded_id(corpus: Path) -> None:
    _xlsx(corpus / "book.xlsx", {"A": [["id", "comment"], [7, answer(1)], [12, answer(2)]]},
          formats={("A", "A2"): "000", ("A", "A3"): "00000"})


def _blank_id_collides(corpus: Path) -> None:
    rows = ["id,text", f"survey-3,{answer(1)}", f"R2,{answer(2)}", f",{answer(3)}"]
    (corpus / "survey.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


CASES = {
    "1-xlsx-three-sheets": Case(_three_sheets, {**_kept("book.xlsx[North]", 10), **_kept("book.xlsx[South]", 10),
                                                **_kept("book.xlsx[Late]", 5)},
                                texts={"book.xlsx[Late]:5": answer(24)}),
    "1-xlsx-cover-note": Case(_cover_note, {**_kept("book.xlsx[Wave 1]", 10), **_kept("book.xlsx[Wave 2]", 5),
                                            "book.xlsx[Cover]:1": "not-an-answer",
                                            "book.xlsx[Cover]:2": "not-an-answer"},
                              warning="[Cover]: one-column sheet read as a note"),
    "3-nul-byte": Case(_nul_byte, _kept("s.csv", 3), warning="1 NUL byte(s) on line(s) 3 replaced",
                       texts={"s.csv:2": "foo\ufffdbar and more"}),
    "3-utf16-le-no-bom-non-ascii": Case(_utf16_without_bom, _kept("s.csv", 14), warning="read as UTF-16-LE",
                                        texts={"s.csv:1": "Мало денег", "s.csv:14": "Слабая связь"}),
    "4-unclosed-quote": Case(_unclosed_quote, _kept("s.csv", 3), warning="s.csv:1: unclosed quote on line 2",
                             texts={"s.csv:1": "Opens a quote", "s.csv:2": "Second answer.",
                                    "s.csv:3": "Third answer."}),
    "4-unclosed-quote-20-rows": Case(_unclosed_quote_20, _kept("s.csv", 20), warning="s.csv:5: unclosed quote",
                                     texts={"s.csv:5": answer(5), "s.csv:6": answer(6), "s.csv:20": answer(20)}),
    "5-symlinked-folder": Case(_linked_folder, {"real/a.txt:1": "kept", "linked/:0": "skipped-file"},
                               warning="linked: a symbolic link to a folder"),
    "5-symlink-outside": Case(_link_outside, {"a.txt:1": "kept", "other.txt:0": "skipped-file"},
                              warning="other.txt: a symbolic link"),
    "5-symlink-dev-zero": Case(_link_to_dev_zero, {"a.txt:1": "kept", "zero.csv:0": "skipped-file"},
                               warning="zero.csv: a symbolic link"),
    "5-fifo": Case(_fifo, {"a.txt:1": "kept", "answers.csv:0": "skipped-file"},
                   warning="answers.csv: a FIFO (named pipe), not a file of answers"),
    "6-nested-jsonl": Case(_nested_jsonl, {"s.jsonl:1": "kept"}, warning="nested JSON flattened",
                           texts={"s.jsonl:1": "Nested answers are hard"}, respondents={"s.jsonl:1": "7"}),
    "7-formula-without-value": Case(_formula_without_value, {"book.xlsx:1": "kept", "book.xlsx:2": "unreadable",
                                                             "book.xlsx:3": "kept"},
                                    warning="book.xlsx:2: the answer cell is a formula"),
    "7-zero-padded-id": Case(_zero_padded_id, _kept("book.xlsx", 2),
                             respondents={"book.xlsx:1": "007", "book.xlsx:2": "00012"}),
    "7-blank-id-collides": Case(_blank_id_collides, _kept("survey.csv", 3), warning="survey.csv:3: no respondent id",
                                respondents={"survey.csv:1": "survey-3", "survey.csv:3": "survey.csv:3"}),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_file(tmp_path, name):
    case = CASES[name]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    case.write(corpus)
    result = ingest(corpus)
    assert ledger(result) == case.ledger
    got = texts(result)
    assert {k: got.get(k) for k in case.texts} == case.texts
    respondents = {a.answer_id: a.respondent_id for a in result.answers}
    assert {k: respondents.get(k) for k in case.respondents} == case.respondents
    assert all("\n" not in w and "\r" not in w for w in result.warnings)  # one line each
    if case.warning:
        assert [w for w in result.warnings if case.warning in w], result.warnings
