"""Formula (CSV) injection: text a council system let through as '=...' never reaches an
analyst's spreadsheet as a live formula, on any export path (OWASP, "CSV Injection")."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from everyfamily.spreadsheet_safe import (
    FORMULA_STARTS,
    neutralise,
    neutralise_frame,
    neutralise_table,
)
from everyfamily.web.exports import table_csv, table_xlsx
from everyfamily.web.service import Column, Table

#: Synthetic hostile values, as a name, an address or a site name could arrive.
HOSTILE = [
    '=HYPERLINK("http://example.invalid","click")',
    "+44 151 000 0000",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]
SAFE = ["Ann", "O'Brien", "12 High Street", "a=b", ""]


def _table() -> Table:
    rows = tuple({"name": v, "address": v, "site": v, "n": i} for i, v in enumerate(HOSTILE + SAFE))
    cols = (
        Column("name", "=Name"),
        Column("address", "Address"),
        Column("site", "Site"),
        Column("n", "Children", "count"),
    )
    return Table(id="outreach", title="=title", columns=cols, rows=rows, note="@note")


def _is_neutral(text: str) -> bool:
    return not text.startswith(FORMULA_STARTS)


def test_neutralise_quotes_only_text_that_would_run() -> None:
    assert [neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [neutralise(v) for v in SAFE] == SAFE
    assert neutralise(-5) == -5 and neutralise(None) is None
    t = neutralise_table(pa.table({"a": [*HOSTILE, *SAFE, None], "n": list(range(13))}))
    assert t.column("a").to_pylist() == ["'" + v for v in HOSTILE] + SAFE + [None]
    assert t.column("n").to_pylist() == list(range(13))


def test_dashboard_csv_export_has_every_cell_neutralised() -> None:
    rows = list(csv.reader(io.StringIO(table_csv(_table()).decode("utf-8"), newline="")))
    cells = [c for r in rows for c in r]
    assert all(_is_neutral(c) for c in cells)
    assert rows[1][0] == "'" + HOSTILE[0]  # shown as text, content kept


def test_dashboard_excel_export_has_no_formula_cell() -> None:
    data = table_xlsx(_table(), about=["=about"])
    wb = load_workbook(io.BytesIO(data))
    n_text = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    n_text += 1
                    assert _is_neutral(cell.value)
    assert n_text > len(HOSTILE) * 3
    assert wb["outreach"]["A2"].value == "'" + HOSTILE[0]


def test_frames_written_with_pandas_are_neutralised() -> None:
    import pandas as pd

    frame = pd.DataFrame({"group": HOSTILE, "n": range(len(HOSTILE))})
    out = neutralise_frame(frame)
    assert all(_is_neutral(v) for v in out["group"])
    assert out["n"].tolist() == list(range(len(HOSTILE)))
    assert frame["group"].tolist() == HOSTILE  # the input is not changed


def test_extract_files_are_neutralised_and_owner_only(tmp_path: Path) -> None:
    from everyfamily.privacy.extract import extract_table
    from everyfamily.stores import ANALYSIS, open_stores
    from everyfamily.web.auth import UserStore
    from privacy.test_stores import _fill, _privacy

    out = tmp_path / "out"
    privacy = _privacy(tmp_path)
    _fill(out, privacy)
    engine = open_stores(out, privacy)
    try:
        with engine.zone(ANALYSIS):
            engine.write_table(
                "children",
                pa.table({"person_id": [f"P-{i}" for i in range(len(HOSTILE))], "note": HOSTILE}),
            )
    finally:
        engine.close()
    audit = UserStore(out / "users.sqlite")
    for name in ("children.csv", "children.parquet"):
        to = tmp_path / name
        n = extract_table(
            out, "children", to, purpose="formula injection test", audit=audit, who="a"
        )
        assert n == len(HOSTILE)
        assert stat.S_IMODE(to.stat().st_mode) == 0o600
    text = (tmp_path / "children.csv").read_text(encoding="utf-8")
    cells = [c for r in csv.reader(io.StringIO(text, newline="")) for c in r]
    assert all(_is_neutral(c) for c in cells) and "'" + HOSTILE[0] in cells


@pytest.mark.parametrize("value", HOSTILE)
def test_each_hostile_value_is_caught(value: str) -> None:
    assert _is_neutral(neutralise(value))
