"""Access measures: the travel-time matrix, each origin's nearest site, travel-time bands,
the two-step floating catchment area and a model of expected reach. Pure functions over
arrays and frames (the stage does the reading and writing).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from everyfamily.access.network import Graph


@dataclass(frozen=True)
class Matrix:
    """Distances (metres) from origins (rows) to sites (columns) over the network, plus the
    straight-line distances for the detour ratio. A distance includes the straight walk from
    the point to the network (the snap) at both ends."""

    network_m: np.ndarray
    straight_m: np.ndarray
    site_ids: tuple[str, ...]


def travel_matrix(
    graph: Graph,
    ox: ArrayLike,
    oy: ArrayLike,
    sx: ArrayLike,
    sy: ArrayLike,
    site_ids: Iterable[Any],
    *,
    snap_cost_per_m: float = 1.0,
) -> Matrix:
    """Network and straight-line distances from every origin to every site.

    One Dijkstra pass per site over the whole network (scipy.sparse.csgraph), read at the
    origins' nodes: the cost does not grow with the number of origins. ``snap_cost_per_m``
    turns the straight walk to the network into the graph's weight (1 for a graph in
    metres; seconds per metre at walking pace for a driving graph in seconds)."""
    ox, oy = np.asarray(ox, dtype="float64"), np.asarray(oy, dtype="float64")
    sx, sy = np.asarray(sx, dtype="float64"), np.asarray(sy, dtype="float64")
    o_node, o_snap = graph.snap(ox, oy)
    s_node, s_snap = graph.snap(sx, sy)
    from_sites = graph.distances_from(s_node)  # sites x nodes
    net = from_sites[:, o_node].T + snap_cost_per_m * (o_snap[:, None] + s_snap[None, :])
    straight = np.hypot(
        np.asarray(ox, dtype="float64")[:, None] - np.asarray(sx, dtype="float64")[None, :],
        np.asarray(oy, dtype="float64")[:, None] - np.asarray(sy, dtype="float64")[None, :],
    )
    return Matrix(network_m=net, straight_m=straight, site_ids=tuple(str(s) for s in site_ids))


def nearest_site(m: Matrix) -> pd.DataFrame:
    """Per origin: the site nearest over the network, its network and straight-line
    distances, the site nearest in a straight line and the detour ratio to it (network over
    straight-line distance; 1 is a straight walk, 2 a walk twice as long as the crow flies).
    Exact ties go to the site listed first."""
    n = m.network_m
    k = np.argmin(np.where(np.isfinite(n), n, np.inf), axis=1)
    ks = np.argmin(m.straight_m, axis=1)
    rows = np.arange(n.shape[0])
    ids = np.asarray(m.site_ids, dtype=object)
    net_to_straight_nearest = n[rows, ks]
    straight_nearest = m.straight_m[rows, ks]
    with np.errstate(divide="ignore", invalid="ignore"):
        detour = np.where(straight_nearest > 0, net_to_straight_nearest / straight_nearest, np.nan)
    reachable = np.isfinite(n[rows, k])
    return pd.DataFrame(
        {
            "nearest_site_walk": np.where(reachable, ids[k], None),
            "walk_m": np.where(reachable, n[rows, k], np.nan),
            "straight_m_to_walk_site": m.straight_m[rows, k],
            "nearest_site_straight": ids[ks],
            "straight_m": straight_nearest,
            "walk_m_to_straight_site": net_to_straight_nearest,
            "detour_ratio": np.where(np.isfinite(detour), detour, np.nan),
        }
    )


def minutes(metres: np.ndarray | pd.Series, speed_kmh: float) -> np.ndarray:
    """Travel time in minutes at a constant speed: metres / (km/h * 1000 / 60)."""
    return np.asarray(metres, dtype="float64") / (speed_kmh * 1000.0 / 60.0)


def band_labels(limits: Sequence[float]) -> list[str]:
    """['0-10', '10-20', '20-30', '30+'] for limits [10, 20, 30]."""
    edges = [0.0, *sorted(float(v) for v in limits)]

    def f(v: float) -> str:
        return f"{v:g}"

    return [f"{f(a)}-{f(b)}" for a, b in itertools.pairwise(edges)] + [f"{f(edges[-1])}+"]


def time_band(mins: np.ndarray | pd.Series, limits: Sequence[float]) -> np.ndarray:
    """The band label of each time (a time equal to a limit falls in the band below it:
    exactly 10 minutes is '0-10'); None where the time is unknown."""
    lims = sorted(float(v) for v in limits)
    labels = np.asarray(band_labels(lims), dtype=object)
    t = np.asarray(mins, dtype="float64")
    idx = np.searchsorted(np.asarray(lims), t, side="left")
    out = labels[np.minimum(idx, len(labels) - 1)].astype(object)
    out[~np.isfinite(t)] = None
    return out


def two_step_fca(
    demand: np.ndarray, supply: np.ndarray, cost: np.ndarray, catchment: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area (Luo & Wang 2003, Environment and Planning B 30:865).

    Step 1, for each site j: R_j = S_j / sum(P_i for origins i with d_ij <= d0).
    Step 2, for each origin i: A_i = sum(R_j for sites j with d_ij <= d0).
    ``demand`` P (origins), ``supply`` S (sites), ``cost`` d (origins x sites, same units as
    ``catchment`` d0). Returns (A per origin, R per site); R is 0 for a site nobody reaches.
    This is the same measure as PySAL access's ``two_stage_fca`` with a step weight (the
    tests check the two agree)."""
    within = np.asarray(cost, dtype="float64") <= catchment
    p = np.asarray(demand, dtype="float64")
    s = np.asarray(supply, dtype="float64")
    reach_pop = within.T.astype("float64") @ p
    ratio = np.divide(s, reach_pop, out=np.zeros_like(s), where=reach_pop > 0)
    score = within.astype("float64") @ ratio
    return score, ratio


