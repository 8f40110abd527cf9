"""`everyfamily serve DIR` starts the dashboard and prints its address."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from everyfamily.cli import main

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
        assert httpx.get(f"http://127.0.0.1:{port}/outreach").status_code == 403
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
