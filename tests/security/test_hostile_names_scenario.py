"""A hostile-names scenario (issue 15, "Must show"): the synthetic Knowsley extracts with
children's and parents' names, addresses and a centre's name that start with = + - @, tab or
carriage return, run through the whole pipeline. Every CSV the run writes has every text cell
neutralised; every export path (``everyfamily extract`` of the person-level tables, the
dashboard's outreach list with names and its other tables, as CSV and Excel) gives Excel files
with no formula cell and CSV files whose cells are all neutralised (OWASP, "CSV Injection";
``everyfamily.spreadsheet_safe``)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from everyfamily.spreadsheet_safe import FORMULA_STARTS
from everyfamily.web import create_app
from everyfamily.web.auth import UserStore
from web.conftest import running

from .conftest import PASSWORD, Client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hostile_run(knowsley_small_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shared quarter-size run (tests/conftest.py ``knowsley_small_run``: the
    command line on the small scenario), poisoned before it ran (tests/small_world.py
    ``plant_hostile``): every fifth record of thousands carries a hostile prefix into every
    table and export the test reads. A copy, because the dashboard may write beside a run."""
    out = tmp_path_factory.mktemp("hostile") / "out"
    shutil.copytree(knowsley_small_run, out)
    return out


def _csv_ok(text: str, where: str) -> int:
    """Every cell of a CSV text is neutralised: a cell starting like a formula is a number
    (a negative count or rate) or starts with the quote spreadsheet_safe adds. Returns how
    many cells were neutralised text."""
    quoted = 0
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
                quoted += 1
            elif cell.startswith(FORMULA_STARTS):
                try:
                    float(cell)
                except ValueError:
                    pytest.fail(f"{where}: a live formula-like cell")
    return quoted


def _xlsx_ok(content: bytes, where: str) -> int:
    """No formula cell in any sheet; returns how many text cells were neutralised."""
    wb = load_workbook(io.BytesIO(content))
    quoted = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {ws.title}!{cell.coordinate} is a formula"
                v = cell.value
                if isinstance(v, str) and v.startswith("'") and v[1:].startswith(FORMULA_STARTS):
                    quoted += 1
    return quoted


def test_every_csv_the_run_writes_is_neutralised(hostile_run: Path) -> None:
    files = sorted(hostile_run.rglob("*.csv"))
    assert any(p.name == "reach.csv" for p in files)
    for path in files:
        _csv_ok(path.read_text(encoding="utf-8-sig"), str(path.relative_to(hostile_run)))


def test_extracts_of_person_level_tables_are_neutralised(hostile_run: Path, tmp_path: Path) -> None:
    from everyfamily.privacy.extract import extract_table

    class Audit:
        def audit(self, *args: object) -> None:  # the CLI writes the users store's log
            pass

    texts = []
    for table in ("quarantine", "clerical_review", "not_reached"):
        to = tmp_path / f"{table}.csv"
        extract_table(hostile_run, table, to, purpose="formula test", audit=Audit(), who="t")
        texts.append(to.read_text(encoding="utf-8-sig"))
        _csv_ok(texts[-1], table)
    # the hostile values did reach these files (quarantine keeps the raw rows), harmless
    assert "HYPERLINK" in texts[0]


def test_dashboard_exports_with_names_have_no_formula(hostile_run: Path, tmp_path: Path) -> None:
    """The outreach list with names (an outreach worker for every area) and every other
    table the dashboard exports, as CSV and Excel."""
    reach = pd.read_csv(hostile_run / "reach.csv", dtype={"area_code": str})
    areas = tuple(sorted(set(reach.loc[reach["level"] == "lsoa", "area_code"])))
    store = UserStore(tmp_path / "users.sqlite")
    store.add("worker", PASSWORD, "outreach_worker", areas)
    store.add("boss", PASSWORD, "admin")
    quoted = 0
    with running(create_app(hostile_run, users=store)) as base:
        c = Client(base, {})
        c.login("worker")
        c.state_purpose("formula injection test")
        for fmt in ("csv", "xlsx"):
            r = c.get(f"/export/outreach.{fmt}")
            assert r.status_code == 200, fmt
            if fmt == "csv":
                quoted += _csv_ok(r.content.decode("utf-8-sig"), "outreach.csv")
            else:
                quoted += _xlsx_ok(r.content, "outreach.xlsx")
        assert quoted > 0  # the hostile names are in the list, neutralised
        admin = Client(base, {})
        admin.login("boss")
        site = str(reach.loc[reach["service"] != "any", "service"].iloc[0])
        names = (*AGGREGATE_TABLES, f"centres/{site}/areas")
        centre_quoted = 0
        for name in names:
            for fmt in ("csv", "xlsx"):
                r = admin.get(f"/export/{name}.{fmt}")
                assert r.status_code == 200, (name, fmt)
                if fmt == "csv":
                    n = _csv_ok(r.content.decode("utf-8-sig"), name)
                else:
                    n = _xlsx_ok(r.content, name)
                centre_quoted += n if name == "centres" else 0
        assert centre_quoted > 0  # the hostile centre name, neutralised


#: The dashboard's aggregate tables an admin may export (web/service.Dashboard.table).
AGGREGATE_TABLES = (
    "findings",
    "centres",
    "completeness",
    "reconciliation",
    "quarantine",
    "flags",
    "linkage",
    "map",
)
