"""The login form's double-submit cookie is signed with the install's secret (issue 15): a
cookie/token pair made by anyone else (a planted cookie, another install's, a tampered or
stale one) is refused, over real HTTP."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from everyfamily.web.auth import (
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_SECONDS,
    UserStore,
    login_csrf_pair,
    login_csrf_valid,
)
from web import loopback

from .conftest import PASSWORD, Client


def _post(base: str, cookie: str, token: str) -> httpx.Response:
    return loopback.post(
        base + "/login",
        data={"csrf": token, "username": "admin", "password": PASSWORD},
        headers={"cookie": f"{LOGIN_CSRF_COOKIE}={cookie}"},
    )


def test_a_forged_login_cookie_and_token_pair_is_refused(
    secured: tuple[str, UserStore, Path], client: Callable[[], Client]
) -> None:
    base, store = secured[0], secured[1]
    # an attacker who can plant a cookie picks both halves: the unsigned pattern took it
    r = _post(base, "attacker-chosen-token", "attacker-chosen-token")
    assert r.status_code == 403 and "the form has expired" in r.text
    # a pair signed with another install's secret
    token, cookie = login_csrf_pair(os.urandom(32))
    assert _post(base, cookie, token).status_code == 403
    # a genuine cookie with its token swapped for the attacker's (signature no longer fits)
    c = Client(base, {})
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert m
    genuine = c.cookies[LOGIN_CSRF_COOKIE]
    nonce, issued, sig = genuine.split(".")
    assert nonce == m.group(1) and sig not in m.group(1)  # the form never shows the signature
    assert _post(base, f"evil.{issued}.{sig}", "evil").status_code == 403
    assert _post(base, f"{nonce}.{int(issued) + 999}.{sig}", nonce).status_code == 403
    assert _post(base, genuine, "something else").status_code == 403
    # the genuine pair logs in, and no forged attempt reached the password check
    assert _post(base, genuine, nonce).status_code == 303
    assert not [a for a in store.audit_rows() if a["action"] == "login_failed"]


def test_signed_pair_expires_and_the_secret_is_per_install(tmp_path: Path) -> None:
    one = UserStore(tmp_path / "a" / "users.sqlite")
    assert one.install_secret() == UserStore(one.path).install_secret()  # every worker
    other = UserStore(tmp_path / "b" / "users.sqlite").install_secret()
    assert len(other) == 32 and other != one.install_secret()
    secret = one.install_secret()
    token, cookie = login_csrf_pair(secret, now=1_000_000)
    assert login_csrf_valid(secret, cookie, token, now=1_000_000 + LOGIN_CSRF_SECONDS)
    assert not login_csrf_valid(secret, cookie, token, now=1_000_000 + LOGIN_CSRF_SECONDS + 1)
    assert not login_csrf_valid(secret, cookie, token, now=1_000_000 - 1)  # from the future
    assert not login_csrf_valid(other, cookie, token, now=1_000_000)
    assert not login_csrf_valid(secret, None, token) and not login_csrf_valid(secret, cookie, "")
