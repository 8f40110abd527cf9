"""Fixtures for the security tests: the dashboard's hand-made output folder with a users
store (one user per role), served over real HTTP on loopback. Cookies are handled by hand:
they are ``Secure``, which an HTTP client rightly will not send over plain http."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from everyfamily.web import create_app
from everyfamily.web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, UserStore
from web import loopback
from web.conftest import running
from web.fixture_outputs import build_fixture

PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "centre_manager", "outreach_worker", "analyst", "admin")
#: The outreach worker's one assigned area (the fixture's list has E01006506 and E01006421).
ASSIGNED = "E01006421"
OTHER_AREA = "E01006506"


def set_cookies(resp: httpx.Response) -> dict[str, dict[str, str]]:
    """Set-Cookie headers of a response: name -> {'value': ..., attributes...}."""
    out: dict[str, dict[str, str]] = {}
    for header in resp.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            attrs = {k: str(v) for k, v in morsel.items() if v}
            low = header.lower()
            attrs["secure"] = "secure" if "; secure" in low else ""
            attrs["httponly"] = "httponly" if "; httponly" in low else ""
            out[name] = {"value": morsel.value, **attrs}
    return out


@dataclass
class Client:
    """A browser-like client over one base URL with its own cookies."""

    base: str
    cookies: dict[str, str]

    def _headers(self) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def get(self, path: str, **params: str) -> httpx.Response:
        r = loopback.get(self.base + path, params=params, headers=self._headers())
        self._keep(r)
        return r

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        r = loopback.post(self.base + path, data=data, headers=self._headers())
        self._keep(r)
        return r

    def _keep(self, r: httpx.Response) -> None:
        for name, c in set_cookies(r).items():
            if c.get("max-age") == "0" or c.get("expires", "").startswith("Thu, 01 Jan 1970"):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = c["value"]

    def csrf(self) -> str:
        """The CSRF token of the logged-in session, from the page's logout form."""
        m = re.search(r'name="csrf" value="([^"]+)"', self.get("/").text)
        assert m, "no CSRF token on the page"
        return m.group(1)

    def login(self, user: str, password: str = PASSWORD) -> httpx.Response:
        page = self.get("/login")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m and LOGIN_CSRF_COOKIE in self.cookies
        return self.post("/login", {"csrf": m.group(1), "username": user, "password": password})

    def state_purpose(self, purpose: str = "home visits this week") -> httpx.Response:
        return self.post("/outreach/purpose", {"csrf": self.csrf(), "purpose": purpose})

    @property
    def session(self) -> str | None:
        return self.cookies.get(SESSION_COOKIE)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, UserStore, Path]]:
    """(base URL, users store, output folder) with one user per role."""
    out = build_fixture(tmp_path_factory.mktemp("sec") / "out").out_dir
    store = UserStore.for_output(out)
    for role in ROLES:
        store.add(role, PASSWORD, role, (ASSIGNED,) if role == "outreach_worker" else ())
    with running(create_app(out, users=store)) as base:
        yield base, store, out


@pytest.fixture
def client(secured: tuple[str, UserStore, Path]) -> Callable[[], Client]:
    return lambda: Client(secured[0], {})
