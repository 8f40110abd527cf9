"""A scan for a trend shared by neighbouring small areas (pure: arrays and frames in, frozen
results out).

Why: a fall across a few neighbouring small areas, each too small to test alone, is lost
by the per-series test (Benjamini-Hochberg across ~150 series) and diluted in the ward or
reach area that holds it with unaffected areas (docs/trends.md: the town's planted decline,
4 small areas of 35-47 children: pooled p 5e-5, each alone q 0.53). The spatial scan
(findings.scan) pools candidate zones; here the quantity scanned is the recent trend.

The method:

* **Zones** (Kulldorff 1997): the circular zones of findings.scan (``circular_zones``: every
  area's nearest areas by centroid, 1, 2, ... at a time while the zone holds at most
  :data:`MAX_SHARE` of the children), of two or more areas (one area is the per-series
  test's); and, when the small areas' contiguity is known, the **flexibly shaped** zones of
  Tango & Takahashi (2005, "A flexibly shaped spatial scan statistic for detecting
  clusters", Int J Health Geogr 4:11): every connected set (Queen contiguity) of an area
  and some of its :data:`FLEX_K` - 1 nearest areas. A decline in four neighbouring areas
  along a street is seldom a circle's first four areas; on 5 of town seeds 2-8
  (docs/trends.md) the circles' most likely zone held one or two unaffected areas besides
  the plant, where the flexible one held planted areas only (``trends.scan_flexible``).
* **Options** (docs/trends.md, measured): a parametric null (:func:`binomial_null`) instead
  of the shuffles, and the hinge scores (:func:`hinge_scores`: the last quarters' change
  against every earlier quarter) instead of the recent trend.
* **The statistic**: each zone's trend relative to the borough's. With the zone's pooled
  counts x_t of n_t children over the latest T quarters, the borough's rate p_t and the
  scores s_t = 0..T-1, the score statistic for a log-linear trend in the ratio to the borough
  (the Cochran-Armitage statistic with the borough's rates as the expected ones):

      U = sum_t (x_t - n_t p_t)(s_t - s_bar),  V = sum_t n_t p_t (1 - p_t)(s_t - s_bar)^2,
      z = U / sqrt(V),  s_bar = sum_t v_t s_t / sum_t v_t  (v_t = n_t p_t (1 - p_t)),

  so a zone that is simply lower than the borough at every quarter scores about 0, and a
  borough-wide trend moves no zone. The scan statistic is S = max_Z |z_Z|.
* **Inference by permutation** (Dwass 1957; the spatial randomisation of Moran's I and of
  Kulldorff's scan): the areas' whole series are shuffled among the map's places R times
  and the scan maximised in each; p = (1 + #{S_r >= S}) / (R + 1). Shuffling whole series
  keeps each area's own quarter-to-quarter drift (the same children counted quarter after
  quarter, families moving in together), which no binomial model holds and which made the
  per-series test's over-dispersion allowance necessary; the borough's rates do not change
  under a shuffle. What the test asks: are the trends of neighbouring areas more alike than
  those of areas placed at random?
* **More than one cluster**: the sequential procedure of Zhang, Assuncao & Kulldorff (2010):
  once a zone is significant, its areas leave the map, the borough's rates are taken again
  on the areas left and the scan is repeated, until a scan is not significant (at most
  :data:`MAX_CLUSTERS`). On a map with nothing in it the first scan is significant in
  ``alpha`` of maps, so the procedure's false alarms are those of one test at ``alpha``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from everyfamily.findings.detectors.trends import TREND_CLUSTER
from everyfamily.findings.scan import circular_zones, membership, monte_carlo_p

#: Largest zone, as a share of the children (smaller than findings.scan's 50%: a trend
#: cluster half the borough's size is the borough's own trend, which the statistic removes).
MAX_SHARE = 0.25
REPLICATES = 999
SEED = 20_261_204
ALPHA = 0.05
MAX_CLUSTERS = 3
#: Fewest areas the map must keep for another scan.
MIN_AREAS = 8
#: Largest flexibly shaped zone (Tango & Takahashi 2005 use K = 15 on 113 areas; the
#: number of zones grows as 2^(K-1) per area).
FLEX_K = 6


@dataclass(frozen=True)
class TrendCluster:
    """One significant zone: its small areas (the zone's centre first), the zone's z (its
    trend against the borough's: negative falls), the Monte Carlo p and the scan step."""

    areas: tuple[str, ...]
    z: float
    p_value: float
    step: int


def zone_z(
    x: np.ndarray, n: np.ndarray, p: np.ndarray, scores: np.ndarray | None = None
) -> np.ndarray:
    """The trend score z of each zone (module docstring): ``x``, ``n`` zones x periods (or
    replicates x zones x periods), ``p`` the borough's rate of each period; ``scores`` the
    periods' scores (default 0, 1, 2, ...; :func:`hinge_scores` for the last year)."""
    s = np.arange(x.shape[-1], dtype="float64") if scores is None else scores
    v = n * p * (1.0 - p)
    vsum = v.sum(axis=-1, keepdims=True)
    vs = (v * s).sum(axis=-1, keepdims=True)
    s_bar = np.divide(vs, vsum, where=vsum > 0, out=np.zeros_like(vsum))
    d = s - s_bar
    u = ((x - n * p) * d).sum(axis=-1)
    var = (v * d * d).sum(axis=-1)
    return np.asarray(np.divide(u, np.sqrt(var), where=var > 0, out=np.zeros_like(u)))


def hinge_scores(periods: int, recent: int) -> np.ndarray:
    """Scores for a change over the latest ``recent`` periods against a flat baseline of
    every earlier one: 0 up to the period ``recent`` - 1 before the last, then 1, 2, ...
    (a broken-stick or hinge trend, the segmented regression of interrupted time series with
    the break at the start of the recent periods: Wagner et al. 2002, J Clin Pharm Ther
    27:299-309). With 12 quarters and 5 recent: 0 x 8, then 1, 2, 3, 4."""
    return np.asarray(np.maximum(0.0, np.arange(periods, dtype="float64") - (periods - recent)))


def flexible_zones(
    xy: np.ndarray,
    adjacency: Sequence[Collection[int]],
    weight: np.ndarray,
    max_share: float = MAX_SHARE,
    k: int = FLEX_K,
) -> tuple[tuple[int, ...], ...]:
    """Tango & Takahashi's (2005) flexibly shaped zones: for every area i, each set made of i
    and some of its ``k`` - 1 nearest areas (centroid distance) that is connected in
    ``adjacency`` (area index -> touching area indices), of two or more areas and at most
    ``max_share`` of the ``weight`` (children). Sorted index tuples, each listed once."""
    pts = np.asarray(xy, dtype="float64").reshape(-1, 2)
    w = np.asarray(weight, dtype="float64")
    limit = max_share * float(w.sum())
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    out: set[tuple[int, ...]] = set()
    for i in range(len(pts)):
        near = [int(j) for j in np.argsort(d[i], kind="stable") if j != i][: k - 1]
        for r in range(1, len(near) + 1):
            for extra in combinations(near, r):
                zone = {i, *extra}
                if w[list(zone)].sum() <= limit and _connected(zone, adjacency):
                    out.add(tuple(sorted(zone)))
    return tuple(sorted(out))


def _connected(zone: set[int], adjacency: Sequence[Collection[int]]) -> bool:
    start = next(iter(zone))
    seen, todo = {start}, [start]
    while todo:
        for b in adjacency[todo.pop()]:
            if b in zone and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen == zone


def scan_zones(
    xy: np.ndarray,
    weight: np.ndarray,
    adjacency: Sequence[Collection[int]] | None,
    max_share: float = MAX_SHARE,
) -> list[tuple[int, ...]]:
    """The zones scanned: the circular zones of two or more areas, and the flexibly shaped
    ones when the contiguity is known (module docstring)."""
    circles = {tuple(sorted(z)) for z in circular_zones(xy, weight, max_share) if len(z) > 1}
    if adjacency is not None:
        circles |= set(flexible_zones(xy, adjacency, weight, max_share))
    return sorted(circles)


def scan_trends(
    x: np.ndarray,
    n: np.ndarray,
    codes: tuple[str, ...],
    xy: np.ndarray,
    *,
    adjacency: Sequence[Collection[int]] | None = None,
    alpha: float = ALPHA,
    replicates: int = REPLICATES,
    seed: int = SEED,
    max_share: float = MAX_SHARE,
    max_clusters: int = MAX_CLUSTERS,
    null: str = "permutation",
    scores: np.ndarray | None = None,
) -> tuple[TrendCluster, ...]:
    """The significant trend clusters of a map (module docstring). ``x``, ``n``: areas x
    periods (events and children over the latest periods, oldest first), ``codes`` and
    ``xy`` (centroids) of the areas, in the same order; ``adjacency`` (area index ->
    touching area indices, same order) adds the flexibly shaped zones. ``null``:
    ``permutation`` (shuffled series) or ``binomial`` (:func:`binomial_null`); ``scores``
    the periods' scores (:func:`zone_z`)."""
    rng = np.random.default_rng(seed)
    left = np.arange(len(codes))
    out: list[TrendCluster] = []
    for step in range(1, max_clusters + 1):
        if len(left) < MIN_AREAS:
            break
        xs, ns = x[left], n[left]
        adj = None
        if adjacency is not None:
            pos = {int(a): j for j, a in enumerate(left)}
            adj = [{pos[b] for b in adjacency[int(a)] if b in pos} for a in left]
        zones = scan_zones(xy[left], ns.mean(axis=1), adj, max_share)
        if not zones:
            break
        m = membership(zones, len(left))
        p = xs.sum(axis=0) / np.maximum(ns.sum(axis=0), 1.0)
        z = zone_z(m @ xs, m @ ns, p, scores)
        best = int(np.argmax(np.abs(z)))
        stat = float(abs(z[best]))
        if null == "binomial":
            stat /= np.sqrt(area_dispersion(xs, ns, p, scores))
            reps = binomial_null(ns, p, m, replicates, rng, scores)
        else:
            reps = np.empty(replicates)
            for r in range(replicates):
                perm = rng.permutation(len(left))
                reps[r] = float(np.abs(zone_z(m @ xs[perm], m @ ns[perm], p, scores)).max())
        pv = monte_carlo_p(stat, reps)
        if pv > alpha:
            break
        zone = zones[best]
        # the zone's centre first: the area whose nearest areas make the zone
        centre = _centre(xy[left], zone)
        areas = (codes[left[centre]], *sorted(codes[left[i]] for i in zone if i != centre))
        out.append(TrendCluster(areas, float(z[best]), pv, step))
        left = np.array([a for i, a in enumerate(left) if i not in set(zone)])
    return tuple(out)


def area_dispersion(
    x: np.ndarray, n: np.ndarray, p: np.ndarray, scores: np.ndarray | None = None
) -> float:
    """phi of the areas' own trend z-scores (each area as a zone of one): Spiegelhalter's
    winsorised dispersion statistic (``reach.statistics.overdispersion``, the funnels'
    estimate), at least 1: a quasi-binomial scale (McCullagh & Nelder 1989, s.4.5)."""
    from everyfamily.reach.statistics import overdispersion

    z = zone_z(x, n, p, scores)
    phi = overdispersion(z, 0.0, 1.0).phi
    return max(1.0, float(phi)) if np.isfinite(phi) else 1.0


def binomial_null(
    n: np.ndarray,
    p: np.ndarray,
    member: np.ndarray,
    replicates: int,
    rng: np.random.Generator,
    scores: np.ndarray | None = None,
) -> np.ndarray:
    """The scan's maximum |z| on ``replicates`` maps drawn from the null model: every area's
    count of each period Binomial(n, the borough's rate), independently (the parametric
    Monte Carlo null of Kulldorff 1997 and of findings.scan; with the quasi-binomial phi of
    :func:`area_dispersion` dividing the observed statistic, Loh & Zhu 2007's over-dispersed
    null). Quarters share most of their children, so an area's counts vary less than
    independent binomials from quarter to quarter: the null is conservative where areas
    vary by chance alone (measured on the town, docs/trends.md)."""
    sizes = np.rint(n).astype(np.int64)
    rates = np.clip(p, 0.0, 1.0)
    zn = member @ n
    out = np.empty(replicates)
    for r in range(replicates):
        xr = rng.binomial(sizes, rates).astype("float64")
        pr = xr.sum(axis=0) / np.maximum(n.sum(axis=0), 1.0)
        out[r] = float(np.abs(zone_z(member @ xr, zn, pr, scores)).max())
    return out


def _adjacency(
    codes: tuple[str, ...], neighbours: Mapping[str, Collection[str]] | None
) -> list[set[int]] | None:
    """Area index -> touching area indices, in the order of ``codes`` (None without
    contiguity)."""
    if not neighbours:
        return None
    pos = {c: i for i, c in enumerate(codes)}
    return [{pos[b] for b in neighbours.get(c, ()) if b in pos} for c in codes]


def _centre(xy: np.ndarray, zone: tuple[int, ...]) -> int:
    """The zone's area nearest its mean centroid."""
    pts = xy[list(zone)]
    d = np.hypot(*(pts - pts.mean(axis=0)).T)
    return int(zone[int(np.argmin(d))])


def scan_inputs(
    exact: pd.DataFrame,
    small_level: str,
    measure_cols: tuple[str, str],
    test_periods: int,
    centroids: Mapping[str, tuple[float, float]],
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray] | None:
    """The scan's arrays from the exact trends table: the small areas' 'all' / 'any' series
    of one measure (numerator, denominator columns) over the latest ``test_periods``
    periods where every small area has a count, areas with a centroid only. None when
    fewer than :data:`MIN_AREAS` areas or periods remain."""
    num, den = measure_cols
    rows = exact[
        (exact["level"] == small_level)
        & (exact["dimension"] == "all")
        & (exact["service"] == "any")
        & exact[num].notna()
        & exact[den].notna()
    ]
    if rows.empty:
        return None
    periods = sorted(rows["period_index"].unique())[-test_periods:]
    if len(periods) < test_periods:
        return None
    rows = rows[rows["period_index"].isin(periods)]
    xw = rows.pivot_table(index="area_code", columns="period_index", values=num, aggfunc="sum")
    nw = rows.pivot_table(index="area_code", columns="period_index", values=den, aggfunc="sum")
    keep = [str(c) for c in xw.index if str(c) in centroids]
    if len(keep) < MIN_AREAS:
        return None
    xw = xw.reindex(keep).fillna(0.0)
    nw = nw.reindex(keep).fillna(0.0)
    xy = np.array([centroids[c] for c in keep], dtype="float64")
    return (
        xw.to_numpy(dtype="float64"),
        nw.to_numpy(dtype="float64"),
        tuple(keep),
        xy,
    )


#: The measure scanned: registration (engagement is a centre's story as much as a place's,
#: and the declining-centre finding follows it by site).
SCANNED: dict[str, tuple[str, str]] = {"registered_rate": ("registered", "denominator")}


@dataclass(frozen=True)
class ScanResult:
    """The scan's rows for the trend tests (level :data:`TREND_CLUSTER`, area_code the
    cluster's centre), the clusters' pooled exact series (for release) and each cluster's
    small areas (centre -> areas)."""

    tests: pd.DataFrame
    series: pd.DataFrame
    members: Mapping[str, frozenset[str]]


def cluster_tests(
    exact: pd.DataFrame,
    small_level: str,
    test_periods: int,
    min_change: float,
    centroids: Mapping[str, tuple[float, float]] | None,
    replicates: int = REPLICATES,
    neighbours: Mapping[str, Collection[str]] | None = None,
    null: str = "permutation",
    statistic: str = "recent",
) -> ScanResult:
    """Scan every measure of :data:`SCANNED` (module docstring) and describe each
    significant cluster as a trend test row: first and last period and exact rates of its
    pooled series, chi2 = z^2, p and q the Monte Carlo p (the scan controls its own family's
    error), slope and change from the chi-squared test for trend of the pooled series, and
    the label (decreasing / increasing when the change is at least ``min_change``)."""
    from everyfamily.findings.detectors.trends import (
        DECREASING,
        INCREASING,
        NO_CHANGE,
        pool_neighbourhoods,
    )
    from everyfamily.findings.stats import chi_square_trend

    empty = ScanResult(pd.DataFrame(), exact.iloc[0:0].copy(), {})
    if not centroids:
        return empty
    rows: list[dict[str, object]] = []
    members: dict[str, frozenset[str]] = {}
    series = []
    for measure, cols in SCANNED.items():
        span = int(exact["period_index"].nunique()) if statistic == "hinge" else test_periods
        arrays = scan_inputs(exact, small_level, cols, span, centroids)
        if arrays is None:
            continue
        x, n, codes, xy = arrays
        adjacency = _adjacency(codes, neighbours)
        scores = hinge_scores(x.shape[1], test_periods) if statistic == "hinge" else None
        found = scan_trends(
            x, n, codes, xy, adjacency=adjacency, replicates=replicates, null=null, scores=scores
        )
        for c in found:
            centre = c.areas[0]
            pooled = pool_neighbourhoods(exact, small_level, {centre: set(c.areas[1:])})
            pooled = pooled.assign(level=TREND_CLUSTER)
            s = pooled.sort_values("period_index").tail(test_periods)
            px, pn = s[cols[0]].to_numpy(dtype="float64"), s[cols[1]].to_numpy(dtype="float64")
            _chi2, _p, slope = chi_square_trend(px, pn, s["period_index"].to_numpy())
            change = slope * (test_periods - 1)
            moved = abs(change) >= min_change and np.sign(change) == np.sign(c.z)
            label = (DECREASING if c.z < 0 else INCREASING) if moved else NO_CHANGE
            rows.append(
                dict(
                    level=TREND_CLUSTER, area_code=centre, dimension="all", group_value="all",
                    service="any", measure=measure, periods=len(s),
                    first_period=s["period_end"].iloc[0], last_period=s["period_end"].iloc[-1],
                    first_rate=px[0] / pn[0], last_rate=px[-1] / pn[-1], chi2=c.z**2,
                    p_value=c.p_value, slope=slope, change=change, phi=1.0,
                    q_value=c.p_value, trend=label,
                )
            )  # fmt: skip
            members[centre] = frozenset(c.areas)
            series.append(pooled)
    if not rows:
        return empty
    return ScanResult(pd.DataFrame(rows), pd.concat(series, ignore_index=True), members)
