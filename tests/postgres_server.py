"""A throwaway PostgreSQL server for the tests (a pytest plugin listed in conftest.py).

``postgres_server`` (one per test session) runs initdb and pg_ctl (from PATH or
/usr/lib/postgresql/*/bin) on a free loopback port in a temporary folder, and stops the
server at teardown; ``postgres_dsn`` gives each test a fresh, empty database on it.
PostgreSQL refuses to run as root, so as root the server runs as an unprivileged system user
(created if missing). Missing binaries FAIL the test (never a silent skip): run
scripts/services, which installs them.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "everyfamily-pg"
_COUNTER = itertools.count()


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


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: trust authentication as ``postgres`` on 127.0.0.1."""

    port: int
    data_dir: Path

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its name."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(_COUNTER)}"
        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return name


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed: run scripts/services",
            pytrace=False,
        )
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
    init = [*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    subprocess.run([*init, "--no-locale"], check=True, capture_output=True)
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(Path(root) / "log.txt")
    start = [*prefix, pg_ctl, "-D", str(data), "-l", log, "-w", "-t", "60", "-o", options, "start"]
    subprocess.run(start, check=True, capture_output=True)
    try:
        yield PostgresServer(port=port, data_dir=data)
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """A libpq connection string to a fresh, empty database on the session's server."""
    return postgres_server.dsn(postgres_server.create_database())
