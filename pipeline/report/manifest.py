"""manifest.json: config, seed, package versions, input hashes, timings and counts of one run."""
from __future__ import annotations

import platform
import sys
from typing import Any, Iterable

from pipeline.core.versions import package_versions
from pipeline.report.tables import as_row
from pipeline.report.view import run_counts


def manifest(result, run_id: str, generated: str, outputs: Iterable[str]) -> dict[str, Any]:
    return {
        "run_id": run_id, "generated": generated, "corpus_dir": str(result.corpus_dir),
        "out_dir": str(result.out_dir), "stages_run": list(result.stages_run), "seed": result.config.seed,
        "config": result.config.to_dict(), "packages": package_versions(),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "input_files": [as_row(source) for source in result.files],
        "timings": dict(result.timings), "cache": {"hits": result.cache_hits, "misses": result.cache_misses},
        "counts": run_counts(result), "warnings": list(result.warnings), "outputs": sorted(outputs),
        "theme_method": dict(getattr(result, "theme_method", {})),
    }
