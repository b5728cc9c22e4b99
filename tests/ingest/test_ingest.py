"""Ingest: every reader, encodings, column detection, bad input, and the accounting invariant."""
from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.config import IngestConfig
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.ingest import IngestResult, load_categories, read_corpus
from pipeline.core.records import DROPPED

# Invented answers, in our own words.
LONG_A = "Planning footprints cut across two councils so nobody owns the plan."
LONG_B = "There is no spare staff time to write a five-year plan on top of the day job."
LONG_C = "Deadlines from the centre leave no room to talk to patients first."


def texts(result: IngestResult) -> list[str]:
    return [answer.text for answer in result.answers]


def warnings_matching(result: IngestResult, fragment: str) -> list[str]:
    return [warning for warning in result.warnings if fragment in warning]


# --- readers -----------------------------------------------------------------------------------------------------

READER_CASES = [
    pytest.param(
        "survey.csv",
        f'respondent_id,role,comment\nR1,chair,"{LONG_A}"\nR2,officer,"{LONG_B}"\n',
        [(1, "R1", LONG_A), (2, "R2", LONG_B)],
        id="csv",
    ),
    pytest.param(
        "survey.tsv",
        f"id\tcomment\tregion\nR1\t{LONG_A}\tnorth\nR2\t{LONG_B}\tsouth\n",
        [(1, "R1", LONG_A), (2, "R2", LONG_B)],
        id="tsv",
    ),
    pytest.param(
        "survey.jsonl",
        json.dumps({"id": "R1", "comment": LONG_A}) + "\n\n" + json.dumps({"id": "R2", "comment": LONG_B}) + "\n",
        [(1, "R1", LONG_A), (3, "R2", LONG_B)],
        id="jsonl",
    ),
    pytest.param(
        "notes.txt",
        f"{LONG_A}\n{LONG_B}\n{LONG_C}\n",
        [(1, "notes-1", LONG_A), (2, "notes-2", LONG_B), (3, "notes-3", LONG_C)],
        id="txt-lines",
    ),
    pytest.param(
        "notes.txt",
        f"\n{LONG_A}\n\n{LONG_B}\n   \n{LONG_C}",
        [(2, "notes-2", LONG_A), (4, "notes-4", LONG_B), (6, "notes-6", LONG_C)],
        id="txt-spaced-lines",
    ),
    pytest.param(
        "notes.txt",
        f"{LONG_A}\ncontinued here.\n\n\n{LONG_B}\n\n{LONG_C}\nand more.\n",
        [(1, "notes-1", f"{LONG_A}\ncontinued here."), (5, "notes-5", LONG_B), (7, "notes-7", f"{LONG_C}\nand more.")],
        id="txt-blocks",
    ),
    pytest.param(
        "notes.md",
        f"{LONG_A}\r\n{LONG_C}\r\n",
        [(1, "notes-1", LONG_A), (2, "notes-2", LONG_C)],
        id="md-crlf",
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), READER_CASES)
def test_ingest_reads_each_text_format(write_corpus, name, content, expected):
    result = read_corpus(write_corpus({name: content}), IngestConfig())
    got = [(a.row, a.respondent_id, a.text) for a in result.answers]
    assert got == expected
    assert [a.answer_id for a in result.answers] == [f"{name}:{row}" for row, _, _ in expected]
    assert result.ledger == []
    assert [(f.path, f.format, f.n_answers) for f in result.files] == [(name, name.split(".")[1], len(expected))]


@pytest.mark.parametrize(
    ("mode", "expected_rows"),
    [("line", [1, 2, 4, 5]), ("block", [1, 4]), ("auto", [1, 4])],
)
def test_ingest_txt_mode_setting(write_corpus, mode, expected_rows):
    corpus = write_corpus({"a.txt": "one\ntwo\n\nthree\nfour\n"})
    result = read_corpus(corpus, IngestConfig(txt_mode=mode))
    assert [a.row for a in result.answers] == expected_rows


