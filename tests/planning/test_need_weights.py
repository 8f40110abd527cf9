"""The ``emerging`` need weight: children in the communities stage's emerging-community
areas weigh more in the optimisation, so raising the weight moves a site to them.

Hand-worked instance (walking minutes from each child's home; inf: no path)::

    child area   emerging  A    B
    c0    X      no        5    inf
    c1    X      no        6    inf
    c2    X      no        7    inf
    c3    E      yes       inf  4
    c4    E      yes       inf  9

A and B cost 100 each; the budget (50% of today's 200) opens one. With every weight but
base at 0, A covers 3 children against B's 2: A. With emerging at 1, B's children weigh
2 each (4 > 3): B. With emerging at 0.4, B weighs 2.8 < 3: still A.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.config import PlanningSettings
from everyfamily.engines import open_engine
from everyfamily.planning.plan import PlanData, make_plan
from everyfamily.planning.scenario_file import parse_scenarios
from everyfamily.planning.scenarios import WalkEffect
from everyfamily.planning.stage import emerging_areas
from everyfamily.privacy.release import ReleaseRules

INF = np.inf
EXACT = ReleaseRules(0, "none", "suppress_round")
HALF = "scenarios:\n  - {id: half, name: Best at half, optimise: {budget_share: 0.5}}\n"


def _settings(emerging: float) -> PlanningSettings:
    return PlanningSettings.model_validate(
        {
            "source": "illustrative",
            "basis": "round numbers for a test",
            "session_types": [{"name": "play", "cost_per_session": 0}],
            "sites": [
                {
                    "id": s,
                    "running_cost_per_year": 100,
                    "places_per_session": 10,
                    "opening_days_per_week": 5,
                }
                for s in "AB"
            ],
            "need_weights": {"unreached": 0, "deprived": 0, "emerging": emerging},
            "curve_points": 2,
        }
    )


def _data() -> PlanData:
    kids = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(5)],
            "area_code": ["X", "X", "X", "E", "E"],
            "registered": [True, False, True, False, True],
            "engaged": [False] * 5,
            "expected_registered": [0.5] * 5,
            "emerging": [False, False, False, True, True],
            "point": range(5),
        }
    )
    minutes = np.array([[5, INF], [6, INF], [7, INF], [INF, 4], [INF, 9]], dtype="float64")
    return PlanData(kids, minutes, ("A", "B"), WalkEffect(-0.5, 0.1))


@pytest.mark.parametrize(("weight", "chosen"), [(0.0, ["A"]), (0.4, ["A"]), (1.0, ["B"])])
def test_raising_the_emerging_weight_moves_the_site_to_the_emerging_area(
    weight: float, chosen: list[str]
) -> None:
    plan = make_plan(_data(), _settings(weight), parse_scenarios(HALF), EXACT)
    half = {s["id"]: s for s in plan.scenarios}["half"]
    assert half["sites_open"] == chosen


def test_emerging_areas_come_from_the_communities_findings(tmp_path: Path) -> None:
    engine = open_engine("duckdb", path=tmp_path / "store.duckdb")
    try:
        rows = [
            ("communities", {"kind": "emerging_community", "areas": ["E1", "E2"]}),
            ("communities", {"kind": "emerging_community", "areas": ["E2", "E3"]}),
            ("access", {"kind": "access_barrier", "areas": ["B1"]}),
            ("communities", {"kind": "something_else", "areas": ["Q"]}),
        ]
        engine.write_table(
            "candidate_findings",
            pa.table({"stage": [r[0] for r in rows], "json": [json.dumps(r[1]) for r in rows]}),
        )
        ctx = SimpleNamespace(engine=engine)
        assert emerging_areas(ctx) == ("E1", "E2", "E3")  # type: ignore[arg-type]
    finally:
        engine.close()


def test_no_findings_table_means_no_emerging_area(tmp_path: Path) -> None:
    engine = open_engine("duckdb", path=tmp_path / "store.duckdb")
    try:
        assert emerging_areas(SimpleNamespace(engine=engine)) == ()  # type: ignore[arg-type]
    finally:
        engine.close()


def _capacity_instance() -> tuple[PlanData, dict[str, Any]]:
    """:func:`_data` with every child engaged when registered and certain to register (load
    1 each), and the settings (emerging weight 0) giving A 1 place a week, B 10."""
    data = _data()
    kids = data.children.assign(registered=True, engaged=True, expected_registered=1.0)
    base = _settings(0.0).model_dump()
    base["sites"][0].update(sessions_per_week={"play": 1}, places_per_session=1)
    base["sites"][1].update(sessions_per_week={"play": 1}, places_per_session=10)
    return PlanData(kids, data.minutes, data.place_ids, data.effect), base


def test_capacitated_plan_prefers_the_site_with_room() -> None:
    """The same instance, every child engaged when registered and certain to register
    (load 1 each), emerging weight 0: A has 1 place a week (1 session x 1 place), B 10.
    Uncapacitated, A covers 3 children against B's 2; capacitated, A can take 1 and B 2."""
    data, base = _capacity_instance()
    base["capacitated"] = False
    free = make_plan(data, PlanningSettings.model_validate(base), parse_scenarios(HALF), EXACT)
    base["capacitated"] = True
    capped = make_plan(data, PlanningSettings.model_validate(base), parse_scenarios(HALF), EXACT)
    assert {s["id"]: s for s in free.scenarios}["half"]["sites_open"] == ["A"]
    got = {s["id"]: s for s in capped.scenarios}["half"]
    assert got["sites_open"] == ["B"]
    assert "no place over its places per week" in got["note"]


def test_capacitated_plan_shows_who_fits_in_every_option() -> None:
    """Same instance and places (A 1 place a week, B 10; every child's load 1): today A and
    B are open and take 1 + 2 = 3 of the 5 expected engaged children; the optimised set at
    half the cost (B) takes 2; the 90% check keeps both (3). Without capacity no option
    carries the figure, and the assumptions say capacity is not modelled."""
    data, base = _capacity_instance()
    base["capacitated"] = False
    free = make_plan(data, PlanningSettings.model_validate(base), parse_scenarios(HALF), EXACT)
    assert all("expected_engaged_with_room" not in s for s in free.scenarios)
    assert any("capacity limits are not modelled" in a for a in free.assumptions)
    base["capacitated"] = True
    capped = make_plan(data, PlanningSettings.model_validate(base), parse_scenarios(HALF), EXACT)
    got = {s["id"]: s["expected_engaged_with_room"] for s in capped.scenarios}
    assert got == {capped.baseline_id: 3, "half": 2}
    assert capped.keep_check["sites_open"] == ["A", "B"]
    assert capped.keep_check["expected_engaged_with_room"] == 3
    assert any("the 90% check keeps as many of them" in a for a in capped.assumptions)
