"""Location-allocation against brute force on small planted instances (every subset tried)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from everyfamily.errors import PlanningError
from everyfamily.planning.optimise import (
    NeedWeights,
    best_for_budget,
    budget_steps,
    by_point,
    cheapest_keeping,
    coverage_patterns,
    marginal_curve,
    mclp,
    need_demand,
    p_median,
    p_median_near_far,
)

IDS = tuple(f"p{j}" for j in range(8))


def instance(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """60 home points and 8 places on a 3 km square; minutes at 80 m a minute; integer
    demand (so ties in coverage are exact) and costs in whole GBP 1,000s."""
    rng = np.random.default_rng(seed)
    homes = rng.uniform(0, 3000, (60, 2))
    places = rng.uniform(0, 3000, (8, 2))
    minutes = np.hypot(*(homes[:, None, :] - places[None, :, :]).transpose(2, 0, 1)) / 80.0
    demand = rng.integers(1, 6, 60).astype(float)
    costs = rng.integers(20, 120, 8).astype(float) * 1000
    return minutes, demand, costs


def covered(m: np.ndarray, w: np.ndarray, subset: tuple[int, ...], r: float = 15.0) -> float:
    return float(w[(m[:, list(subset)] <= r).any(axis=1)].sum()) if subset else 0.0


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_mclp_finds_the_brute_force_optimum(seed: int) -> None:
    m, w, _ = instance(seed)
    for p, fixed in ((3, ()), (4, ("p0", "p5"))):
        must = {IDS.index(f) for f in fixed}
        best = max(covered(m, w, s) for s in itertools.combinations(range(8), p) if must <= set(s))
        got = mclp(m, w, IDS, p, fixed=fixed)
        assert got.proven_optimal
        assert len(got.open_places) == p and set(fixed) <= set(got.open_places)
        assert got.covered_demand == best
        assert got.total_demand == w.sum()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_p_median_finds_the_brute_force_optimum(seed: int) -> None:
    m, w, _ = instance(seed)
    best = min(
        float((w * m[:, list(s)].min(axis=1)).sum()) for s in itertools.combinations(range(8), 3)
    )
    got = p_median(m, w, IDS, 3)
    assert got.weighted_minutes == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_budget_finds_the_most_coverage_then_the_cheapest(seed: int) -> None:
    m, w, c = instance(seed)
    budget = 150_000.0
    subsets = [s for k in range(9) for s in itertools.combinations(range(8), k)]
    feasible = [s for s in subsets if c[list(s)].sum() <= budget]
    best = max(covered(m, w, s) for s in feasible)
    cheapest = min(c[list(s)].sum() for s in feasible if covered(m, w, s) == best)
    got = best_for_budget(m, w, IDS, c, budget)
    assert got.covered_demand == best
    assert got.cost_per_year == cheapest
    assert got.cost_per_year is not None and got.cost_per_year <= budget


def test_budget_below_the_fixed_sites_says_what_to_relax() -> None:
    m, w, c = instance(1)
    with pytest.raises(PlanningError) as err:
        best_for_budget(m, w, IDS, c, 1_000.0, fixed=("p0",))
    msg = str(err.value)
    assert "more than the budget" in msg and "raise the budget" in msg and "\n" not in msg


def test_infeasible_capacities_give_a_one_line_error() -> None:
    m, w, _ = instance(2)
    caps = np.full(8, w.sum() / 10)  # 3 places can take 30% of the demand
    with pytest.raises(PlanningError, match="raise their capacities"):
        p_median(m, w, IDS, 3, capacities=caps)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cheapest_keeping_matches_brute_force_and_says_why_not(seed: int) -> None:
    m, w, c = instance(seed)
    today = (0, 1, 2, 3)
    keep = covered(m, w, today)
    subsets = [s for k in range(9) for s in itertools.combinations(range(8), k)]
    cheapest = min(c[list(s)].sum() for s in subsets if covered(m, w, s) >= keep)

    ok = cheapest_keeping(m, w, IDS, c, keep, budget=cheapest)
    assert ok.found and ok.choice is not None
    assert ok.choice.cost_per_year == cheapest and ok.choice.covered_demand >= keep

    no = cheapest_keeping(m, w, IDS, c, keep, budget=cheapest - 1_000)
    assert not no.found
    assert "more than the budget" in no.reason and f"{cheapest:,.0f}" in no.reason

    impossible = cheapest_keeping(m, w, IDS, c, w.sum() + 1, budget=1e9)
    assert not impossible.found and "even with every site and venue open" in impossible.reason


def test_marginal_curve_rises_with_the_budget() -> None:
    m, w, c = instance(3)
    steps = budget_steps(0, 200_000, 50_000)
    assert steps == (0.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0)
    curve = marginal_curve(m, w, IDS, c, steps)
    cov = [pt.covered for pt in curve]
    assert cov == sorted(cov)
    for pt in curve:
        subsets = [s for k in range(9) for s in itertools.combinations(range(8), k)]
        assert pt.covered == max(covered(m, w, s) for s in subsets if c[list(s)].sum() <= pt.budget)


def test_need_weights_and_points() -> None:
    d = need_demand(
        np.array([1, 0, 1]), np.array([1, 1, 0]), None, NeedWeights(unreached=2.0, deprived=0.5)
    )
    assert d.tolist() == [3.5, 1.5, 3.0]
    labels, sums = by_point(["L1 1AA", "L1 1AB", "L1 1AA"], d)
    assert labels.tolist() == ["L1 1AA", "L1 1AB"] and sums.tolist() == [6.5, 1.5]


@pytest.mark.parametrize(("seed", "k"), [(1, 1), (2, 2), (3, 5), (4, 8)])
def test_near_far_p_median_is_exact(seed: int, k: int) -> None:
    m, w, _ = instance(seed)
    m[0, :4] = np.inf  # a point that cannot reach half the places
    big = 10.0 * m[np.isfinite(m)].max()
    mm = np.where(np.isfinite(m), m, big)
    best = min(
        float((w * mm[:, list(s)].min(axis=1)).sum())
        for s in itertools.combinations(range(8), 3)
        if 5 in s
    )
    got = p_median_near_far(m, w, IDS, 3, k=k, fixed=("p5",))
    assert got.weighted_minutes == pytest.approx(best, rel=1e-6)
    assert "p5" in got.open_places and len(got.open_places) == 3


def test_coverage_patterns_merge_points_covered_by_the_same_places() -> None:
    m = np.array([[5.0, 30.0], [10.0, 40.0], [5.0, 5.0], [30.0, 30.0]])
    rows, w = coverage_patterns(m, np.array([1.0, 2.0, 4.0, 8.0]), 15.0)
    got = {tuple(bool(v) for v in r): float(x) for r, x in zip(rows, w, strict=True)}
    # points 0 and 1 are covered by the first place only; point 3 by none (left out)
    assert got == {(True, False): 3.0, (True, True): 4.0}


def test_aggregate_points_merges_identical_rows_exactly() -> None:
    """Three points, two with the same walking row: two points, demands 3+4 and 5."""
    from everyfamily.planning.optimise import aggregate_points

    m = np.array([[5.0, np.inf], [5.0, np.inf], [7.0, 2.0]])
    agg = aggregate_points(m, np.array([3.0, 4.0, 5.0]))
    assert sorted(agg.demand.tolist()) == [5.0, 7.0]
    row = agg.minutes[agg.group[0]]
    assert row[0] == 5.0 and np.isinf(row[1])
    assert agg.group[0] == agg.group[1] != agg.group[2]


def test_aggregate_points_by_label_takes_demand_weighted_minutes() -> None:
    """Label a: walks 10 (demand 1) and 20 (demand 3) -> (10 + 60) / 4 = 17.5; a point with
    no path to place 2 leaves the mean over those with one; zero demand is dropped."""
    from everyfamily.planning.optimise import aggregate_points

    m = np.array([[10.0, np.inf], [20.0, 4.0], [1.0, 1.0]])
    agg = aggregate_points(m, np.array([1.0, 3.0, 0.0]), labels=["a", "a", "b"])
    assert agg.minutes.shape == (1, 2)
    assert agg.minutes[0, 0] == pytest.approx(17.5)
    assert agg.minutes[0, 1] == pytest.approx(4.0)
    assert agg.demand.tolist() == [4.0]
    assert agg.group.tolist() == [0, 0, -1]
