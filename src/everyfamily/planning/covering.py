"""The uncapacitated covering solves of ``optimise.best_for_budget`` and
``optimise.cheapest_keeping``, in process with HiGHS (Huangfu & Hall 2018) through
:func:`scipy.optimize.milp`, on the distinct coverage rows of ``optimise.coverage_patterns``.

The models are those of the module docstring of optimise.py (Church & ReVelle 1974, section
5; Daskin 2013, 4.4): x_j open or not, y_r the covered share of coverage row r,
y_r <= sum_j a_rj x_j. PuLP wrote each model to a file and started CBC for each solve; on
the bench's 11-point marginal curve (22 solves) that overhead was most of the time. Solved
to optimality (``mip_rel_gap`` 0): covering models this size close at the root.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from everyfamily.planning.capacity import solve_milp


def _cover_rows(rows: np.ndarray) -> tuple[Any, int, int]:
    """y_r - sum_j a_rj x_j <= 0, over x (places, first) then y (rows)."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    nr, p = rows.shape
    ri, rj = np.nonzero(rows)
    a = sparse.csr_matrix(
        (
            np.r_[np.ones(nr), -np.ones(len(ri))],
            (np.r_[np.arange(nr), ri], np.r_[p + np.arange(nr), rj]),
        ),
        shape=(nr, p + nr),
    )
    return LinearConstraint(a, -np.inf, 0.0), p, nr


def budget_cover(
    rows: np.ndarray,
    pw: np.ndarray,
    costs: np.ndarray,
    budget: float,
    fixed: np.ndarray,
    time_limit_s: float,
) -> tuple[np.ndarray, bool]:
    """The places costing at most ``budget`` that cover the most demand ``pw`` of the rows,
    then (when that was proved) the cheapest set covering as much: (open indices, proven)."""
    import time

    from scipy import sparse
    from scipy.optimize import LinearConstraint

    t0 = time.perf_counter()
    cover, p, nr = _cover_rows(rows)
    integ = np.r_[np.ones(p), np.zeros(nr)]
    lb = np.r_[np.asarray(fixed, dtype="float64"), np.zeros(nr)]
    cost_c = np.r_[costs, np.zeros(nr)]
    served = np.r_[np.zeros(p), pw]
    cons = [cover, LinearConstraint(sparse.csr_matrix(cost_c[None, :]), -np.inf, budget)]
    relax = "raise the budget or free fixed sites"
    x, proven, _ = solve_milp(
        -served, cons, integ, lb, time_limit_s, 0.0, "budget", relax=relax, capacitated=False
    )
    best = float(served @ x)
    left = time_limit_s - (time.perf_counter() - t0)
    if proven and left > 0:
        as_much = LinearConstraint(
            sparse.csr_matrix(served[None, :]), best - 1e-6 * max(best, 1.0), np.inf
        )
        x2, proven, _ = solve_milp(
            cost_c, [*cons, as_much], integ, lb, left, 0.0, "budget", relax=relax, capacitated=False
        )
        if float(costs @ (x2[:p] > 0.5)) <= float(costs @ (x[:p] > 0.5)):
            x = x2
    return np.flatnonzero(x[:p] > 0.5), proven


def keep_cover(
    rows: np.ndarray,
    pw: np.ndarray,
    costs: np.ndarray,
    keep: float,
    fixed: np.ndarray,
    time_limit_s: float,
) -> tuple[np.ndarray, bool]:
    """The cheapest set of places covering at least ``keep`` of the rows' demand ``pw``
    (a set-covering knapsack): (open indices, proven)."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    cover, p, nr = _cover_rows(rows)
    kept = LinearConstraint(sparse.csr_matrix(np.r_[np.zeros(p), pw][None, :]), keep - 1e-9, np.inf)
    x, proven, _ = solve_milp(
        np.r_[costs, np.zeros(nr)],
        [cover, kept],
        np.r_[np.ones(p), np.zeros(nr)],
        np.r_[np.asarray(fixed, dtype="float64"), np.zeros(nr)],
        time_limit_s,
        0.0,
        "coverage to keep",
        relax="keep fewer children in reach",
        capacitated=False,
    )
    return np.flatnonzero(x[:p] > 0.5), proven


def near_far_round(
    mm: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    kk: np.ndarray,
    p: int,
    fixed: np.ndarray,
    time_limit_s: float,
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """One round of the near-far p-median (``optimise.p_median_near_far``, Church 2003):
    y_j open (binary, sum y = p, fixed ones 1); x_ij for the ``kk[i]`` nearest places of
    point i, x_ij <= y_j; a placeholder g_i costed at the (kk[i]+1)-th nearest walk where
    kk[i] < places; sum_j x_ij + g_i = 1; minimise the weighted minutes. Returns (open
    indices, the points whose placeholder is used, the objective, proven)."""
    from scipy import sparse
    from scipy.optimize import LinearConstraint

    n, n_pl = mm.shape
    pts = np.repeat(np.arange(n), kk)
    cols = np.concatenate([order[i, : kk[i]] for i in range(n)]) if n else np.zeros(0, int)
    nx = len(pts)
    has_g = np.flatnonzero(kk < n_pl)
    ng = len(has_g)
    nv = n_pl + nx + ng
    xv = n_pl + np.arange(nx)
    gv = n_pl + nx + np.arange(ng)
    link = sparse.csr_matrix(
        (np.r_[np.ones(nx), -np.ones(nx)], (np.r_[np.arange(nx), np.arange(nx)], np.r_[xv, cols])),
        shape=(nx, nv),
    )
    one = sparse.csr_matrix((np.ones(nx + ng), (np.r_[pts, has_g], np.r_[xv, gv])), shape=(n, nv))
    count = sparse.csr_matrix(np.r_[np.ones(n_pl), np.zeros(nx + ng)][None, :])
    far = mm[has_g, order[has_g, kk[has_g]]] if ng else np.zeros(0)
    c = np.r_[np.zeros(n_pl), w[pts] * mm[pts, cols], w[has_g] * far]
    x, proven, _ = solve_milp(
        c,
        [
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(one, 1.0, 1.0),
            LinearConstraint(count, float(p), float(p)),
        ],
        np.r_[np.ones(n_pl), np.zeros(nx + ng)],
        np.r_[np.asarray(fixed, dtype="float64"), np.zeros(nx + ng)],
        time_limit_s,
        1e-9,
        "p-median problem",
        relax="open more places",
        capacitated=False,
    )
    used = has_g[x[n_pl + nx :] > 1e-6] if ng else np.zeros(0, dtype=int)
    return np.flatnonzero(x[:n_pl] > 0.5), used, float(c @ x), proven
