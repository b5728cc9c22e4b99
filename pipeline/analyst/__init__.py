"""Analyst: what a person adds to or checks in the machine's themes: labels.yaml (renames, merges, noise, pins),
stable theme ids across runs, the codebook with label quality, blind coding sheets and agreement."""
from pipeline.analyst.agreement import AgreementReport, agreement, render_agreement, score_sheets, write_agreement
from pipeline.analyst.codebook import build_codebook, codebook_markdown, write_codebook
from pipeline.analyst.label_quality import label_quality
from pipeline.analyst.labels_file import LabelsFile, apply_labels, label_reassignments, load_labels
from pipeline.analyst.sheets import CodingKey, load_key, read_sheet, sample_sheet, write_sample
from pipeline.analyst.stable_ids import (
    IdMatch, ThemeState, load_theme_state, match_theme_ids, renumber, save_theme_state, theme_centroids,
)

__all__ = ["AgreementReport", "CodingKey", "IdMatch", "LabelsFile", "ThemeState", "agreement", "apply_labels",
           "build_codebook", "codebook_markdown", "label_quality", "label_reassignments", "load_key",
           "load_labels", "load_theme_state", "match_theme_ids", "read_sheet", "render_agreement", "renumber",
           "sample_sheet", "save_theme_state", "score_sheets", "theme_centroids", "write_agreement", "write_codebook",
           "write_sample"]