@pytest.mark.parametrize("numeric_id", [1001, 1001.0])
def test_ingest_reads_xlsx_first_sheet_with_a_header(write_corpus, write_xlsx, numeric_id):
    corpus = write_corpus({})
    write_xlsx(
        corpus / "survey.xlsx",
        sheets={
            "Cover": [],
            "Answers": [
                ["Respondent ID", "Score", "Comment"],
                [numeric_id, 7, LONG_A],
                [None, None, None],  # a blank sheet row: not an answer, but row numbers stay in step
                ["R2", 3.5, LONG_B],
            ],
        },
    )
    result = read_corpus(corpus, IngestConfig())
    assert [(a.row, a.respondent_id, a.text) for a in result.answers] == [(1, "1001", LONG_A), (3, "R2", LONG_B)]
    assert [dict(a.meta) for a in result.answers] == [{"Score": "7"}, {"Score": "3.5"}]
    assert result.files[0].format == "xlsx" and result.files[0].n_answers == 2


def test_ingest_xlsx_without_rows_warns_no_answers(write_corpus, write_xlsx):
    corpus = write_corpus({"other.txt": "an answer\n"})
    write_xlsx(corpus / "blank.xlsx", sheets={"One": [], "Two": [[None, None]]})
    result = read_corpus(corpus, IngestConfig())
    assert warnings_matching(result, "blank.xlsx: no answers")
    assert texts(result) == ["an answer"]


def test_ingest_repeated_and_blank_header_names_are_made_unique(write_corpus):
    result = read_corpus(write_corpus({"s.csv": f"id,note,note,,comment\nR1,a,b,c,{LONG_A}\n"}), IngestConfig())
    assert dict(result.answers[0].meta) == {"note": "a", "note_2": "b", "column_4": "c"}
    assert warnings_matching(result, "column 3 renamed 'note_2'")


