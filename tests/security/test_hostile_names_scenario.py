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
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from everyfamily.spreadsheet_safe import FORMULA_STARTS
from everyfamily.web import create_app
from everyfamily.web.auth import UserStore
from web.conftest import running

from .conftest import PASSWORD, Client

pytestmark = pytest.mark.slow

#: Synthetic hostile prefixes, as a council system might let them through.
HOSTILE = ('=HYPERLINK("http://example.invalid","x")&', "+", "-", "@", "\t=", "\r=")
#: The registrations extract's identifying columns (semicolon-separated, UTF-8 with BOM).
REG_COLUMNS = ("Child First Name", "Child Last Name", "Address", "Parent First Name")
#: The births extract's (comma-separated).
BIRTH_COLUMNS = ("Baby Surname", "Mother Forename", "Mother Surname", "Address Line 1")


def _poison(
    path: Path, sep: str, columns: tuple[str, ...], encoding: str, dob: str | None = None
) -> None:
    """Hostile prefixes on every fifth record's ``columns``; with ``dob``, every hundredth
    record also gets an impossible date of birth, so its raw row (names and all) goes to
    quarantine, which `everyfamily extract` may write out."""
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding)
    for i in range(0, len(frame), 5):  # every fifth record
        for j, col in enumerate(columns):
            if frame.at[i, col]:
                frame.at[i, col] = HOSTILE[(i + j) % len(HOSTILE)] + frame.at[i, col]
        if dob is not None and i % 100 == 0:
            frame.at[i, dob] = "2021-02-31"
    frame.to_csv(path, sep=sep, index=False, encoding=encoding, quoting=csv.QUOTE_MINIMAL)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory, knowsley_small_scenario: Any) -> Path:
    """The quarter-size world (tests/conftest.py), poisoned: every fifth record of thousands
    still carries a hostile prefix into every table and export the test reads."""
    from everyfamily.config import load_project
    from everyfamily.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("hostile")
    small = knowsley_small_scenario
    folder = root / "scenario"
    shutil.copytree(small.out_dir, folder)
    project_file = folder / small.project_file.relative_to(small.out_dir)
    _poison(folder / "extracts/centre_registrations.csv", ";", REG_COLUMNS, "utf-8-sig", "DOB")
    _poison(folder / "extracts/births_notifications.csv", ",", BIRTH_COLUMNS, "cp1252")
    sites = pd.read_csv(folder / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[0, "name"] = "=cmd|' /C calc'!A0 " + sites.loc[0, "name"]  # a centre's name
    sites.to_csv(folder / "sites.csv", index=False)
    out = root / "out"
    run_pipeline(load_project(project_file), out_dir=out, echo=lambda _m: None, seed=1)
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
