"""Themes: BERTopic (manual mode) over seeded clusters, consensus over seeds, stability, category-coded and emergent
themes, outlier audit, secondary themes, save/load."""
from pipeline.themes.model import ThemeModel

__all__ = ["ThemeModel"]
