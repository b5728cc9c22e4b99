import numpy as np
import pytest

from pipeline.embed import EmbeddingCache, HashingEmbedder, content_key, get_embedder
from pipeline.core.errors import ConfigError


class CountingEmbedder(HashingEmbedder):
    """Fake embedder that records what it was asked to encode, and can fail on a given call."""

    def __init__(self, fail_on_call: int | None = None):
        super().__init__()
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def encode(self, texts):
        self.calls.append(list(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt("simulated interruption")
        return super().encode(texts)


TEXTS = ["Not enough staff time to plan", "Footprints cut across council borders", "Councillors oppose changes"]


def test_embed_cache_second_run_encodes_nothing(tmp_path):
    embedder = CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    first, stats1 = cache.embed(TEXTS, embedder)
    second, stats2 = cache.embed(TEXTS, embedder)
    assert (stats1.hits, stats1.misses) == (0, 3)
    assert (stats2.hits, stats2.misses) == (3, 0)
    assert len(embedder.calls) == 1
    np.testing.assert_array_equal(first, second)


def test_embed_cache_encodes_only_new_or_changed_texts(tmp_path):
    embedder = CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    cache.embed(TEXTS, embedder)
    changed = [TEXTS[0], TEXTS[1] + " and districts", "A brand new answer"]
    _, stats = cache.embed(changed, embedder)
    assert stats.misses == 2
    assert sorted(embedder.calls[-1]) == sorted(changed[1:])


def test_embed_cache_keeps_finished_batches_after_interruption(tmp_path):
    texts = [f"answer number {i} about capacity" for i in range(10)]
    cache = EmbeddingCache(tmp_path, shard_size=4)
    with pytest.raises(KeyboardInterrupt):
        cache.embed(texts, CountingEmbedder(fail_on_call=2))
    assert not list(tmp_path.rglob("*.tmp")), "an interrupted write must not leave temp files"
    resumed = CountingEmbedder()
    _, stats = cache.embed(texts, resumed)
    assert stats.hits == 4 and stats.misses == 6
    assert sum(len(call) for call in resumed.calls) == 6


def test_embed_cache_treats_damaged_shard_as_miss(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.embed(TEXTS, CountingEmbedder())
    for shard in tmp_path.rglob("*.npz"):
        shard.write_bytes(b"not a numpy file")
    embedder = CountingEmbedder()
    _, stats = EmbeddingCache(tmp_path).embed(TEXTS, embedder)  # a new run reads the shards again
    assert stats.misses == 3


@pytest.mark.parametrize("model_a,model_b", [("model-a", "model-b")])
def test_embed_content_key_depends_on_model_and_text(model_a, model_b):
    assert content_key(model_a, "x") != content_key(model_b, "x")
    assert content_key(model_a, "x") != content_key(model_a, "x ")
    assert content_key(model_a, "x") == content_key(model_a, "x")


@pytest.mark.parametrize("name", ["no-such-model.v9", "/nonexistent/folder/model"])
def test_embed_unknown_model_names_config_key(name):
    with pytest.raises(ConfigError, match="embed.model"):
        get_embedder(name)


@pytest.mark.parametrize("texts", [["one text"], ["a", "b", "the same b", "a"]])
def test_embed_fake_embedder_rows_are_unit_length_and_deterministic(texts):
    embedder = get_embedder("fake-hash.v1")
    first, second = embedder.encode(texts), embedder.encode(texts)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_embed_real_model_loads_offline_and_relates_paraphrases(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = get_embedder("minilm-local.v1")
    vectors = embedder.encode(["We lack staff capacity to plan.", "Too few people with time to do planning.",
                               "The weather was sunny at the beach."])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


@pytest.mark.parametrize("shard_size,n_texts", [(4, 10), (512, 3)])
def test_embed_cache_reports_progress_per_shard(tmp_path, shard_size, n_texts):
    texts = [f"answer {i} about planning footprints" for i in range(n_texts)]
    calls: list[tuple[int, int]] = []
    EmbeddingCache(tmp_path, shard_size=shard_size).embed(texts, CountingEmbedder(),
                                                          progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (n_texts, n_texts)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) == -(-n_texts // shard_size)


def test_embed_cached_embedder_encodes_each_text_once_across_calls(tmp_path):
    from pipeline.embed import CachedEmbedder

    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path))
    first = cached.encode(["a comment about capacity", "footprints"])
    again = CachedEmbedder(CountingEmbedder(fail_on_call=1), EmbeddingCache(tmp_path)).encode(
        ["footprints", "a comment about capacity"])  # would raise if it encoded anything
    np.testing.assert_array_equal(first[::-1], again)
    assert inner.calls == [["a comment about capacity", "footprints"]]


@pytest.mark.parametrize("dtype", [None, np.float32, np.float64])
def test_embed_unit_rows_scales_rows_and_leaves_zero_rows(dtype):
    from pipeline.core.vectors import unit_rows

    matrix = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]])
    out = unit_rows(matrix, dtype)
    assert out.dtype == (dtype or np.float64)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [0.0, -1.0]], rtol=1e-6)
    np.testing.assert_allclose(unit_rows(matrix[0], dtype), [0.6, 0.8], rtol=1e-6)
    assert not unit_rows(np.zeros(3)).any()


def test_embed_memo_embedder_encodes_each_distinct_string_once():
    from pipeline.embed import MemoEmbedder, get_embedder

    fake = get_embedder("fake-hash.v1")
    seen: list[str] = []

    class Counting:
        name = fake.name

        def encode(self, texts):
            seen.extend(texts)
            return fake.encode(texts)

    memo = MemoEmbedder(Counting(), known={"primed": np.ones(fake.encode(["x"]).shape[1], dtype=np.float32)})
    first = memo.encode(["a", "b", "a"])
    again = memo.encode(["b", "primed", "c"])
    assert seen == ["a", "b", "c"]
    np.testing.assert_array_equal(first, fake.encode(["a", "b", "a"]))
    np.testing.assert_array_equal(again[0], first[1])
    assert (again[1] == 1).all() and memo.name == fake.name


@pytest.mark.parametrize("change", ["cache_version", "name"])
def test_embed_cache_keeps_vectors_of_other_library_versions_apart(tmp_path, change):
    """An upgrade of sentence-transformers, transformers or torch (the embedder's cache_version) is a cache miss:
    vectors computed by two versions are never mixed in one run."""
    first = HashingEmbedder()
    first.cache_version = "torch=2.13.0"
    cache = EmbeddingCache(tmp_path)
    _, stats = cache.embed(["staff time"], first)
    assert stats.misses == 1
    again = HashingEmbedder()
    again.cache_version = "torch=2.13.0"
    assert EmbeddingCache(tmp_path).embed(["staff time"], again)[1].hits == 1
    other = HashingEmbedder(name="fake-hash.v1" if change == "cache_version" else "fake-hash.v2")
    other.cache_version = "torch=2.14.0" if change == "cache_version" else "torch=2.13.0"
    assert EmbeddingCache(tmp_path).embed(["staff time"], other)[1].misses == 1


def test_embed_sentence_transformer_cache_version_names_the_libraries():
    from pipeline.embed import SentenceTransformerEmbedder

    version = SentenceTransformerEmbedder("unused-path").cache_version
    assert {part.split("=")[0] for part in version.split(",")} == {"sentence-transformers", "transformers", "torch"}
