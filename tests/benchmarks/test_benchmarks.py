"""The evaluation harness on tiny labelled sets we wrote ourselves: fast, no model."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from benchmarks import metrics
from benchmarks.datasets import SHARED_SETS, LabelledSet, SetSpec, load_labelled, resolve_specs, stratified_sample
from benchmarks.methods import MethodRun
from benchmarks.quality import goal_checks, markdown, score_run
from pipeline.core.errors import PipelineError

TOPICS = {
    "Parking": ["no spaces left in the car park", "parking costs far too much", "had to park a mile away"],
    "Staff": ["the nurse was kind and patient", "reception staff were rude to me", "the doctor listened well"],
    "Waiting": ["waited three hours to be seen", "the queue never moved", "appointment ran an hour late"],
    "Food": ["the meals were cold", "no vegetarian option at lunch", "tea trolley never came round"],
}


def synthetic_set(per_topic: int = 30, seed: int = 0) -> LabelledSet:
    rng = np.random.default_rng(seed)
    texts, gold = [], []
    for topic, phrases in TOPICS.items():
        for i in range(per_topic):
            texts.append(f"{phrases[i % len(phrases)]} (answer {i})")
            gold.append((topic,))
    order = rng.permutation(len(texts))
    return LabelledSet("synthetic", "memory", [str(i) for i in range(len(texts))], [texts[i] for i in order],
                       [gold[i] for i in order], list(TOPICS))


@pytest.mark.parametrize("relabel", [lambda g: g, lambda g: {"Parking": 7, "Staff": 3, "Waiting": 0, "Food": 1}[g]])
def test_benchmarks_perfect_themes_score_one(relabel):
    labelled = synthetic_set()
    labels = [relabel(g) for g in labelled.first_labels]
    scores = metrics.partition_scores(labelled.first_labels, labels)
    assert scores["nmi"] == pytest.approx(1.0)
    assert scores["ami"] == pytest.approx(1.0)
    assert scores["ari"] == pytest.approx(1.0)


@pytest.mark.parametrize("n_clusters", [4, 12])
def test_benchmarks_random_themes_score_near_zero(n_clusters):
    labelled = synthetic_set(per_topic=250)
    labels = np.random.default_rng(1).integers(0, n_clusters, len(labelled))
    scores = metrics.partition_scores(labelled.first_labels, labels)
    assert scores["nmi"] < 0.03
    assert abs(scores["ami"]) < 0.01
    assert abs(scores["ari"]) < 0.01


def test_benchmarks_unassigned_is_a_cluster_and_costs_nmi():
    labelled = synthetic_set()
    perfect = [list(TOPICS).index(g) for g in labelled.first_labels]
    half_out = [label if i % 2 else metrics.UNASSIGNED for i, label in enumerate(perfect)]
    assert metrics.partition_scores(labelled.first_labels, half_out)["nmi"] < 0.8


@pytest.mark.parametrize("gold, predicted, rule, f1, hit, unassigned", [
    ([("A",), ("A",), ("B",), ("B",)], ["A", "A", "B", "B"], "first", 1.0, 2, 0.0),
    # unassigned counts as wrong, and is reported on its own
    ([("A",), ("A",), ("B",), ("B",)], ["A", None, "B", None], "first", 2 / 3, 2, 0.5),
    # a gold class nothing maps to scores 0 in the macro average
    ([("A",), ("A",), ("B",), ("B",)], ["A", "A", "A", "A"], "first", (2 / 3 + 0) / 2, 1, 0.0),
    # multi-label: "any" accepts a secondary gold label, "first" does not
    ([("A", "B"), ("B",), ("A",)], ["B", "B", "A"], "any", 1.0, 2, 0.0),
    ([("A", "B"), ("B",), ("A",)], ["B", "B", "A"], "first", (2 / 3 + 2 / 3) / 2, 2, 0.0),
])
def test_benchmarks_category_scores(gold, predicted, rule, f1, hit, unassigned):
    scores = metrics.category_scores(gold, predicted, rule)
    assert scores["macro_f1"] == pytest.approx(f1)
    assert scores["classes_hit"] == hit
    assert scores["unassigned_share"] == pytest.approx(unassigned)


def test_benchmarks_category_scores_reject_misaligned_rows():
    with pytest.raises(ValueError):
        metrics.category_scores([("A",)], ["A", "B"])


def test_benchmarks_majority_map_leaves_unassigned_without_category():
    gold = ["A", "A", "B", "B", "B"]
    assert metrics.majority_categories(gold, [0, 0, 0, 1, -1]) == ["A", "A", "A", "B", None]


@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 1, 1], [5, 5, 2, 2], 1.0),  # same partition, other ids
    ([0, 0, 1, 1, -1, -1], [0, 0, 1, 1, 1, 1], None),  # outliers folded into a theme: not identical
])
def test_benchmarks_seed_stability(a, b, expected):
    value = metrics.seed_stability(a, b)
    if expected is None:
        assert value < 1.0
    else:
        assert value == pytest.approx(expected)


@pytest.mark.parametrize("topics, expected", [
    ({0: ["a", "b"], 1: ["c", "d"]}, 1.0),
    ({0: ["a", "b"], 1: ["a", "b"]}, 0.5),
    ({}, 0.0),
])
def test_benchmarks_topic_diversity(topics, expected):
    assert metrics.topic_diversity(topics) == pytest.approx(expected)


@pytest.mark.parametrize("documents, expected", [
    (["car park", "car park", "tea cold", "tea cold"], {0: 1.0}),  # car and park always together
    (["car", "park", "car", "park"], {0: -1.0}),  # never together
])
def test_benchmarks_npmi_coherence(documents, expected):
    value = metrics.npmi_coherence({0: ["car", "park"]}, documents, str.split)
    assert value == pytest.approx(expected[0])


def test_benchmarks_score_run_perfect_coder_and_goals():
    labelled = synthetic_set()
    perfect = MethodRun("ceiling", 0, labelled.first_labels, labelled.first_labels, 0.1)
    half = [g if i % 2 else None for i, g in enumerate(labelled.first_labels)]
    ours = MethodRun("ours", 0, [list(TOPICS).index(g) if c else -1 for g, c in zip(labelled.first_labels, half)],
                     half, 0.2)
    rows = [{"method": "ceiling", "role": "ceiling", **score_run(labelled, perfect, with_words=False)},
            {"method": "ours", "role": "ours", **score_run(labelled, ours, with_words=False)}]
    assert rows[0]["f1_any"] == pytest.approx(1.0) and rows[0]["nmi"] == pytest.approx(1.0)
    assert rows[1]["unassigned_share"] == pytest.approx(0.5)
    assert rows[1]["n_themes"] == 4
    goals = goal_checks(rows)
    assert goals["f1_vs_ceiling[ours]"] == pytest.approx(rows[1]["f1_any"])
    assert goals["nmi_vs_bertopic"] is None  # not run, so not claimed
    for row in rows:
        row.update(total_seconds=1.0)
    result = {"dataset": {"name": "synthetic", "n_scored": len(labelled), "n_classes": 4, "multi_label": False},
              "timings": {"model_load_s": 0.0, "embed_s": 0.0, "cache_hits": 0, "cache_misses": 0},
              "rows": rows, "goals": goals}
    table = markdown(result)
    assert "| ours | ours | 4 |" in table and "50.0%" in table


def _write_csv(path, rows, header=("id", "text", "labels")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def labelled_csv(tmp_path):
    return _write_csv(tmp_path / "tidy.csv", [
        ("1", "lifts were out of order", "Facilities"),
        ("2", "", "Facilities"),
        ("3", "did not answer", "Cannot label"),
        ("4", "the porter was lovely", "Staff;Cannot label"),
        ("5", "rude manager and broken lift", "Staff;Facilities"),
        ("6", "no label here", ""),
    ])


@pytest.mark.parametrize("rule, n_rows, categories, dropped", [
    ("exclude", 3, {"Staff", "Facilities"}, {"empty text": 1, "pseudo-label only": 1, "no label": 1}),
    ("class", 4, {"Staff", "Facilities", "Cannot label"}, {"empty text": 1, "no label": 1}),
])
def test_benchmarks_load_labelled_pseudo_labels(labelled_csv, rule, n_rows, categories, dropped):
    spec = SetSpec("tiny", str(labelled_csv), pseudo_labels=("Cannot label",))
    labelled = load_labelled(spec, pseudo_rule=rule)
    assert len(labelled) == n_rows
    assert set(labelled.categories) == categories
    assert labelled.dropped == dropped
    assert labelled.multi_label
    assert labelled.n_read == 6


@pytest.mark.parametrize("column", ["text", "labels"])
def test_benchmarks_load_labelled_missing_column_names_file(labelled_csv, column):
    spec = SetSpec("tiny", str(labelled_csv), text_col="answer" if column == "text" else "text",
                   label_col="code" if column == "labels" else "labels")
    with pytest.raises(PipelineError, match="tidy.csv") as error:
        load_labelled(spec)
    assert "no column" in str(error.value)


def test_benchmarks_stratified_sample_keeps_every_class_and_is_seeded():
    rows = [(str(i), f"text {i}", label) for i, label in enumerate(["A"] * 90 + ["B"] * 8 + ["C"] * 2)]
    labelled = LabelledSet("s", "memory", [r[0] for r in rows], [r[1] for r in rows], [(r[2],) for r in rows],
                           ["A", "B", "C"])
    sample = stratified_sample(labelled, 20, seed=3)
    assert len(sample) == 20
    assert set(sample.first_labels) == {"A", "B", "C"}
    assert sample.first_labels.count("A") >= 16
    assert sample.ids == stratified_sample(labelled, 20, seed=3).ids
    assert sample.ids != stratified_sample(labelled, 20, seed=4).ids
    assert stratified_sample(labelled, None) is labelled
    assert sum(sample.dropped.values()) == 80


@pytest.mark.parametrize("target, expected", [("all", list(SHARED_SETS)), ("airline", ["airline"])])
def test_benchmarks_resolve_known_sets(target, expected):
    assert [spec.name for spec in resolve_specs(target)] == expected


def test_benchmarks_resolve_file_with_columns(labelled_csv):
    (spec,) = resolve_specs(str(labelled_csv), "text", "labels")
    assert spec.path == str(labelled_csv) and spec.label_col == "labels"


def test_benchmarks_resolve_unknown_target_is_one_line_error(tmp_path):
    with pytest.raises(PipelineError, match="neither a file"):
        resolve_specs(str(tmp_path / "nowhere.csv"))


def test_benchmarks_quality_cli_reports_bad_method(tmp_path, capsys):
    from benchmarks.quality import main

    assert main(["airline", "--methods", "magic", "--results-dir", str(tmp_path)]) == 1
    assert "unknown method" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_benchmarks_quality_end_to_end_with_fake_embedder(tmp_path, labelled_csv):
    """Runs the mapper and BERTopic's c-TF-IDF (slow imports), with the hashing embedder instead of a model."""
    from benchmarks.quality import main

    rows = [(str(i), text, topic) for topic, phrases in TOPICS.items()
            for i, text in enumerate(p + f" number {j}" for j in range(5) for p in phrases)]
    path = _write_csv(tmp_path / "synthetic.csv", [(f"{r[2]}-{r[0]}", r[1], r[2]) for r in rows])
    code = main([str(path), "--text-col", "text", "--label-col", "labels", "--embedder", "fake-hash.v1",
                 "--methods", "kmeans,nearest-name,ceiling", "--cache-dir", str(tmp_path / "cache"),
                 "--results-dir", str(tmp_path / "results")])
    assert code == 0
    result = json.loads((tmp_path / "results" / "quality-synthetic.json").read_text())
    by_method = {row["method"]: row for row in result["rows"]}
    assert by_method["kmeans"]["n_themes"] == 4
    assert by_method["ceiling"]["f1_any"] > 0.9  # the phrases repeat, so a trained classifier finds them
    assert result["timings"]["cache_misses"] == len(rows)


