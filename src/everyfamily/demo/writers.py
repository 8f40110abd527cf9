"""Byte-for-byte reproducible writers for the scenario's files (CSV, XLSX, Parquet).

Same seed, same bytes: no timestamps, no dict-order surprises, fixed line endings.

The .xlsx writer is our own: openpyxl took 3.5 s for 30,000 rows here (write-only mode) and
stamps the current time into the workbook properties and the zip entries. A minimal
SpreadsheetML package (workbook, one sheet, shared strings) written with fixed zip
timestamps takes a fraction of that and reads back in openpyxl, calamine and Excel.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def write_csv(
    df: pd.DataFrame,
    path: Path,
    *,
    encoding: str,
    delimiter: str = ",",
    line_terminator: str = "\r\n",
) -> None:
    """All cells as text, quoted only where needed, in the given encoding."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=line_terminator)
    w.writerow(list(df.columns))
    w.writerows(df.astype(str).itertuples(index=False, name=None))
    path.write_bytes(buf.getvalue().encode(encoding))


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet of string columns, without the pandas metadata block."""
    table = pa.Table.from_pandas(df.astype(str), preserve_index=False)
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")


def _col(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _zip(path: Path, parts: list[tuple[str, str]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, text.encode("utf-8"))


def write_xlsx(df: pd.DataFrame, path: Path, *, sheet: str) -> None:
    """One named sheet; every cell a shared string (as systems that export text do)."""
    strings: dict[str, int] = {}

    def sid(v: str) -> int:
        i = strings.get(v)
        if i is None:
            i = strings[v] = len(strings)
        return i

    letters = [_col(j) for j in range(len(df.columns))]
    rows_xml = []
    for r, values in enumerate(
        [list(df.columns), *df.astype(str).itertuples(index=False)], start=1
    ):
        cells = "".join(
            f'<c r="{letters[j]}{r}" t="s"><v>{sid(v)}</v></c>'
            for j, v in enumerate(values)
            if v != ""
        )
        rows_xml.append(f'<row r="{r}">{cells}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    last = f"{letters[-1]}{len(df) + 1}"
    sheet_xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {ns}>'
        f'<dimension ref="A1:{last}"/><sheetData>{"".join(rows_xml)}</sheetData></worksheet>'
    )
    sst = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    shared_xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {ns} '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>'
    )
    workbook_xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {ns} {rel_ns}>'
        f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    styles_xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {ns}>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    rels_pkg = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    rels_wb = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    )
    ct = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/></Types>'
    )
    _zip(
        path,
        [
            ("[Content_Types].xml", ct),
            ("_rels/.rels", rels_pkg),
            ("xl/workbook.xml", workbook_xml),
            ("xl/_rels/workbook.xml.rels", rels_wb),
            ("xl/worksheets/sheet1.xml", sheet_xml),
            ("xl/sharedStrings.xml", shared_xml),
            ("xl/styles.xml", styles_xml),
        ],
    )
