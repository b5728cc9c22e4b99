"""Ingest: survey exports (CSV, TSV, XLSX, JSONL, TXT, MD) to ``Answer`` records with provenance, and
categories.yaml to ``Category`` records."""
from pipeline.ingest.categories_file import load_categories
from pipeline.ingest.corpus import IngestResult, read_corpus

__all__ = ["IngestResult", "load_categories", "read_corpus"]
