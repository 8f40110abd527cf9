"""Capacity in the budgeted MCLP: a hand-made instance where a small site's capacity changes
the best choice, and the capacitated optimum against brute force (every subset within the
budget, each with its best assignment solved as a linear program by scipy's HiGHS, an
independent solver)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from everyfamily.errors import DataError
from everyfamily.planning.capacity import cheapest_keeping_capacitated, served_by_places
from everyfamily.planning.optimise import best_for_budget, cheapest_keeping


def test_a_full_site_loses_to_one_with_room() -> None:
    # Three places, one affordable (each costs 1, budget 1). Point X (12 children) is within
    # 15 minutes of B only; point Y (10 children) of A only; C reaches no one.
    minutes = np.array([[30.0, 5.0, 40.0], [5.0, 30.0, 40.0]])
    demand = np.array([12.0, 10.0])
    ids = ("A", "B", "C")
    costs = np.ones(3)
    free = best_for_budget(minutes, demand, ids, costs, 1.0)
    assert free.open_places == ("B",) and free.covered_demand == 12.0
    # B has room for 5 children: it serves 5, A would serve all 10 of Y
    caps = np.array([100.0, 5.0, 100.0])
    capped = best_for_budget(minutes, demand, ids, costs, 1.0, capacities=caps)
    assert capped.open_places == ("A",)
    assert capped.served_demand == pytest.approx(10.0)
    assert capped.method == "capacitated-budget-mclp"
    # with a budget for two, both open and serve 10 + 5
    both = best_for_budget(minutes, demand, ids, costs, 2.0, capacities=caps)
    assert both.open_places == ("A", "B") and both.served_demand == pytest.approx(15.0)


def test_load_differs_from_demand() -> None:
    # need-weighted demand 30 at X, but only 6 expected users (load): B's 5 places take
    # 5/6 of X, serving 25 of its weighted demand, more than Y's 20 at A
    minutes = np.array([[30.0, 5.0], [5.0, 30.0]])
    demand, load = np.array([30.0, 20.0]), np.array([6.0, 20.0])
    caps = np.array([100.0, 5.0])
    got = best_for_budget(minutes, demand, ("A", "B"), np.ones(2), 1.0, capacities=caps, load=load)
    assert got.open_places == ("B",) and got.served_demand == pytest.approx(25.0)


def served_by(
    m: np.ndarray, w: np.ndarray, load: np.ndarray, caps: np.ndarray, subset: tuple[int, ...]
) -> float:
    """The most demand the open places ``subset`` can serve within 15 minutes and their
    capacities: a transportation linear program per point and place (scipy HiGHS)."""
    pairs = [(i, j) for i in range(len(w)) for j in subset if m[i, j] <= 15.0]
    if not pairs:
        return 0.0
    c = -np.array([w[i] for i, _ in pairs])
    rows = [[1.0 if p[0] == i else 0.0 for p in pairs] for i in range(len(w))]
    rows += [[load[i] if jj == j else 0.0 for i, jj in pairs] for j in subset]
    b = [1.0] * len(w) + [float(caps[j]) for j in subset]
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(b), bounds=(0, 1), method="highs")
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize(("seed", "share"), [(3, None), (8, None), (21, None), (5, 0.6)])
def test_capacitated_budget_mclp_matches_brute_force(seed: int, share: float | None) -> None:
    """Per point (exact_capacity) with loads that vary per child; with one engaged share
    for every child (``share``) the default merge by coverage row is exact as well."""
    rng = np.random.default_rng(seed)
    homes = rng.uniform(0, 2500, (30, 2))
    places = rng.uniform(0, 2500, (7, 2))
    m = np.hypot(*(homes[:, None, :] - places[None, :, :]).transpose(2, 0, 1)) / 80.0
    w = rng.integers(1, 6, 30).astype(float)
    load = w * (rng.uniform(0.2, 1.0, 30) if share is None else share)
    caps = rng.integers(2, 12, 7).astype(float)
    costs = rng.integers(20, 80, 7).astype(float) * 1000
    budget = 150_000.0
    ids = tuple(f"p{j}" for j in range(7))
    best, best_cost = -1.0, np.inf
    for k in range(8):
        for sub in itertools.combinations(range(7), k):
            cost = float(costs[list(sub)].sum())
            if cost > budget:
                continue
            s = served_by(m, w, load, caps, sub)
            if s > best + 1e-6 or (abs(s - best) <= 1e-6 and cost < best_cost):
                best, best_cost = s, cost
    got = best_for_budget(
        m, w, ids, costs, budget, capacities=caps, load=load, exact_capacity=share is None
    )
    assert got.served_demand == pytest.approx(best, abs=1e-4)
    assert got.cost_per_year == pytest.approx(best_cost)
    idx = tuple(ids.index(p) for p in got.open_places)
    assert served_by(m, w, load, caps, idx) == pytest.approx(best, abs=1e-4)


def test_capacity_changes_the_optimal_set_on_a_random_instance() -> None:
    # the planted fact on seed 3's instance: without capacities the best set differs
    rng = np.random.default_rng(3)
    homes = rng.uniform(0, 2500, (30, 2))
    places = rng.uniform(0, 2500, (7, 2))
    m = np.hypot(*(homes[:, None, :] - places[None, :, :]).transpose(2, 0, 1)) / 80.0
    w = rng.integers(1, 6, 30).astype(float)
    load = w * rng.uniform(0.2, 1.0, 30)
    caps = rng.integers(2, 12, 7).astype(float)
    costs = rng.integers(20, 80, 7).astype(float) * 1000
    ids = tuple(f"p{j}" for j in range(7))
    free = best_for_budget(m, w, ids, costs, 150_000.0)
    capped = best_for_budget(m, w, ids, costs, 150_000.0, capacities=caps, load=load)
    assert free.open_places != capped.open_places
    assert capped.served_demand is not None and capped.served_demand < free.covered_demand


def test_bad_capacities_are_one_line_errors() -> None:
    m = np.array([[5.0, 30.0]])
    with pytest.raises(DataError, match="one capacity of 0 or more per place"):
        best_for_budget(m, np.ones(1), ("A", "B"), np.ones(2), 1.0, capacities=np.ones(3))
    with pytest.raises(DataError, match="one load of 0 or more per demand point"):
        best_for_budget(
            m, np.ones(1), ("A", "B"), np.ones(2), 1.0, capacities=np.ones(2), load=-np.ones(1)
        )


@pytest.mark.parametrize("seed", [3, 6, 13])
def test_capacitated_keep_check_matches_brute_force(seed: int) -> None:
    """The 90% check with capacity: the cheapest subset keeping at least as many children
    within 15 minutes as the three dearest places ("today") do, and at least as much load
    served within the capacities (each subset's served load by scipy's linprog, as
    ``served_by`` above). On these seeds capacity changes the answer: the uncapacitated
    cheapest set keeping the children is cheaper and serves less than today."""
    rng = np.random.default_rng(seed)
    homes = rng.uniform(0, 2500, (30, 2))
    places = rng.uniform(0, 2500, (7, 2))
    m = np.hypot(*(homes[:, None, :] - places[None, :, :]).transpose(2, 0, 1)) / 80.0
    kids = rng.integers(1, 6, 30).astype(float)
    load = kids * 0.5  # one engaged share: the merge by coverage row is exact
    caps = rng.integers(2, 12, 7).astype(float)
    costs = rng.integers(20, 80, 7).astype(float) * 1000
    today = tuple(int(j) for j in np.argsort(-costs)[:3])
    keep_n = float(kids[(m[:, today] <= 15).any(axis=1)].sum())
    keep_s = served_by(m, load, load, caps, today)
    best: tuple[float, tuple[int, ...]] | None = None
    for k in range(8):
        for sub in itertools.combinations(range(7), k):
            n = float(kids[(m[:, list(sub)] <= 15).any(axis=1)].sum()) if sub else 0.0
            if n < keep_n or served_by(m, load, load, caps, sub) < keep_s - 1e-6:
                continue
            cost = float(costs[list(sub)].sum())
            if best is None or cost < best[0]:
                best = (cost, sub)
    assert best is not None
    got = cheapest_keeping_capacitated(
        m, kids, load, caps, costs, keep_n, keep_s, radius=15.0, time_limit_s=60, gap=0.0
    )
    assert got is not None
    assert float(costs[got.open_idx].sum()) == pytest.approx(best[0])
    assert got.served >= keep_s - 1e-6
    assert served_by_places(m, load, load, caps, got.open_idx, 15.0) == pytest.approx(
        served_by(m, load, load, caps, tuple(got.open_idx))
    )
    ids = [f"p{j}" for j in range(7)]
    free = cheapest_keeping(m, kids, ids, costs, keep_n, 1e9)
    assert free.choice is not None and (free.choice.cost_per_year or 0) < best[0]
    free_idx = tuple(ids.index(p) for p in free.choice.open_places)
    assert served_by(m, load, load, caps, free_idx) < keep_s - 1e-6
    # asking for more than every place can serve: no set, said as None
    none = cheapest_keeping_capacitated(
        m, kids, load, caps, costs, keep_n, caps.sum() + 1, radius=15.0, time_limit_s=60
    )
    assert none is None
