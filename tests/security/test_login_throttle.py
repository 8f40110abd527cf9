"""The login back-offs over real HTTP: a forged X-Forwarded-For never resets them, and one
noisy address never locks a user out from another one (issue 15).

Each test serves the fixture's outputs with its own users file, so the buckets start empty."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from httpx import Response
from pydantic import ValidationError

from everyfamily.config import WebSettings
from everyfamily.errors import ConfigError
from everyfamily.web import create_app
from everyfamily.web.auth import (
    ATTEMPTS_PER_WINDOW,
    MAX_FAILURES,
    UserStore,
    client_address,
    parse_proxies,
)
from web import loopback
from web.conftest import running
from web.fixture_outputs import build_fixture

from .conftest import PASSWORD, Client

Serve = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("throttle") / "out").out_dir


@pytest.fixture
def serve(out_dir: Path, tmp_path: Path) -> Iterator[Serve]:
    store = UserStore(tmp_path / "users.sqlite")
    store.add("admin", PASSWORD, "admin")

    def start(trusted_proxies: tuple[str, ...] | None = ()) -> AbstractContextManager[str]:
        return running(create_app(out_dir, users=store, trusted_proxies=trusted_proxies))

    yield start


def _login(base: str, user: str, password: str, forwarded_for: str | None = None) -> Response:
    """One login through the form, from a fresh browser (its own CSRF cookie)."""
    c = Client(base, {})
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert m
    headers = c._headers()
    if forwarded_for is not None:
        headers["x-forwarded-for"] = forwarded_for
    return loopback.post(
        base + "/login",
        data={"csrf": m.group(1), "username": user, "password": password},
        headers=headers,
    )


def test_forged_forwarded_for_does_not_reset_the_address_limit(serve: Serve) -> None:
    with serve() as base:  # no trusted proxy (the default)
        for i in range(ATTEMPTS_PER_WINDOW):
            r = _login(base, f"guess{i}", "wrong", forwarded_for=f"203.0.113.{i}")
            assert r.status_code == 401 and "login failed" in r.text
        # the 11th, with yet another forged address and the right password: refused,
        # because the address counted is the TCP peer, not the header
        r = _login(base, "admin", PASSWORD, forwarded_for="198.51.100.250")
        assert r.status_code == 401 and "too many login attempts" in r.text


def test_one_noisy_address_does_not_lock_the_user_out_from_another(
    serve: Serve, out_dir: Path
) -> None:
    # behind a trusted proxy (the loopback peer, named by the run's web.trusted_proxies
    # setting), X-Forwarded-For names the client
    run_file = out_dir / "run.json"
    run = json.loads(run_file.read_text(encoding="utf-8"))
    run["settings"]["web"] = {"trusted_proxies": ["127.0.0.0/8"]}
    run_file.write_text(json.dumps(run), encoding="utf-8")
    with serve(trusted_proxies=None) as base:
        noisy, real = "203.0.113.66", "198.51.100.7"
        answers = [_login(base, "admin", "wrong guess", forwarded_for=noisy).text
                   for _ in range(MAX_FAILURES + 6)]  # fmt: skip
        assert all("login failed" in a for a in answers[:MAX_FAILURES])
        # the noisy address is held back (each counted failure doubles its wait) ...
        assert any("too many login attempts" in a for a in answers[MAX_FAILURES:])
        # ... while the real user, from her own address, logs in at once
        assert _login(base, "admin", PASSWORD, forwarded_for=real).status_code == 303


def test_client_address_trusts_the_header_only_from_configured_proxies() -> None:
    proxies = parse_proxies(["10.0.0.0/24", "::1"])
    # no proxy configured, or a peer that is not one: the header is ignored
    assert client_address("10.0.0.5", "203.0.113.1") == "10.0.0.5"
    assert client_address("192.0.2.1", "203.0.113.1", proxies) == "192.0.2.1"
    # through trusted proxies: the rightmost address that is not a proxy
    assert client_address("10.0.0.5", "198.51.100.9, 203.0.113.1", proxies) == "203.0.113.1"
    assert client_address("::1", "203.0.113.1, 10.0.0.7", proxies) == "203.0.113.1"
    # a malformed hop counts as the proxy itself, never as a free new address
    assert client_address("10.0.0.5", "not-an-address", proxies) == "10.0.0.5"
    with pytest.raises(ConfigError, match="not an IP address"):
        parse_proxies(["proxy.example"])
    with pytest.raises(ValidationError, match="not an IP address or network"):
        WebSettings(trusted_proxies=["10.0.0.0/33"])
