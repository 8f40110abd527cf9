"""The outreach plan on four areas worked by hand (30-minute visits, 0.5 registrations each,
30 GBP an hour)."""

from __future__ import annotations

import pandas as pd
import pytest

from everyfamily.errors import DataError
from everyfamily.planning.costs import ServiceModel
from everyfamily.planning.outreach import plan_outreach

# minutes for every household: 2 x trip + n x 30
#   P: 20 + 300 = 320 -> 10 / 5.33 h = 1.875 an hour
#   Q:  0 + 120 = 120 ->  4 / 2 h    = 2.0 an hour (first)
#   R: 60 + 600 = 660 -> 20 / 11 h   = 1.818 an hour
#   S: nobody unreached: never visited
AREAS = pd.DataFrame(
    {
        "sector": ["P", "Q", "R", "S"],
        "not_registered": [10, 4, 20, 0],
        "base_minutes": [10.0, 0.0, 30.0, 5.0],
    }
)
COLS = {"area": "sector", "unreached": "not_registered", "trip_minutes": "base_minutes"}


def test_ranked_plan_by_hand(costs: ServiceModel) -> None:
    assert costs.outreach is not None
    plan = plan_outreach(AREAS, 8.0, costs.outreach, area_m2=None, **COLS)
    assert [(s.rank, s.area, s.visits) for s in plan.stops] == [(1, "Q", 4), (2, "P", 10)]
    # R needs an hour just to get there and back; 40 minutes are left
    assert plan.hours_used == pytest.approx(440 / 60, abs=1e-3)
    assert plan.visits == 14 and plan.expected_registrations == 7.0
    assert plan.cost == pytest.approx(440 / 60 * 30, abs=0.01)
    assert plan.stops[0].children_per_hour == 2.0
    assert plan.assumption is not None and "assumption" in plan.assumption


def test_last_area_is_visited_in_part(costs: ServiceModel) -> None:
    assert costs.outreach is not None
    plan = plan_outreach(AREAS, 4.0, costs.outreach, area_m2=None, **COLS)
    # Q takes 120 minutes; 120 left: 20 travelling to P and back, then 3 visits of 30
    assert [(s.area, s.visits) for s in plan.stops] == [("Q", 4), ("P", 3)]
    assert plan.hours_used == pytest.approx(230 / 60, abs=1e-3)


def test_walk_between_households_uses_the_area(costs: ServiceModel) -> None:
    assert costs.outreach is not None
    one = pd.DataFrame(
        {"sector": ["Q"], "not_registered": [4], "base_minutes": [0.0], "m2": [160_000.0]}
    )
    plan = plan_outreach(one, 10.0, costs.outreach, area_m2="m2", **COLS)
    # 0.5 x sqrt(160,000 / 4) = 100 m at 80 m a minute = 1.25 minutes per visit
    assert plan.stops[0].travel_minutes_per_visit == 1.25
    assert plan.hours_used == pytest.approx(4 * 31.25 / 60, abs=1e-3)


def test_bad_tables_raise(costs: ServiceModel) -> None:
    assert costs.outreach is not None
    with pytest.raises(DataError, match="no column 'area_code'"):
        plan_outreach(AREAS, 1.0, costs.outreach)
    with pytest.raises(DataError, match="0 or more"):
        plan_outreach(AREAS.assign(base_minutes=-1.0), 1.0, costs.outreach, **COLS)
