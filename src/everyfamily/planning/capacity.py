"""Capacity in the optimiser: a capacitated covering model for the budgeted MCLP
(:func:`everyfamily.planning.optimise.best_for_budget` with ``capacities``).

A place can take no more than its capacity (a site's sessions per week x places per
session, ``config/planning.py``); demand within reach of an open place counts only as far
as it can be assigned to one with room. spopt 0.7's MCLP has no capacities (its p-median
has: ``optimise.p_median``), and its models fix the number of places, not a budget, so the
model is written in PuLP and solved with CBC like the other budgeted solves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from everyfamily.errors import DataError


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


def capacitated_model(
    m: np.ndarray,
    w: np.ndarray,
    load: np.ndarray,
    caps: np.ndarray,
    radius: float,
    *,
    exact: bool = False,
) -> tuple[Any, list[Any], Any]:
    """The capacitated covering model (Current & Storbeck 1988, "Capacitated covering
    models", Environment and Planning B 15:153; Pirkul & Schilling 1991): x_j open or not;
    z_ij the share of point i's children assigned to place j, only where j covers i;
    sum_j z_ij <= 1; z_ij <= x_j; sum_i load_i z_ij <= cap_j x_j. Served demand is
    sum_ij w_i z_ij. Points with the same coverage row are merged first, their demand and
    load summed, so a merged point's children are served in proportion (Hillsman & Rhoda
    1978 on aggregation error): exact where the points' demand per unit of load is the same,
    otherwise an approximation that makes the model small (a few hundred coverage rows for
    thousands of home points; per point, 3,200 x 72 gave CBC no solution in 60 s). With
    ``exact`` only points with the same row and the same demand per unit of load merge.
    spopt 0.7's MCLP has no capacities (only its p-median has), hence PuLP; returns the
    problem, x and the served demand expression."""
    import pulp

    a = m <= radius
    keep = a.any(axis=1) & (w > 0)
    ratio = np.where(load > 0, w / np.where(load > 0, load, 1.0), np.inf)
    key = a[keep].astype("float64")
    if exact:
        key = np.column_stack([key, np.round(ratio[keep], 9)])
    rows, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pw = np.bincount(inv, weights=w[keep], minlength=len(rows))
    pl = np.bincount(inv, weights=load[keep], minlength=len(rows))
    cover = rows[:, : m.shape[1]] > 0.5
    prob = pulp.LpProblem("capacitated_budget_mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{j}", cat="Binary") for j in range(m.shape[1])]
    z: dict[tuple[int, int], Any] = {}
    for i in range(len(rows)):
        near = [int(j) for j in np.flatnonzero(cover[i])]
        for j in near:
            z[i, j] = pulp.LpVariable(f"z_{i}_{j}", lowBound=0, upBound=1)
            prob += z[i, j] <= x[j], f"open_{i}_{j}"
        prob += pulp.lpSum(z[i, j] for j in near) <= 1, f"one_{i}"
    for k in range(m.shape[1]):
        mine = [float(pl[i]) * v for (i, jj), v in z.items() if jj == k]
        if mine:
            prob += pulp.lpSum(mine) <= float(caps[k]) * x[k], f"capacity_{k}"
    served = pulp.lpSum(float(pw[i]) * v for (i, _j), v in z.items())
    return prob, x, served