def test_ingest_csv_multiline_quoted_cells_keep_record_rows(write_corpus):
    content = f'id,comment\nR1,"{LONG_A}\nSecond line, with a comma."\nR2,"{LONG_B}"\n'
    result = read_corpus(write_corpus({"s.csv": content}), IngestConfig())
    assert [(a.row, a.text) for a in result.answers] == [(1, f"{LONG_A}\nSecond line, with a comma."), (2, LONG_B)]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_ingest_csv_sniffs_delimiter(write_corpus, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerows([["id", "comment"], ["R1", "Money, time; and staff."], ["R2", LONG_B]])
    result = read_corpus(write_corpus({"s.csv": buffer.getvalue()}), IngestConfig())
    assert texts(result) == ["Money, time; and staff.", LONG_B]
    assert [a.respondent_id for a in result.answers] == ["R1", "R2"]


def test_ingest_reads_folders_recursively_in_sorted_order(write_corpus):
    corpus = write_corpus({"b.txt": "from b\n", "a/z.txt": "from a/z\n", "a/c.txt": "from a/c\n"})
    result = read_corpus(corpus, IngestConfig())
    assert [f.path for f in result.files] == ["a/c.txt", "a/z.txt", "b.txt"]
    assert [a.answer_id for a in result.answers] == ["a/c.txt:1", "a/z.txt:1", "b.txt:1"]


@pytest.mark.parametrize(
    "skipped", ["pipeline.toml", "categories.yaml", "labels.yaml", "README.md", "readme.txt", ".hidden.csv",
                ".cache/x.csv", "~$survey.xlsx"]
)
def test_ingest_skips_project_and_hidden_files_silently(write_corpus, skipped):
    corpus = write_corpus({"answers.txt": "kept answer\n", skipped: "id,comment\nR9,should not be read\n"})
    result = read_corpus(corpus, IngestConfig())
    assert [f.path for f in result.files] == ["answers.txt"]
    assert texts(result) == ["kept answer"]
    assert result.warnings == []


# --- encodings ---------------------------------------------------------------------------------------------------

ENCODING_TEXT = "The \u201cplan\u201d costs \u00a35m \u2013 caf\u00e9 talk and no action."  # curly quotes, £, en dash, é
LATIN1_TEXT = "R\u00e9union budget \u00a3 cut and na\u00efve targets."


@pytest.mark.parametrize("suffix", ["csv", "txt"])
@pytest.mark.parametrize(
    ("text", "written_as", "expected_encoding", "warns"),
    [
        (ENCODING_TEXT, "utf-8", "utf-8", False),
        (ENCODING_TEXT, "utf-8-sig", "utf-8-sig", False),  # Python's utf-8-sig codec writes the BOM
        (ENCODING_TEXT, "cp1252", "cp1252", True),
        (LATIN1_TEXT, "latin-1", "cp1252", True),  # cp1252 decodes these bytes identically
        (ENCODING_TEXT, "utf-16", "utf-16", False),  # with a byte-order mark, as Excel's "Unicode text"
    ],
)
def test_ingest_decodes_encodings(write_corpus, suffix, text, written_as, expected_encoding, warns):
    content = text if suffix == "txt" else f"comment\n{text}\n"
    result = read_corpus(write_corpus({f"s.{suffix}": content.encode(written_as)}), IngestConfig())
    assert texts(result) == [text]
    assert result.files[0].encoding == expected_encoding
    assert bool(warnings_matching(result, "s." + suffix + ": not UTF-8")) is warns


def test_ingest_bom_is_not_part_of_the_header(write_corpus):
    corpus = write_corpus({"s.csv": b"\xef\xbb\xbfid,comment\nR1," + LONG_A.encode()})
    result = read_corpus(corpus, IngestConfig())
    assert result.answers[0].respondent_id == "R1"
    assert dict(result.answers[0].meta) == {}


def test_ingest_mixed_utf8_and_cp1252_keeps_both_parts(write_corpus):
    data = "id,comment\nR1,caf\u00e9 \u201cfine\u201d\n".encode("utf-8") + "R2,\u201cquoted\u201d \u00a35\n".encode("cp1252")
    result = read_corpus(write_corpus({"s.csv": data}), IngestConfig())
    assert texts(result) == ["caf\u00e9 \u201cfine\u201d", "\u201cquoted\u201d \u00a35"]
    assert result.files[0].encoding == "utf-8+cp1252"
    assert warnings_matching(result, "s.csv: mixed encodings")


@pytest.mark.parametrize(
    ("encoding", "data", "expected", "warns"),
    [
        ("utf-8", b"\xef\xbb\xbfid,comment\nR1,ok\n", "R1", False),  # the BOM never leaks into the header
        ("cp1252", "id,comment\nR1,\u00a3 and \u20ac\n".encode("cp1252"), "R1", False),
        ("utf-8", b"id,comment\nR1,bad \x93byte\n", "R1", True),  # replaced, with a warning
    ],
)
def test_ingest_configured_encoding_is_used(write_corpus, encoding, data, expected, warns):
    result = read_corpus(write_corpus({"s.csv": data}), IngestConfig(encoding=encoding))
    assert [a.respondent_id for a in result.answers] == [expected]
    assert bool(warnings_matching(result, f"not valid {encoding}")) is warns


def test_ingest_unknown_configured_encoding_raises(write_corpus):
    with pytest.raises(ConfigError, match="ingest.encoding must be an encoding Python knows, .*got 'klingon'"):
        read_corpus(write_corpus({"s.txt": "x\n"}), IngestConfig(encoding="klingon"))


@pytest.mark.parametrize(
    "garbage",
    [bytes(range(128, 256)) * 4, b"\x81\x8d\x8f\x90\x9d" * 20 + b"\n\xff\xfe\xfa,\x00,\x01\n", b"\x00\x01\x02" * 50],
    ids=["high-bytes", "cp1252-undefined", "binary"],
)
@pytest.mark.parametrize("suffix", ["csv", "txt", "jsonl", "xlsx"])
def test_ingest_undecodable_garbage_does_not_crash(write_corpus, garbage, suffix):
    corpus = write_corpus({f"junk.{suffix}": garbage, "ok.txt": "a real answer\n"})
    result = read_corpus(corpus, IngestConfig())
    assert "a real answer" in texts(result)
    assert any(w.startswith((corpus / f"junk.{suffix}").as_posix()) for w in result.warnings)
    assert [f.path for f in result.files] == [f"junk.{suffix}", "ok.txt"]


# --- columns -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("header", "expected_ids"),
    [
        ("Respondent_ID,comment", ["A7", "B8"]),
        ("ID,comment", ["A7", "B8"]),
        ("resp_id,comment", ["A7", "B8"]),
        ("Response ID,comment", ["A7", "B8"]),
        ("code,comment", ["s-1", "s-2"]),  # no id column: "<stem>-<row>"
    ],
)
def test_ingest_detects_id_column_by_name(write_corpus, header, expected_ids):
    result = read_corpus(write_corpus({"s.csv": f"{header}\nA7,{LONG_A}\nB8,{LONG_B}\n"}), IngestConfig())
    assert [a.respondent_id for a in result.answers] == expected_ids
    assert texts(result) == [LONG_A, LONG_B]


