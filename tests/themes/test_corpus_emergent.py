"""The sample corpus's planted off-list themes (docs/corpus.md: politics and timescale are not on the closed list):
where their answers go in a real run (MiniLM, BERTopic), scored by ``benchmarks.corpus_check``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpus_check import EMERGENT_TAGS, corpus_tags, run_corpus, score

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scored_runs(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    tags = corpus_tags(False)
    return {seed: score(run_corpus(REPO / "corpus", seed, str(cache)), tags) for seed in (42, 43)}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [42, 43])
def test_corpus_offlist_tags_land_in_emergent_themes_more_than_listed_tags(scored_runs, seed):
    tags = scored_runs[seed]["tags"]
    listed = np.mean([row["in_any_emergent"] for row in tags.values() if "category_recall" in row])
    for tag in EMERGENT_TAGS:
        assert tags[tag]["in_any_emergent"] > listed, (tag, tags[tag], listed)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 12 goal not met yet: politics and timescale are split over several "
                                       "themes (best emergent theme recall 0.2-0.35 at seeds 42/43, docs/benchmarks.md)")
@pytest.mark.parametrize("seed", [42, 43])
def test_corpus_politics_and_timescale_each_form_an_emergent_theme_of_their_own(scored_runs, seed):
    tags = scored_runs[seed]["tags"]
    for tag in EMERGENT_TAGS:
        assert tags[tag]["precision"] >= 0.7 and tags[tag]["recall"] >= 0.7, (tag, tags[tag])
