"""Quality and speed benchmarks; run ``python -m benchmarks.quality --help`` or ``python -m benchmarks.speed --help``."""
