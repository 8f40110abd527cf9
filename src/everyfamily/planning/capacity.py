"""Capacity in the optimiser: a capacitated covering model for the budgeted MCLP
(:func:`everyfamily.planning.optimise.best_for_budget` with ``capacities``), and the
demand a given set of open places can serve (:func:`served_by_places`, for what-if
scenarios).

A place can take no more than its capacity (a site's sessions per week x places per
session, ``config/planning.py``); demand within reach of an open place counts only as far
as it can be assigned to one with room. spopt 0.7's MCLP has no capacities (its p-median
has: ``optimise.p_median``), and its models fix the number of places, not a budget, so the
model is written here as sparse matrices and solved with HiGHS (Huangfu & Hall 2018,
Mathematical Programming Computation 10:119) through :func:`scipy.optimize.milp`: on the
bench's Knowsley-size instance (3,200 home points x 72 places, capacity binding) HiGHS
proves a 0.1% gap in about 4 s where CBC (PuLP) found no proven solution in 60 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from everyfamily.errors import DataError, PlanningError

#: Relative optimality gap a capacitated solve stops at (HiGHS ``mip_rel_gap``): the set
#: found serves at least (1 - gap) x the most any set within the budget could serve.
DEFAULT_GAP = 0.001


def capacity_inputs(
    capacities: np.ndarray, load: np.ndarray | None, w: np.ndarray, n_places: int
) -> tuple[np.ndarray, np.ndarray]:
    """Checked capacities (one per place, 0 or more) and load per point (default: demand)."""
    caps = np.asarray(capacities, dtype="float64")
    if caps.shape != (n_places,) or np.isnan(caps).any() or (caps < 0).any():
        raise DataError("planning: one capacity of 0 or more per place is needed")
    ld = w if load is None else np.asarray(load, dtype="float64")
    if ld.shape != w.shape or np.isnan(ld).any() or (ld < 0).any():
        raise DataError("planning: one load of 0 or more per demand point is needed")
    return caps, ld


@dataclass(frozen=True)
class CapacitatedSolution:
    """A capacitated solve: the open places (indices), the demand they serve, whether
    HiGHS proved the set within ``gap`` of the best possible, the gap it proved (None when
    it stopped at the time limit without a bound) and its seconds."""

    open_idx: np.ndarray
    served: float
    proven: bool
    gap: float | None
    seconds: float


@dataclass(frozen=True)
class _Model:
    """The merged demand points' coverage pairs (row i, place j), demand and load."""

    ii: np.ndarray
    jj: np.ndarray
    pw: np.ndarray
    pl: np.ndarray
    n_places: int


def _merged(m: np.ndarray, w: np.ndarray, load: np.ndarray, radius: float, exact: bool) -> _Model:
    """Points with the same coverage row merged, their demand and load summed, so a merged
    point's children are served in proportion (Hillsman & Rhoda 1978 on aggregation
    error): exact where the points' demand per unit of load is the same, otherwise an
    approximation that makes the model small (a few hundred coverage rows for thousands
    of home points). With ``exact`` only points with the same row and the same demand per
    unit of load merge."""
    a = m <= radius
    keep = a.any(axis=1) & (w > 0)
    ratio = np.where(load > 0, w / np.where(load > 0, load, 1.0), np.inf)
    key = a[keep].astype("float64")
    if exact:
        key = np.column_stack([key, np.round(ratio[keep], 9)])
    if key.shape[0] == 0:
        empty = np.zeros(0, dtype=int)
        return _Model(empty, empty, np.zeros(0), np.zeros(0), m.shape[1])
    rows, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pw = np.bincount(inv, weights=w[keep], minlength=len(rows))
    pl = np.bincount(inv, weights=load[keep], minlength=len(rows))
    ii, jj = np.nonzero(rows[:, : m.shape[1]] > 0.5)
    return _Model(ii, jj, pw, pl, m.shape[1])


