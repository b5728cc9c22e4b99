"""Content-addressed cache for a deterministic stage's output (used for cleaning and segmentation).

A re-run on an unchanged corpus spent about half its time cleaning again (5.4 of 11.4 s at 10,000 answers,
docs/benchmarks.md), mostly importing spaCy and the language identifier and splitting sentences. The output is a
pure function of the answers, the stage's config and the code, so it is stored under a hash of all three and read
back instead. The code is part of the key (the source of the modules named in ``code_modules``): changing the
cleaning code invalidates the cache, never returns stale segments.

Entries are JSON (``<key>.json``): a format name, a version, the key, a sha256 of the payload, and the payload the
stage's ``encode`` made. Reading one is ``json.loads`` and the stage's ``decode`` building records from plain
values: nothing in an entry can run code (the pickles this cache used to hold could: a planted
``outputs/.cache/cleaned/<key>.pkl`` ran whatever it liked, since the key is computable from the corpus). An entry
that is unreadable, of another version or key, or whose checksum does not match is a miss: recomputed, overwritten,
and named in ``problem_``. Old ``.pkl`` entries are never opened.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel

from pipeline.io.atomic import atomic_write_text

FORMAT = "pipeline-stage-cache"
VERSION = 1


def code_digest(modules: Iterable[str]) -> str:
    """sha256 of the named modules' source: what a cached result computed by that code depends on."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(inspect.getsource(importlib.import_module(name)).encode("utf-8"))
    return digest.hexdigest()


def payload_digest(payload: Any) -> str:
    """sha256 of the payload's canonical JSON (what the entry's checksum covers)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _identity(value: Any) -> Any:
    return value


class StageCache:
    """``get(key_parts, compute)``: the stored result for these key parts, or ``compute()`` stored under them.

    ``encode`` turns a result into JSON values, ``decode`` turns them back (raising ValueError, KeyError or
    TypeError for anything it does not recognise, which makes the entry a miss)."""

    def __init__(self, directory: str | Path, code_modules: Iterable[str] = (),
                 encode: Callable[[Any], Any] = _identity, decode: Callable[[Any], Any] = _identity):
        self.directory = Path(directory)
        self.code_modules = tuple(code_modules)
        self.encode, self.decode = encode, decode
        self.hit_: bool | None = None
        self.problem_: str = ""  # why an existing entry was not used (one line), "" if none

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

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def load(self, key: str, accept: Callable[[Any], bool] = lambda value: True) -> tuple[bool, Any]:
        """(True, value) for a sound entry under ``key`` that ``accept`` agrees with, else (False, None)."""
        path = self.path(key)
        if not path.is_file():
            return False, None
        try:
            entry = json.loads(path.read_bytes())
            if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("version") != VERSION:
                raise ValueError("not an entry of this cache version")
            if entry.get("key") != key or entry.get("sha256") != payload_digest(entry.get("payload")):
                raise ValueError("checksum mismatch")
            value = self.decode(entry["payload"])
            if not accept(value):
                raise ValueError("does not match the input it is filed under")
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
            self.problem_ = f"{path.as_posix()}: damaged cache entry ({' '.join(str(exc).split())[:120]}); recomputed"
            return False, None
        return True, value

    def store(self, key: str, value: Any) -> None:
        payload = self.encode(value)
        entry = {"format": FORMAT, "version": VERSION, "key": key, "sha256": payload_digest(payload),
                 "payload": payload}
        atomic_write_text(self.path(key), json.dumps(entry, ensure_ascii=False, separators=(",", ":")))

    def get(self, parts: Iterable[Any], compute: Callable[[], Any],
            accept: Callable[[Any], bool] = lambda value: True) -> Any:
        key = self.key(parts)
        found, value = self.load(key, accept)
        if found:
            self.hit_ = True
            return value
        value = compute()
        self.store(key, value)
        self.hit_ = False
        return value