# --- a model of expected reach -------------------------------------------------------------

#: A group value with fewer children than this joins 'other' in the model (a coefficient
#: estimated from a handful of children is noise, and logistic fits fail to converge on them).
MIN_MODEL_GROUP = 30
#: Group columns of the child table used as covariates.
MODEL_GROUPS: tuple[str, ...] = ("ethnicity_broad", "main_language")


@dataclass(frozen=True)
class ReachModel:
    """Fitted probabilities of being registered, and what the model was."""

    expected: np.ndarray  # per child
    terms: tuple[str, ...]
    n: int
    converged: bool
    coefficients: dict[str, float]
    #: Standard errors of the coefficients (model-based, from the fitted GLM's ``bse``), by
    #: the same names; empty when nothing was fitted.
    bse: dict[str, float] = field(default_factory=dict)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The median of ``values`` each counted ``weights`` times (whole numbers), NaNs left
    out: the value numpy's (and pandas') median gives on the values repeated, the mean of
    the two middle values when the count is even; NaN when nothing is left."""
    v = np.asarray(values, dtype="float64")
    w = np.asarray(weights, dtype="int64")
    ok = np.isfinite(v) & (w > 0)
    v, w = v[ok], w[ok]
    total = int(w.sum())
    if total == 0:
        return math.nan
    order = np.argsort(v, kind="mergesort")
    v, ends = v[order], np.cumsum(w[order])
    lo = v[np.searchsorted(ends, (total - 1) // 2, side="right")]
    hi = v[np.searchsorted(ends, total // 2, side="right")]
    return float(np.mean([lo, hi]))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """The mean of ``values`` each counted ``weights`` times (whole numbers): their sum
    rounded once (exact rational arithmetic), as a compensated (Kahan) sum of the values
    repeated gives it but for the rarest ties, over the total weight; NaN when any counted
    value is NaN or nothing is counted (as pandas' mean of the values repeated, skipping
    NaN, is not: NaN values must be left out by the caller)."""
    from fractions import Fraction

    v = np.asarray(values, dtype="float64")
    w = np.asarray(weights, dtype="int64")
    total = int(w.sum())
    if total == 0 or not np.isfinite(v[w > 0]).all():
        return math.nan
    exact = sum((Fraction(float(x)) * int(k) for x, k in zip(v, w, strict=True)), Fraction(0))
    return float(exact) / total


def _fill_median(values: pd.Series, weights: np.ndarray | None) -> float:
    """The median that fills a missing covariate (weighted for cells)."""
    if weights is None:
        return float(values.median())
    return weighted_median(values.to_numpy(dtype="float64"), weights)


def _design(
    children: pd.DataFrame, *, with_access: bool, weights: np.ndarray | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The model's design matrix; ``weights``: children per row when rows are cells."""
    parts: list[pd.DataFrame] = []
    terms: list[str] = []
    if with_access:
        walk = pd.to_numeric(children["walk_min"], errors="coerce")
        walk = walk.fillna(_fill_median(walk, weights) if walk.notna().any() else 0.0)
        # to the half minute: finer than any walking-time estimate, and it lets children
        # with the same covariates share one binomial row
        walk = (walk * 2).round() / 2
        parts.append(pd.DataFrame({"log_walk_min": np.log1p(walk.to_numpy(dtype="float64"))}))
        terms.append("log(1 + walking minutes)")
    if "imd_decile" in children.columns:
        imd = pd.to_numeric(children["imd_decile"], errors="coerce")
        if imd.notna().any():
            parts.append(
                pd.DataFrame(
                    {
                        "imd_decile": imd.fillna(_fill_median(imd, weights)).to_numpy(
                            dtype="float64"
                        ),
                        "imd_missing": imd.isna().to_numpy(dtype="float64"),
                    }
                )
            )
            terms.append("IMD decile")
    if "age_years" in children.columns:
        age = pd.to_numeric(children["age_years"], errors="coerce").fillna(0).astype(int)
        parts.append(pd.get_dummies(age.astype(str), prefix="age", drop_first=True, dtype=float))
        terms.append("age in years")
    for col in MODEL_GROUPS:
        if col not in children.columns:
            continue
        v = children[col].astype("string").fillna("unknown").str.lower()
        if weights is None:
            counts = v.value_counts()
        else:
            counts = pd.Series(weights, index=v.index).groupby(v.to_numpy()).sum()
        v = v.where(v.map(counts).fillna(0).to_numpy() >= MIN_MODEL_GROUP, "other")
        if v.nunique() > 1:
            parts.append(pd.get_dummies(v, prefix=col, drop_first=True, dtype=float))
            terms.append(col.replace("_", " "))
    x = pd.concat([p.reset_index(drop=True) for p in parts], axis=1) if parts else pd.DataFrame()
    x = x.loc[:, x.nunique() > 1] if len(x) else x  # a constant column is the intercept again
    x.insert(0, "const", 1.0)
    return x, terms


