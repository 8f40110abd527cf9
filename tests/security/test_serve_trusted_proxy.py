"""``everyfamily serve --trusted-proxy ADDR`` (issue 15): the command line form of
``web.trusted_proxies``, over real HTTP against the real command (uvicorn in a child process).
From an untrusted peer a forged X-Forwarded-For is ignored (it cannot reset the login limit);
from a trusted one it names the client (a noisy client does not lock out another)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from httpx import Response

from everyfamily.web.auth import ATTEMPTS_PER_WINDOW, MAX_FAILURES, UserStore
from web import loopback
from web.conftest import free_port
from web.fixture_outputs import build_fixture

from .conftest import PASSWORD, Client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("proxy") / "out").out_dir


@contextmanager
def cli_serve(out_dir: Path, users: Path, *args: str) -> Iterator[str]:
    """``everyfamily serve`` as a user runs it; yields the base URL once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "everyfamily", "serve", str(out_dir), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--users-file", str(users), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if loopback.get(base + "/login").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"serve did not start: {proc.stderr.read() if proc.stderr else ''}"
                )
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _login(base: str, user: str, password: str, forwarded_for: str) -> Response:
    c = Client(base, {})
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert m
    headers = {**c._headers(), "x-forwarded-for": forwarded_for}
    return loopback.post(
        base + "/login",
        data={"csrf": m.group(1), "username": user, "password": password},
        headers=headers,
    )


def _users(tmp_path: Path) -> Path:
    path = tmp_path / "users.sqlite"
    UserStore(path).add("admin", PASSWORD, "admin")
    return path


def test_without_trusted_proxy_a_forged_header_is_ignored(out_dir: Path, tmp_path: Path) -> None:
    with cli_serve(out_dir, _users(tmp_path)) as base:
        for i in range(ATTEMPTS_PER_WINDOW):
            r = _login(base, f"guess{i}", "wrong", forwarded_for=f"203.0.113.{i}")
            assert r.status_code == 401 and "login failed" in r.text
        # every attempt counted against the TCP peer: a new forged address changes nothing
        r = _login(base, "admin", PASSWORD, forwarded_for="198.51.100.250")
        assert r.status_code == 401 and "too many login attempts" in r.text


def test_trusted_proxy_flag_makes_the_header_name_the_client(out_dir: Path, tmp_path: Path) -> None:
    # the test client (127.0.0.1) stands for the proxy; the run's settings trust none
    with cli_serve(out_dir, _users(tmp_path), "--trusted-proxy", "127.0.0.1") as base:
        noisy, real = "203.0.113.66", "198.51.100.7"
        answers = [
            _login(base, "admin", "wrong guess", noisy).text for _ in range(MAX_FAILURES + 6)
        ]
        assert any("too many login attempts" in a for a in answers[MAX_FAILURES:])
        # the real user, from her own address behind the same proxy, logs in at once
        assert _login(base, "admin", PASSWORD, real).status_code == 303


def test_a_bad_trusted_proxy_is_a_one_line_error(out_dir: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "everyfamily",
            "serve",
            str(out_dir),
            "--trusted-proxy",
            "proxy.lan",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0
    assert "--trusted-proxy 'proxy.lan': not an IP address or network" in r.stderr
    assert "Traceback" not in r.stderr
