"""A plan run from the Plan page (issue 17): who may run one (FastAPI's TestClient over the
app, one role at a time), the form's CSRF check, and a real plan on a copy of the demo run
(the page's option is the same scenario as the run's own "close the least-used site", so
its released figures must be the run's), then the same in Chromium."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from everyfamily.web import create_app
from everyfamily.web.access import Permission, StaticPolicy, permissions_for
from everyfamily.web.plan_runs import RUNS_DIR, PlanRequest, parse_request, user_slug

from .conftest import SCREENSHOTS, running
from .fixture_outputs import Fixture


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, "the plan form carries a CSRF token"
    return m.group(1)


def test_who_may_run_a_plan(fixture_outputs: Fixture) -> None:
    assert Permission.RUN_PLAN in permissions_for("centre_manager")
    assert Permission.RUN_PLAN in permissions_for("analyst")
    assert Permission.RUN_PLAN in permissions_for("admin")
    for role, status in (
        ("centre_manager", 200),
        ("analyst", 200),
        ("admin", 200),
        ("outreach_worker", 403),
        ("viewer", 403),
    ):
        client = TestClient(create_app(fixture_outputs.out_dir, policy=StaticPolicy(role)))
        assert client.get("/plan/mine").status_code == status, role
        assert client.get("/api/plan/run").status_code == status, role
        r = client.post("/plan/run", data={"kind": "optimise", "budget": "1000"})
        # refused: by role (403), or for a missing CSRF token (403 as well)
        assert r.status_code == 403, role
        if status == 200:
            assert client.get("/api/plan/run").json() == {"state": "none"}


def test_each_user_has_a_folder_of_their_own() -> None:
    assert user_slug(None) == "local" and user_slug("amira") == "amira"
    names = ["a.b", "a_b", "a/b", "../a_b", "local"]
    slugs = [user_slug(n) for n in names]
    assert len(set(slugs)) == len(slugs) and "a_b" in slugs
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in slugs)


def test_the_form_is_checked_into_a_scenario() -> None:
    sites, venues = ("A", "B"), ("V1",)
    req = parse_request({"kind": ["what_if"], "close": ["A"], "open": ["V1"]}, sites, venues)
    assert req == PlanRequest("what_if", "Close A, open V1", close=("A",), open=("V1",))
    assert "close:\n  - A\n" in req.scenario_yaml()
    opt = parse_request({"kind": ["optimise"], "budget": ["1,200,000"]}, sites, venues)
    assert opt.budget == 1_200_000 and opt.name == "Best places for GBP 1,200,000 a year"
    from everyfamily.errors import ConfigError

    for bad, msg in (
        ({"kind": ["what_if"], "close": ["../etc"]}, "not in the run's planning lists"),
        ({"kind": ["what_if"]}, "pick at least one site"),
        ({"kind": ["optimise"], "budget": ["-5"]}, "budget: expected a number"),
        ({"kind": ["optimise"], "budget": ["inf"]}, "budget: expected a number"),
        ({"kind": ["drop tables"]}, "kind: expected one of"),
    ):
        with pytest.raises(ConfigError, match=re.escape(msg)):
            parse_request(bad, sites, venues)


@pytest.fixture(scope="module")
def demo_copy(demo_outputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo run (plans from the page are written into the run's folder)."""
    out = tmp_path_factory.mktemp("plan-run") / "out"
    shutil.copytree(demo_outputs, out, ignore=shutil.ignore_patterns(RUNS_DIR))
    return out


def _least_used(out: Path) -> tuple[str, dict[str, Any]]:
    """The run's own 'close the least-used site' scenario and the site it closed."""
    plan = json.loads((out / "plan" / "plan.json").read_text(encoding="utf-8"))
    by = {s["id"]: s for s in plan["scenarios"]}
    base, close = by[plan["baseline_id"]], by["close_least_used"]
    (closed,) = set(base["sites_open"]) - set(close["sites_open"])
    return closed, close


