"""Schemathesis against the dashboard's OpenAPI schema over real HTTP, logged in as an admin
(every route open to it): generated requests never cause a server error (5xx). Bounded: a
few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from everyfamily.web import create_app
from everyfamily.web.auth import UserStore
from web.conftest import running
from web.fixture_outputs import build_fixture

from .conftest import PASSWORD, Client

_STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = build_fixture(tmp_path_factory.mktemp("st") / "out").out_dir
    store = UserStore.for_output(out)
    store.add("admin", PASSWORD, "admin")
    with running(create_app(out, users=store)) as base:
        c = Client(base, {})
        c.login("admin")
        c.state_purpose()
        _STATE["cookie"] = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        _STATE["base"] = base
        yield schemathesis.openapi.from_url(base + "/openapi.json")


def test_no_server_errors(api_schema: Any) -> None:
    """Every operation, a few generated requests each (schemathesis strategies driven by
    hypothesis directly: its pytest plugin does not load under this pytest)."""
    from hypothesis import given

    calls: list[tuple[str, str, int]] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            response = case.call(base_url=_STATE["base"], headers={"cookie": _STATE["cookie"]})
            calls.append((case.method, case.formatted_path, response.status_code))
            assert response.status_code < 500, calls[-1]

        run()
    operations = {(m, p.split("?")[0]) for m, p, _ in calls}
    assert len(calls) >= len(operations) >= 15


def test_schema_lists_the_api(api_schema: Any, tmp_path: Path) -> None:
    paths = {op.path for op in (r.ok() for r in api_schema.get_all_operations())}
    assert {"/api/overview", "/api/outreach", "/api/admin/audit"} <= paths
