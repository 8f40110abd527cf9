"""Exports of dashboard tables (CSV, Excel) and of the map (GeoJSON, GeoPackage).

Tables arrive already released (:class:`everyfamily.web.service.Table`); this module only
serialises them. A suppressed count or rate is an empty cell. Each Excel file has an
'About' sheet with the title, the disclosure rule and the data attribution lines.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from everyfamily.spreadsheet_safe import neutralise
from everyfamily.web.service import Table


def table_csv(table: Table) -> bytes:
    table = table.for_download()
    buf = io.StringIO()
    # RFC 4180 line ends: Python's csv quotes a field holding any character of the line
    # terminator, so with CRLF a carriage return inside a value is quoted, not a row break.
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(c.label) for c in table.columns])
    for rec in table.records():
        writer.writerow(
            ["" if rec[c.key] is None else neutralise(rec[c.key]) for c in table.columns]
        )
    return buf.getvalue().encode("utf-8")


def table_xlsx(table: Table, *, about: Sequence[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    table = table.for_download()
    wb = Workbook()
    ws = wb.active or wb.create_sheet()
    ws.title = table.id[:31] or "table"
    ws.append([neutralise(c.label) for c in table.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for rec in table.records():
        ws.append([_excel_value(rec[c.key]) for c in table.columns])
    _text_as_strings(ws)
    for j, col in enumerate(table.columns, start=1):
        fmt = {"rate": "0.0%", "count": "#,##0", "km": "0.00"}.get(col.kind)
        if fmt:
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = fmt
    info = wb.create_sheet("About")
    for line in [table.title, *([table.note] if table.note else []), *about]:
        info.append([neutralise(line)])
    _text_as_strings(info)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _excel_value(v: Any) -> Any:
    if v is None or isinstance(v, int | float):
        return v
    return neutralise(str(v))


def _text_as_strings(ws: Any) -> None:
    """openpyxl stores any text starting with '=' as a formula: force every text cell to be a
    string cell (spreadsheet_safe explains why)."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def map_geojson(frame: Any) -> bytes:
    text: str = frame.to_json(drop_id=True, to_wgs84=False)
    return text.encode("utf-8")


def map_gpkg(frame: Any, *, layer: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="everyfamily-export-") as tmp:
        path = Path(tmp) / "map.gpkg"
        frame.to_file(path, layer=layer, driver="GPKG")
        return path.read_bytes()