def test_benchmarks_summary_line_per_set():
    from benchmarks.quality import summary_markdown

    labelled = synthetic_set()
    run = MethodRun("ours", 0, [list(TOPICS).index(g) for g in labelled.first_labels], labelled.first_labels, 0.1)
    rows = [{"method": "ours", "role": "ours", "stability_ari": 0.95, **score_run(labelled, run, with_words=False)}]
    result = {"dataset": {"name": "synthetic", "n_scored": len(labelled)}, "rows": rows, "goals": goal_checks(rows)}
    table = summary_markdown([result, result])
    assert table.count("| synthetic |") == 2
    assert "0.95" in table


@pytest.mark.parametrize("size", [5, 12])
def test_benchmarks_speed_texts_distinct_and_seeded(size):
    from benchmarks.speed import speed_texts

    pool = [f"answer number {i}" for i in range(8)]
    texts = speed_texts(pool, size, seed=1)
    assert len(texts) == size == len(set(texts))
    assert texts == speed_texts(pool, size, seed=1)
    if size > len(pool):  # beyond the pool: two pool texts joined
        assert all(text.count("answer number") == 2 for text in texts)


def test_benchmarks_speed_stage_clock_and_summary():
    from benchmarks.speed import StageClock, _total, summarise

    clock = StageClock()
    clock.mark("import")
    clock.mark("embed")
    _ = [0] * 100_000
    clock.mark(None)
    assert set(clock.seconds) == {"import", "embed"} and all(v >= 0 for v in clock.seconds.values())
    assert all(v > 0 for v in clock.peak_mb.values())
    runs = {"raw": {"seconds": {"import": 5.0, "model_load": 1.0, "encode": 10.0}},
            "ours-cold": {"seconds": {"import": 2.0, "embed": 10.0, "themes": 4.0}, "peak_mb": {"embed": 500.0}},
            "ours-cached": {"seconds": {"import": 2.0, "embed": 0.2, "themes": 1.2}, "peak_mb": {"embed": 300.0}},
            "bertopic-cold": {"seconds": {"fit": 3.0}, "peak_mb": {"fit": 1.0}, "stage_error": "boom"}}
    summary = summarise(1000, runs)
    assert summary["ours_cold_over_raw"] == pytest.approx(1.4)
    assert summary["ours_cached_share"] == pytest.approx(0.1)
    assert summary["ours_peak_mb"] == 500.0
    assert summary["bertopic_cold_s"] is None  # a failed run claims no total
    assert _total(runs["raw"]) == pytest.approx(11.0)


