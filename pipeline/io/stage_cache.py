"""Content-addressed cache for a deterministic stage's output (used for cleaning and segmentation).

A re-run on an unchanged corpus spent about half its time cleaning again (5.4 of 11.4 s at 10,000 answers,
docs/benchmarks.md), mostly importing spaCy and the language identifier and splitting sentences. The output is a
pure function of the answers, the stage's config and the code, so it is stored under a hash of all three and read
back instead. The code is part of the key (the source of the modules named in ``code_modules``): changing the
cleaning code invalidates the cache, never returns stale segments.

Entries are pickles written atomically; the folder is the user's own cache (``embed.cache_dir``'s sibling), never
shared input. An unreadable entry is recomputed and overwritten.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import pickle
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel

from pipeline.io.atomic import atomic_write_bytes


def code_digest(modules: Iterable[str]) -> str:
    """sha256 of the named modules' source: what a cached result computed by that code depends on."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(inspect.getsource(importlib.import_module(name)).encode("utf-8"))
    return digest.hexdigest()


class StageCache:
    """``get(key_parts, compute)``: the stored result for these key parts, or ``compute()`` stored under them."""

    def __init__(self, directory: str | Path, code_modules: Iterable[str] = ()):
        self.directory = Path(directory)
        self.code_modules = tuple(code_modules)
        self.hit_: bool | None = None

    def key(self, parts: Iterable[Any]) -> str:
        digest = hashlib.sha256(code_digest(self.code_modules).encode("ascii") if self.code_modules else b"")
        for part in parts:
            if isinstance(part, BaseModel):  # a config section
                value = part.model_dump()
            elif is_dataclass(part) and not isinstance(part, type):
                value = asdict(part)
            else:
                value = part
            digest.update(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()

    def get(self, parts: Iterable[Any], compute: Callable[[], Any]) -> Any:
        path = self.directory / f"{self.key(parts)}.pkl"
        if path.is_file():
            try:
                value = pickle.loads(path.read_bytes())
                self.hit_ = True
                return value
            except Exception:  # noqa: BLE001 -- a damaged or outdated entry is recomputed, never fatal
                pass
        value = compute()
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self.hit_ = False
        return value
