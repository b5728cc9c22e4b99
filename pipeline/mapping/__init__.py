"""Mapping: each theme to its best closed category with a bootstrap confidence, or emergent when none describes it."""
from pipeline.mapping.mapper import CategoryMapper

__all__ = ["CategoryMapper"]
