"""The best set of sites AND sessions for a budget: which places open and how many sessions
a week each runs, capacity = sessions x places per session, the budget paying for the
places (running cost, cost to use, one-off costs annualised) and for every session.

The capacitated covering model of :mod:`everyfamily.planning.capacity` (Current & Storbeck
1988, Environment and Planning B 15:153) with the capacity itself a decision, as in the
modular-capacity location models (Correia & Captivo 2003, Computers & OR 30:1311, "A
Lagrangean heuristic for a modular capacitated location problem"): x_j open or not; n_j
integer sessions a week, x_j <= n_j <= N_j x_j at a place that runs sessions; z_ij the
share of point i's children assigned to place j where j covers i; sum_j z_ij <= 1;
z_ij <= x_j; sum_i load_i z_ij <= P_j n_j + K_j x_j (P_j places per session; K_j the
fixed capacity of a place whose sessions are not chosen: one that lists none is not
limited); sum_j f_j x_j + sum_j u_j n_j <= B (f_j the place's cost without sessions, u_j a
session a week for a year). Maximise the served demand sum_ij w_i z_ij to within ``gap``;
then, among the places chosen, the cheapest places and sessions serving as much (a second
solve with x_j <= the first's x_j). HiGHS through :func:`scipy.optimize.milp`, as the
other covering models (planning/covering.py); spopt has no capacitated MCLP.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from everyfamily.config.planning import ServiceModel, Site
from everyfamily.errors import DataError, PlanningError
from everyfamily.planning.capacity import (
    DEFAULT_GAP,
    _constraints,
    _merged,
    _served,
    solve_milp,
)


@dataclass(frozen=True)
class SessionPlaces:
    """Per place (in the matrix's order): ``fixed_cost`` a year without sessions (may be
    below 0 for a site whose annualised closure cost is more than its running cost: closing
    it costs), ``session_cost`` of one session a week for a year, ``places_per_session``,
    ``max_sessions`` (0: its sessions are not chosen) and ``fixed_capacity`` (the capacity of
    a place whose sessions are not chosen); ``constant``: cost paid whatever opens (every
    site's annualised closure cost, taken back through ``fixed_cost`` when it stays open)."""

    fixed_cost: np.ndarray
    session_cost: np.ndarray
    places_per_session: np.ndarray
    max_sessions: np.ndarray
    fixed_capacity: np.ndarray
    constant: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.fixed_cost)
        for name in ("session_cost", "places_per_session", "max_sessions", "fixed_capacity"):
            a = np.asarray(getattr(self, name), dtype="float64")
            if a.shape != (n,) or not np.isfinite(a).all() or (a < 0).any():
                raise DataError(f"planning: one {name} of 0 or more per place is needed")
        if not np.isfinite(np.asarray(self.fixed_cost, dtype="float64")).all():
            raise DataError("planning: one finite fixed cost per place is needed")


@dataclass(frozen=True)
class SessionPlan:
    """The chosen places (indices), the sessions a week each runs (0 where its sessions are
    not chosen), the demand served, the cost a year (``constant`` included), whether HiGHS
    proved the first solve within the gap, the gap proved and the seconds taken."""

    open_idx: np.ndarray
    sessions: np.ndarray
    served: float
    cost: float
    proven: bool
    gap: float | None
    seconds: float


def session_places(
    model: ServiceModel,
    place_ids: Sequence[str],
    unlimited: float,
    *,
    choose: bool = True,
) -> SessionPlaces:
    """The service model's places for :func:`best_sites_and_sessions`: a place listing
    sessions and places per session has its sessions chosen (at most its
    ``max_sessions_per_week``, default the sessions it lists; at the mean cost of a session
    of its mix); one listing none keeps its cost and is not limited (``unlimited``), as in
    the capacitated model. With ``choose`` false every place runs its listed sessions."""
    years = model.one_off_years
    price = {t.name: t.cost_per_session for t in model.session_types}
    n = len(place_ids)
    f, u, pp, mx, cap = (np.zeros(n) for _ in range(5))
    constant = 0.0
    for j, pid in enumerate(place_ids):
        p = model.place(pid)
        listed = sum(p.sessions_per_week.values())
        one_off = -p.closure_cost / years if isinstance(p, Site) else p.setup_cost / years
        constant += p.closure_cost / years if isinstance(p, Site) else 0.0
        base = p.running_cost_per_year if isinstance(p, Site) else p.cost_to_use_per_year
        if choose and listed > 0 and p.places_per_session > 0:
            f[j] = base + one_off
            mean = sum(k * price[t] for t, k in p.sessions_per_week.items()) / listed
            u[j] = mean * model.weeks_per_year
            pp[j] = p.places_per_session
            mx[j] = np.floor(listed if p.max_sessions_per_week is None else p.max_sessions_per_week)
        else:
            f[j] = model.place_cost_per_year(pid) + one_off
            cap[j] = p.capacity_per_week if p.capacity_per_week > 0 else unlimited
    return SessionPlaces(f, u, pp, mx, cap, constant)


