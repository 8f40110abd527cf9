"""The README's `users add` example works as written (with the password from stdin), and
scripts/demo honours EVERYFAMILY_PORT and says how to pick another port when it is busy."""

from __future__ import annotations

import io
import os
import re
import shlex
import socket
import subprocess
from pathlib import Path

import pytest

from everyfamily.web.auth import UserStore

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def test_readme_users_add_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from everyfamily.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"`\.venv/bin/everyfamily (users add [^`]+)`", readme)
    assert m, "the README has no `everyfamily users add` example"
    args = shlex.split(m.group(1))
    assert args[:2] == ["users", "add"] and args[2] == "results/"
    out = tmp_path / "results"
    out.mkdir()
    # a finished run's released table names the areas the example gives
    (out / "reach.csv").write_text(
        "level,area_code,area_name,dimension\nward,E05010942,Page Moss,all\n", encoding="utf-8"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main([*args[:2], str(out), *args[3:], "--password-stdin"]) == 0, capsys.readouterr()
    user = UserStore(out / "users.sqlite").get(args[3])
    assert user.role == "outreach_worker" and user.areas == ("E05010942",)


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "demo"), "/nonexistent/never-written"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_demo_script_refuses_a_busy_port_before_the_run_and_names_another() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = _demo({"EVERYFAMILY_PORT": str(port)})
    assert r.returncode == 2
    assert f"port {port} is busy" in r.stderr
    assert f"EVERYFAMILY_PORT={port + 1} scripts/demo" in r.stderr
    assert not Path("/nonexistent/never-written").exists()


def test_demo_script_refuses_a_port_that_is_not_a_number() -> None:
    r = _demo({"EVERYFAMILY_PORT": "eighty"})
    assert r.returncode == 2 and "is not a port number" in r.stderr