def test_a_plan_from_the_page_matches_the_run_s_own(demo_copy: Path) -> None:
    closed, expected = _least_used(demo_copy)
    app = create_app(demo_copy, policy=StaticPolicy("analyst"))
    client = TestClient(app)
    page = client.get("/plan").text
    assert 'id="plan-what-if"' in page and f'value="{closed}"' in page
    token = _csrf(page)
    r = client.post(
        "/plan/run",
        data={"csrf": token, "kind": "what_if", "close": closed, "name": "Close it"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/plan/mine"
    job = app.state.plan_runner.wait(None, timeout=300)
    assert job is not None and job.state == "done", job
    mine = json.loads(
        (demo_copy / RUNS_DIR / "local" / "plan" / "plan.json").read_text(encoding="utf-8")
    )
    got = {s["id"]: s for s in mine["scenarios"]}["from_the_page"]
    for key in ("sites_open", "cost_per_year", "children_within_15_min", "losses"):
        assert got[key] == expected[key], key
    status = client.get("/api/plan/run").json()
    assert status["state"] == "done" and status["scenario"] == "Close it"
    html = client.get("/plan/mine").text
    assert "Close it" in html and "(baseline)" in html
    assert f"{expected['cost_per_year']:,.0f}" in html
    # the run's own plan is untouched
    assert _least_used(demo_copy)[1] == expected


def test_a_second_plan_while_one_runs_is_refused(demo_copy: Path) -> None:
    app = create_app(demo_copy, policy=StaticPolicy("centre_manager"))
    client = TestClient(app)
    token = _csrf(client.get("/plan").text)
    runner = app.state.plan_runner
    runner._busy = "someone"  # another user's plan is running
    r = client.post("/plan/run", data={"csrf": token, "kind": "optimise", "budget": "100000"})
    assert r.status_code == 400
    assert "a plan is already running on this dashboard" in r.text
    runner._busy = None
    bad = client.post("/plan/run", data={"csrf": "0" * 64, "kind": "optimise", "budget": "1"})
    assert bad.status_code == 403


@pytest.fixture(scope="module")
def manager_url(demo_copy: Path) -> Iterator[str]:
    with running(create_app(demo_copy, policy=StaticPolicy("centre_manager"))) as url:
        yield url


@pytest.mark.browser
def test_run_a_budget_plan_in_chromium(page: Any, manager_url: str) -> None:
    page.goto(manager_url + "/plan", wait_until="networkidle")
    form = page.locator("#plan-optimise")
    budget = form.locator("input[name=budget]")
    today = float(budget.input_value())  # 90% of today's cost, filled in
    assert today > 0
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/plan/mine")
    page.wait_for_selector("#plan-job[data-state=done]", timeout=300_000)
    text = page.inner_text("main")
    assert f"Best places for GBP {today:,.0f} a year" in text
    assert "Scenarios side by side" in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "plan-run-mine.png"), full_page=True)
    rows = page.locator("#table-scenarios tbody tr")
    assert rows.count() == 2  # today and the optimised option
    assert page.errors == []


def test_with_logins_the_plan_is_the_user_s_own_and_audited(demo_copy: Path) -> None:
    from everyfamily.web.auth import UserStore
    from security.conftest import PASSWORD, Client

    store = UserStore.for_output(demo_copy)
    store.add("amira", PASSWORD, "analyst")
    store.add("omar", PASSWORD, "centre_manager")
    closed, expected = _least_used(demo_copy)
    app = create_app(demo_copy, users=store)
    with running(app) as base:
        amira = Client(base, {})
        assert amira.login("amira").status_code == 303
        token = amira.csrf()
        # another user's token is refused
        omar = Client(base, {})
        omar.login("omar")
        bad = omar.post("/plan/run", {"csrf": token, "kind": "what_if", "close": closed})
        assert bad.status_code == 403
        r = amira.post("/plan/run", {"csrf": token, "kind": "what_if", "close": closed})
        assert r.status_code == 303
        job = app.state.plan_runner.wait("amira", timeout=300)
        assert job is not None and job.state == "done", job
        assert omar.get("/api/plan/run").json() == {"state": "none"}  # not omar's
        assert amira.get("/api/plan/run").json()["state"] == "done"
        assert f"{expected['cost_per_year']:,.0f}" in amira.get("/plan/mine").text
    plan = json.loads(
        (demo_copy / RUNS_DIR / "amira" / "plan" / "plan.json").read_text(encoding="utf-8")
    )
    got = {s["id"]: s for s in plan["scenarios"]}["from_the_page"]
    assert got["children_within_15_min"] == expected["children_within_15_min"]
    rows = [r for r in store.audit_rows() if str(r["action"]).startswith("plan_run")]
    assert [(r["user"], r["action"], r["detail"]) for r in rows] == [
        ("amira", "plan_run", f"what_if: close [{closed}] open []")
    ]
