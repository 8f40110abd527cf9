"""Fixtures for the dashboard tests: a hand-made output folder, the real demo run once,
servers on free loopback ports (real HTTP through uvicorn), and Debian's Chromium driven
by Playwright for the browser tests (never a downloaded browser)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from everyfamily.web import create_app
from everyfamily.web.access import StaticPolicy
from everyfamily.web.app import SERVER_OPTIONS

from .fixture_outputs import Fixture, build_fixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--headless=new",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def fixture_outputs(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return build_fixture(tmp_path_factory.mktemp("web") / "out")


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[Path, str], str]]:
    """``serve(out_dir, role) -> base URL``; one server per (folder, role), kept for the
    session."""
    stack: dict[tuple[Path, str], tuple[str, Any]] = {}

    def start(out_dir: Path, role: str = "viewer") -> str:
        key = (out_dir, role)
        if key not in stack:
            ctx = running(create_app(out_dir, policy=StaticPolicy(role)))
            stack[key] = (ctx.__enter__(), ctx)
        return stack[key][0]

    yield start
    for _url, ctx in stack.values():
        ctx.__exit__(None, None, None)


@pytest.fixture(scope="session")
def viewer_url(fixture_outputs: Fixture, serve: Callable[[Path, str], str]) -> str:
    return serve(fixture_outputs.out_dir, "viewer")


@pytest.fixture(scope="session")
def admin_url(fixture_outputs: Fixture, serve: Callable[[Path, str], str]) -> str:
    return serve(fixture_outputs.out_dir, "admin")


@pytest.fixture(scope="session")
def demo_outputs(knowsley_demo: Path) -> Path:
    """The real Knowsley demo run, shared with every other test that reads it
    (tests/conftest.py ``knowsley_demo``: run once per session)."""
    return knowsley_demo


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        # a missing browser is a failure, never a silent skip
        pytest.fail("Debian's chromium is not installed: run scripts/services (it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records console errors and failed requests in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.on("requestfailed", lambda r: errors.append(f"requestfailed: {r.url}"))
    pg.on(
        "response",
        lambda r: (
            errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400
            and r.url.startswith("http://127.0.0.1")
            and r.request.resource_type != "document"
            else None
        ),
    )
    pg.errors = errors
    yield pg
    context.close()