def test_ingest_detects_text_column_as_longest_string_column(write_corpus):
    content = (
        "id,role,reference_number,other_barriers,short_note\n"
        f"1,chair,123456789012345678901234567890,{LONG_A},ok\n"
        f"2,officer,223456789012345678901234567890,{LONG_B},fine\n"
        "3,chair,323456789012345678901234567890,,meh\n"
    )
    result = read_corpus(write_corpus({"s.csv": content}), IngestConfig())
    assert texts(result) == [LONG_A, LONG_B, ""]
    assert dict(result.answers[0].meta) == {
        "role": "chair", "reference_number": "123456789012345678901234567890", "short_note": "ok"
    }


@pytest.mark.parametrize("repeated_column", ["question", "closed_answer"])
def test_ingest_text_detection_skips_long_repeated_columns(write_corpus, repeated_column):
    long_repeated = {
        "question": "Please describe in your own words any other barriers to agreeing the plan",
        "closed_answer": "Confusion or clashes over the planning footprint and its boundaries",
    }[repeated_column]
    rows = [f"R{i},{long_repeated},answer number {i} is different" for i in range(25)]
    result = read_corpus(write_corpus({"s.csv": f"id,{repeated_column},reply\n" + "\n".join(rows)}), IngestConfig())
    assert texts(result)[:2] == ["answer number 0 is different", "answer number 1 is different"]
    assert dict(result.answers[0].meta) == {repeated_column: long_repeated}


def test_ingest_configured_columns_fill_ratings_and_meta(write_corpus):
    content = (
        "who,Funding,Footprints,region,answer,notes\n"
        "R1,major barrier,not a barrier,north,short,a much longer note than the answer column holds\n"
    )
    config = IngestConfig(text_column="ANSWER", id_column="who", rating_columns=["funding"])
    result = read_corpus(write_corpus({"s.csv": content}), config, rating_columns=["Footprints", "funding"])
    (answer,) = result.answers
    assert (answer.respondent_id, answer.text) == ("R1", "short")
    assert dict(answer.ratings) == {"funding": "major barrier", "Footprints": "not a barrier"}
    assert dict(answer.meta) == {"region": "north", "notes": "a much longer note than the answer column holds"}
    assert result.warnings == []


def test_ingest_missing_text_column_raises_listing_columns(write_corpus):
    corpus = write_corpus({"s.csv": "id,comment,region\nR1,text,north\n"})
    with pytest.raises(PipelineError) as caught:
        read_corpus(corpus, IngestConfig(text_column="free_text"))
    message = str(caught.value)
    assert "s.csv" in message and "free_text" in message
    assert "id, comment, region" in message


def test_ingest_missing_rating_columns_warn_and_name_them(write_corpus):
    corpus = write_corpus({"s.csv": "id,comment,funding\nR1,text,major barrier\n"})
    result = read_corpus(corpus, IngestConfig(), rating_columns=["funding", "capacity", "targets"])
    (warning,) = result.warnings
    assert "s.csv" in warning and "capacity, targets" in warning
    assert dict(result.answers[0].ratings) == {"funding": "major barrier"}


def test_ingest_missing_id_column_warns_and_falls_back(write_corpus):
    corpus = write_corpus({"s.csv": f"code,comment\nX,{LONG_A}\n"})
    result = read_corpus(corpus, IngestConfig(id_column="respondent"))
    assert [a.respondent_id for a in result.answers] == ["s-1"]
    assert warnings_matching(result, "id column 'respondent' not found")


