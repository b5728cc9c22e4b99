"""Analysis: how the themes line up with the structured ratings (crosstab, disagreements) and which quotes
represent each theme."""
from pipeline.analysis.association import crosstab
from pipeline.analysis.disagreements import disagreements
from pipeline.analysis.identify import identifiability_flags
from pipeline.analysis.quotes import quotes_for_theme, resolve_theme, select_quotes

__all__ = ["crosstab", "disagreements", "identifiability_flags", "quotes_for_theme", "resolve_theme",
           "select_quotes"]