def best_sites_and_sessions(
    m: np.ndarray,
    w: np.ndarray,
    load: np.ndarray,
    places: SessionPlaces,
    budget: float,
    *,
    radius: float,
    fixed: np.ndarray,
    time_limit_s: float,
    gap: float = DEFAULT_GAP,
    cheapest: bool = True,
) -> SessionPlan:
    """The places and sessions a week costing at most ``budget`` a year (``places.constant``
    included) that serve the most demand ``w`` within ``radius`` minutes and the places'
    capacities (load ``load`` per point); then the cheapest places and sessions serving as
    much (module docstring; without ``cheapest`` only the first solve, for the marginal
    curve, which needs only the served demand). ``fixed`` places stay open."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    t0 = time.perf_counter()
    mod = _merged(m, w, load, radius, exact=False)
    p, nz = mod.n_places, len(mod.ii)
    nv = p + nz + p
    cons = _constraints(mod, places.fixed_capacity, extra=p)
    # the capacity row gains -P_j n_j; open needs a session (x_j <= n_j) and n_j <= N_j x_j
    chosen = places.max_sessions > 0
    nj = p + nz + np.arange(p)
    cap = cons[2].A + sparse.csr_matrix(
        (-places.places_per_session, (np.arange(p), nj)), shape=(p, nv)
    )
    cj = np.flatnonzero(chosen)
    link = sparse.csr_matrix(
        (
            np.r_[np.ones(len(cj)), -np.ones(len(cj)), -places.max_sessions[cj], np.ones(len(cj))],
            (
                np.r_[
                    np.arange(len(cj)),
                    np.arange(len(cj)),
                    len(cj) + np.arange(len(cj)),
                    len(cj) + np.arange(len(cj)),
                ],
                np.r_[cj, nj[cj], cj, nj[cj]],
            ),
        ),
        shape=(2 * len(cj), nv),
    )
    cost_c = np.r_[places.fixed_cost, np.zeros(nz), places.session_cost]
    cons = [
        cons[0],
        cons[1],
        LinearConstraint(cap, -np.inf, 0.0),
        LinearConstraint(sparse.csr_matrix(cost_c[None, :]), -np.inf, budget - places.constant),
    ]
    if len(cj):
        cons.append(LinearConstraint(link, -np.inf, 0.0))
    integ = np.r_[np.ones(p), np.zeros(nz), np.ones(p)]
    lb = np.r_[np.asarray(fixed, dtype="float64"), np.zeros(nz + p)]
    ub = np.r_[np.ones(p + nz), places.max_sessions]
    served_c = np.r_[np.zeros(p), mod.pw[mod.ii], np.zeros(p)]
    what = "budget with sessions and capacities"
    x, proven, got = solve_milp(-served_c, cons, integ, lb, time_limit_s, gap, what, ub=ub)
    best = float(served_c @ x)
    left = time_limit_s - (time.perf_counter() - t0)
    if cheapest and left > 0:
        as_much = LinearConstraint(
            sparse.csr_matrix(served_c[None, :]), best - 1e-7 * max(best, 1.0), np.inf
        )
        ub2 = np.r_[np.round(x[:p]), np.ones(nz), places.max_sessions]
        with contextlib.suppress(PlanningError):  # out of time: the first solve's set
            x2, _, _ = solve_milp(cost_c, [*cons, as_much], integ, lb, left, 1e-9, what, ub=ub2)
            if float(cost_c @ x2) <= float(cost_c @ x) + 1e-6:
                x = x2
    idx = np.flatnonzero(x[:p] > 0.5)
    sessions = np.where(chosen, np.round(x[p + nz :]), 0.0)
    caps = places.fixed_capacity + places.places_per_session * sessions
    served = _served(mod, caps, idx)
    cost = float(places.fixed_cost[idx].sum() + places.session_cost @ sessions) + places.constant
    return SessionPlan(idx, sessions, served, cost, proven, got, time.perf_counter() - t0)
