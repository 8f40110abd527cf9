"""Readers: turn one source (CSV, Excel, Parquet, SQL database) into a table of text.

Every column is read as text so nothing is lost to type inference (leading zeros of an NHS
number, '01/02/2020' read as a float ...); native dates and numbers of typed formats are
written as canonical text here (ISO dates, integral floats without '.0'). The content
fingerprint (``batch_id``) is the SHA-256 of the file's bytes, or of the query result for a
database, so loading the same extract twice can be recognised.

This module is an I/O edge; it never logs a value from a row. Error messages name the file,
sheet or column, never a cell's content.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from everyfamily.config import SourceOptions, SourceSettings
from everyfamily.errors import InputError

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class RawBatch:
    """One source's rows as text: one string column per source column, one row per data row.

    ``unreadable`` (same length as the table, or None when every row parsed) holds the raw
    text of rows that could not be split into the header's columns; their cells are NULL.
    """

    location: str  # file path, or the database URL without its password
    columns: tuple[str, ...]
    table: pa.Table
    batch_id: str
    unreadable: pa.Array | None = None
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def rows_read(self) -> int:
        return int(self.table.num_rows)


# --- Cell text -------------------------------------------------------------------------------


def cell_to_text(value: Any) -> str:
    """Canonical text of a typed cell: ISO dates, integral floats without '.0', '' for empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value():
            return str(value.quantize(decimal.Decimal(1)))
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _dedupe(names: Sequence[str]) -> tuple[str, ...]:
    """Column names made unique the way pandas does ('a', 'a' -> 'a', 'a.1'); blank ones
    become 'column_<n>'."""
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(names, start=1):
        name = raw if raw.strip() else f"column_{i}"
        candidate, k = name, 0
        while candidate in seen:
            k += 1
            candidate = f"{name}.{k}"
        seen.add(candidate)
        out.append(candidate)
    return tuple(out)


