"""The sentinel test: a unique synthetic name and NHS number planted in an extract go
through ingest, linkage, reach, findings, report, dashboard and API, and never appear in
logs, console output, error pages, API answers or any file of the output folder: the two
stores that hold it are encrypted, so not even their bytes show it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from everyfamily.config import load_project
from everyfamily.privacy.encryption import store_key
from everyfamily.stores import IDENTIFIABLE, open_run_stores
from everyfamily.web import create_app
from everyfamily.web.auth import UserStore
from small_world import SENTINEL_NAME, SENTINEL_NHS, SmallRun

from .conftest import PASSWORD, ROLES, Client
from .test_access_http import ALL_PATHS

NEEDLES = (SENTINEL_NAME, SENTINEL_NAME.upper(), SENTINEL_NAME.lower(), SENTINEL_NHS)


def _clean(text: str, where: str, extra: tuple[str, ...] = ()) -> None:
    for needle in NEEDLES + extra:
        assert needle not in text, f"sentinel found in {where}"


@pytest.mark.slow
def test_sentinel_never_leaves_the_restricted_zone(
    knowsley_small_cli_run: SmallRun,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On the shared quarter-size run (tests/conftest.py ``knowsley_small_cli_run``: the
    command line, with the sentinel planted on the first birth notification by
    tests/small_world.py): one planted record goes through every stage whatever the size of
    the world around it. What the command printed and logged while it ran is checked here,
    with everything under the output folder (the scenario is outside it)."""
    caplog.set_level(logging.DEBUG)
    run = knowsley_small_cli_run
    # a copy: the dashboard writes its users store and audit log into the run's folder,
    # and they are checked with every other file below
    out = tmp_path / "out"
    shutil.copytree(run.out, out)
    project = load_project(run.project_file)

    # the key, and the store keys derived from it, are secrets too
    assert project.privacy.key_file is not None
    key = project.privacy.key_file.read_bytes().strip()
    secrets = (key.decode(), *(store_key(key, zone) for zone in ("identifiable", "analysis")))
    engine = open_run_stores(out, zones=(IDENTIFIABLE,))
    planted = engine.con.execute(
        "SELECT count(*) FROM records WHERE nhs_number = ? AND first_name ILIKE ?",
        [SENTINEL_NHS, SENTINEL_NAME],
    ).fetchone()
    engine.close()
    assert planted == (1,), "the sentinel did not reach the identifiable store"

    store = UserStore.for_output(out)
    for role in ROLES:
        store.add(role, PASSWORD, role)
    from web.conftest import running

    bodies: list[tuple[str, str]] = []
    with running(create_app(out, users=store)) as base:
        for role in ROLES:
            c = Client(base, {})
            c.login(role)
            if role in ("outreach_worker", "analyst", "admin"):
                c.state_purpose()
            for name, path in ALL_PATHS.items():
                r = c.get(path)
                bodies.append((f"{role} {name}", r.text))
            # error pages with the sentinel in the request echo nothing back
            for path in (f"/areas/{SENTINEL_NAME}", f"/api/areas/{SENTINEL_NHS}"):
                bodies.append((f"{role} {path}", c.get(path).text))
            r = c.get("/api/reach", level=SENTINEL_NAME)
            bodies.append((f"{role} bad level", r.text))
            r = c.get("/export/outreach.csv")
            bodies.append((f"{role} outreach csv", r.text))
            r = c.get("/export/outreach.xlsx")
            bodies.append((f"{role} outreach xlsx", r.content.decode("latin-1")))

    for where, text in bodies:
        _clean(text, where, secrets)
    assert "[ingest]" in run.console and "[report]" in run.console  # the run's console
    _clean(run.console, "console output", secrets)
    captured = capsys.readouterr()
    _clean(captured.out + captured.err, "stdout/stderr", secrets)
    # every log record of the pipeline, the server and the app (the test's own HTTP client,
    # httpx/httpcore, logs the URLs it was asked to request: that is the visitor's side)
    server_logs = [
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]
    assert server_logs and run.logs  # logging was captured, of the server and of the run
    _clean("\n".join(server_logs), "logs", secrets)
    _clean(run.logs, "the run's logs", secrets)
    checked = 0
    for path in out.rglob("*"):
        rel = path.relative_to(out)
        if not path.is_file():
            continue
        _clean(path.read_bytes().decode("latin-1"), str(rel), secrets)
        checked += 1
    # reach.csv, reach.gpkg, findings.json, report.html, run.json, both stores ...
    assert checked >= 7
    assert (out / "restricted" / "identifiable.duckdb").is_file()
