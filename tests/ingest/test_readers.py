"""Readers for every format, and the one-line errors for bad inputs."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from everyfamily.config import SourceOptions
from everyfamily.errors import InputError
from everyfamily.ingest import readers

ROWS = [["1", "Zoë", "Nuñez", "01/02/2024"], ["2", "José", "O'Brien", "03/04/2023"]]
HEADER = ["ID", "Forename", "Surname", "DOB"]


def _csv_text(delim: str = ",") -> str:
    return "\n".join(delim.join(r) for r in [HEADER, *ROWS]) + "\n"


def _rows(batch: readers.RawBatch) -> list[list[str]]:
    return [list(r.values()) for r in batch.table.to_pylist()]


def test_csv_utf8(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(_csv_text(), encoding="utf-8")
    b = readers.read_csv(p, SourceOptions())
    assert b.columns == tuple(HEADER)
    assert _rows(b) == ROWS
    assert (b.encoding, b.delimiter) == ("utf-8", ",")
    assert b.rows_read == 2


def test_csv_utf8_bom(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbf" + _csv_text().encode("utf-8"))
    b = readers.read_csv(p, SourceOptions())
    assert b.columns[0] == "ID"  # the BOM is not part of the first column name
    assert _rows(b) == ROWS


def test_csv_cp1252_detected(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(_csv_text().encode("cp1252"))
    b = readers.read_csv(p, SourceOptions())
    assert b.encoding == "cp1252"
    assert _rows(b) == ROWS


def test_csv_cp1252_declared(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(_csv_text().encode("cp1252"))
    b = readers.read_csv(p, SourceOptions(encoding="cp1252"))
    assert _rows(b) == ROWS


def test_csv_wrong_declared_encoding(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(_csv_text().encode("cp1252"))
    with pytest.raises(InputError) as err:
        readers.read_csv(p, SourceOptions(encoding="utf-8"))
    msg = str(err.value)
    assert "\n" not in msg
    assert str(p) in msg and "not valid utf-8" in msg and "options.encoding" in msg
    assert "Zo" not in msg and "Nu" not in msg  # no cell content


def test_csv_unknown_encoding_name(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(_csv_text())
    with pytest.raises(InputError, match="not a known encoding"):
        readers.read_csv(p, SourceOptions(encoding="klingon"))


@pytest.mark.parametrize("delim", [";", "\t", "|"])
def test_csv_delimiter_sniffed(tmp_path: Path, delim: str) -> None:
    p = tmp_path / "a.csv"
    p.write_text(_csv_text(delim), encoding="utf-8")
    b = readers.read_csv(p, SourceOptions())
    assert b.delimiter == delim
    assert _rows(b) == ROWS


def test_csv_delimiter_declared(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(_csv_text(";"), encoding="utf-8")
    assert _rows(readers.read_csv(p, SourceOptions(delimiter=";"))) == ROWS


def test_csv_keeps_leading_zeros_and_text(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("ID,NHS,When\n007,0123456789,1e5\n", encoding="utf-8")
    assert _rows(readers.read_csv(p, SourceOptions())) == [["007", "0123456789", "1e5"]]


def test_csv_quoted_newline_and_skip_rows(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text('Exported by system X\nID,Address\n1,"1 High St\nHuyton"\n2,x\n', encoding="utf-8")
    b = readers.read_csv(p, SourceOptions(skip_rows=1))
    assert _rows(b) == [["1", "1 High St\nHuyton"], ["2", "x"]]


def test_csv_ragged_rows_kept_as_unreadable(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("ID,Name\n1,a\n2,b,EXTRA\n3\n4,d\n", encoding="utf-8")
    b = readers.read_csv(p, SourceOptions())
    assert b.rows_read == 4
    assert b.table.column("ID").to_pylist() == ["1", None, None, "4"]
    assert b.unreadable is not None
    assert b.unreadable.to_pylist() == [None, "2,b,EXTRA", "3", None]


def test_csv_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.csv"
    with pytest.raises(InputError) as err:
        readers.read_csv(p, SourceOptions())
    assert str(err.value).startswith(f"{p}: file not found")


@pytest.mark.parametrize("content", [b"", b"  \n\n", b"ID,Name\n"])
def test_csv_empty(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "e.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        readers.read_csv(p, SourceOptions())
    msg = str(err.value)
    assert str(p) in msg and ("empty" in msg or "no data rows" in msg)


def test_duplicate_header_names_made_unique(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("ID,Name,Name,\n1,a,b,c\n", encoding="utf-8")
    assert readers.read_csv(p, SourceOptions()).columns == ("ID", "Name", "Name.1", "column_4")


# --- Excel -----------------------------------------------------------------------------------


def _workbook(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws.append(["Note"])
    ws.append(["first sheet"])
    data = wb.create_sheet("Births")
    data.append(["ID", "Forename", "DOB", "NHS"])
    data.append([1, "Zoë", dt.datetime(2024, 2, 1), 9434765919])
    data.append(["A2", "José", "03/04/2023", "943 476 5919"])
    wb.save(path)
    return path


def test_excel_named_sheet_with_native_dates(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "b.xlsx")
    b = readers.read_excel(p, SourceOptions(sheet="Births"))
    assert b.columns == ("ID", "Forename", "DOB", "NHS")
    assert _rows(b) == [
        ["1", "Zoë", "2024-02-01", "9434765919"],
        ["A2", "José", "03/04/2023", "943 476 5919"],
    ]


def test_excel_first_sheet_by_default(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "b.xlsx")
    b = readers.read_excel(p, SourceOptions())
    assert b.columns == ("Note",)
    assert _rows(b) == [["first sheet"]]


def test_excel_missing_sheet_lists_sheets(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "b.xlsx")
    with pytest.raises(InputError) as err:
        readers.read_excel(p, SourceOptions(sheet="Birth"))
    msg = str(err.value)
    assert msg.startswith(
        f"{p}: the workbook has no sheet 'Birth'; its sheets are: 'Notes', 'Births'"
    )
    assert "\n" not in msg


def test_excel_unreadable_workbook(tmp_path: Path) -> None:
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(InputError) as err:
        readers.read_excel(p, SourceOptions())
    assert str(err.value).startswith(f"{p}: cannot read the workbook")


# --- Parquet ---------------------------------------------------------------------------------


def test_parquet_typed_columns_become_text(tmp_path: Path) -> None:
    p = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "ID": pa.array([1, 2], pa.int64()),
                "DOB": pa.array([dt.date(2024, 2, 1), None], pa.date32()),
                "NHS": pa.array([9434765919.0, None], pa.float64()),
                "Name": pa.array(["Zoë", None], pa.string()),
                "Seen": pa.array([dt.datetime(2024, 5, 6, 10, 30), None], pa.timestamp("us")),
            }
        ),
        p,
    )
    b = readers.read_parquet(p, SourceOptions())
    assert _rows(b) == [
        ["1", "2024-02-01", "9434765919", "Zoë", "2024-05-06 10:30:00"],
        ["2", "", "", "", ""],
    ]


def test_parquet_not_parquet(tmp_path: Path) -> None:
    p = tmp_path / "a.parquet"
    p.write_text("ID\n1\n")
    with pytest.raises(InputError, match="cannot read the Parquet file"):
        readers.read_parquet(p, SourceOptions())


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite(path: Path) -> str:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE births (id TEXT, forename TEXT, dob DATE, nhs INTEGER)")
    con.executemany(
        "INSERT INTO births VALUES (?, ?, ?, ?)",
        [("1", "Zoë", "2024-02-01", 9434765919), ("2", "José", None, None)],
    )
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_sqlite_table(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "x.db")
    b = readers.read_database(url, SourceOptions(table="births"))
    assert b.columns == ("id", "forename", "dob", "nhs")
    assert _rows(b) == [["1", "Zoë", "2024-02-01", "9434765919"], ["2", "José", "", ""]]


def test_sqlite_query_and_fingerprint(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "x.db")
    opts = SourceOptions(query="SELECT id, forename FROM births ORDER BY id")
    q = readers.read_database(url, opts)
    assert _rows(q) == [["1", "Zoë"], ["2", "José"]]
    again = readers.read_database(url, opts)
    assert again.batch_id == q.batch_id
    other = readers.read_database(url, SourceOptions(query="SELECT id FROM births"))
    assert other.batch_id != q.batch_id


def test_sqlite_missing_table_lists_tables(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "x.db")
    with pytest.raises(InputError) as err:
        readers.read_database(url, SourceOptions(table="birth"))
    assert "no table 'birth'; tables are: births" in str(err.value)


def test_database_bad_query_names_no_values(tmp_path: Path) -> None:
    url = _sqlite(tmp_path / "x.db")
    with pytest.raises(InputError, match="the database refused the read"):
        readers.read_database(url, SourceOptions(query="SELECT nope FROM births"))


def test_database_url_password_hidden(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        readers.read_database("postgresql://me:s3cret@127.0.0.1:1/db", SourceOptions(table="t"))
    assert "s3cret" not in str(err.value)