def _strings_table(columns: Sequence[str], data: Sequence[Sequence[str | None]]) -> pa.Table:
    return pa.table(
        {c: pa.array(col, type=pa.string()) for c, col in zip(columns, data, strict=True)}
    )


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(data: bytes, declared: str | None, location: str) -> tuple[str, int]:
    """(encoding, bytes to skip for a BOM).

    Declared encodings are checked by decoding the whole file. Without one: a BOM decides
    (UTF-8, UTF-16); then strict UTF-8; then Windows-1252, the UK Windows default, when the
    bytes fit it; only then charset-normalizer's guess (it is unreliable on short Western text,
    so it is the last resort). Say ``options.encoding`` when in doubt.
    """
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if declared:
        try:
            is_utf8 = declared.lower().replace("_", "-") in {"utf-8", "utf8", "utf-8-sig"}
            codec = "utf-8" if is_utf8 else declared
            data[bom if codec == "utf-8" else 0 :].decode(codec)
        except LookupError:
            raise InputError(
                f"{location}: options.encoding {declared!r} is not a known encoding",
                hint="use e.g. utf-8, cp1252 or latin-1",
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{location}: the file is not valid {declared} text (undecodable byte at offset "
                f"{exc.start})",
                hint="set options.encoding to the file's real encoding, e.g. cp1252 or utf-8",
            ) from None
        return codec, (bom if codec == "utf-8" else 0)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", 0
    try:
        data[bom:].decode("utf-8")
        return "utf-8", bom
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252", 0
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1024 * 1024]).best()
    if best is not None:
        try:
            data.decode(best.encoding)
            return str(best.encoding), 0
        except (UnicodeDecodeError, LookupError):
            pass
    raise InputError(
        f"{location}: cannot tell the file's text encoding (it is not UTF-8 or Windows-1252)",
        hint="set options.encoding in the project file, e.g. utf-16 or latin-1",
    )


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample (csv.Sniffer over , ; tab |); ',' when unsure."""
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    text = "\n".join(lines[:200])
    try:
        return csv.Sniffer().sniff(text, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_csv(path: Path, options: SourceOptions) -> RawBatch:
    """Read a delimited text file; every column as text."""
    import pyarrow.csv as pacsv

    location = str(path)
    data = _read_bytes(path)
    batch_id = hashlib.sha256(data).hexdigest()
    encoding, skip = detect_encoding(data, options.encoding, location)
    if encoding == "utf-8":
        utf8 = memoryview(data)[skip:]
        sample = bytes(utf8[:_SNIFF_BYTES]).decode("utf-8", errors="ignore")
    else:
        text = data.decode(encoding)
        if text.startswith("\ufeff"):
            text = text[1:]
        utf8 = memoryview(text.encode("utf-8"))
        sample = text[:_SNIFF_BYTES]
    sample_lines = sample.splitlines()[options.skip_rows :]
    if not any(line.strip() for line in sample_lines):
        raise InputError(
            f"{location}: the file is empty", hint="export the data again, with a header row"
        )
    delimiter = options.delimiter or sniff_delimiter("\n".join(sample_lines))
    header = next(csv.reader(io.StringIO("\n".join(sample_lines)), delimiter=delimiter))
    columns = _dedupe([h.strip() for h in header])

    bad_rows = 0

    def on_invalid(_row: Any) -> str:
        nonlocal bad_rows
        bad_rows += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(utf8),
            read_options=pacsv.ReadOptions(
                skip_rows=options.skip_rows + 1, column_names=list(columns), block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        parsed_ok = bad_rows == 0
    except pa.ArrowInvalid:
        parsed_ok = False
    if parsed_ok:
        batch = RawBatch(location, columns, table, batch_id, None, encoding, delimiter)
    else:
        # Some rows do not split into the header's columns: re-read with the csv module so
        # every row keeps its exact position and the bad ones can be quarantined.
        batch = _read_csv_slow(
            bytes(utf8).decode("utf-8"),
            columns,
            options.skip_rows,
            delimiter,
            location,
            batch_id,
            encoding,
        )
    if batch.rows_read == 0:
        raise InputError(
            f"{location}: the file has a header but no data rows", hint="export the data again"
        )
    return batch


def _read_csv_slow(
    text: str,
    columns: tuple[str, ...],
    skip_rows: int,
    delimiter: str,
    location: str,
    batch_id: str,
    encoding: str,
) -> RawBatch:
    width = len(columns)
    cols: list[list[str | None]] = [[] for _ in range(width)]
    unreadable: list[str | None] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for _ in range(skip_rows + 1):
            next(reader, None)
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip() and width > 1):
                continue  # blank line: not a row (as the fast reader does)
            if len(fields) == width:
                for j in range(width):
                    cols[j].append(fields[j])
                unreadable.append(None)
            else:
                for j in range(width):
                    cols[j].append(None)
                unreadable.append(delimiter.join(fields))
    except csv.Error as exc:
        raise InputError(
            f"{location}: cannot parse the file as CSV near row {reader.line_num} ({exc})",
            hint="check quoting, or set options.delimiter",
        ) from None
    table = _strings_table(columns, cols)
    return RawBatch(
        location,
        columns,
        table,
        batch_id,
        pa.array(unreadable, type=pa.string()),
        encoding,
        delimiter,
    )


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError(
            f"{path}: file not found", hint="check the source's path in the project file"
        )
    if not path.is_file():
        raise InputError(f"{path}: is not a file", hint="give the path of the export file")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path}: the file is empty", hint="export the data again")
    return data


# --- Excel -----------------------------------------------------------------------------------


def read_excel(path: Path, options: SourceOptions) -> RawBatch:
    """Read a named sheet (or the first) of an .xlsx/.xlsm/.xls/.ods workbook with calamine."""
    from python_calamine import CalamineWorkbook

    location = str(path)
    data = _read_bytes(path)
    batch_id = hashlib.sha256(data).hexdigest()
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
    except Exception as exc:  # calamine raises several types (zip, XML, password)
        raise InputError(
            f"{location}: cannot read the workbook ({type(exc).__name__})",
            hint="save it again as .xlsx, or export CSV",
        ) from None
    if not names:
        raise InputError(f"{location}: the workbook has no sheets", hint="export the data again")
    sheet_name = options.sheet or names[0]
    if sheet_name not in names:
        listed = ", ".join(repr(n) for n in names)
        raise InputError(
            f"{location}: the workbook has no sheet {sheet_name!r}; its sheets are: {listed}",
            hint="fix options.sheet in the project file",
        )
    try:
        rows = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputError(
            f"{location}: cannot read sheet {sheet_name!r} ({type(exc).__name__})",
            hint="save the workbook again as .xlsx, or export CSV",
        ) from None
    rows = rows[options.skip_rows :]
    while rows and all(cell_to_text(c).strip() == "" for c in rows[-1]):
        rows.pop()
    if not rows or all(cell_to_text(c).strip() == "" for c in rows[0]):
        raise InputError(f"{location}: sheet {sheet_name!r} is empty", hint="check options.sheet")
    columns = _dedupe([cell_to_text(c).strip() for c in rows[0]])
    body = rows[1:]
    if not body:
        raise InputError(
            f"{location}: sheet {sheet_name!r} has a header but no data rows",
            hint="export the data again",
        )
    width = len(columns)
    cols = [[cell_to_text(r[j]) if j < len(r) else "" for r in body] for j in range(width)]
    return RawBatch(location, columns, _strings_table(columns, cols), batch_id)


# --- Parquet ---------------------------------------------------------------------------------


def _column_to_text(col: pa.ChunkedArray) -> pa.Array:
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr = col.cast(pa.string())
    elif pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_timestamp(t):
        from everyfamily.ingest.rules import map_unique

        arr = map_unique(col.combine_chunks(), cell_to_text)
    elif pa.types.is_dictionary(t):
        arr = col.cast(t.value_type).cast(pa.string())
    else:
        try:
            arr = col.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            arr = pa.array([cell_to_text(v) for v in col.to_pylist()], type=pa.string())
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pc.fill_null(arr, "")


def read_parquet(path: Path, options: SourceOptions) -> RawBatch:
    """Read a Parquet file; typed columns become canonical text (dates as ISO)."""
    import pyarrow.parquet as pq

    location = str(path)
    data = _read_bytes(path)
    batch_id = hashlib.sha256(data).hexdigest()
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(
            f"{location}: cannot read the Parquet file ({type(exc).__name__})",
            hint="check the file is Parquet, or set format",
        ) from None
    columns = _dedupe([str(n) for n in table.column_names])
    if table.num_rows == 0:
        raise InputError(f"{location}: the file has no data rows", hint="export the data again")
    return RawBatch(
        location,
        columns,
        pa.table({c: _column_to_text(table.column(i)) for i, c in enumerate(columns)}),
        batch_id,
    )


# --- SQL database ----------------------------------------------------------------------------


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(database URL)"


def read_database(url: str, options: SourceOptions) -> RawBatch:
    """Read a table or a query through SQLAlchemy. ``postgresql://`` uses psycopg 3."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, NoSuchTableError

    location = _safe_url(url)
    if not options.table and not options.query:
        raise InputError(f"{location}: give options.table or options.query for a database source")
    try:
        u = make_url(url)
        if u.drivername in {"postgresql", "postgres"}:
            u = u.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(u)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InputError(
            f"{location}: not a usable database URL ({type(exc).__name__})",
            hint="e.g. postgresql://user@host/db or sqlite:///path.db",
        ) from None
    try:
        with engine.connect() as con:
            if options.query:
                result = con.execute(sa.text(options.query))
                what = "query"
            else:
                schema, _, name = (options.table or "").rpartition(".")
                try:
                    tbl = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=con)
                except NoSuchTableError:
                    tables = sa.inspect(con).get_table_names(schema=schema or None)
                    raise InputError(
                        f"{location}: no table {options.table!r}; tables are: "
                        + (", ".join(tables) or "(none)"),
                        hint="fix options.table in the project file",
                    ) from None
                result = con.execute(sa.select(tbl))
                what = f"table {options.table!r}"
            names = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result, not a dict
            rows = result.fetchall()
    except InputError:
        raise
    except DBAPIError as exc:
        kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        raise InputError(
            f"{location}: the database refused the read ({kind})",
            hint="check the URL, credentials, options.table or options.query",
        ) from None
    finally:
        engine.dispose()
    columns = _dedupe(names)
    if not rows:
        raise InputError(f"{location}: the {what} returned no rows", hint="check the source")
    cols = [[cell_to_text(r[j]) for r in rows] for j in range(len(columns))]
    digest = hashlib.sha256()
    digest.update("\x1f".join(columns).encode("utf-8"))
    for r in zip(*cols, strict=True):
        digest.update(b"\x1e" + "\x1f".join(r).encode("utf-8"))
    return RawBatch(location, columns, _strings_table(columns, cols), digest.hexdigest())


# --- Dispatch --------------------------------------------------------------------------------

Reader = Callable[[Path, SourceOptions], RawBatch]
_FILE_READERS: dict[str, Reader] = {"csv": read_csv, "excel": read_excel, "parquet": read_parquet}


def read_source(source: SourceSettings) -> RawBatch:
    """Read one source of the project file with the reader its format names."""
    fmt = source.file_format
    if fmt == "database":
        if source.url is None:
            raise InputError(f"source {source.name!r}: format 'database' needs a url")
        return read_database(source.url, source.options)
    if source.path is None:
        raise InputError(f"source {source.name!r}: give a path to the file")
    return _FILE_READERS[fmt](Path(source.path), source.options)
