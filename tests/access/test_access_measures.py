"""Access measures: two-step floating catchment area (by hand and against PySAL access) and
the model of expected reach (on children whose registration depends on walking time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from everyfamily.access import measures as ms

# Three origins (100, 200 and 50 children), two sites (10 and 20 places), minutes:
#            site a  site b
# origin 0      5      25
# origin 1     15      10
# origin 2     30      18
DEMAND = np.array([100.0, 200.0, 50.0])
SUPPLY = np.array([10.0, 20.0])
COST = np.array([[5.0, 25.0], [15.0, 10.0], [30.0, 18.0]])


def test_two_step_fca_by_hand() -> None:
    score, ratio = ms.two_step_fca(DEMAND, SUPPLY, COST, catchment=20)
    # step 1: site a is within 20 min of origins 0 and 1 (300 children): 10 / 300;
    #         site b of origins 1 and 2 (250 children): 20 / 250 = 0.08
    assert ratio.tolist() == pytest.approx([10 / 300, 0.08])
    # step 2: origin 0 reaches a; origin 1 reaches a and b; origin 2 reaches b
    assert score.tolist() == pytest.approx([10 / 300, 10 / 300 + 0.08, 0.08])
    # a catchment of exactly 15 minutes still counts origin 1 for site a (<=)
    s15, _ = ms.two_step_fca(DEMAND, SUPPLY, COST, catchment=15)
    assert s15.tolist() == pytest.approx([10 / 300, 10 / 300 + 20 / 200, 0.0])


def test_two_step_fca_agrees_with_pysal_access() -> None:
    import access  # PySAL access, a dev dependency (scripts/bootstrap): missing, this fails

    rng = np.random.default_rng(3)
    demand = rng.integers(5, 200, 40).astype(float)
    supply = rng.integers(10, 80, 6).astype(float)
    cost = rng.uniform(1, 40, (40, 6))
    ours, _ = ms.two_step_fca(demand, supply, cost, catchment=20)
    d = pd.DataFrame({"id": range(40), "pop": demand}).set_index("id")
    s = pd.DataFrame({"id": [f"s{j}" for j in range(6)], "cap": supply}).set_index("id")
    c = pd.DataFrame(
        {
            "o": np.repeat(np.arange(40), 6),
            "d": np.tile([f"s{j}" for j in range(6)], 40),
            "t": cost.ravel(),
        }
    )
    a = access.Access(
        demand_df=d,
        demand_value="pop",
        supply_df=s,
        supply_value="cap",
        cost_df=c,
        cost_origin="o",
        cost_dest="d",
        cost_name="t",
    )
    theirs = a.two_stage_fca(name="2sfca", max_cost=20)["2sfca_cap"].reindex(range(40)).fillna(0)
    assert ours == pytest.approx(theirs.to_numpy(), rel=1e-9, abs=1e-12)


def _children(n: int, slope: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    walk = rng.uniform(1, 40, n)
    imd = rng.integers(1, 11, n)
    logit = 1.5 + slope * np.log1p(walk) - 0.05 * (imd - 5)
    reg = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "registered": reg,
            "walk_min": walk,
            "imd_decile": imd,
            "age_years": rng.integers(0, 5, n),
            "ethnicity_broad": rng.choice(["white", "asian", "black"], n, p=[0.8, 0.15, 0.05]),
            "main_language": "english",
        }
    )


def test_expected_reach_recovers_a_planted_walking_time_effect() -> None:
    kids = _children(6000, slope=-0.6, seed=5)
    model = ms.expected_reach(kids, with_access=True)
    assert model.converged
    assert "log(1 + walking minutes)" in model.terms
    # the planted slope on log(1 + minutes) is -0.6
    assert model.coefficients["log_walk_min"] == pytest.approx(-0.6, abs=0.15)
    # a logistic model with an intercept predicts the observed total exactly (score equation)
    assert model.expected.sum() == pytest.approx(kids["registered"].sum(), rel=1e-6)
    # without access the expectation cannot follow walking time: near and far children get
    # about the same probability
    comp = ms.expected_reach(kids, with_access=False)
    near, far = kids["walk_min"] < 10, kids["walk_min"] > 30
    assert abs(comp.expected[near].mean() - comp.expected[far].mean()) < 0.03
    assert model.expected[near].mean() - model.expected[far].mean() > 0.05


def test_expected_reach_with_no_variation_is_the_rate() -> None:
    kids = _children(50, slope=0.0, seed=1).assign(registered=True)
    model = ms.expected_reach(kids)
    assert np.all(model.expected == 1.0)
