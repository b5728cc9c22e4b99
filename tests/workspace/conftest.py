"""Fixtures `finished_run` and `fresh_run` live in tests/conftest.py (shared with tests/export)."""
