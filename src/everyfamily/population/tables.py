"""Reading the reference tables a project names (CSV lookups, deprivation, sites ...).

An I/O edge. Councils keep their reference data in many formats, and a boundary file or a
workbook given where a CSV is expected used to surface as "internal error (ParserError)"
long after ``validate``. :func:`file_kind` recognises the common non-CSV formats from the
file's first bytes (magic numbers: SQLite's "SQLite format 3" header for GeoPackage, the ZIP
local-file header "PK\\x03\\x04" for .xlsx/.zip, "PAR1" for Parquet, the ESRI shapefile
file code 9994, a JSON object or array for GeoJSON) so that :func:`read_csv_table` can say,
in one line, what the file is and what to give instead.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from everyfamily.errors import InputError

#: File formats that hold geometry and attribute columns (readable with GeoPandas/pyogrio).
VECTOR_KINDS = frozenset({"GeoJSON", "GeoPackage", "shapefile"})

_SUFFIX_KINDS = {
    ".geojson": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "shapefile",
    ".dbf": "shapefile",
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel workbook",
    ".xls": "Excel workbook",
    ".parquet": "Parquet",
    ".zip": "zip archive",
}


def file_kind(path: Path) -> str:
    """What ``path`` holds, judged from its first bytes (then its suffix): 'CSV' (any text
    that is not JSON), 'GeoJSON', 'JSON', 'GeoPackage', 'shapefile', 'Excel workbook',
    'Parquet' or 'zip archive'. The file must exist."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"SQLite format 3\x00"):
        return "GeoPackage" if path.suffix.lower() != ".sqlite" else "SQLite database"
    if head.startswith(b"PK\x03\x04"):
        return _SUFFIX_KINDS.get(path.suffix.lower(), "zip archive")
    if head.startswith(b"PAR1"):
        return "Parquet"
    if head[:4] == b"\x00\x00\x27\x0a":  # ESRI shapefile header: file code 9994, big-endian
        return "shapefile"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2 compound file: legacy .xls
        return "Excel workbook"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "GeoJSON" if b"Feature" in head or b'"coordinates"' in head else "JSON"
    if path.suffix.lower() == ".dbf" and head[:1] in (b"\x03", b"\x83", b"\x8b", b"\xf5"):
        return "shapefile"  # the attribute table of a shapefile (dBASE)
    return "CSV"


def read_csv_table(path: Path, what: str, setting: str) -> pd.DataFrame:
    """A UTF-8 CSV as strings (no value read as missing), or a one-line :class:`InputError`
    naming the file and the setting: missing file, a file of another format (GeoJSON,
    GeoPackage, workbook ...), undecodable or unparseable text."""
    if not path.is_file():
        raise InputError(
            f"{path}: {what} file not found", hint=f"check {setting} in the project file"
        )
    kind = file_kind(path)
    if kind != "CSV":
        raise InputError(
            f"{path}: the {what} file is a {kind} file, but {setting} expects a CSV",
            hint="export the table as a CSV with a header row and name that file",
        )
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{path}: cannot read the {what} file ({type(exc).__name__})",
            hint=f"give a UTF-8 CSV with a header row at {setting}",
        ) from None
