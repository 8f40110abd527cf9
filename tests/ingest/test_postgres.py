"""The database reader against a real, throwaway PostgreSQL server (the shared
``postgres_server`` fixture, tests/postgres_server.py), and ingest into a PostgreSQL store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from everyfamily.config import Project, SourceOptions
from everyfamily.engines import open_engine
from everyfamily.errors import InputError
from everyfamily.ingest.readers import read_database
from everyfamily.ingest.stage import ingest_project
from postgres_server import PostgresServer

from .conftest import source_dict

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    import psycopg

    name = postgres_server.create_database("council")
    with psycopg.connect(postgres_server.dsn(name), autocommit=True) as con:
        con.execute("CREATE SCHEMA cc")
        con.execute(
            "CREATE TABLE cc.registrations (reg_id text, forename text, "
            "surname text, dob date, nhs bigint, centre text, registered timestamp)"
        )
        con.execute(
            "INSERT INTO cc.registrations VALUES "
            "('R1', 'Zoë', 'Nuñez', '2024-02-01', 9434765919, 'Southmead', "
            "'2024-05-06 10:30'), "
            "('R2', 'Bo', 'Li', NULL, NULL, 'Southmead', NULL), "
            "('R3', 'Łucja', 'Nowak', '2023-07-09', 9434765918, 'Halewood', "
            "'2024-01-02 00:00')"
        )
    yield postgres_server.url(name)


def _registrations(url: str, **columns: str) -> dict[str, Any]:
    """The council's registrations table as a database source with these column maps."""
    return source_dict(
        None,
        name="registrations",
        role="registrations",
        url=url,
        options={"query": "SELECT * FROM cc.registrations ORDER BY reg_id"},
        columns={"record_id": "reg_id", **columns},
        date_formats={},
        value_maps={"site": {"Southmead": "S01", "Halewood": "S02"}},
    )


def test_postgres_table(postgres_url: str) -> None:
    b = read_database(postgres_url, SourceOptions(table="cc.registrations"))
    assert b.columns == ("reg_id", "forename", "surname", "dob", "nhs", "centre", "registered")
    rows = sorted(list(r.values()) for r in b.table.to_pylist())
    assert rows[0] == [
        "R1",
        "Zoë",
        "Nuñez",
        "2024-02-01",
        "9434765919",
        "Southmead",
        "2024-05-06 10:30:00",
    ]
    assert rows[1] == ["R2", "Bo", "Li", "", "", "Southmead", ""]
    assert rows[2][3] == "2023-07-09" and rows[2][6] == "2024-01-02"


def test_postgres_query_fingerprint_is_stable(postgres_url: str) -> None:
    q = "SELECT reg_id, forename FROM cc.registrations ORDER BY reg_id"
    a = read_database(postgres_url, SourceOptions(query=q))
    b = read_database(postgres_url, SourceOptions(query=q))
    assert a.batch_id == b.batch_id
    assert [r["reg_id"] for r in a.table.to_pylist()] == ["R1", "R2", "R3"]


def test_postgres_missing_table(postgres_url: str) -> None:
    with pytest.raises(InputError, match=r"no table 'cc\.nope'; tables are: registrations"):
        read_database(postgres_url, SourceOptions(table="cc.nope"))


def test_postgres_ingest_end_to_end(
    postgres_url: str, tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    project = make_project(
        _registrations(
            postgres_url,
            first_name="forename",
            last_name="surname",
            date_of_birth="dob",
            nhs_number="nhs",
            site="centre",
            event_date="registered",
        )
    )
    engine = open_engine("duckdb", path=tmp_path / "s.duckdb")
    reports = ingest_project(project, engine, echo=lambda _m: None)
    o = reports[0].outcome
    assert (o.rows_read, o.rows_loaded, o.rows_quarantined) == (3, 2, 1)
    recs = {r["record_id"]: r for r in engine.query("SELECT * FROM records").to_pylist()}
    assert recs["R1"]["site"] == "S01" and str(recs["R1"]["event_date"]) == "2024-05-06"
    assert recs["R1"]["service_type"] == "targeted" and recs["R1"]["nhs_number_valid"] is True
    assert recs["R3"]["flags"] == ["nhs_number_invalid"]
    assert recs["R3"]["first_name_match"] == "LUCJA"
    q = engine.query("SELECT record_id, reasons FROM quarantine").to_pylist()
    assert q == [{"record_id": "R2", "reasons": ["missing_date_of_birth"]}]
    again = ingest_project(project, engine, echo=lambda _m: None)
    assert again[0].outcome.status == "already_loaded"
    engine.close()


def test_postgres_ingest_into_a_postgres_store(
    postgres_url: str,
    postgres_server: PostgresServer,
    make_project: Callable[..., Project],
) -> None:
    """The same ingest, with the store itself on PostgreSQL (zones as schemas)."""
    project = make_project(
        _registrations(
            postgres_url,
            first_name="forename",
            date_of_birth="dob",
            nhs_number="nhs",
            site="centre",
        )
    )
    engine = open_engine("postgres", dsn=postgres_server.dsn(postgres_server.create_database()))
    with engine.zone("identifiable"):
        reports = ingest_project(project, engine, echo=lambda _m: None)
    o = reports[0].outcome
    assert (o.rows_read, o.rows_loaded, o.rows_quarantined) == (3, 2, 1)
    assert engine.tables("identifiable") == ["ingest_batches", "quarantine", "records"]
    assert engine.tables("analysis") == []
    recs = {r["record_id"]: r for r in engine.query("SELECT * FROM records").to_pylist()}
    assert recs["R1"]["site"] == "S01" and recs["R3"]["flags"] == ["nhs_number_invalid"]
    again = ingest_project(project, engine, echo=lambda _m: None)
    assert again[0].outcome.status == "already_loaded"
    engine.close()