# --- bad input ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        (None, "corpus folder not found"),
        ("file", "this is a file"),
        ({}, "no answer files"),
        ({"report.pdf": b"%PDF-1.4", "notes.docx": b"PK"}, "found only unsupported files: notes.docx, report.pdf"),
        ({"README.md": "about this corpus\n", "pipeline.toml": "seed = 1\n"}, "no answer files"),
    ],
    ids=["missing", "a-file", "empty", "unsupported-only", "project-files-only"],
)
def test_ingest_corpus_without_answer_files_raises(write_corpus, tmp_path, files, fragment):
    if files == "file":
        corpus = write_corpus({"s.csv": "id,comment\nR1,x\n"}) / "s.csv"
    else:
        corpus = tmp_path / "absent" if files is None else write_corpus(files)
    with pytest.raises(PipelineError, match=fragment) as caught:
        read_corpus(corpus, IngestConfig())
    assert str(corpus) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "hint"), [("scan.pdf", ".txt"), ("old.xls", ".xlsx"), ("dump.json", ".jsonl"), ("notes.rtf", "supported:")]
)
def test_ingest_unsupported_file_warns_and_is_skipped(write_corpus, name, hint):
    corpus = write_corpus({"answers.txt": "one answer\n", name: b"%PDF-1.4"})
    result = read_corpus(corpus, IngestConfig())
    assert texts(result) == ["one answer"]
    (warning,) = result.warnings
    assert warning.startswith((corpus / name).as_posix()) and "unsupported" in warning and hint in warning


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.csv", ""), ("header_only.csv", "id,comment\n"), ("blank.txt", "\n  \n"), ("empty.jsonl", "")],
)
def test_ingest_empty_file_warns_no_answers(write_corpus, name, content):
    corpus = write_corpus({name: content, "other.txt": "something said\n"})
    result = read_corpus(corpus, IngestConfig())
    assert warnings_matching(result, f"{name}: no answers")
    assert {f.path: f.n_answers for f in result.files}[name] == 0


@pytest.mark.parametrize(
    ("content", "bad_row", "fragment"),
    [
        (f"id,comment\nR1,{LONG_A}\nR2,too,many,fields\nR3,{LONG_C}\n", 2, "row has 4 fields, header has 2"),
        (f"id,comment\nR1,{LONG_A}\nR2\nR3,{LONG_C}\n", 2, "row has 1 fields, header has 2"),
        # the lines after the quote are not rows of their own: the quote runs to the end of the file
        (f'id,comment\nR1,{LONG_A}\nR3,{LONG_C}\nR4,"never closed\nmore words\n', 3, "unclosed quote from line 4"),
    ],
    ids=["too-many", "too-few", "unclosed-quote"],
)
def test_ingest_malformed_csv_row_is_dropped_as_unreadable(write_corpus, content, bad_row, fragment):
    corpus = write_corpus({"s.csv": content})
    result = read_corpus(corpus, IngestConfig())
    (entry,) = result.ledger
    assert (entry.answer_id, entry.row, entry.status, entry.reason) == (f"s.csv:{bad_row}", bad_row, DROPPED, "unreadable")
    (warning,) = result.warnings
    assert warning.startswith(f"{(corpus / 's.csv').as_posix()}:{bad_row}: ") and fragment in warning
    assert LONG_A in texts(result)
    assert bad_row not in [a.row for a in result.answers]


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "txt"])
def test_ingest_one_megabyte_cell_is_dropped_as_too_long(write_corpus, suffix):
    huge = "word " * 200_000
    content = {
        "csv": f'id,comment\nR1,"{huge}"\nR2,{LONG_B}\n',
        "jsonl": json.dumps({"id": "R1", "comment": huge}) + "\n" + json.dumps({"id": "R2", "comment": LONG_B}) + "\n",
        "txt": f"{huge}\n{LONG_B}\n",
    }[suffix]
    result = read_corpus(write_corpus({f"s.{suffix}": content}), IngestConfig(max_chars=20_000))
    assert texts(result) == [LONG_B]
    (entry,) = result.ledger
    assert (entry.row, entry.reason) == (1, "too-long")
    assert warnings_matching(result, f"s.{suffix}:1: ") and warnings_matching(result, "too-long")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [('{"id": "R2", "comment": "cut off', "not valid JSON"), ('["a", "list"]', "expected a JSON object")],
)
def test_ingest_broken_jsonl_line_is_dropped_with_its_line_number(write_corpus, line, fragment):
    content = json.dumps({"id": "R1", "comment": LONG_A}) + "\n" + line + "\n" + json.dumps({"id": "R3", "comment": LONG_C})
    result = read_corpus(write_corpus({"s.jsonl": content}), IngestConfig())
    assert texts(result) == [LONG_A, LONG_C]
    (entry,) = result.ledger
    assert (entry.answer_id, entry.reason) == ("s.jsonl:2", "unreadable")
    (warning,) = result.warnings
    assert "s.jsonl:2: " in warning and fragment in warning


