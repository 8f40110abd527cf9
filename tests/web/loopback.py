"""HTTP to the tests' own servers on loopback, with the one timeout every call uses.

The servers run in a thread of the test process (``conftest.running``); on a loaded machine
(eight pytest workers on two cores) a page can take tens of seconds, so every request waits
up to :data:`TIMEOUT` instead of httpx's 5 s default. Tests call ``loopback.get(...)``,
``loopback.post(...)`` or ``loopback.request(...)`` exactly as they would call httpx's."""

from __future__ import annotations

from typing import Any

import httpx

#: Seconds a request to a test server may take (connect, read, write, pool).
TIMEOUT = 60.0


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.request`` with :data:`TIMEOUT` (a test may still pass its own ``timeout``)."""
    kwargs.setdefault("timeout", TIMEOUT)
    return httpx.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.get`` with :data:`TIMEOUT`."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """``httpx.post`` with :data:`TIMEOUT`."""
    return request("POST", url, **kwargs)
