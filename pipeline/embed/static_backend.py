"""Static token embeddings distilled from the packaged model: ``embed.backend = "static"``, the fast mode.

The distillation is model2vec's recipe, done here with the packaged model and the libraries already installed
(model2vec's own distill extra pins an older transformers): every word piece of the vocabulary (special and
``[unused]`` tokens left out) is encoded alone as ``[CLS] piece [SEP]`` and mean-pooled; the vectors are reduced to
``DIMS`` dimensions by PCA and weighted by SIF (``SIF / (SIF + p)``, ``p`` the Zipf probability of the piece's
rank in the vocabulary). It runs once, offline (about a minute on 2 cores), and is kept under ``embed.models_dir``
beside a manifest with its sha256 (``pipeline.embed.artifacts``). A text's embedding is then the mean of its word
pieces' vectors, unit length: no transformer at run time, hundreds of times faster, at a quality cost measured in
docs/benchmarks.md.
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.vectors import unit_rows
from pipeline.embed.artifacts import ensure_artifact, packaged_model_dir, read_manifest, source_digest

BASE_NAME = "all-MiniLM-L6-v2"
DIMS = 256
SIF = 1e-4
MAX_TOKENS = 512  # word pieces per text (the rest is ignored)
DISTILL_BATCH = 512
SETTINGS = {"dims": DIMS, "sif": SIF, "pooling": "mean over [CLS] piece [SEP]", "max_tokens": MAX_TOKENS}


def _vocabulary(tokenizer) -> tuple[np.ndarray, int]:
    """Ids of the word pieces that get a vector (in id order, which ranks them for SIF), and the vocabulary size."""
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    special = {token for token in vocab if re.fullmatch(r"\[[A-Z]+\]|\[unused\d+\]", token)}
    ids = np.array(sorted(i for token, i in vocab.items() if token not in special), dtype=np.int64)
    return ids, max(vocab.values()) + 1


def _token_vectors(model_dir: Path, ids: np.ndarray, cls: int, sep: int) -> np.ndarray:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir)).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), DISTILL_BATCH):
            batch = torch.tensor([[cls, int(i), sep] for i in ids[start:start + DISTILL_BATCH]], dtype=torch.long)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch),
                           token_type_ids=torch.zeros_like(batch)).last_hidden_state
            out.append(hidden.float().mean(dim=1).numpy())
    return np.nan_to_num(np.vstack(out).astype(np.float64))


def _pca(X: np.ndarray, dims: int) -> np.ndarray:
    """PCA by eigendecomposition of the covariance, each component's sign fixed by its largest score."""
    centred = X - X.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / (len(X) - 1))
    components = eigenvectors[:, ::-1][:, :dims].T
    scores = centred @ components.T
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(scores.shape[1])])
    return scores * np.where(signs == 0, 1, signs)


def distill(model_dir: Path, out: Path) -> dict[str, Any]:
    """Write the static table (``vectors``: one row per vocabulary id, zero for pieces left out) to ``out`` (.npz)."""
    import time

    from tokenizers import Tokenizer as HFTokenizer

    started = time.perf_counter()
    tokenizer = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
    ids, size = _vocabulary(tokenizer)
    vectors = _pca(_token_vectors(model_dir, ids, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")),
                   DIMS)
    inverse_rank = 1.0 / np.arange(2, len(ids) + 2)
    weights = SIF / (SIF + inverse_rank / inverse_rank.sum())
    table = np.zeros((size, vectors.shape[1]), dtype=np.float32)
    table[ids] = (vectors * weights[:, None]).astype(np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, vectors=table, ids=ids)
    out.write_bytes(buffer.getvalue())
    return {"seconds": round(time.perf_counter() - started, 1), "pieces": int(len(ids)), **SETTINGS}


def static_table(models_dir: Path, notes: dict[str, Any] | None = None) -> Path:
    model_dir = packaged_model_dir()
    expect = {"source_sha256": source_digest(model_dir), "settings": SETTINGS}
    return ensure_artifact(Path(models_dir) / "minilm-l6-v2" / "static.npz", expect,
                           lambda tmp: distill(model_dir, tmp), notes)


class StaticEmbedder:
    """Mean of the distilled word-piece vectors of a text (the packaged tokenizer, no special tokens), unit length."""

    backend = "static"

    def __init__(self, models_dir: str | Path):
        self.models_dir = Path(models_dir)
        self.name = f"{BASE_NAME}+static"
        self.notes: dict[str, Any] = {}
        self._path: Path | None = None
        self._table = None
        self._tokenizer = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = static_table(self.models_dir, self.notes)
        return self._path

    @property
    def cache_version(self) -> str:
        return read_manifest(self.path)["sha256"][:16]

    def _load(self) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        with np.load(self.path, allow_pickle=False) as data:
            self._table = data["vectors"]
        self._keep = np.any(self._table != 0, axis=1)
        tokenizer = HFTokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._table is None:
            self._load()
        if len(texts) == 0:
            return np.zeros((0, self._table.shape[1]), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([str(t).strip() for t in texts], add_special_tokens=False)
        pieces = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        pieces = [p[self._keep[p]] for p in pieces]
        lengths = np.array([len(p) for p in pieces])
        out = np.zeros((len(texts), self._table.shape[1]), dtype=np.float32)
        filled = lengths > 0
        if filled.any():
            flat = np.concatenate([p for p in pieces if len(p)])
            starts = np.concatenate([[0], np.cumsum(lengths[filled])[:-1]])
            out[filled] = np.add.reduceat(self._table[flat], starts, axis=0) / lengths[filled, None]
        return unit_rows(out, np.float32)