def test_ingest_duplicate_respondent_ids_warn_and_keep_answers(write_corpus):
    corpus = write_corpus({
        "a.csv": f"id,comment\nR1,{LONG_A}\nR2,{LONG_B}\nR1,{LONG_C}\n",
        "b.csv": f"id,comment\nR1,{LONG_B}\n",
    })
    result = read_corpus(corpus, IngestConfig())
    assert len(result.answers) == 4
    assert len({a.answer_id for a in result.answers}) == 4
    (warning,) = result.warnings
    assert "a.csv:1: " in warning and "'R1'" in warning and "a.csv:3" in warning and "b.csv:1" in warning


@pytest.mark.parametrize(
    ("content", "expected"),
    [("id,comment\nR1,   \nR2,\n", ["   ", ""]), (f"id,comment,role\nR1,{LONG_A},x\n,,\n", [LONG_A, ""])],
)
def test_ingest_blank_cells_are_answers_for_clean_to_mark(write_corpus, content, expected):
    result = read_corpus(write_corpus({"s.csv": content}), IngestConfig())
    assert texts(result) == expected
    assert result.ledger == []


def test_ingest_csv_blank_lines_are_not_answers_but_keep_row_numbers(write_corpus):
    result = read_corpus(write_corpus({"s.csv": f"id,comment\nR1,{LONG_A}\n\nR3,{LONG_C}\n"}), IngestConfig())
    assert [a.row for a in result.answers] == [1, 3]


# --- the accounting invariant ------------------------------------------------------------------------------------

def test_ingest_every_record_is_an_answer_or_a_ledger_entry(write_corpus, write_xlsx):
    corpus = write_corpus({
        "a.csv": f'id,comment\nR1,{LONG_A}\nR2,bad,row\nR3,"{"x" * 30}"\nR4,  \n',  # 4 records
        "b.jsonl": '{"comment": "fine"}\n{broken\n\n{"comment": "also fine"}\n',  # 3 records
        "c.txt": f"{LONG_B}\n\n{LONG_C}\n",  # 2 records
        "d.tsv": "comment\tscore\nwords here\t3\n",  # 1 record
    })
    write_xlsx(corpus / "e.xlsx", [["comment"], ["cell one"], ["cell two"]])  # 2 records
    result = read_corpus(corpus, IngestConfig(max_chars=25))
    assert len(result.answers) + len(result.ledger) == 12 == sum(f.n_answers for f in result.files)
    assert sorted(e.reason for e in result.ledger) == ["too-long"] * 4 + ["unreadable"] * 2
    ids = [a.answer_id for a in result.answers] + [e.answer_id for e in result.ledger]
    assert len(set(ids)) == len(ids)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from([(csv.QUOTE_ALL, "\n"), (csv.QUOTE_MINIMAL, "\r\n")]),  # minimal quoting needs both \r and \n
)
def test_ingest_csv_round_trips_any_text(write_corpus, answers, delimiter, quoting_and_line_end):
    quoting, line_end = quoting_and_line_end
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=quoting)
    writer.writerows([["id", "comment"], *[[f"R{i}", text] for i, text in enumerate(answers)]])
    result = read_corpus(write_corpus({"s.csv": buffer.getvalue()}), IngestConfig(text_column="comment"))
    assert texts(result) == answers
    assert [a.row for a in result.answers] == list(range(1, len(answers) + 1))


# --- categories.yaml ---------------------------------------------------------------------------------------------

def test_ingest_load_categories_reads_every_field(tmp_path):
    path = tmp_path / "categories.yaml"
    path.write_text(
        "categories:\n"
        "  - id: funding\n    label: Not enough money\n    group: national\n"
        "    description: Budgets do not cover the plan\n    keywords: [money, budget]\n"
        "    rating_column: q2_funding\n"
        "  - id: 7\n    label: Footprints\n    keywords: boundary, footprint\n",
        encoding="utf-8",
    )
    funding, footprints = load_categories(path)
    assert (funding.category_id, funding.group, funding.keywords, funding.rating_column) == (
        "funding", "national", ("money", "budget"), "q2_funding"
    )
    assert (footprints.category_id, footprints.keywords, footprints.rating_column) == (
        "7", ("boundary", "footprint"), None
    )


