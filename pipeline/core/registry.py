"""Versioned names -> factories, spaCy's habit: a name keeps its meaning once released; a changed behaviour gets a
new version (``kmeans.v1`` -> ``kmeans.v2``), so an old config still means what it meant.

Each stage package registers its own factories next to the code that implements them
(``@CLUSTERERS.register("kmeans.v1")``), so the registry itself knows no stage. A registry names the module that
declares its entries (``declared_in``) and imports it on the first lookup, the way spaCy's registries load their
entry points: ``"kmeans.v1" in CLUSTERERS`` works without the caller importing the theme stage first.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pipeline.core.errors import ConfigError


class Registry(Mapping[str, Callable[..., Any]]):
    """A read-only mapping of versioned names to factories, filled by ``register``."""

    def __init__(self, kind: str, declared_in: str, config_key: str):
        self.kind = kind
        self.declared_in = declared_in
        self.config_key = config_key
        self._factories: dict[str, Callable[..., Any]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register ``factory`` under ``name`` (a name is registered once)."""
        def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._factories and self._factories[name] is not factory:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._factories[name] = factory
            return factory
        return decorate

    def unregister(self, name: str) -> None:
        """Remove ``name`` (a test's temporary entry; a released name is never removed)."""
        self._factories.pop(name, None)

    def get_factory(self, name: str) -> Callable[..., Any]:
        """The factory registered as ``name``; a ConfigError naming the config key and the known names if none."""
        self._load()
        if name not in self._factories:
            raise ConfigError(f"{self.config_key} must be one of {', '.join(self._factories)}, got {name!r}")
        return self._factories[name]

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            importlib.import_module(self.declared_in)

    def __getitem__(self, name: str) -> Callable[..., Any]:
        self._load()
        return self._factories[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(list(self._factories))

    def __len__(self) -> int:
        self._load()
        return len(self._factories)


EMBEDDERS = Registry("embedder", declared_in="pipeline.embed", config_key="embed.model")
CLUSTERERS = Registry("cluster model", declared_in="pipeline.themes.clusters", config_key="themes.cluster_model")

__all__ = ["CLUSTERERS", "EMBEDDERS", "Registry"]
