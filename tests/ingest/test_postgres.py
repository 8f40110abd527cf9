"""The database reader against a real, throwaway PostgreSQL server started by the fixture.

The fixture runs initdb and pg_ctl (from PATH or /usr/lib/postgresql/*/bin) on a free loopback
port in a temporary folder, and stops the server at teardown. PostgreSQL refuses to run as
root, so as root the server runs as an unprivileged system user (created if missing).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from everyfamily.config import Project, SourceOptions
from everyfamily.engines import open_engine
from everyfamily.errors import InputError
from everyfamily.ingest.readers import read_database
from everyfamily.ingest.stage import ingest_project

from .conftest import source_dict

pytestmark = pytest.mark.postgres
PG_USER = "everyfamily-pg"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL (initdb, pg_ctl) is not installed: run scripts/services")
    prefix: list[str] = []
    root = tempfile.mkdtemp(prefix="ef-pg-")
    if os.geteuid() == 0:
        if subprocess.run(["id", "-u", PG_USER], capture_output=True).returncode != 0:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    PG_USER,
                ],
                check=True,
                capture_output=True,
            )
        shutil.chown(root, user=PG_USER)
        prefix = ["runuser", "-u", PG_USER, "--"]
    data, sock = Path(root) / "data", Path(root)
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(Path(root) / "log.txt"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as con:
            con.execute("CREATE DATABASE council")
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=council", autocommit=True
        ) as con:
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
        yield f"postgresql://postgres@127.0.0.1:{port}/council"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


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
        source_dict(
            None,
            name="registrations",
            role="registrations",
            url=postgres_url,
            options={"query": "SELECT * FROM cc.registrations ORDER BY reg_id"},
            columns={
                "record_id": "reg_id",
                "first_name": "forename",
                "last_name": "surname",
                "date_of_birth": "dob",
                "nhs_number": "nhs",
                "site": "centre",
                "event_date": "registered",
            },
            date_formats={},
            value_maps={"site": {"Southmead": "S01", "Halewood": "S02"}},
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