@pytest.mark.parametrize("content", [None, "", "categories: []\n"])
def test_ingest_load_categories_missing_or_empty_gives_none(tmp_path, content):
    path = tmp_path / "categories.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert load_categories(path) == []


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("categories:\n  - id: a\n    label: [unclosed\n", "categories.yaml:4: not valid YAML"),
        ("- id: a\n  label: A\n", "top-level 'categories:'"),
        ("categories:\n  - id: a\n    label: A\n  - label: B\n", "category entry 2: missing 'id'"),
        ("categories:\n  - id: a\n  - id: b\n    label: B\n", "category entry 1: missing 'label'"),
        ("categories:\n  - id: a\n    label: A\n  - id: a\n    label: B\n", "duplicate id 'a' (also entry 1)"),
        ("categories:\n  - id: a\n    label: A\n    keyword: [x]\n", "unknown keys keyword"),
        ("categories:\n  - just a string\n", "category entry 1: expected a mapping"),
        ("categories:\n  - id: a\n    label: A\n    residual: maybe\n", "category entry 1: residual must be true or false"),
    ],
    ids=["bad-yaml", "no-top-key", "no-id", "no-label", "duplicate", "unknown-key", "not-mapping", "residual"],
)
def test_ingest_load_categories_bad_file_raises_naming_it(tmp_path, content, fragment):
    path = tmp_path / "categories.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_categories(path)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("directive", ["sep=;", '"sep=;"', "SEP=;"])
def test_ingest_excel_sep_directive_names_the_delimiter_and_is_not_the_header(write_corpus, directive):
    # a comma inside the answer would win a delimiter vote; the directive settles it
    content = f"{directive}\r\nid;comment\r\nR1;{LONG_A}, and more\r\nR2;{LONG_B}\r\n"
    result = read_corpus(write_corpus({"s.csv": content}), IngestConfig())
    assert texts(result) == [f"{LONG_A}, and more", LONG_B]
    assert [a.respondent_id for a in result.answers] == ["R1", "R2"]
    assert [a.row for a in result.answers] == [1, 2]  # rows still counted under the header


def test_ingest_sep_directive_row_problem_names_the_real_line(write_corpus):
    content = f"sep=;\nid;comment\nR1;{LONG_A}\nR2;too;many\n"
    result = read_corpus(write_corpus({"s.csv": content}), IngestConfig())
    assert texts(result) == [LONG_A]
    assert [(e.row, e.reason) for e in result.ledger] == [(2, "unreadable")]
    assert "line 4" in result.ledger[0].detail


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_ingest_utf16_without_bom_is_read_with_a_note(write_corpus, codec):
    content = f"id,comment\nR1,{ENCODING_TEXT}\n"
    result = read_corpus(write_corpus({"s.csv": content.encode(codec)}), IngestConfig())
    assert texts(result) == [ENCODING_TEXT]
    assert result.files[0].encoding == codec
    assert warnings_matching(result, "no byte-order mark")


def test_ingest_binary_with_scattered_nul_bytes_is_still_skipped(write_corpus):
    data = bytes(range(256)) * 8  # zeros in both byte positions: not UTF-16 text
    result = read_corpus(write_corpus({"s.csv": data, "t.csv": f"comment\n{LONG_A}\n"}), IngestConfig())
    assert texts(result) == [LONG_A]
    assert warnings_matching(result, "NUL bytes")


def test_ingest_markdown_headings_and_rules_are_dropped_not_answers(write_corpus):
    content = f"# Question 4: barriers\n{LONG_A}\n{LONG_B}\n---\n## Late returns\n{LONG_C}\n#hashtag planning\n"
    result = read_corpus(write_corpus({"notes.md": content}), IngestConfig())
    assert texts(result) == [LONG_A, LONG_B, LONG_C, "#hashtag planning"]
    dropped = [(e.row, e.reason) for e in result.ledger]
    assert dropped == [(1, "not-an-answer"), (4, "not-an-answer"), (5, "not-an-answer")]
    assert "Question 4" in result.ledger[0].detail
    assert not warnings_matching(result, "Markdown")  # expected structure: in the ledger, not a warning each


def test_ingest_txt_keeps_lines_that_look_like_markdown(write_corpus):
    result = read_corpus(write_corpus({"notes.txt": f"# not a heading in a text file\n{LONG_A}\n"}), IngestConfig())
    assert texts(result) == ["# not a heading in a text file", LONG_A]


def test_ingest_load_categories_residual_flag(tmp_path):
    path = tmp_path / "categories.yaml"
    path.write_text("categories:\n  - id: a\n    label: Anything else\n    residual: true\n"
                    "  - id: b\n    label: Other\n    residual: false\n  - id: c\n    label: Other\n", encoding="utf-8")
    assert [c.residual for c in load_categories(path)] == [True, False, None]