def test_benchmarks_theme_options_parse_toml_values_and_reject_unknown_keys():
    from benchmarks.quality import parse_theme_options

    assert parse_theme_options(["off_list_elevation=0.25", "category_themes=clustered", "n_seeds = 3"]) == {
        "off_list_elevation": 0.25, "category_themes": "clustered", "n_seeds": 3}
    with pytest.raises(PipelineError, match="--theme-option 'no_such_key=1'"):
        parse_theme_options(["no_such_key=1"])
    with pytest.raises(PipelineError, match="KEY=VALUE"):
        parse_theme_options(["off_list_elevation"])


def test_benchmarks_backends_paired_bootstrap_matches_the_metrics_one():
    """The vectorised paired bootstrap of benchmarks.backends gives benchmarks.metrics' numbers exactly."""
    import numpy as np

    from benchmarks import metrics
    from benchmarks.backends import paired_f1_difference

    rng = np.random.default_rng(3)
    names = ["a", "b", "c", "d"]
    gold = [tuple(rng.choice(names, size=rng.integers(1, 3), replace=False)) for _ in range(120)]
    a = [None if rng.random() < 0.1 else str(rng.choice(names + ["z"])) for _ in gold]
    b = [g[0] if rng.random() < 0.6 else str(rng.choice(names)) for g in gold]
    fast = paired_f1_difference(gold, a, b, n_resamples=60, seed=5)
    slow = metrics.paired_f1_difference(gold, a, b, n_resamples=60, seed=5)
    assert fast == pytest.approx(slow, abs=1e-12)
