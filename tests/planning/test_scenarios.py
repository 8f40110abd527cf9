"""Scenarios on a six-child instance whose every number is worked out by hand.

Walking minutes (inf: no path):

    child area group  A   B   C   V    today (A,B,C)   close B       move B to V
    c0    X    g1     5   30  40  inf  5               5             5
    c1    X    g2     20  12  25  14   12              20 (lost)     14
    c2    Y    g1     25  8   18  30   8               18 (lost)     18 (lost)
    c3    Y    g2     40  14  16  50   14              16 (lost)     16 (lost)
    c4    Z    g1     30  30  3   30   3               3             3
    c5    Z    g1     50  50  50  50   50              50            50
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from everyfamily.errors import DataError
from everyfamily.planning.costs import ServiceModel
from everyfamily.planning.scenarios import (
    Change,
    ChildColumns,
    Scenario,
    WalkEffect,
    baseline_scenario,
    evaluate,
    planning_inputs,
)

INF = math.inf
MINUTES = np.array(
    [
        [5, 30, 40, INF],
        [20, 12, 25, 14],
        [25, 8, 18, 30],
        [40, 14, 16, 50],
        [30, 30, 3, 30],
        [50, 50, 50, 50],
    ]
)
PLACES = ("A", "B", "C", "V")


def children() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lsoa": ["X", "X", "Y", "Y", "Z", "Z"],
            "language": ["g1", "g2", "g1", "g2", "g1", "g1"],
            "idaci_decile": [1, 1, 2, 5, 10, 10],
            "reg": [1, 1, 0, 1, 1, 0],
            "eng": [1, 0, 0, 1, 0, 0],
            "p_reg": [0.5] * 6,
        }
    )


COLS = ChildColumns(
    area="lsoa",
    groups=("language",),
    deprivation="idaci_decile",
    registered="reg",
    engaged="eng",
    p_registered="p_reg",
)
EFFECT = WalkEffect(coef=-1.0, se=0.0)


@pytest.fixture
def inputs():  # type: ignore[no-untyped-def]
    return planning_inputs(MINUTES, PLACES, children(), COLS)


def test_closing_a_site_moves_exactly_the_expected_children(inputs, costs: ServiceModel) -> None:  # type: ignore[no-untyped-def]
    base = baseline_scenario(costs)
    assert base.open_places == ("A", "B", "C")
    today = evaluate(base, inputs, costs, EFFECT, baseline=base)
    assert today.within == {10: 3, 15: 5, 20: 5}
    assert today.gains == () and today.losses == ()

    closed = evaluate(
        base.closing("B", id="close-b", name="Close B"), inputs, costs, EFFECT, baseline=base
    )
    assert closed.within == {10: 2, 15: 2, 20: 5}
    assert closed.children_within_15_min == 2
    assert set(closed.losses) == {
        Change("area", "X", 1),
        Change("area", "Y", 2),
        Change("language", "g2", 2),
        Change("language", "g1", 1),
    }
    assert closed.gains == ()
    # B's running cost and sessions are saved: A 109,600 + C 80,000
    assert closed.cost_per_year == 189_600

    moved = evaluate(
        base.moving("B", "V", id="move", name="Move B to the library"),
        inputs,
        costs,
        EFFECT,
        baseline=base,
    )
    assert moved.within[15] == 3
    assert {c for c in moved.losses if c.dimension == "area"} == {Change("area", "Y", 2)}
    assert moved.cost_per_year == 109_600 + 80_000 + 7_400


def test_coverage_by_group_and_deprivation(inputs, costs: ServiceModel) -> None:  # type: ignore[no-untyped-def]
    base = baseline_scenario(costs)
    closed = evaluate(base.closing("B", id="c", name="c"), inputs, costs, EFFECT, baseline=base)
    cov = {(c.dimension, c.value): (c.children, c.within[15]) for c in closed.coverage}
    assert cov[("all", "all")] == (6, 2)
    assert cov[("language", "g1")] == (4, 2)  # c0, c4 of c0, c2, c4, c5
    assert cov[("language", "g2")] == (2, 0)
    assert cov[("idaci_decile", "1")] == (2, 1)  # c0 (c1 lost)
    assert cov[("idaci_decile", "10")] == (2, 1)  # c4


def test_expected_registered_and_engaged_by_hand(inputs, costs: ServiceModel) -> None:  # type: ignore[no-untyped-def]
    # coef -1 on log(1 + minutes) and p0 = 0.5: the odds become (1 + w0) / (1 + w1)
    base = baseline_scenario(costs)
    closed = evaluate(base.closing("B", id="c", name="c"), inputs, costs, EFFECT, baseline=base)
    p = np.array([0.5, 13 / 34, 9 / 28, 15 / 32, 0.5, 0.5])
    assert closed.expected_registered == pytest.approx(p.sum(), abs=0.005)
    # engaged share: 2 of the 4 registered children engaged (areas below 20 registered
    # use the borough's share)
    assert closed.expected_engaged == pytest.approx(0.5 * p.sum(), abs=0.005)
    half = 1.959963984540054 * math.sqrt((p * (1 - p)).sum())
    lo, hi = closed.expected_registered_interval
    assert (lo, hi) == pytest.approx((p.sum() - half, p.sum() + half))
    assert closed.cost_per_child_engaged == pytest.approx(189_600 / (0.5 * p.sum()), rel=1e-3)

    # the coefficient's uncertainty widens the interval (delta method), the mean stays
    wide = evaluate(
        base.closing("B", id="c", name="c"),
        inputs,
        costs,
        WalkEffect(coef=-1.0, se=0.5),
        baseline=base,
    )
    assert wide.expected_registered == closed.expected_registered
    dp = p * (1 - p) * np.log(np.array([6, 21, 19, 17, 4, 51]) / np.array([6, 13, 9, 15, 4, 51]))
    var = (p * (1 - p)).sum() + dp.sum() ** 2 * 0.25
    assert wide.expected_registered_interval[1] == pytest.approx(
        p.sum() + 1.959963984540054 * math.sqrt(var)
    )


def test_outreach_hours_add_registrations(inputs, costs: ServiceModel) -> None:  # type: ignore[no-untyped-def]
    base = baseline_scenario(costs)
    s = Scenario("o", "Outreach in Z", "what_if", base.open_places, outreach_hours={"Z": 1.0})
    r = evaluate(s, inputs, costs, EFFECT, baseline=base)
    # 60 min / 30 min a visit = 2 visits x 0.5 = 1 registration (Z has 1 expected unregistered)
    assert r.outreach_registrations == pytest.approx(1.0)
    assert r.expected_registered == pytest.approx(3.0 + 1.0)
    assert r.cost_per_year == costs.baseline_cost_per_year + 30
    assert any("assumption" in a for a in r.assumptions)


def test_loads_and_capacity(inputs, costs: ServiceModel) -> None:  # type: ignore[no-untyped-def]
    base = baseline_scenario(costs)
    r = evaluate(base, inputs, costs, EFFECT, baseline=base)
    loads = {x.place: x for x in r.loads}
    # nearest open place: A for c0 and c5 (a tie at 50 goes to the place listed first);
    # B for c1, c2, c3; C for c4. Each child: 0.5 registered x 0.5 engaged share.
    assert loads["A"].expected_engaged_nearest == pytest.approx(0.5)
    assert loads["B"].expected_engaged_nearest == pytest.approx(0.75)
    assert loads["C"].expected_engaged_nearest == pytest.approx(0.25)
    assert loads["B"].capacity_per_week == 24


def test_bad_inputs_raise_one_line_errors() -> None:
    with pytest.raises(DataError, match="6 children x 3 places"):
        planning_inputs(MINUTES, ("A", "B", "C"), children(), COLS)
    bad = children().assign(p_reg=[0.5, 0.5, 0.5, 0.5, 0.5, 1.5])
    with pytest.raises(DataError, match="probabilities from 0 to 1"):
        planning_inputs(MINUTES, PLACES, bad, COLS)
    with pytest.raises(DataError, match="no column 'area_code'"):
        planning_inputs(MINUTES, PLACES, children())
    with pytest.raises(DataError):
        WalkEffect(coef=-1.0, se=-0.1)
