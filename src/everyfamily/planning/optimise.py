"""Where to put services: location-allocation on the walking-time matrix.

- :func:`mclp`: the maximal covering location problem (Church & ReVelle 1974, Papers of the
  Regional Science Association 32:101) with PySAL spopt: open ``p`` places to cover the most
  demand within ``radius`` minutes; today's sites can be fixed open.
- :func:`p_median`: the p-median problem (Hakimi 1964, Operations Research 12:450; ReVelle &
  Swain 1970) with spopt: open ``p`` places to minimise total demand-weighted walking time,
  with place capacities where given (spopt's capacitated p-median).
- :func:`best_for_budget`: MCLP with a budget instead of a count. spopt 0.7's MCLP fixes the
  number of facilities (``p_facilities``), but places here differ in cost (a leased room in
  a library is not a children's centre building), so the budgeted form (the "budget-
  constrained MCLP", Church & ReVelle 1974 section 5; Daskin 2013, Network and Discrete
  Location, 4.4) is written directly (planning/covering.py, HiGHS): maximise sum_i w_i y_i
  subject to y_i <= sum_{j: d_ij <= r} x_j, sum_j c_j x_j <= B, x_j = 1 for fixed places, x binary,
  0 <= y <= 1 (y is integral at an optimum once x is). A second solve then finds the
  cheapest set that covers as much (the two-stage, lexicographic optimum).
- :func:`cheapest_keeping`: the cheapest set that keeps at least a given number of children
  within reach (a set-covering knapsack, HiGHS too): the question "can we keep everyone
  we reach today for less?" answered with a yes or with why not (HiGHS as well).
- :func:`marginal_curve`: children within reach at each budget (one budgeted solve each).

The MCLP and p-median solves use CBC as shipped inside PuLP (offline); the budgeted MCLP
and the cheapest set keeping a coverage use HiGHS in process (planning/covering.py), and the
capacitated model too (planning/capacity.py). A solver failure or time-out raises a
one-line :class:`PlanningError` saying what to relax.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.errors import DataError, PlanningError
from everyfamily.planning.capacity import DEFAULT_GAP, capacity_inputs, solve_capacitated
from everyfamily.planning.covering import budget_cover, keep_cover, near_far_round

#: Seconds CBC may take on one solve before the plan says what to relax.
TIME_LIMIT_S = 60.0


@dataclass(frozen=True)
class NeedWeights:
    """Demand per child = base + unreached x [not registered] + deprived x [in the most
    deprived areas] + emerging x [in an emerging community]; the project file sets them
    (next round). With every weight but ``base`` at 0, demand is simply children."""

    base: float = 1.0
    unreached: float = 1.0
    deprived: float = 1.0
    emerging: float = 1.0

    def __post_init__(self) -> None:
        for name in ("base", "unreached", "deprived", "emerging"):
            if not getattr(self, name) >= 0:
                raise DataError(f"planning: need weight {name!r} must be 0 or more")


def need_demand(
    unreached: np.ndarray,
    deprived: np.ndarray,
    emerging: np.ndarray | None,
    weights: NeedWeights,
) -> np.ndarray:
    """Each child's demand weight (see :class:`NeedWeights`); flags are booleans per child."""
    u = np.asarray(unreached, dtype=bool)
    d = np.asarray(deprived, dtype=bool)
    e = np.zeros(len(u), dtype=bool) if emerging is None else np.asarray(emerging, dtype=bool)
    return weights.base + weights.unreached * u + weights.deprived * d + weights.emerging * e


