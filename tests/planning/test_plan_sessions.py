"""The plan with capacity: the marginal curve's points are the capacitated optimum at each
budget (lower than the uncapacitated curve by a hand-worked amount where capacity binds),
optimised scenarios choose sites and sessions, and one-off setup and closure costs enter
cost_per_year annualised.

Hand-worked instance (every child registered, engaged and certain to register: each loads
a place by 1; need weights 0 but base, so demand is children)::

    point  children  A    B    V (venue)
    P1     10        5    40   40
    P2     10        40   5    5
    P3     4         10   10   10

A and B: 100 a year to run, 2 sessions a week of 'play' (50 a session, 1 week a year), 5
places a session. Today's cost: A 200 + B 200 = 400.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from everyfamily.config import PlanningSettings
from everyfamily.planning.plan import PlanData, make_plan
from everyfamily.planning.scenario_file import parse_scenarios
from everyfamily.planning.scenarios import WalkEffect
from everyfamily.privacy.release import ReleaseRules

EXACT = ReleaseRules(0, "none", "suppress_round")
SIZES = (10, 10, 4)
MINUTES = np.array([[5.0, 40.0, 40.0], [40.0, 5.0, 5.0], [10.0, 10.0, 10.0]])


def _data(with_venue: bool) -> PlanData:
    n = sum(SIZES)
    kids = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "area_code": ["X"] * n,
            "registered": [True] * n,
            "engaged": [True] * n,
            "expected_registered": [1.0] * n,
            "point": np.repeat(np.arange(3), SIZES),
        }
    )
    ids = ("A", "B", "V") if with_venue else ("A", "B")
    minutes = MINUTES if with_venue else MINUTES[:, :2]
    return PlanData(kids, minutes, ids, WalkEffect(-0.5, 0.1))


def _settings(**more: Any) -> dict[str, Any]:
    site = {
        "running_cost_per_year": 100,
        "sessions_per_week": {"play": 2},
        "places_per_session": 5,
        "opening_days_per_week": 5,
    }
    return {
        "source": "illustrative",
        "basis": "round numbers for a test",
        "weeks_per_year": 1,
        "session_types": [{"name": "play", "cost_per_session": 50}],
        "sites": [{"id": "A", **site}, {"id": "B", **site}],
        "need_weights": {"unreached": 0, "deprived": 0, "emerging": 0},
        "curve_points": 2,
        **more,
    }


def _curve(capacitated: bool) -> tuple[str, list[tuple[float, int | None]]]:
    s = PlanningSettings.model_validate(
        _settings(capacitated=capacitated, capacitated_curve=capacitated)
    )
    plan = make_plan(_data(False), s, None, EXACT)
    got = plan.to_json()
    return got["marginal_curve_basis"], [
        (c["budget"], c["children_within_15_min"]) for c in got["marginal_curve"]
    ]


def test_capacitated_curve_is_lower_by_the_children_without_room() -> None:
    # budgets 200 and 400. Within reach: one site (200) covers 14 (P1 + P3 or P2 + P3),
    # both 24. With capacity (each open site 1 or 2 sessions, 5 places each): at 200 one site
    # with 2 sessions has 10 places (A 1 session, 150, only 5): 10; at 400 both with 2: 20
    # places for 24 children: 20. Lower by 4 at each budget (the places P3 lacks, then
    # A's or B's 4 children more than its 10 places).
    assert _curve(False) == ("within_reach", [(200.0, 14), (400.0, 24)])
    assert _curve(True) == ("served", [(200.0, 10), (400.0, 20)])
    s = PlanningSettings.model_validate(_settings(capacitated_curve=True))
    last = make_plan(_data(False), s, None, EXACT).marginal_curve[-1]
    assert last["per_10k"] == pytest.approx(10 / (200 / 10_000))  # 10 more for 200 more
    assert last["gap"] is not None and last["gap"] <= 0.01


def _with_venue_v(**venue: Any) -> dict[str, Any]:
    """The two sites, B with a closure cost of 50, and venue V (30 a year to use, 1 session
    of 10 places listed, set-up cost 100), one-off costs over 5 years; ``venue`` adds to V."""
    s = _settings(
        one_off_years=5,
        venues=[
            {
                "id": "V",
                "cost_to_use_per_year": 30,
                "sessions_per_week": {"play": 1},
                "places_per_session": 10,
                "setup_cost": 100,
                **venue,
            }
        ],
        venues_file={"path": "venues.csv"},
    )
    s["sites"][1]["closure_cost"] = 50
    return s


def test_optimised_scenario_chooses_sites_and_sessions_with_one_off_costs() -> None:
    # Venue V: 30 a year to use, 10 places a session, 1 session listed, at most 2; setup cost
    # 100, and B's closure cost 50, over 5 years: 20 and 10 a year. Budget 400: A 2 (200) + V
    # 2 (30 + 20 + 100) + B's closure 10 = 360 serves all 24 (V's 20 places take P2 and
    # P3); A 2 + V 1 (310) serves 20; A 2 + B 2 (400) serves 20; so A 2 sessions, V 2, B
    # closed, 360 a year.
    s = _with_venue_v(max_sessions_per_week=2)
    scen = "scenarios:\n  - {id: opt, name: Best at today's cost, optimise: {budget: 400}}\n"
    plan = make_plan(_data(True), PlanningSettings.model_validate(s), parse_scenarios(scen), EXACT)
    got = {r["id"]: r for r in plan.scenarios}["opt"]
    assert got["sites_open"] == ["A", "V"]
    assert got["sessions_per_week"] == {"A": 2.0, "V": 2.0}
    assert got["cost_per_year"] == pytest.approx(360.0)
    assert got["children_within_15_min"] == 24
    assert got["children_served_within_15_min"] == 24
    assert "sessions a week chosen" in got["note"]
    # today (A and B, 2 sessions each, 10 places each): 24 within reach, 20 served
    base = plan.scenarios[0]
    assert (base["children_within_15_min"], base["children_served_within_15_min"]) == (24, 20)
    assert base["cost_per_year"] == pytest.approx(400.0)


def test_one_off_costs_in_a_what_if() -> None:
    # closing B (closure 50 over 5 years: 10 a year) costs A's 200 + 10 = 210; opening V
    # as well (30 + 1 session 50 + setup 100 / 5 = 20) adds 100
    s = _with_venue_v()
    scen = (
        "scenarios:\n  - {id: shut, name: Close B, close: [B]}\n"
        "  - {id: swap, name: B to V, move: {from: B, to: V}}\n"
        "  - {id: merge, name: B into A, close: [B], sessions: {A: {play: 4}}}\n"
    )
    plan = make_plan(_data(True), PlanningSettings.model_validate(s), parse_scenarios(scen), EXACT)
    cost = {r["id"]: r["cost_per_year"] for r in plan.scenarios}
    assert cost["shut"] == pytest.approx(210.0)
    assert cost["swap"] == pytest.approx(310.0)
    # a merge: B closes (10 a year), A runs 4 sessions (100 + 200): 310; A's 20 places
    # take all 14 children within its reach (P1 and P3), P2 is 40 minutes away
    assert cost["merge"] == pytest.approx(310.0)
    merge = {r["id"]: r for r in plan.scenarios}["merge"]
    assert merge["children_served_within_15_min"] == 14


def test_children_within_10_15_20_minutes_by_group() -> None:
    # closing B: P2's 10 children (language 'pl') walk 40 minutes to A; P1 (5 minutes) and
    # P3 (10 minutes to A), 14 children speaking 'en', stay within 10 minutes
    data = _data(False)
    kids = data.children.assign(main_language=np.repeat(["en", "pl", "en"], SIZES))
    data = PlanData(kids, data.minutes, data.place_ids, data.effect)
    scen = "scenarios:\n  - {id: shut, name: Close B, close: [B]}\n"
    s = PlanningSettings.model_validate(_settings())
    plan = make_plan(data, s, parse_scenarios(scen), EXACT)
    bands = {
        (b["dimension"], b["value"]): (
            b["children"],
            b["within_10_min"],
            b["within_15_min"],
            b["within_20_min"],
        )
        for b in {r["id"]: r for r in plan.scenarios}["shut"]["within_bands"]
    }
    assert bands == {
        ("all", "all"): (24, 14, 14, 14),
        ("main_language", "en"): (14, 14, 14, 14),
        ("main_language", "pl"): (10, None, None, None),  # 0 is withheld (at or below 0)
    }
    today = {
        (b["dimension"], b["value"]): b["within_10_min"] for b in plan.scenarios[0]["within_bands"]
    }
    assert today == {("all", "all"): 24, ("main_language", "en"): 14, ("main_language", "pl"): 10}


def test_timetable_must_agree_with_the_costed_sessions() -> None:
    from pydantic import ValidationError

    ok = _settings(sessions=[{"site": "A", "name": "play", "per_week": 2}])
    PlanningSettings.model_validate(ok)
    bad = _settings(sessions=[{"site": "A", "name": "play", "per_week": 3}])
    with pytest.raises(ValidationError, match="runs 3 'play' sessions a week in planning"):
        PlanningSettings.model_validate(bad)