def expected_reach(
    children: pd.DataFrame, *, with_access: bool = True, cells: bool = False
) -> ReachModel:
    """Probability each child is registered, from a binomial GLM (logit link) on walking time
    (log), IMD decile, age and group (broad ethnicity, main language), fitted with
    statsmodels. Residuals O - E by area show where reach is lower than access, deprivation
    and who lives there explain. ``with_access`` False leaves walking time out: the
    expectation a barrier is judged against (the barrier acts through access, so access must
    not explain it away).

    ``cells``: each row is a cell of children with identical covariates, ``n`` of them of
    whom ``registered`` (a count) are registered: the same binomial rows, so the same
    maximum-likelihood fit, as one row per child; ``expected`` is then per cell."""
    if cells:
        return _expected_from_cells(children, with_access=with_access)
    y = children["registered"].astype(bool).to_numpy(dtype="float64")
    x, terms = _design(children, with_access=with_access)
    n = len(y)
    if n == 0 or y.min() == y.max():
        return ReachModel(np.full(n, y.mean() if n else math.nan), (), n, True, {})
    xa = x.to_numpy(dtype="float64")
    # Children with the same covariates are one binomial row (successes, failures): the same
    # likelihood, fitted in a fraction of the time.
    patterns, inverse = np.unique(xa, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(patterns) <= xa.shape[1]:
        # As many parameters as covariate patterns: nothing to fit beyond each pattern's rate.
        rate = np.bincount(inverse, weights=y) / np.bincount(inverse)
        return ReachModel(rate[inverse], tuple(terms), n, True, {})
    succ = np.bincount(inverse, weights=y, minlength=len(patterns))
    tot = np.bincount(inverse, minlength=len(patterns)).astype("float64")
    return _fit(x, terms, patterns, inverse, succ, tot, n, float(y.mean()))


def _expected_from_cells(cells: pd.DataFrame, *, with_access: bool) -> ReachModel:
    """:func:`expected_reach` on cells (``n`` children, ``registered`` of them)."""
    w = cells["n"].to_numpy(dtype="int64")
    y = cells["registered"].to_numpy(dtype="float64")
    x, terms = _design(cells, with_access=with_access, weights=w)
    n, hits = int(w.sum()), float(y.sum())
    rate = hits / n if n else math.nan
    if n == 0 or hits in (0.0, float(n)):
        return ReachModel(np.full(len(cells), rate), (), n, True, {})
    xa = x.to_numpy(dtype="float64")
    patterns, inverse = np.unique(xa, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    succ = np.bincount(inverse, weights=y, minlength=len(patterns))
    tot = np.bincount(inverse, weights=w.astype("float64"), minlength=len(patterns))
    return _fit(x, terms, patterns, inverse, succ, tot, n, rate)


def _fit(
    x: pd.DataFrame,
    terms: list[str],
    patterns: np.ndarray,
    inverse: np.ndarray,
    succ: np.ndarray,
    tot: np.ndarray,
    n: int,
    rate: float,
) -> ReachModel:
    """The binomial GLM on covariate patterns (successes, failures), read back per row."""
    # The GLM module alone: statsmodels.api imports every model (about 3 s more).
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    if len(patterns) <= x.shape[1]:
        # As many parameters as covariate patterns: nothing to fit beyond each pattern's rate.
        return ReachModel((succ / tot)[inverse], tuple(terms), n, True, {})
    try:
        fit = GLM(np.column_stack([succ, tot - succ]), patterns, family=families.Binomial()).fit()
        converged = bool(getattr(fit, "converged", True))
        expected = np.asarray(fit.predict(patterns), dtype="float64")[inverse]
        coef = {
            str(c): round(float(b), 6)
            for c, b in zip(x.columns, np.asarray(fit.params), strict=True)
        }
        bse = {
            str(c): round(float(b), 6) for c, b in zip(x.columns, np.asarray(fit.bse), strict=True)
        }
    except (np.linalg.LinAlgError, ValueError):
        # A separable or singular design: fall back to the overall rate (no adjustment).
        converged, expected, coef, bse = False, np.full(len(inverse), rate), {}, {}
    return ReachModel(expected, tuple(terms), n, converged, coef, bse)