def by_point(point: Sequence[object], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum per-child values to home points (children at one postcode share a row of the
    matrix): returns (point labels in first-seen order, sums)."""
    codes, uniques = pd.factorize(pd.Series(list(point), dtype="object"), sort=False)
    sums = np.bincount(codes, weights=np.asarray(values, dtype="float64"), minlength=len(uniques))
    return np.asarray(uniques, dtype=object), sums


@dataclass(frozen=True)
class Aggregated:
    """Demand points merged for a solver: ``minutes`` (groups x places), ``demand`` per
    group, and ``group`` (each original point's group, to map a solution back)."""

    minutes: np.ndarray
    demand: np.ndarray
    group: np.ndarray


def aggregate_points(
    minutes: np.ndarray, demand: np.ndarray, labels: Sequence[object] | None = None
) -> Aggregated:
    """Merge demand points before a solve (Hillsman & Rhoda 1978, Environment and Planning
    A 10:1239, on the error this brings). Points with the same walking-time row become one
    point carrying their summed demand (exact: no solution changes). With ``labels`` (an
    output area, a grid cell: any label per point) the points of one label become one point
    at their demand-weighted mean minutes (approximate: a walk moves by at most the spread
    of minutes within the label; a label whose points all have no path stays unreachable).
    Points with no demand are dropped."""
    m, w = np.asarray(minutes, dtype="float64"), np.asarray(demand, dtype="float64")
    if m.ndim != 2 or m.shape[0] != len(w):
        raise DataError(f"planning: matrix {m.shape} does not match {len(w)} demand points")
    if labels is None:
        key = np.where(np.isfinite(m), m, -1.0)
        _, group = np.unique(key, axis=0, return_inverse=True)
    else:
        if len(labels) != len(w):
            raise DataError("planning: one label per demand point is needed")
        group, _ = pd.factorize(pd.Series(list(labels), dtype="object"), sort=True)
    group = np.asarray(group).reshape(-1)
    n = int(group.max()) + 1 if len(group) else 0
    tot = np.bincount(group, weights=w, minlength=n)
    # weighted mean minutes per group, over the points with a path (inf where none has)
    fin = np.isfinite(m)
    ww = np.where(w > 0, w, 1e-12)[:, None] * fin
    num = np.zeros((n, m.shape[1]))
    den = np.zeros((n, m.shape[1]))
    np.add.at(num, group, np.where(fin, m, 0.0) * ww)
    np.add.at(den, group, ww)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg = np.where(den > 0, num / den, np.inf)
    keep = tot > 0
    remap = np.cumsum(keep) - 1
    return Aggregated(agg[keep], tot[keep], np.where(keep[group], remap[group], -1))


@dataclass(frozen=True)
class SiteChoice:
    """An optimised set of places and what it achieves."""

    method: str  # 'mclp', 'p-median', 'budget-mclp', 'cheapest-keeping'
    open_places: tuple[str, ...]
    covered_demand: float  # demand within the radius of an open place
    total_demand: float
    cost_per_year: float | None
    weighted_minutes: float | None  # p-median: total demand-weighted walking minutes
    proven_optimal: bool  # False: the best found before the time limit
    seconds: float
    #: capacitated solves: the demand the open places can take within their capacities
    #: (each point's children assigned to covering places, no place over its places)
    served_demand: float | None = None
    #: capacitated solves: the relative gap HiGHS proved (the set serves at least
    #: (1 - gap) x the best possible); None when not proved or not capacitated
    optimality_gap: float | None = None


def _choice(
    method: str,
    place_ids: Sequence[str],
    m: np.ndarray,
    w: np.ndarray,
    idx: np.ndarray,
    radius: float,
    proven: bool,
    t0: float,
    *,
    cost: float | None = None,
    minutes: float | None = None,
) -> SiteChoice:
    """The SiteChoice of the chosen places ``idx``: their ids, the demand they cover and the
    seconds since ``t0``."""
    return SiteChoice(
        method,
        tuple(place_ids[j] for j in idx),
        _covered(m, w, idx, radius),
        float(w.sum()),
        cost,
        minutes,
        proven,
        time.perf_counter() - t0,
    )


@dataclass(frozen=True)
class KeepOutcome:
    """Whether the children within reach today can all be kept for a given budget."""

    found: bool
    choice: SiteChoice | None
    reason: str


@dataclass(frozen=True)
class CurvePoint:
    budget: float
    covered: float
    open_places: tuple[str, ...]
    cost_per_year: float


# --- helpers ----------------------------------------------------------------------------


def _check(
    minutes: np.ndarray, demand: np.ndarray, place_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(minutes, dtype="float64")
    w = np.asarray(demand, dtype="float64")
    if m.ndim != 2 or m.shape[0] != len(w) or m.shape[1] != len(place_ids):
        raise DataError(
            f"planning: matrix {m.shape} does not match {len(w)} demand points x "
            f"{len(place_ids)} places"
        )
    if np.isnan(m).any() or np.isnan(w).any() or (w < 0).any():
        raise DataError("planning: missing minutes or negative demand in the optimisation")
    return m, w


def _fixed_mask(place_ids: Sequence[str], fixed: Sequence[str]) -> np.ndarray:
    ids = list(place_ids)
    unknown = [f for f in fixed if f not in ids]
    if unknown:
        raise DataError(f"planning: fixed place {unknown[0]!r} is not in the matrix")
    return np.isin(np.asarray(ids, dtype=object), np.asarray(list(fixed), dtype=object))


def _solver(time_limit_s: float) -> Any:
    import pulp

    return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)


def _status(problem: Any, what: str, time_limit_s: float, relax: str) -> bool:
    """Turn PuLP's status into a proven-optimal flag, or a one-line PlanningError. CBC
    stopped by its time limit before it has a set can report the problem infeasible (seen
    with limits of a few milliseconds): a solve that used its whole time is a time-out."""
    import pulp

    status = problem.status
    sol = getattr(problem, "sol_status", None)
    if status == pulp.LpStatusOptimal:
        return bool(sol != pulp.LpSolutionIntegerFeasible)
    used = float(getattr(problem, "solutionTime", 0.0) or 0.0)
    timed_out = status == pulp.LpStatusNotSolved or used >= 0.9 * time_limit_s
    if timed_out:
        raise PlanningError(
            f"planning: the solver found no site set for the {what} within {time_limit_s:g} s",
            hint="raise the time limit (planning.solver_time_limit_seconds), offer fewer "
            "candidate venues, or group home points (e.g. by postcode)",
        )
    if status == pulp.LpStatusInfeasible:
        raise PlanningError(f"planning: no site set satisfies the {what}", hint=relax)
    raise PlanningError(
        f"planning: the solver failed on the {what} ({pulp.LpStatus.get(status, status)})",
        hint=relax,
    )


def _covered(m: np.ndarray, w: np.ndarray, open_idx: np.ndarray, radius: float) -> float:
    if len(open_idx) == 0:
        return 0.0
    return float(w[(m[:, open_idx] <= radius).any(axis=1)].sum())


def _chosen(vars_: Sequence[Any]) -> np.ndarray:
    return np.array([j for j, v in enumerate(vars_) if (v.value() or 0) > 0.5], dtype=int)


def coverage_patterns(m: np.ndarray, w: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Home points that the same places cover are one demand point for a covering problem:
    returns the distinct coverage rows (points x places, booleans) that some place covers,
    and the summed demand of each. An exact reduction (the covering objective depends on a
    point only through its row), and a large one: thousands of home points share a few
    hundred rows."""
    a = m <= radius
    keep = a.any(axis=1)
    if not keep.any():
        return np.zeros((0, m.shape[1]), dtype=bool), np.zeros(0)
    rows, inverse = np.unique(a[keep], axis=0, return_inverse=True)
    return rows, np.bincount(inverse.reshape(-1), weights=w[keep], minlength=len(rows))


# --- spopt: MCLP and p-median -------------------------------------------------------------


def mclp(
    minutes: np.ndarray,
    demand: np.ndarray,
    place_ids: Sequence[str],
    p: int,
    *,
    radius: float = 15.0,
    fixed: Sequence[str] = (),
    time_limit_s: float = TIME_LIMIT_S,
) -> SiteChoice:
    """Open ``p`` places to cover the most demand within ``radius`` minutes (spopt MCLP);
    ``fixed`` places stay open (spopt's predefined facilities). spopt 0.7's MCLP has no
    capacities; use :func:`p_median` for a capacitated allocation."""
    from spopt.locate import MCLP

    m, w = _check(minutes, demand, place_ids)
    mask = _fixed_mask(place_ids, fixed)
    if not 1 <= p <= len(place_ids):
        raise PlanningError(
            f"planning: cannot open {p} of {len(place_ids)} places",
            hint="ask for between 1 and the number of places",
        )
    if mask.sum() > p:
        raise PlanningError(
            f"planning: {int(mask.sum())} places are fixed open but only {p} may open",
            hint="raise the number of places or fix fewer",
        )
    t0 = time.perf_counter()
    rows, rw = coverage_patterns(m, w, radius)
    if len(rw) == 0:
        raise PlanningError(
            f"planning: no home point is within {radius:g} minutes of any place",
            hint="raise the walking radius or add places",
        )
    model = MCLP.from_cost_matrix(
        np.where(rows, 0.0, radius + 1.0),
        rw,
        radius,
        p,
        predefined_facilities_arr=mask.astype(int) if mask.any() else None,
    )
    with contextlib.suppress(RuntimeError):  # spopt's check_status: our one-line error below
        model.solve(_solver(time_limit_s), results=False)
    proven = _status(model.problem, "covering problem", time_limit_s, "open more places")
    idx = _chosen(model.fac_vars)
    return _choice("mclp", place_ids, m, w, idx, radius, proven, t0)


def p_median(
    minutes: np.ndarray,
    demand: np.ndarray,
    place_ids: Sequence[str],
    p: int,
    *,
    fixed: Sequence[str] = (),
    capacities: np.ndarray | None = None,
    radius: float = 15.0,
    time_limit_s: float = TIME_LIMIT_S,
) -> SiteChoice:
    """Open ``p`` places to minimise total demand-weighted walking minutes (spopt PMedian),
    each demand point assigned whole or in part to open places; ``capacities`` (same units
    as demand) caps what each place can take. A place no one can reach is given a walk of
    ten times the longest finite one (a linear program cannot hold infinity)."""
    from spopt.locate import PMedian
    from spopt.locate.base import SpecificationError

    m, w = _check(minutes, demand, place_ids)
    mask = _fixed_mask(place_ids, fixed)
    if not 1 <= p <= len(place_ids) or mask.sum() > p:
        raise PlanningError(
            f"planning: cannot open {p} of {len(place_ids)} places with {int(mask.sum())} fixed",
            hint="ask for at least as many places as are fixed, and no more than there are",
        )
    finite = m[np.isfinite(m)]
    big = 10.0 * (float(finite.max()) if finite.size else 1.0)
    mm = np.where(np.isfinite(m), m, big)
    caps = None if capacities is None else np.asarray(capacities, dtype="float64")
    if caps is not None and caps.shape != (len(place_ids),):
        raise DataError("planning: one capacity per place is needed")
    if caps is not None and np.sort(caps)[-p:].sum() < w.sum():
        raise PlanningError(
            f"planning: the {p} largest places can take {np.sort(caps)[-p:].sum():,.0f}, less "
            f"than the demand of {w.sum():,.0f}",
            hint="open more places or raise their capacities",
        )
    t0 = time.perf_counter()
    try:
        model = PMedian.from_cost_matrix(
            mm,
            w,
            p,
            predefined_facilities_arr=mask.astype(int) if mask.any() else None,
            facility_capacities=caps,
        )
    except SpecificationError as exc:  # spopt's own checks, e.g. fixed places over capacity
        raise PlanningError(
            f"planning: the p-median problem is infeasible as set ({exc})",
            hint="open more places or raise their capacities",
        ) from None
    with contextlib.suppress(RuntimeError):
        model.solve(_solver(time_limit_s), results=False)
    proven = _status(
        model.problem,
        "p-median problem",
        time_limit_s,
        "open more places or raise their capacities",
    )
    idx = _chosen(model.fac_vars)
    return _choice(
        "p-median",
        place_ids,
        m,
        w,
        idx,
        radius,
        proven,
        t0,
        minutes=float(model.problem.objective.value()),
    )


def p_median_near_far(
    minutes: np.ndarray,
    demand: np.ndarray,
    place_ids: Sequence[str],
    p: int,
    *,
    fixed: Sequence[str] = (),
    k: int = 5,
    radius: float = 15.0,
    time_limit_s: float = TIME_LIMIT_S,
) -> SiteChoice:
    """The uncapacitated p-median on a large matrix, exactly, with near-far cost allocation
    (Church 2003, Computers & OR 30:1497 "COBRA"; Church 2008, Computers & OR 35:1966
    "BEAMR"): each point may be assigned to its ``k`` nearest places, or to a placeholder
    costed at its (k+1)-th nearest walk, a lower bound on any farther assignment. When no
    placeholder is used the solution is optimal for the full problem; otherwise ``k`` grows
    for the points that used one and the model is solved again. spopt 0.7 has this model
    (``KNearestPMedian``) only for point geometries with straight-line distances, not for a
    walking-time matrix, hence our own (HiGHS, ``covering.near_far_round``); the full
    spopt ``PMedian`` (``p_median``) has one assignment variable per point and place and
    did not solve 3,200 x 72 in 60 s."""

    m, w = _check(minutes, demand, place_ids)
    mask = _fixed_mask(place_ids, fixed)
    n_pl = m.shape[1]
    if not 1 <= p <= n_pl or mask.sum() > p:
        raise PlanningError(
            f"planning: cannot open {p} of {n_pl} places with {int(mask.sum())} fixed",
            hint="ask for at least as many places as are fixed, and no more than there are",
        )
    finite = m[np.isfinite(m)]
    big = 10.0 * (float(finite.max()) if finite.size else 1.0)
    mm = np.where(np.isfinite(m), m, big)
    order = np.argsort(mm, axis=1, kind="stable")
    kk = np.full(len(w), min(max(k, 1), n_pl))
    t0 = time.perf_counter()
    proven = True
    while True:
        left = max(time_limit_s - (time.perf_counter() - t0), 1.0)
        idx, used, objective, ok = near_far_round(mm, w, order, kk, p, mask, left)
        proven = ok and proven
        if not len(used):
            break
        kk[used] = np.minimum(kk[used] * 2, n_pl)
    return _choice(
        "p-median",
        place_ids,
        m,
        w,
        idx,
        radius,
        proven,
        t0,
        minutes=objective,
    )


# --- budgets (HiGHS) ----------------------------------------------------------------------


def best_for_budget(
    minutes: np.ndarray,
    demand: np.ndarray,
    place_ids: Sequence[str],
    place_costs: np.ndarray,
    budget: float,
    *,
    radius: float = 15.0,
    fixed: Sequence[str] = (),
    time_limit_s: float = TIME_LIMIT_S,
    capacities: np.ndarray | None = None,
    load: np.ndarray | None = None,
    exact_capacity: bool = False,
    gap: float = DEFAULT_GAP,
) -> SiteChoice:
    """The places costing at most ``budget`` a year that cover the most demand within
    ``radius`` minutes, and among those the cheapest (budgeted MCLP with HiGHS; see the module
    docstring for why not spopt). ``place_costs`` are annual costs per place (a site's
    running and session costs, a venue's cost to use and its sessions). With
    ``capacities`` (per place, in the units of ``load``: places per week against each
    point's expected engaged children, say) demand counts only as far as it can be
    assigned to a covering open place with room (``capacity.solve_capacitated``, HiGHS,
    stopping at the relative ``gap``); ``load`` defaults to the demand itself; points that
    share a coverage row are served in proportion unless ``exact_capacity``."""

    m, w = _check(minutes, demand, place_ids)
    c = np.asarray(place_costs, dtype="float64")
    if c.shape != (len(place_ids),) or np.isnan(c).any() or (c < 0).any():
        raise DataError("planning: one annual cost of 0 or more per place is needed")
    mask = _fixed_mask(place_ids, fixed)
    fixed_cost = float(c[mask].sum())
    if fixed_cost > budget:
        raise PlanningError(
            f"planning: the places fixed open cost {fixed_cost:,.0f} a year, more than the "
            f"budget of {budget:,.0f}",
            hint="raise the budget or let some of today's sites close (fixed: none)",
        )
    t0 = time.perf_counter()
    if capacities is not None:
        caps, ld = capacity_inputs(capacities, load, w, len(place_ids))
        sol = solve_capacitated(
            m,
            w,
            ld,
            caps,
            c,
            budget,
            radius=radius,
            fixed=mask,
            time_limit_s=time_limit_s,
            gap=gap,
            exact=exact_capacity,
        )
        idx = sol.open_idx
        choice = _choice(
            "capacitated-budget-mclp",
            place_ids,
            m,
            w,
            idx,
            radius,
            sol.proven,
            t0,
            cost=float(c[idx].sum()),
        )
        return dataclasses.replace(
            choice, served_demand=sol.served, optimality_gap=sol.gap if sol.proven else None
        )
    rows, pw = coverage_patterns(m, w, radius)
    if len(pw) == 0:  # no one within reach of any place: only the fixed places open
        idx, proven = np.flatnonzero(mask), True
    else:
        idx, proven = budget_cover(rows, pw, c, budget, mask, time_limit_s)
    return _choice(
        "budget-mclp", place_ids, m, w, idx, radius, proven, t0, cost=float(c[idx].sum())
    )


def cheapest_keeping(
    minutes: np.ndarray,
    demand: np.ndarray,
    place_ids: Sequence[str],
    place_costs: np.ndarray,
    keep: float,
    budget: float,
    *,
    radius: float = 15.0,
    fixed: Sequence[str] = (),
    time_limit_s: float = TIME_LIMIT_S,
) -> KeepOutcome:
    """The cheapest set of places keeping at least ``keep`` demand within ``radius``
    minutes, and whether it fits ``budget``. When it does not, or no set keeps that many,
    the outcome says why in one sentence (the issue: "or the product says why none
    exists")."""

    m, w = _check(minutes, demand, place_ids)
    c = np.asarray(place_costs, dtype="float64")
    if c.shape != (len(place_ids),):
        raise DataError("planning: one annual cost per place is needed")
    mask = _fixed_mask(place_ids, fixed)
    reachable = float(w[(m <= radius).any(axis=1)].sum())
    if keep > reachable + 1e-9:
        return KeepOutcome(
            False,
            None,
            f"even with every site and venue open only {reachable:,.0f} are within "
            f"{radius:g} minutes, fewer than the {keep:,.0f} asked for",
        )
    t0 = time.perf_counter()
    rows, pw = coverage_patterns(m, w, radius)
    if len(pw) == 0 or keep <= 0:
        idx, proven = np.flatnonzero(mask), True
    else:
        idx, proven = keep_cover(rows, pw, c, keep, mask, time_limit_s)
    cost = float(c[idx].sum())
    choice = _choice("cheapest-keeping", place_ids, m, w, idx, radius, proven, t0, cost=cost)
    if cost <= budget + 1e-6:
        return KeepOutcome(
            True,
            choice,
            f"{len(idx)} places keep {choice.covered_demand:,.0f} within {radius:g} minutes "
            f"for {cost:,.0f} a year, within the budget of {budget:,.0f}",
        )
    return KeepOutcome(
        False,
        choice,
        f"the cheapest set keeping {keep:,.0f} within {radius:g} minutes costs {cost:,.0f} a "
        f"year, {cost - budget:,.0f} more than the budget of {budget:,.0f}"
        + ("" if proven else " (best found before the time limit)"),
    )


def budget_steps(low: float, high: float, step: float = 10_000.0) -> tuple[float, ...]:
    """Budgets from ``low`` to ``high`` in steps of ``step`` (GBP 10k by default)."""
    if step <= 0 or high < low:
        raise DataError("planning: budget steps need step > 0 and high >= low")
    n = int(np.floor((high - low) / step + 1e-9))
    return tuple(float(low + k * step) for k in range(n + 1))


def marginal_curve(
    minutes: np.ndarray,
    demand: np.ndarray,
    place_ids: Sequence[str],
    place_costs: np.ndarray,
    budgets: Sequence[float],
    *,
    radius: float = 15.0,
    fixed: Sequence[str] = (),
    time_limit_s: float = TIME_LIMIT_S,
) -> tuple[CurvePoint, ...]:
    """Demand within reach at each budget (the best set for each, solved afresh); the
    difference between neighbouring points is the children newly within reach per extra
    step of money. Budgets below the fixed places' cost are left out."""
    c = np.asarray(place_costs, dtype="float64")
    fixed_cost = float(c[_fixed_mask(place_ids, fixed)].sum())
    out: list[CurvePoint] = []
    for b in sorted(budgets):
        if b < fixed_cost:
            continue
        ch = best_for_budget(
            minutes,
            demand,
            place_ids,
            c,
            b,
            radius=radius,
            fixed=fixed,
            time_limit_s=time_limit_s,
        )
        out.append(CurvePoint(float(b), ch.covered_demand, ch.open_places, ch.cost_per_year or 0))
    return tuple(out)
