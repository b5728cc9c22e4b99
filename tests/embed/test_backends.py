"""Encoder backends: which one a run uses, derived files made once and rebuilt when damaged or stale, static
embeddings as the mean of their word pieces, cache keys that keep backends apart; the real ONNX export and
static distillation in the slow tests."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError
from pipeline.embed import EmbeddingCache, HashingEmbedder
from pipeline.embed.artifacts import check_artifact, ensure_artifact, manifest_path
from pipeline.embed.backends import AUTO_BACKEND, FAST_BACKEND, EmbedderSpec, embedder_spec, resolve_backend
from pipeline.embed.cache import cache_name


def _embed(**keys):
    return load_config(None, {f"embed.{k}": v for k, v in keys.items()}).embed


@pytest.mark.parametrize("keys,n,expected", [
    ({}, 1_000, AUTO_BACKEND), ({}, 200_001, FAST_BACKEND), ({"fast_above": 500}, 501, FAST_BACKEND),
    ({"backend": "onnx"}, 10**7, "onnx"), ({"backend": "torch"}, 10**7, "torch"),
    ({"model": "fake-hash.v1"}, 10**7, "torch"),  # a model other than the packaged one runs as it is
])
def test_backend_chosen_by_config_and_corpus_size(keys, n, expected):
    assert resolve_backend(_embed(**keys), n) == expected


def test_backend_other_than_torch_needs_the_packaged_model():
    with pytest.raises(ConfigError, match='embed.backend "static" runs only the packaged model'):
        resolve_backend(_embed(model="fake-hash.v1", backend="static"), 10)


def test_backend_spec_carries_the_models_folder():
    spec = embedder_spec(_embed(backend="static", models_dir="elsewhere"), 10)
    assert (spec.backend, spec.models_dir) == ("static", "elsewhere")


# ---------------------------------------------------------------- derived files

def _builder(calls: list[str], content: bytes = b"exported"):
    def build(tmp):
        calls.append(tmp.name)
        tmp.write_bytes(content)
        return {"how": "test"}
    return build


def test_artifact_made_once_then_reused(tmp_path):
    calls: list[str] = []
    target = tmp_path / "model.onnx"
    ensure_artifact(target, {"source_sha256": "abc"}, _builder(calls))
    ensure_artifact(target, {"source_sha256": "abc"}, _builder(calls))
    assert len(calls) == 1 and target.read_bytes() == b"exported"
    manifest = json.loads(manifest_path(target).read_text())
    assert manifest["source_sha256"] == "abc" and manifest["made"] == {"how": "test"}
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("damage,reason", [
    (lambda target: target.write_bytes(b"exported, then damaged"), "sha256 mismatch"),
    (lambda target: target.write_bytes(target.read_bytes()[:3]), "sha256 mismatch"),  # truncated
    (lambda target: manifest_path(target).unlink(), "no readable manifest"),
    (lambda target: target.unlink(), "missing"),
])
def test_artifact_damaged_is_detected_and_rebuilt(tmp_path, damage, reason):
    calls: list[str] = []
    target = tmp_path / "model.onnx"
    ensure_artifact(target, {"source_sha256": "abc"}, _builder(calls))
    damage(target)
    assert reason in check_artifact(target, {"source_sha256": "abc"})
    notes: dict = {}
    ensure_artifact(target, {"source_sha256": "abc"}, _builder(calls), notes)
    assert len(calls) == 2 and target.read_bytes() == b"exported" and reason in notes["model.onnx"]
    assert check_artifact(target, {"source_sha256": "abc"}) is None


def test_artifact_made_from_another_source_is_rebuilt(tmp_path):
    calls: list[str] = []
    target = tmp_path / "model.onnx"
    ensure_artifact(target, {"source_sha256": "abc"}, _builder(calls))
    assert check_artifact(target, {"source_sha256": "other"}) == "made from another source sha256"
    ensure_artifact(target, {"source_sha256": "other"}, _builder(calls))
    assert len(calls) == 2


def test_artifact_failed_build_leaves_nothing_that_looks_finished(tmp_path):
    target = tmp_path / "model.onnx"

    def fail(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError):
        ensure_artifact(target, {"source_sha256": "abc"}, fail)
    assert not target.exists() and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- static embeddings, on a table written here

def test_static_embedding_is_the_mean_of_its_word_pieces(tmp_path):
    from tokenizers import Tokenizer

    from pipeline.embed import static_backend
    from pipeline.embed.artifacts import packaged_model_dir, source_digest

    tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
    staff, funding = tokenizer.token_to_id("staff"), tokenizer.token_to_id("funding")
    table = np.zeros((tokenizer.get_vocab_size(), 4), dtype=np.float32)
    table[staff], table[funding] = [1, 0, 0, 0], [0, 1, 0, 0]
    expect = {"source_sha256": source_digest(packaged_model_dir()), "settings": static_backend.SETTINGS}

    def build(tmp):
        np.savez(tmp.open("wb"), vectors=table, ids=np.array([staff, funding]))
        return {}

    ensure_artifact(tmp_path / "minilm-l6-v2" / "static.npz", expect, build)
    embedder = static_backend.StaticEmbedder(tmp_path)
    out = embedder.encode(["staff", "staff funding", "staff staff staff funding", "", "[CLS] zzzz"])
    np.testing.assert_allclose(out[0], [1, 0, 0, 0])
    np.testing.assert_allclose(out[1], np.array([1, 1, 0, 0]) / np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(out[2], np.array([3, 1, 0, 0]) / np.sqrt(10), rtol=1e-6)
    assert not out[3].any() and not out[4].any()  # nothing known: a zero row, never a division by zero
    assert embedder.name.endswith("+static") and embedder.encode([]).shape == (0, 4)


# ---------------------------------------------------------------- cache keys

class _Named(HashingEmbedder):
    def __init__(self, name, version=""):
        super().__init__(name=name)
        if version:
            self.cache_version = version


def test_backends_never_share_cached_vectors(tmp_path):
    cache = EmbeddingCache(tmp_path)
    torch_like, onnx_like = _Named("all-MiniLM-L6-v2", "torch=2"), _Named("all-MiniLM-L6-v2+onnx", "abc,ort=1")
    assert cache_name(torch_like) != cache_name(onnx_like)
    cache.embed(["a text"], torch_like)
    assert cache.missing(["a text"], onnx_like) == ["a text"]  # the other backend's vector is not reused
    assert cache.missing(["a text", "a text", "new"], torch_like) == ["new"]


# ---------------------------------------------------------------- the real backends (export, distillation)

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    models = tmp_path_factory.mktemp("encoders")
    texts = ["Staff capacity is stretched thin across the team.", "The funding gap keeps growing.", "ok",
             "Parking at the hospital was impossible but the nurses on the ward were lovely."]
    torch = EmbedderSpec("minilm-local.v1").build().encode(texts)
    return models, texts, torch


@pytest.mark.slow
@pytest.mark.parametrize("backend,min_cosine", [("onnx", 0.9999), ("onnx-int8", 0.95)])
def test_onnx_backends_match_torch(real, backend, min_cosine):
    pytest.importorskip("onnxruntime")
    models, texts, torch = real
    embedder = EmbedderSpec("minilm-local.v1", backend=backend, models_dir=str(models)).build()
    vectors = embedder.encode(texts)
    assert vectors.shape == torch.shape and (vectors * torch).sum(axis=1).min() >= min_cosine
    assert backend in cache_name(embedder) and "onnxruntime=" in cache_name(embedder)


@pytest.mark.slow
def test_onnx_export_damaged_is_rebuilt_with_the_same_vectors(real):
    pytest.importorskip("onnxruntime")
    models, texts, _ = real
    spec = EmbedderSpec("minilm-local.v1", backend="onnx", models_dir=str(models))
    before = spec.build().encode(texts)
    export = models / "minilm-l6-v2" / "model-fp32.onnx"
    export.write_bytes(export.read_bytes()[: export.stat().st_size // 2])  # truncated
    embedder = spec.build()
    np.testing.assert_array_equal(embedder.encode(texts), before)
    assert "sha256 mismatch" in embedder.notes["model-fp32.onnx"]


@pytest.mark.slow
def test_static_backend_distilled_offline_relates_paraphrases(real):
    models, _, _ = real
    embedder = EmbedderSpec("minilm-local.v1", backend="static", models_dir=str(models)).build()
    a, b, c = embedder.encode(["not enough staff on the ward", "the ward is short of nurses and staff",
                               "the car park charges are too high"])
    assert a @ b > a @ c


def test_auto_writes_nothing_in_a_run_that_writes_nothing(tmp_path, monkeypatch):
    import pipeline.embed.backends as backends

    monkeypatch.setattr(backends, "AUTO_BACKEND", "static")
    config = _embed(models_dir=str(tmp_path))
    assert resolve_backend(config, 10, may_write=True) == "static"
    assert resolve_backend(config, 10, may_write=False) == "torch"  # the static table is not there to use
    (tmp_path / "minilm-l6-v2").mkdir()
    (tmp_path / "minilm-l6-v2" / "static.npz").write_bytes(b"made by an earlier run")
    assert resolve_backend(config, 10, may_write=False) == "static"
