"""The Plan page: scenarios from plan.json, the marginal curve, overlap and offer; who may
see it; the empty state when the run has no plan."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from everyfamily.web.access import Permission, permissions_for

from . import loopback
from .fixture_outputs import Fixture, build_fixture


def test_managers_and_analysts_see_the_plan_outreach_workers_and_viewers_do_not(
    fixture_outputs: Fixture, serve: Callable[[Path, str], str]
) -> None:
    for role, status in (
        ("centre_manager", 200),
        ("analyst", 200),
        ("admin", 200),
        ("outreach_worker", 403),
        ("viewer", 403),
    ):
        r = loopback.get(serve(fixture_outputs.out_dir, role) + "/plan")
        assert r.status_code == status, role
        assert ('href="/plan"' in r.text) == (status == 200), role
    assert Permission.VIEW_PLAN not in permissions_for("outreach_worker")


def test_scenarios_side_by_side_with_area_names_and_the_charts(
    fixture_outputs: Fixture, serve: Callable[[Path, str], str]
) -> None:
    html = loopback.get(serve(fixture_outputs.out_dir, "centre_manager") + "/plan").text
    # the two scenarios, their costs, 15-minute counts and registered intervals
    assert "Today (baseline)" in html and "Close Halewood" in html
    assert "420,000" in html and "260,000" in html
    assert "150 (138 to 163)" in html and "5,185" in html
    # sites and areas by name, not code
    assert "Cherryfield Family Hub, Halewood Children&#39;s Centre" in html
    assert "Knowsley 019A: 72 children" in html and "E01006419" not in html
    assert "Ethnic group: White British: 40 children" in html
    # the marginal curve: one dot per budget
    curve = html.split('aria-label="Children within 15 minutes by budget"')[1].split("</svg>")[0]
    assert curve.count("<circle") == 3
    # the UpSet chart of the borough: 3 combinations, one withheld
    upset = html.split('aria-label="Knowsley: service overlap"')[1].split("</svg>")[0]
    assert upset.count("withheld") == 1 and ">141<" in upset and ">93<" in upset
    assert "4.2" in html  # contacts per child per year
    assert "39 children aged under 1 (30% of its reach area)" in html


def test_plan_tables_export(fixture_outputs: Fixture, serve: Callable[[Path, str], str]) -> None:
    url = serve(fixture_outputs.out_dir, "centre_manager")
    r = loopback.get(url + "/export/offer.csv")
    assert r.status_code == 200 and "no session data" in r.text
    assert loopback.get(url + "/export/overlap.csv").status_code == 200


def test_empty_state_without_a_plan(tmp_path: Path, serve: Callable[[Path, str], str]) -> None:
    out = build_fixture(tmp_path / "out").out_dir
    shutil.rmtree(out / "plan")
    for name in ("overlap.csv", "overlap_contacts.csv", "offer.csv"):
        (out / name).unlink()
    r = loopback.get(serve(out, "analyst") + "/plan")
    assert r.status_code == 200
    assert "The run had no <code>planning:</code> block; see docs/planning.md" in r.text
    assert "No service overlap in this run" in r.text


@pytest.mark.browser
def test_plan_page_does_not_overflow_a_phone_screen(
    page: Any, fixture_outputs: Fixture, serve: Callable[[Path, str], str]
) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(serve(fixture_outputs.out_dir, "analyst") + "/plan", wait_until="networkidle")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 375, wide
    assert page.errors == [], page.errors


def test_the_demo_plan_says_its_costs_are_illustrative_and_shows_capacity(
    demo_outputs: Path,
) -> None:
    """The demo's plan (illustrative costs, capacity on by default): the page labels the
    costs ILLUSTRATIVE, lists the plan's assumptions, and shows each option's expected
    engaged children with a place, as plan.json has them."""
    import json

    from fastapi.testclient import TestClient

    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy

    plan = json.loads((demo_outputs / "plan" / "plan.json").read_text(encoding="utf-8"))
    assert plan["illustrative"] is True
    client = TestClient(create_app(demo_outputs, policy=StaticPolicy("analyst")))
    html = client.get("/plan").text
    assert 'id="plan-illustrative"' in html and "ILLUSTRATIVE COSTS." in html
    assert "What the plan assumes" in html and "capacity: optimised sets" in html
    assert "Expected engaged with a place (capacity)" in html
    for s in plan["scenarios"]:
        assert f">{s['expected_engaged_with_room']:,.0f}<" in html, s["id"]


def test_the_outreach_plan_feeds_the_outreach_list(demo_outputs: Path) -> None:
    """The demo plan's ranked outreach areas come first on the outreach list, each with its
    rank as the reason ("outreach plan: area N of M"), as plan.json ranks them."""
    import json

    from fastapi.testclient import TestClient

    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy
    from everyfamily.web.pages.plan import outreach_plan_priorities

    plan = json.loads((demo_outputs / "plan" / "plan.json").read_text(encoding="utf-8"))
    stops = plan["outreach_plan"]
    assert stops, "the demo plans outreach hours"
    got = outreach_plan_priorities(demo_outputs)
    assert got == {s["area"]: (f"outreach plan: area {s['rank']} of {len(stops)}",) for s in stops}
    client = TestClient(create_app(demo_outputs, policy=StaticPolicy("outreach_worker")))
    first = stops[0]["area"]
    html = client.get("/outreach", params={"area": first}).text
    assert f"outreach plan: area 1 of {len(stops)}" in html
