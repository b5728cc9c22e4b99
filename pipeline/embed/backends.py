"""Which backend runs the packaged model, and building an embedder from its description (``EmbedderSpec``).

``embed.backend``: "torch" (sentence-transformers), "onnx" (the model exported once with torch.onnx.export, run on
onnxruntime), "onnx-int8" (that export with int8 weights), "static" (static token embeddings distilled from the
model: the fast mode), or "auto": ``AUTO_BACKEND``, the fastest backend whose quality on the quality benchmark is
within noise of torch's (docs/benchmarks.md has the measurements and the rule), and ``FAST_BACKEND`` for corpora
of more than ``embed.fast_above`` segments. A model other than the packaged one always runs on torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import ConfigError

PACKAGED_MODEL = "minilm-local.v1"
BACKENDS = ("torch", "onnx", "onnx-int8", "static")
AUTO_BACKEND = "onnx"  # measured: docs/benchmarks.md, "Encoder backends" (same vectors as torch, ~2x faster)
FAST_BACKEND = "static"


@dataclass(frozen=True)
class EmbedderSpec:
    """What builds an embedder: ``embed.model``, the resolved backend, device and batch size."""

    model: str
    backend: str = "torch"
    device: str = "cpu"
    batch_size: int = 32
    models_dir: str = "models/encoders"  # where the ONNX export and the static table are kept

    def build(self):
        return build_embedder(self)


# the derived file each backend needs under embed.models_dir (torch needs none)
DERIVED_FILES = {"onnx": "minilm-l6-v2/model-fp32.onnx", "onnx-int8": "minilm-l6-v2/model-int8.onnx",
                 "static": "minilm-l6-v2/static.npz"}
NEEDS = {"onnx": ("onnxruntime", "onnx"), "onnx-int8": ("onnxruntime", "onnx")}


def resolve_backend(embed_config, n_segments: int, may_write: bool = True) -> str:
    """The backend a run uses for ``n_segments`` segments under ``embed_config`` (the [embed] table).

    "auto" never needs what is not there: without onnxruntime it falls back to torch, and a run that writes
    nothing (``may_write=False``: a notebook run without output, model or cache folders) uses a derived backend
    only when its file already exists under ``embed.models_dir``."""
    backend = embed_config.backend
    if embed_config.model != PACKAGED_MODEL:
        if backend not in ("auto", "torch"):
            raise ConfigError(f'embed.backend "{backend}" runs only the packaged model ({PACKAGED_MODEL}); '
                              f'embed.model {embed_config.model!r} runs on "torch" (or "auto")')
        return "torch"
    if backend != "auto":
        return backend
    fast_above = embed_config.fast_above
    chosen = FAST_BACKEND if fast_above is not None and n_segments > fast_above else AUTO_BACKEND
    if _missing(*NEEDS.get(chosen, ())):
        return "torch"
    derived = DERIVED_FILES.get(chosen)
    if derived and not may_write and not (Path(embed_config.models_dir) / derived).is_file():
        return "torch"
    return chosen


def embedder_spec(embed_config, n_segments: int, may_write: bool = True) -> EmbedderSpec:
    return EmbedderSpec(model=embed_config.model, backend=resolve_backend(embed_config, n_segments, may_write),
                        device=embed_config.device, batch_size=embed_config.batch_size,
                        models_dir=embed_config.models_dir)


def build_embedder(spec: EmbedderSpec):
    """A new embedder for ``spec`` (``pipeline.embed.remote.worker_embedder`` keeps one per process)."""
    from pipeline.embed import get_embedder

    if spec.backend == "torch":
        return get_embedder(spec.model, device=spec.device, batch_size=spec.batch_size)
    if spec.backend in ("onnx", "onnx-int8"):
        from pipeline.embed.onnx_backend import OnnxEmbedder

        _needs("onnxruntime", "onnx")
        return OnnxEmbedder(spec.models_dir, int8=spec.backend == "onnx-int8", batch_size=spec.batch_size)
    if spec.backend == "static":
        from pipeline.embed.static_backend import StaticEmbedder

        return StaticEmbedder(spec.models_dir)
    raise ConfigError(f"embed.backend must be one of auto, {', '.join(BACKENDS)}, got {spec.backend!r}")


def _missing(*modules: str) -> list[str]:
    import importlib.util

    return [name for name in modules if importlib.util.find_spec(name) is None]


def _needs(*modules: str) -> None:
    missing = _missing(*modules)
    if missing:
        raise ConfigError(f"embed.backend needs {' and '.join(missing)} (pip install {' '.join(missing)})")