def _constraints(mod: _Model, caps: np.ndarray, extra: int = 0) -> list[Any]:
    """x_j (places, first) then z_k per coverage pair k = (i, j): sum_j z_ij <= 1;
    z_ij <= x_j; sum_i load_i z_ij <= cap_j x_j (Current & Storbeck 1988); ``extra``
    variables after them take no part."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    p, nz = mod.n_places, len(mod.ii)
    nv, k = p + nz + extra, np.arange(nz)
    one = sparse.csr_matrix((np.ones(nz), (mod.ii, p + k)), shape=(len(mod.pw), nv))
    open_ = sparse.csr_matrix(
        (np.r_[np.ones(nz), -np.ones(nz)], (np.r_[k, k], np.r_[p + k, mod.jj])), shape=(nz, nv)
    )
    cap = sparse.csr_matrix(
        (np.r_[mod.pl[mod.ii], -caps], (np.r_[mod.jj, np.arange(p)], np.r_[p + k, np.arange(p)])),
        shape=(p, nv),
    )
    return [
        LinearConstraint(one, -np.inf, 1.0),
        LinearConstraint(open_, -np.inf, 0.0),
        LinearConstraint(cap, -np.inf, 0.0),
    ]


def solve_milp(
    c: np.ndarray,
    cons: list[object],
    integ: np.ndarray,
    lb: np.ndarray,
    time_limit_s: float,
    gap: float,
    what: str,
    *,
    relax: str = "raise the budget or free fixed sites",
    capacitated: bool = True,
    ub: np.ndarray | None = None,
) -> tuple[np.ndarray, bool, float | None]:
    """One HiGHS solve (minimise c.x, variables in [lb, ub], ub 1 unless given): (x, proven
    within gap, the gap proved), or a one-line PlanningError saying what to relax
    (``relax``; with ``capacitated``, turning capacity off as well)."""
    from scipy.optimize import Bounds, milp

    res = milp(
        c,
        constraints=cons,
        integrality=integ,
        bounds=Bounds(lb, np.ones(len(c)) if ub is None else ub),
        options={"time_limit": time_limit_s, "mip_rel_gap": gap, "disp": False},
    )
    got_gap = getattr(res, "mip_gap", None)
    got_gap = float(got_gap) if got_gap is not None and np.isfinite(got_gap) else None
    if res.x is not None and res.status in (0, 1):
        return np.asarray(res.x), res.status == 0, got_gap
    off = " or turn planning.capacitated off" if capacitated else ""
    if res.status == 2:
        raise PlanningError(f"planning: no site set satisfies the {what}", hint=relax + off)
    if res.status == 1:
        raise PlanningError(
            f"planning: the solver found no site set for the {what} within {time_limit_s:g} s",
            hint="raise the time limit (planning.solver_time_limit_seconds), offer fewer "
            "candidate venues, group home points (e.g. by postcode)" + off,
        )
    raise PlanningError(
        f"planning: the solver failed on the {what} (HiGHS status {res.status})",
        hint=relax + off,
    )


def solve_capacitated(
    m: np.ndarray,
    w: np.ndarray,
    load: np.ndarray,
    caps: np.ndarray,
    costs: np.ndarray,
    budget: float,
    *,
    radius: float,
    fixed: np.ndarray,
    time_limit_s: float,
    gap: float = DEFAULT_GAP,
    exact: bool = False,
) -> CapacitatedSolution:
    """The capacitated covering model under a budget (Current & Storbeck 1988, "Capacitated
    covering models", Environment and Planning B 15:153; Pirkul & Schilling 1991): x_j open
    or not; z_ij the share of point i's children assigned to place j, only where j covers
    i; sum_j z_ij <= 1; z_ij <= x_j; sum_i load_i z_ij <= cap_j x_j; sum_j c_j x_j <= B;
    x_j = 1 where ``fixed``. Maximise the served demand sum_ij w_i z_ij to within ``gap``
    (HiGHS's proved bound); then each open place that is not fixed, dearest first, is
    closed when the others serve as much without it (:func:`_drop_idle`: a cheaper set
    serving the same; a second "cheapest set serving as much" MIP, as the uncapacitated
    budgeted MCLP does, found no set in 60 s on the bench). Demand points are merged by
    coverage row first (:func:`_merged`)."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    t0 = time.perf_counter()
    mod = _merged(m, w, load, radius, exact)
    p, nz = mod.n_places, len(mod.ii)
    cons = _constraints(mod, caps)
    cost_row = sparse.csr_matrix(np.r_[costs, np.zeros(nz)][None, :])
    integ = np.r_[np.ones(p), np.zeros(nz)]
    lb = np.r_[np.asarray(fixed, dtype="float64"), np.zeros(nz)]
    served_c = np.r_[np.zeros(p), mod.pw[mod.ii]]
    budget_c = LinearConstraint(cost_row, -np.inf, budget)
    x, proven, got = solve_milp(
        -served_c, [*cons, budget_c], integ, lb, time_limit_s, gap, "budget with capacities"
    )
    idx = np.flatnonzero(x[:p] > 0.5)
    # the served demand of the set, by the linear program with x fixed (no MIP tolerance)
    served = _served(mod, caps, idx)
    idx, served = _drop_idle(mod, caps, costs, idx, served, fixed)
    return CapacitatedSolution(idx, served, proven, got, time.perf_counter() - t0)


def _drop_idle(
    mod: _Model,
    caps: np.ndarray,
    costs: np.ndarray,
    idx: np.ndarray,
    served: float,
    fixed: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Close, dearest first, each open place (not fixed) whose closing serves no less."""
    keep = [int(j) for j in idx]
    for j in sorted(keep, key=lambda k: -float(costs[k])):
        if fixed[j]:
            continue
        rest = np.array([k for k in keep if k != j], dtype=int)
        got = _served(mod, caps, rest)
        if got >= served - 1e-9 * max(served, 1.0):
            keep, served = [int(k) for k in rest], got
    return np.array(keep, dtype=int), served


def _served(mod: _Model, caps: np.ndarray, open_idx: np.ndarray) -> float:
    """The transportation linear program of the merged model with the places fixed."""
    from scipy import sparse
    from scipy.optimize import linprog

    is_open = np.zeros(mod.n_places, dtype=bool)
    is_open[np.asarray(open_idx, dtype=int)] = True
    use = is_open[mod.jj]
    ii, jj = mod.ii[use], mod.jj[use]
    nz = len(ii)
    if nz == 0:
        return 0.0
    k = np.arange(nz)
    one = sparse.csr_matrix((np.ones(nz), (ii, k)), shape=(len(mod.pw), nz))
    cap = sparse.csr_matrix((mod.pl[ii], (jj, k)), shape=(mod.n_places, nz))
    res = linprog(
        -mod.pw[ii],
        A_ub=sparse.vstack([one, cap]).tocsr(),
        b_ub=np.r_[np.ones(len(mod.pw)), caps],
        bounds=(0, 1),
        method="highs",
    )
    if res.status != 0:
        raise PlanningError(
            "planning: the capacity of a scenario's places could not be worked out",
            hint="check the places' sessions and places per session",
        )
    return float(-res.fun)


def served_by_places(
    m: np.ndarray,
    w: np.ndarray,
    load: np.ndarray,
    caps: np.ndarray,
    open_idx: np.ndarray,
    radius: float,
    *,
    exact: bool = False,
) -> float:
    """The most demand the open places ``open_idx`` can serve within ``radius`` and their
    capacities: the capacitated model's transportation linear program with x fixed (HiGHS
    through :func:`scipy.optimize.linprog`), points merged by their coverage row over every
    place as :func:`solve_capacitated` merges them, so the optimiser's served demand and
    this agree for its set."""
    return _served(_merged(m, w, load, radius, exact), caps, open_idx)


def cheapest_keeping_capacitated(
    m: np.ndarray,
    children: np.ndarray,
    load: np.ndarray,
    caps: np.ndarray,
    costs: np.ndarray,
    keep_children: float,
    keep_served: float,
    *,
    radius: float,
    time_limit_s: float,
    gap: float = DEFAULT_GAP,
) -> CapacitatedSolution | None:
    """The cheapest set of places that keeps at least ``keep_children`` children within
    ``radius`` (the set-covering knapsack of ``optimise.cheapest_keeping``: y_r <= sum_j
    a_rj x_j per coverage row) and at least ``keep_served`` load served within the places'
    capacities (the capacitated model's z, :func:`_constraints`): the 90% check with
    capacity, so a set of small venues that covers the homes but has no room for the
    children does not pass. Solved with HiGHS to ``gap`` on the cost; ``served`` is the
    set's load served (linear program with x fixed). None when even every place open
    keeps fewer."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    t0 = time.perf_counter()
    mod = _merged(m, load, load, radius, exact=False)
    p, nz = mod.n_places, len(mod.ii)
    a = m <= radius
    keep = a.any(axis=1)
    reach_all = float(children[keep].sum())
    if reach_all < keep_children - 1e-9 or _served(mod, caps, np.arange(p)) < keep_served - 1e-6:
        return None
    rows, inv = np.unique(a[keep], axis=0, return_inverse=True)
    cw = np.bincount(inv.reshape(-1), weights=children[keep], minlength=len(rows))
    nr = len(rows)
    nv = p + nz + nr
    ri, rj = np.nonzero(rows)
    y = p + nz + np.arange(nr)
    cover = sparse.csr_matrix(
        (np.r_[np.ones(nr), -np.ones(len(ri))], (np.r_[np.arange(nr), ri], np.r_[y, rj])),
        shape=(nr, nv),
    )
    served_c = np.r_[np.zeros(p), mod.pl[mod.ii], np.zeros(nr)]
    cons = [
        *_constraints(mod, caps, extra=nr),
        LinearConstraint(cover, -np.inf, 0.0),
        LinearConstraint(
            sparse.csr_matrix(np.r_[np.zeros(p + nz), cw][None, :]), keep_children - 1e-9, np.inf
        ),
        LinearConstraint(sparse.csr_matrix(served_c[None, :]), keep_served - 1e-6, np.inf),
    ]
    x, proven, got = solve_milp(
        np.r_[costs, np.zeros(nz + nr)],
        cons,
        np.r_[np.ones(p), np.zeros(nz + nr)],
        np.zeros(nv),
        time_limit_s,
        gap,
        "coverage and capacity to keep",
    )
    idx = np.flatnonzero(x[:p] > 0.5)
    return CapacitatedSolution(idx, _served(mod, caps, idx), proven, got, time.perf_counter() - t0)
