"""Exports of a completed run for other tools: a REFI-QDA project (.qdpx) and codebook (.qdc) for NVivo, ATLAS.ti,
MAXQDA and QualCoder, and an Excel workbook with one sheet per theme."""
from pipeline.export.qdpx import write_qdc, write_qdpx
from pipeline.export.xlsx import write_xlsx

EXPORTERS = {"qdpx": write_qdpx, "qdc": write_qdc, "xlsx": write_xlsx}  # kind -> write(run_dir, out) -> path

__all__ = ["EXPORTERS", "write_qdc", "write_qdpx", "write_xlsx"]
