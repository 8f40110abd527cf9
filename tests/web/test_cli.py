"""`everyfamily serve DIR` starts the dashboard and prints its address."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from everyfamily.cli import main

from . import loopback
from .conftest import free_port
from .fixture_outputs import Fixture

EXE = Path(sys.executable).parent / "everyfamily"


def test_serve_prints_the_address_and_serves(fixture_outputs: Fixture) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(EXE), "serve", str(fixture_outputs.out_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line and "role: viewer" in line
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert r.json() == {"status": "ok"}
        assert loopback.get(f"http://127.0.0.1:{port}/outreach").status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_refuses_an_unknown_role(fixture_outputs: Fixture, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["serve", str(fixture_outputs.out_dir), "--role", "root"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown role 'root'" in err[0]


def test_serve_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["serve", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "run.json" in err and "\n" not in err


def test_serve_stops_at_start_without_the_key(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The stores are encrypted: a key that cannot be loaded stops serve at once, with the
    loader's one line (exit code 2), before anything listens."""
    from .fixture_outputs import build_fixture

    out = build_fixture(tmp_path / "out").out_dir
    key = out / "secrets" / "pseudonymisation.key"
    key.unlink()
    code = main(["serve", str(out), "--port", str(free_port())])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(key) in err and "cannot be read" in err
    # a wrong key is refused the same way, and never echoed
    key.write_text("another-key-of-enough-length-0123456789abcdef", encoding="utf-8")
    code = main(["serve", str(out), "--port", str(free_port())])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "cannot open the encrypted store" in err
    assert "another-key" not in err


def test_an_audit_only_users_store_keeps_local_mode(fixture_outputs: Fixture, capsys) -> None:  # type: ignore[no-untyped-def]
    """`everyfamily extract` creates the users store for its audit log; with no users in it,
    serve stays in local single-user mode (it gets as far as binding the port) and only a
    store with users makes login required."""
    import socket

    from everyfamily.web.auth import USERS_FILE, UserStore

    out = fixture_outputs.out_dir
    path = out / USERS_FILE
    assert not path.exists()
    try:
        UserStore(path).audit("cli", "extract", "not_reached: 3 rows to nr.csv", "a purpose")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            port = busy.getsockname()[1]
            code = main(["serve", str(out), "--role", "analyst", "--port", str(port)])
        assert code == 2 and "cannot listen there" in capsys.readouterr().err
        UserStore(path).add("amy.admin", "a long enough passphrase", "admin")
        assert main(["serve", str(out), "--role", "analyst", "--port", str(port)]) == 2
        assert "login is required" in capsys.readouterr().err
    finally:
        path.unlink(missing_ok=True)
