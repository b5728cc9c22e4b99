"""The sample corpus through a dask LocalCluster gives the local run's outputs, file for file: embedding (cache
shards encoded on the workers) and the assignment of segments outside a sampled theme fit both run there."""
from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from pipeline import runner
from pipeline.core.config import load_config
from pipeline.embed.backends import EmbedderSpec
from pipeline.embed.remote import worker_embedder

dask_engine = pytest.importorskip("pipeline.compute.dask_engine", reason="the [dask] extra is not installed")

ROOT = Path(__file__).resolve().parents[2]
# small enough that the sample corpus (256 segments) is fitted on a sample and assigned in several batches
SCALED = {"embed.model": "fake-hash.v1", "scale.fit_above": 100, "scale.fit_sample": 120, "scale.batch_rows": 40,
          "scale.memmap_above": 100}
COMPARED = ("segments.csv", "themes.csv", "assignments.csv", "reassignments.csv", "theme_category_map.csv",
            "crosstab.csv", "disagreements.csv", "quotes.csv", "codebook.csv", "ledger.csv", "theme_selection.csv")


def _run(tmp: Path, name: str, engine=None):
    corpus = tmp / "corpus"
    if not corpus.exists():
        shutil.copytree(ROOT / "corpus", corpus)
    config = load_config(corpus / "pipeline.toml", SCALED)
    return runner.run(corpus, config, tmp / name / "out", model_dir=tmp / name / "models",
                      cache_dir=tmp / name / "cache", engine=engine)


@pytest.mark.slow  # two full runs of the sample corpus (about 70 s on 2 busy cores)
def test_dask_run_of_the_sample_corpus_matches_the_local_run(tmp_path):
    local = _run(tmp_path, "local")
    with dask_engine.DaskEngine(workers=2, processes=False) as engine:
        remote = _run(tmp_path, "dask", engine)
    assert local.theme_method["sampled"]["assigned"] > 100  # the batches really ran on the workers
    assert remote.cache_misses == local.cache_misses > 0  # and the embeddings were computed there
    for name in COMPARED:
        assert (tmp_path / "dask" / "out" / name).read_bytes() == (tmp_path / "local" / "out" / name).read_bytes(), name


def test_the_model_is_described_to_workers_and_loaded_once_per_process():
    spec = EmbedderSpec(model="fake-hash.v1")
    assert len(pickle.dumps(spec)) < 500  # what a task carries: the description, never the model
    assert worker_embedder(spec) is worker_embedder(spec)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_dask_workers_encode_the_real_model_as_a_local_run_does(tmp_path, backend):
    """Worker processes (one thread each, as dask sets them) compute the local process's vectors, bit for bit."""
    import numpy as np

    from pipeline.embed import EmbeddingCache
    from pipeline.embed.backends import EmbedderSpec
    from pipeline.embed.remote import PrecomputedEmbedder, encode_on_engine

    pytest.importorskip("onnxruntime")
    texts = [line for line in (ROOT / "corpus" / "survey.csv").read_text(encoding="utf-8").splitlines()[1:80]]
    spec = EmbedderSpec("minilm-local.v1", backend=backend, models_dir=str(tmp_path / "encoders"))
    local, _ = EmbeddingCache(tmp_path / "local", shard_size=16).embed(texts, spec.build())
    with dask_engine.DaskEngine(workers=2, processes=True) as engine:
        vectors = encode_on_engine(engine, spec, list(dict.fromkeys(texts)), 16, 2)
    remote, _ = EmbeddingCache(tmp_path / "remote", shard_size=16).embed(
        texts, PrecomputedEmbedder(spec.build(), vectors))
    np.testing.assert_array_equal(remote, local)
