"""The packaged model on onnxruntime: ``embed.backend = "onnx"`` (fp32) or ``"onnx-int8"`` (dynamic int8 weights).

The export is made once, offline, from the packaged model with ``torch.onnx.export`` (BERT + sentence-transformers'
mean pooling + L2 normalisation in one graph, dynamic batch and sequence axes, the TorchScript exporter with eager
attention: the classic BERT graph onnxruntime optimises and quantises), and kept under ``embed.models_dir``
beside a manifest with its sha256 (``pipeline.embed.artifacts``). The int8 model is
``onnxruntime.quantization.quantize_dynamic`` of that export, per-channel QInt8 weights on the MatMuls only, the
feed-forward output projections left in fp32 (``INT8_SETTINGS``). Texts are tokenised with the packaged
tokenizer.json (the ``tokenizers`` library: the ids, mask and types sentence-transformers makes, truncated at 256
word pieces), sorted by length before batching, and returned in their own order.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.vectors import unit_rows
from pipeline.core.versions import package_versions
from pipeline.embed.artifacts import ensure_artifact, packaged_model_dir, read_manifest, source_digest

BASE_NAME = "all-MiniLM-L6-v2"
MAX_SEQ_LENGTH = 256  # the packaged model's sentence_bert_config.json
DIM = 384
INT8_SETTINGS: dict[str, Any] = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False,
                                 "op_types": ["MatMul"], "exclude_patterns": [r"layer\.\d+/output/dense/MatMul"]}


def export_onnx(model_dir: Path, out: Path, opset: int = 17) -> dict[str, Any]:
    """Export BERT + mean pooling + L2 normalisation to ``out`` (fp32)."""
    import torch
    import warnings
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long), torch.zeros(2, 8, dtype=torch.long))
    axes = {**{name: {0: "batch", 1: "sequence"} for name in names}, "sentence_embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings about Python booleans in transformers' masking code
        torch.onnx.export(Encoder(bert).eval(), dummy, str(out), dynamo=False, input_names=names,
                          output_names=["sentence_embedding"], opset_version=opset, dynamic_axes=axes,
                          do_constant_folding=True)
    return {"opset": opset, "exporter": "torchscript", "attention": "eager", "torch": torch.__version__}


def quantize_int8(src: Path, out: Path, settings: dict[str, Any]) -> dict[str, Any]:
    import re

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src), load_external_data=False).graph
    excluded = [node.name for node in graph.node
                if any(re.search(pattern, node.name) for pattern in settings.get("exclude_patterns", []))]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a "consider pre-processing" warning on the root logger
    try:
        quantize_dynamic(str(src), str(out), weight_type=getattr(QuantType, settings["weight_type"]),
                         per_channel=settings["per_channel"], reduce_range=settings["reduce_range"],
                         op_types_to_quantize=settings["op_types"], nodes_to_exclude=excluded)
    finally:
        root.setLevel(level)
    return {"excluded_nodes": len(excluded), **package_versions(("onnxruntime", "onnx"))}


def onnx_model(models_dir: Path, int8: bool, notes: dict[str, Any] | None = None) -> Path:
    """The fp32 export (and, with ``int8``, its quantised version) under ``models_dir``, built if needed."""
    model_dir = packaged_model_dir()
    source = source_digest(model_dir)
    folder = Path(models_dir) / "minilm-l6-v2"
    fp32 = ensure_artifact(folder / "model-fp32.onnx", {"source_sha256": source},
                           lambda tmp: export_onnx(model_dir, tmp), notes)
    if not int8:
        return fp32
    parent = read_manifest(fp32)["sha256"]
    return ensure_artifact(folder / "model-int8.onnx",
                           {"source_sha256": source, "parent_sha256": parent, "settings": INT8_SETTINGS},
                           lambda tmp: quantize_int8(fp32, tmp, INT8_SETTINGS), notes)


def worker_threads() -> int:
    """Threads for one onnxruntime session: OMP_NUM_THREADS when set (dask sets 1 on its workers), else every core
    this process may use."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else len(os.sched_getaffinity(0))


class Tokenizer:
    """The packaged tokenizer.json: sentence-transformers' ids, attention mask and token types (texts stripped,
    truncation at ``max_length`` word pieces), padded per batch."""

    def __init__(self, model_dir: Path, max_length: int = MAX_SEQ_LENGTH):
        from tokenizers import Tokenizer as HFTokenizer

        self.tokenizer = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0

    def encode(self, texts: Sequence[str]) -> list:
        return self.tokenizer.encode_batch([str(text).strip() for text in texts], add_special_tokens=True)

    def pad(self, encodings: list) -> dict[str, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for i, encoding in enumerate(encodings):
            k = len(encoding.ids)
            ids[i, :k], mask[i, :k], types[i, :k] = encoding.ids, 1, encoding.type_ids
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


class OnnxEmbedder:
    """The packaged model exported to ONNX, on onnxruntime's CPU provider; ``int8`` for the quantised model."""

    def __init__(self, models_dir: str | Path, int8: bool = False, batch_size: int = 32):
        self.models_dir = Path(models_dir)
        self.int8 = int8
        self.backend = "onnx-int8" if int8 else "onnx"
        self.batch_size = batch_size
        self.name = f"{BASE_NAME}+{self.backend}"
        self.notes: dict[str, Any] = {}  # which files were (re)built, and why
        self._session = None
        self._tokenizer = None
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = onnx_model(self.models_dir, self.int8, self.notes)
        return self._path

    @property
    def cache_version(self) -> str:
        """The export's sha256 and the onnxruntime version: another export or runtime is a cache miss."""
        versions = package_versions(("onnxruntime",))
        return f"{read_manifest(self.path)['sha256'][:16]},onnxruntime={versions.get('onnxruntime', '')}"

    def _load(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = worker_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer(packaged_model_dir())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._session is None:
            self._load()
        encodings = self._tokenizer.encode(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")  # similar lengths share a batch
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            feed = {k: v for k, v in self._tokenizer.pad([encodings[i] for i in rows]).items() if k in self._inputs}
            out[rows] = self._session.run(None, feed)[0]
        return unit_rows(out, np.float32)
