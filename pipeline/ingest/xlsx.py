"""XLSX workbooks (openpyxl, read-only, cached values)."""
from __future__ import annotations

from pathlib import Path

from pipeline.ingest.table import Record, Table, cell_text, column_names


def read_xlsx(path: Path) -> tuple[Table | None, list[str]]:
    import openpyxl  # imported here: only XLSX corpora pay for it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (zip, XML, key errors) for a damaged or mislabelled file
        return None, [f"cannot open as an Excel workbook ({type(exc).__name__}: {exc}); skipped"]
    try:
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()  # some writers store a wrong used range, which read-only mode would trust
            header: list[str] | None = None
            width = 0
            rows: list[tuple[int, list[str]]] = []
            for cells in sheet.iter_rows(values_only=True):
                values = [cell_text(cell) for cell in cells]
                while values and not values[-1].strip():
                    values.pop()
                if header is None:
                    if values:
                        header, width = values, len(values)
                    continue
                rows.append((len(rows) + 1, values))
                width = max(width, len(values))
            if header is None:
                continue
            columns, notes = column_names(header + [""] * (width - len(header)))
            records = [
                Record(row, dict(zip(columns, values + [""] * (width - len(values))))) for row, values in rows if values
            ]
            return Table(columns, records), notes
        return Table([], []), []
    finally:
        workbook.close()
