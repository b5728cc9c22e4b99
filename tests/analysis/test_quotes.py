"""Quote selection (centrality, diversity, quotability) and identifiability flags."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.config import QuotesConfig
from pipeline.core.errors import PipelineError
from pipeline.analysis.identify import identifiability_flags
from pipeline.analysis.quote_text import is_quotable
from pipeline.analysis.quotes import quotes_for_theme, select_quotes
from pipeline.core.records import UNASSIGNED, Answer, Assignment, Quote, Segment, Theme


@pytest.mark.parametrize("text, terms, expected", [
    ("Write to jo.bloggs@example.org for the minutes.", (), ("email",)),
    ("Contact planning-team+stp@council.gov.uk today.", (), ("email",)),
    ("Our handle is @nhs_board on social media.", (), ()),
    ("Meet @ the town hall at 5pm.", (), ()),
    ("Send it to admin@localhost please.", (), ()),
    ("Ring me on 07700 900123 any time.", (), ("phone",)),
    ("The office is on 0161 496 0000.", (), ("phone",)),
    ("Call +44 (0)20 7946 0018 for details.", (), ("phone",)),
    ("Call (01632) 960 001 for details.", (), ("phone",)),
    ("The budget fell by 0.5% in 2015/16.", (), ()),
    ("We need another £10,000,000 a year.", (), ()),
    ("The plan ran from 01/04/2016 to 31/03/2017.", (), ()),
    ("NHS 111 and A&E are both overwhelmed.", (), ()),
    ("Our base is at SW1A 1AA these days.", (), ("postcode",)),
    ("The hub near M1 1AE closed.", (), ("postcode",)),
    ("The B12 clinic on the M62 closed.", (), ()),
    ("Dr Smith said the plan would fail.", (), ("titled-name",)),
    ("Mrs O'Neill chaired every meeting.", (), ("titled-name",)),
    ("Professor Jones agreed with us.", (), ("titled-name",)),
    ("Cllr Patel objected to the closure.", (), ("titled-name",)),
    ("Dr. Khan was against it.", (), ("titled-name",)),
    ("I will raise it with my Dr.", (), ()),
    ("We asked the Dr. Then nothing changed.", (), ()),
    ("A professor of surgery disagreed.", (), ()),
    ("The Riverside Trust refused to engage.", ("Riverside Trust",), ("named-organisation",)),
    ("the riverside trust refused to engage.", ("Riverside Trust",), ("named-organisation",)),
    ("Riversiders are trustees of nothing.", ("Riverside", "Trust"), ()),
    ("Nothing identifying here at all.", ("Riverside",), ()),
    ("Dr Smith (jo@example.org) lives in LS11 5DT.", ("Leeds",), ("email", "postcode", "titled-name")),
])
def test_quotes_identifiability_flags(text, terms, expected):
    assert identifiability_flags(text, terms) == expected


@pytest.mark.parametrize("text, expected", [
    ("Our CCG has nowhere near enough staff to plan at this scale.", True),
    ("\"We are being asked to do too much, too fast.\"", True),
    ("2016 was the worst year for funding we have seen!", True),
    ("our ccg has nowhere near enough staff to plan at this scale.", False),  # no capital: a fragment
    ("Our CCG has nowhere near enough staff to plan at this scale", False),  # unfinished
    ("Too short.", False),
    ("A very long answer that rambles. " * 12, False),
])
def test_quotes_quotable_sentences_within_length(text, expected):
    assert is_quotable(text, min_chars=25, max_chars=200) is expected


def make_inputs(rows, theme_id=0):
    """rows: (respondent, text, vector, theme) -> segments, assignments, embeddings, answers."""
    segments, assignments, vectors, answers = [], [], [], []
    for i, (respondent, text, vector, theme) in enumerate(rows, start=1):
        answer_id = f"survey.csv:{i}"
        answers.append(Answer(answer_id, "survey.csv", i, respondent, text, ratings={"r_staff": f"rating {i}"}))
        segments.append(Segment(f"{answer_id}#0", answer_id, respondent, "survey.csv", i, 0, 0, len(text), text,
                                text))
        assignments.append(Assignment(f"{answer_id}#0", theme, 1.0))
        vectors.append(np.asarray(vector, dtype=np.float32) / np.linalg.norm(vector))
    return segments, assignments, np.vstack(vectors), answers


THEMES = [Theme(0, "Staff capacity", ("staff",), 5, 1.0), Theme(1, "Staff morale", ("morale",), 1, 1.0),
          Theme(2, "Footprints", ("footprint",), 1, 1.0)]
CONFIG = QuotesConfig(per_theme=2, min_chars=20, max_chars=200)


def run(rows, config=CONFIG, themes=THEMES, **kwargs):
    """Quotes of ``rows``; every segment counts as confidently coded unless the config says otherwise."""
    segments, assignments, embeddings, answers = make_inputs(rows)
    if "confident_share" not in config.model_fields_set:
        config = config.model_copy(update={"confident_share": 1.0})
    return select_quotes(themes, assignments, segments, embeddings, answers, config, **kwargs)


NEAR_DUPLICATES = [  # R1 is the most central, R2 says nearly the same, R4 is the most different
    ("R1", "We do not have the staff to plan this well.", [1.0, 0.0, 0.0], 0),
    ("R2", "There are simply too few people for the planning work.", [1.0, 0.0, 0.03], 0),
    ("R3", "Any spare capacity went years ago in the cuts.", [0.8, 0.3, 0.0], 0),
    ("R4", "Recruitment freezes have left managers exhausted.", [0.7, -0.3, -0.4], 0),
]


@pytest.mark.parametrize("diversity, expected", [(0.0, ["R1", "R2"]), (0.5, ["R1", "R4"])])
def test_quotes_mmr_trades_centrality_for_diversity(diversity, expected):
    quotes = run(NEAR_DUPLICATES, QuotesConfig(per_theme=2, min_chars=20, max_chars=200, diversity=diversity))
    assert [q.respondent_id for q in quotes] == expected
    assert [q.rank for q in quotes] == [1, 2]


def test_quotes_centrality_is_cosine_to_theme_centroid():
    quotes = run(NEAR_DUPLICATES, QuotesConfig(per_theme=4, min_chars=20, max_chars=200, diversity=0.0))
    _, _, embeddings, _ = make_inputs(NEAR_DUPLICATES)
    centroid = embeddings.mean(axis=0) / np.linalg.norm(embeddings.mean(axis=0))
    for quote in quotes:
        row = int(quote.row) - 1
        assert quote.centrality == pytest.approx(float(embeddings[row] @ centroid), abs=1e-5)
    assert [q.centrality for q in quotes] == sorted((q.centrality for q in quotes), reverse=True)


def test_quotes_respect_length_bounds():
    rows = [("R1", "Short one.", [1.0, 0.0], 0),
            ("R2", "This sentence is long enough to quote.", [0.9, 0.1], 0),
            ("R3", "This one goes on " + "and on " * 40 + "forever.", [1.0, 0.01], 0)]
    quotes = run(rows, QuotesConfig(per_theme=5, min_chars=20, max_chars=120))
    assert [q.respondent_id for q in quotes] == ["R2"]


def test_quotes_one_per_respondent_per_theme():
    rows = [("R1", "We have no planning staff left at all.", [1.0, 0.0], 0),
            ("R1", "Our managers are stretched far too thin.", [1.0, 0.05], 0),
            ("R2", "Capacity is the real issue for every CCG.", [0.7, 0.7], 0)]
    quotes = run(rows, QuotesConfig(per_theme=3, min_chars=20, max_chars=200))
    assert sorted(q.respondent_id for q in quotes) == ["R1", "R2"]


def test_quotes_skip_repeated_wording():
    rows = [("R1", "We have no planning staff left at all.", [1.0, 0.0, 0.0], 0),
            ("R2", "We have no planning staff left at all!", [1.0, 0.05, 0.0], 0),
            ("R3", "We have no planning staff left, at all.", [1.0, -0.05, 0.0], 0),
            ("R4", "Capacity is the real issue for every CCG.", [0.7, 0.0, 0.7], 0),
            ("R5", "Nobody has time to think about the long term.", [0.7, 0.0, -0.7], 0)]
    quotes = run(rows, QuotesConfig(per_theme=3, min_chars=20, max_chars=200, diversity=0.0))
    assert [q.respondent_id for q in quotes] == ["R1", "R4", "R5"]


def test_quotes_flagged_compete_and_are_shown_with_their_flags():
    rows = [("R1", "Dr Smith told us the team has no capacity.", [1.0, 0.0], 0),  # the most central
            ("R2", "The team has no capacity left to plan.", [0.9, 0.3], 0),
            ("R3", "Ring 07700 900123 if you want the details.", [0.9, -0.3], 0)]
    config = QuotesConfig(per_theme=3, min_chars=20, max_chars=200, diversity=0.0)
    quotes = run(rows, config)
    assert [q.respondent_id for q in quotes] == ["R1", "R2", "R3"]
    assert [q.flags for q in quotes] == [("titled-name",), (), ("phone",)]
    # one printable quote asked for: the flagged one that ranked above it is shown too, with its flag
    only_one = run(rows, QuotesConfig(per_theme=1, min_chars=20, max_chars=200, diversity=0.0))
    assert [(q.respondent_id, q.flags) for q in only_one] == [("R1", ("titled-name",)), ("R2", ())]


def test_quotes_configured_terms_flag_quotes():
    rows = [("R1", "Riverside council would not engage with us.", [1.0, 0.0], 0)]
    config = QuotesConfig(per_theme=2, min_chars=20, max_chars=200, identifying_terms=["Riverside"])
    assert run(rows, config)[0].flags == ("named-organisation",)


def test_quotes_carry_provenance_and_ratings():
    quote = run([("R7", "We cannot recruit planners for love nor money.", [1.0, 0.0], 0)])[0]
    assert isinstance(quote, Quote)
    assert (quote.theme_id, quote.respondent_id, quote.file, quote.row, quote.segment_id) == (
        0, "R7", "survey.csv", 1, "survey.csv:1#0")
    assert dict(quote.ratings) == {"r_staff": "rating 1"}


def test_quotes_none_for_noise_or_outlier_themes():
    rows = [("R1", "We cannot recruit planners for love nor money.", [1.0, 0.0], 0),
            ("R2", "Nobody knows what the footprint is for.", [0.0, 1.0], UNASSIGNED)]
    themes = [Theme(0, "Staff", (), 1, 1.0, noise=True), Theme(UNASSIGNED, "Unassigned", (), 1, 0.0)]
    assert run(rows, themes=themes) == []


def test_quotes_misaligned_inputs_raise():
    segments, assignments, embeddings, answers = make_inputs(NEAR_DUPLICATES)
    with pytest.raises(PipelineError, match="aligned"):
        select_quotes(THEMES, assignments, segments, embeddings[:-1], answers, CONFIG)


# --- pipeline quotes --theme ID_OR_LABEL --n N ---------------------------------------------------------------

@pytest.fixture(scope="module")
def ranked_quotes():
    return run(NEAR_DUPLICATES, QuotesConfig(per_theme=4, min_chars=20, max_chars=200))


@pytest.mark.parametrize("key", [0, "0", "Staff capacity", "staff CAPACITY", "staff c", "capacity"])
def test_quotes_for_theme_by_id_label_prefix_or_word(ranked_quotes, key):
    got = quotes_for_theme(ranked_quotes, THEMES, key, n=3)
    assert [q.rank for q in got] == [1, 2, 3] and {q.theme_id for q in got} == {0}


@pytest.mark.parametrize("key, message", [
    ("staff", "ambiguous.*0 Staff capacity.*1 Staff morale"),
    ("pay", "unknown theme 'pay'.*0 Staff capacity; 1 Staff morale; 2 Footprints"),
    (9, "no theme with id 9"),
    ("capa", "unknown theme 'capa'"),  # a word must be whole to match inside a label
])
def test_quotes_for_theme_unknown_or_ambiguous_lists_themes(ranked_quotes, key, message):
    with pytest.raises(PipelineError, match=message):
        quotes_for_theme(ranked_quotes, THEMES, key, n=3)


def test_quotes_for_theme_rejects_non_positive_n(ranked_quotes):
    with pytest.raises(PipelineError, match="at least 1"):
        quotes_for_theme(ranked_quotes, THEMES, 0, n=0)


@pytest.mark.parametrize("key", ["capacity_cat"])
def test_quotes_for_theme_by_mapped_category_id(ranked_quotes, key):
    import dataclasses

    themes = [dataclasses.replace(THEMES[0], category_id="capacity_cat"), *THEMES[1:]]
    assert {q.theme_id for q in quotes_for_theme(ranked_quotes, themes, key, n=2)} == {0}


# --- whole sentences, confident coding, n honoured (issue 14) -------------------------------------------------

def _segment(answer_text, piece, index=0, answer_id="survey.csv:1", respondent="R1"):
    start = answer_text.index(piece)
    return Segment(f"{answer_id}#{index}", answer_id, respondent, "survey.csv", 1, index, start, start + len(piece),
                   piece, piece)


@pytest.mark.parametrize("answer, piece, expected", [
    # a sentence pointing back takes its antecedent in
    ("We disagree with the trust about future activity. Both can't be right, and the gap is our deficit.",
     "Both can't be right, and the gap is our deficit.",
     "We disagree with the trust about future activity. Both can't be right, and the gap is our deficit."),
    ("Staff are exhausted. The deadline is too soon for anyone.", "The deadline is too soon for anyone.",
     "The deadline is too soon for anyone."),
    # a list answer is quoted whole
    ("Stop-start money:\n- winter money\n- resilience money\nAll non-recurrent, all with their own reports.",
     "All non-recurrent, all with their own reports.",
     "Stop-start money:\n- winter money\n- resilience money\nAll non-recurrent, all with their own reports."),
    # a piece that starts mid-sentence is a fragment: never quoted
    ("The plan, which nobody has read, is due in June.", "which nobody has read, is due in June.", None),
    # an answer's own first sentence may point at the question
    ("This is far too rushed to involve the public.", "This is far too rushed to involve the public.",
     "This is far too rushed to involve the public."),
])
def test_quotes_span_is_whole_sentences_of_the_answer(answer, piece, expected):
    from pipeline.analysis.quote_text import quote_span

    span = quote_span(answer, _segment(answer, piece), max_chars=300)
    assert (answer[span[0]:span[1]] if span else None) == expected


def test_quotes_span_too_long_with_its_antecedent_is_not_quoted():
    from pipeline.analysis.quote_text import quote_span

    answer = "Background " * 30 + "matters. But it cannot be fixed locally."
    assert quote_span(answer, _segment(answer, "But it cannot be fixed locally."), max_chars=120) is None


def test_quotes_are_printed_as_the_whole_sentences_not_the_fragment():
    answer = "We disagree with the trust about future activity. Both can't be right, and the gap is our deficit."
    piece = "Both can't be right, and the gap is our deficit."
    segment = _segment(answer, piece)
    answers = [Answer("survey.csv:1", "survey.csv", 1, "R1", answer)]
    quotes = select_quotes([Theme(0, "Activity", (), 1, 1.0)], [Assignment(segment.segment_id, 0, 1.0)], [segment],
                           np.array([[1.0, 0.0]]), answers, QuotesConfig(min_chars=20, confident_share=1.0))
    assert [q.text for q in quotes] == [answer]
    assert quotes[0].answer_id == "survey.csv:1"


def _coded(n, category="capacity"):
    """n one-sentence answers of theme 0, coded to ``category`` with scores 0.1, 0.2, ..."""
    words = ["Planners", "Managers", "Analysts", "Clinicians", "Directors", "Officers", "Nurses", "Chairs",
             "Commissioners", "Accountants", "Lawyers", "Estates teams"]
    reasons = ["are worn out", "left last year", "cannot be hired", "have no spare hours", "were cut in half",
               "do two jobs", "burn out fast", "are seconded away", "lack the skills", "are all interims",
               "quit in droves", "are stretched thin"]
    rows = [(f"R{i}", f"{words[i - 1]} {reasons[i - 1]} and nobody can plan.", [1.0, 0.01 * i], 0)
            for i in range(1, n + 1)]
    segments, assignments, embeddings, answers = make_inputs(rows)
    scores = [(category, round(0.1 * i, 2)) for i in range(1, n + 1)]
    return segments, assignments, embeddings, answers, scores


def test_quotes_come_only_from_the_confidently_coded_share():
    from pipeline.analysis.quotes import QuoteInputs

    segments, assignments, embeddings, answers, scores = _coded(6)
    scores[5] = ("footprints", 0.9)  # coded to another category: never a quote of the capacity theme
    theme = Theme(0, "Staff capacity", (), 6, 1.0, category_id="capacity")
    inputs = QuoteInputs(answers, None, scores, {0: ("capacity",)})
    quotes = select_quotes([theme], assignments, segments, embeddings, answers,
                           QuotesConfig(per_theme=6, min_chars=20, confident_share=0.6), inputs)
    assert sorted(q.respondent_id for q in quotes) == ["R3", "R4", "R5"]  # the surest 60% of the 5 capacity ones
    assert sorted(q.confidence for q in quotes) == [0.3, 0.4, 0.5]


def test_quotes_n_is_honoured_beyond_the_configured_number():
    segments, assignments, embeddings, answers, _ = _coded(12)
    config = QuotesConfig(per_theme=5, min_chars=20, confident_share=1.0, diversity=0.0)
    assert len(select_quotes(THEMES[:1], assignments, segments, embeddings, answers, config)) == 5
    assert len(select_quotes(THEMES[:1], assignments, segments, embeddings, answers, config, n=11)) == 11
