"""A spatial scan for compact groups of under-reached small areas (the unreached cluster).

Why: the area funnel (``detectors.find_unreached_areas``) judges one area at a time against
an over-dispersion allowance estimated from *every* area. When other stories are in the data
(a barrier's cut-off side, a centre's catchment, a community's streets) they inflate that
allowance, and a compact group of two or three low areas is no longer extreme one by one. A
scan pools the areas of a candidate zone, so three areas that are each "only" 2 s.d. low
make one zone that is 4-5 s.d. low, and it judges the next zone against the spread that is
left once the clusters it has found are set aside.

The method (each step an established one):

* **Zones** (Kulldorff 1997, "A spatial scan statistic", Commun Stat Theory Methods
  26:1481-1496): circular windows on the areas' centroids. For every area, the areas in order
  of distance from its centroid, taken 1, 2, 3 ... at a time while the zone holds at most
  ``max_share`` of the children (SaTScan's default is 50%); duplicates dropped.
* **The statistic** is the weighted normal scan statistic (Huang L, Tiwari RC, Zou Z,
  Kulldorff M, Feuer EJ, "Weighted normal spatial scan statistic for heterogeneous population
  data", J Am Stat Assoc 2009;104:886-898) with the variances known from the over-dispersed
  funnel (Spiegelhalter 2005, Stat Med 24:1185-1202, section 5): an area's rate y_i has
  variance v_i = p0 (1 - p0) deff / n_i + tau2 (binomial, widened by the family design effect,
  plus the additive between-area variance). A zone Z scores
  T_Z = sum_Z w_i (y_i - p0) / sqrt(sum_Z w_i), w_i = 1 / v_i, a standard normal under the
  null for every zone; its log likelihood ratio for a lower mean is T_Z^2 / 2 when T_Z < 0.
  The scan statistic is S = max_Z (-T_Z) (low reach only).
* **Inference** by Monte Carlo (Dwass 1957; Kulldorff 1997): R replicates of the whole map
  drawn from the null model y_i ~ N(p0, v_i) independently, the scan maximised in each, and
  p = (1 + #{S_r >= S}) / (R + 1). Drawing the null from the over-dispersed model rather than
  by permuting children is what keeps the scan calibrated when areas vary more than binomial
  (Loh JM, Zhu Z, "Accounting for spatial correlation in the scan statistic", Ann Appl Stat
  2007;1:560-584, who simulate the null from a model fitted to the data's extra variation).
  Beyond what R replicates can resolve, the p-value of the Gumbel distribution fitted to the
  replicates by moments (Abrams AM, Kleinman K, Kulldorff M, "Gumbel based p-value
  approximations for spatial scan statistics", Int J Health Geogr 2010;9:61).
* **More than one cluster**: the sequential procedure of Zhang Z, Assuncao R, Kulldorff M,
  "Spatial scan statistics adjusted for multiple clusters", J Probab Stat 2010:642379. Once a
  cluster is significant its areas leave the study region, the comparison rate p0 and the
  between-area variance tau2 are estimated again on the areas left, and the scan is repeated;
  it stops at the first zone that is not significant. tau2 is Spiegelhalter's winsorised
  DerSimonian-Laird estimate (:func:`everyfamily.reach.statistics.overdispersion`, the same
  estimator as reach.csv's funnel). This is where the power comes from: a story already found
  no longer inflates the spread the next one is judged against. On a map with nothing in it
  the first scan is not significant in (1 - alpha) of maps, so the procedure's false alarms
  are those of one test at level alpha.

* **Covariate adjustment**: with a deprivation dimension in the reach table, each area's
  expected rate comes from a robust regression on its deprivation rank
  (:func:`expected_rates`), so a cluster is low beyond what deprivation explains (the
  gradient is a finding of its own, findings.gradient).
* **Findings**: a significant zone of two or more areas is an ``unreached_area`` finding
  (a single low area is the funnel's finding, tested with BH across areas); striking at
  p <= :data:`STRIKING_P`.

Calibration, measured (tests/findings/test_scan.py; the report of the cluster branch): on
binomial null maps of 36 areas the first scan is significant at 5% in 4% of maps; on the
town's null worlds (12 seeds) it raised no finding. **Known weakness**: when the areas vary
much more than binomial (tau about the binomial s.d.), tau2 estimated from 36-40 areas is
often too small and the parametric null is anti-conservative (measured 9-14% of such null
maps significant at 5%, 2-7% at 1%); ``null="permutation"`` is calibrated there (3%) but,
shuffling the stories' own residuals, loses most of the power on a map with several
stories. A double bootstrap or a profile-likelihood upper bound for tau2 would be the next
step.

Why our own code: no maintained Python package implements the scan over areas with an
over-dispersed null. SaTScan is a standalone program; the R packages (SpatialEpi's
``kulldorff``, smerc's ``scan.test``, scanstatistics) permute cases under a binomial or
Poisson model; PyPI's ``pyscan-stats`` is a one-release C++ wrapper for point sets. The core
below is a few vectorised lines of numpy over a zone membership matrix.

Pure functions over arrays, seeded, frozen results. The finding builder at the end turns the
clusters into ``unreached_area`` findings with released counts (as the funnel detector does).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from everyfamily.reach.statistics import WINSOR_PERCENT, winsorised_square_normal

if TYPE_CHECKING:
    from everyfamily.findings.model import Finding, FindingsSettings


Float = NDArray[np.float64]

#: Largest share of the children a zone may hold (Kulldorff's and SaTScan's default, 50%).
MAX_ZONE_SHARE = 0.5
#: Monte Carlo replicates per scan (SaTScan's default is 999).
REPLICATES = 999
#: Fixed seed of the replicates, so that a run is reproducible.
SCAN_SEED = 20_270_113
#: Significance level of each step of the sequential scan: the first zone above it ends the
#: search.
SCAN_ALPHA = 0.05
#: A cluster is *striking* at p <= this (else *watch*): on a map with nothing planted, about
#: one run in a hundred shows a striking cluster.
STRIKING_P = 0.01
#: Most clusters one run looks for (each step costs one Monte Carlo scan).
MAX_CLUSTERS = 6
#: Fewest areas the study region must keep to estimate p0 and tau2 again.
MIN_AREAS_LEFT = 8


# --- the statistic -------------------------------------------------------------------------


def circular_zones(
    xy: ArrayLike, weight: ArrayLike, max_share: float = MAX_ZONE_SHARE
) -> tuple[tuple[int, ...], ...]:
    """Kulldorff's circular zones: for every area, its nearest areas (centroid distance, the
    area itself first) taken 1, 2, ... at a time while the zone's weight (children) is at most
    ``max_share`` of the total. Each zone is a sorted tuple of area indices, listed once."""
    pts = np.asarray(xy, dtype="float64").reshape(-1, 2)
    w = np.asarray(weight, dtype="float64")
    if len(pts) == 0:
        return ()
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    # ties broken by index (stable), and the centre itself always first
    d[np.arange(len(pts)), np.arange(len(pts))] = -1.0
    order = np.argsort(d, axis=1, kind="stable")
    limit = max_share * float(w.sum())
    seen: set[tuple[int, ...]] = set()
    out: list[tuple[int, ...]] = []
    for row in order:
        cum = np.cumsum(w[row])
        for k in range(1, int(np.searchsorted(cum, limit, side="right")) + 1):
            zone = tuple(sorted(int(i) for i in row[:k]))
            if zone not in seen:
                seen.add(zone)
                out.append(zone)
    return tuple(out)


def membership(zones: Iterable[tuple[int, ...]], n_areas: int) -> Float:
    """Zones x areas 0/1 matrix."""
    zs = list(zones)
    m = np.zeros((len(zs), n_areas), dtype="float64")
    for j, z in enumerate(zs):
        m[j, list(z)] = 1.0
    return m


def zone_scores(y: ArrayLike, p0: ArrayLike, variance: ArrayLike, member: Float) -> Float:
    """Weighted normal zone scores T_Z = sum_Z w (y - p0) / sqrt(sum_Z w), w = 1 / v (Huang et
    al. 2009 with known variances); ``y`` may be one map (areas) or many (replicates x areas)."""
    w = 1.0 / np.asarray(variance, dtype="float64")
    dev = (np.asarray(y, dtype="float64") - p0) * w
    return np.asarray((dev @ member.T) / np.sqrt(member @ w), dtype="float64")


def monte_carlo_p(observed: float, replicates: ArrayLike) -> float:
    """(1 + #{replicates >= observed}) / (R + 1) (Dwass 1957)."""
    r = np.asarray(replicates, dtype="float64")
    return float((1 + int((r >= observed).sum())) / (len(r) + 1))


def gumbel_p(observed: float, replicates: ArrayLike) -> float:
    """P(S >= observed) under the Gumbel distribution fitted to the replicates by moments:
    scale = sd sqrt(6) / pi, location = mean - 0.5772 scale (Abrams, Kleinman & Kulldorff
    2010)."""
    r = np.asarray(replicates, dtype="float64")
    sd = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    if not sd > 0:
        return 1.0 if observed <= float(r.mean()) else 0.0
    beta = sd * math.sqrt(6.0) / math.pi
    mu = float(r.mean()) - np.euler_gamma * beta
    return float(-np.expm1(-np.exp(-(observed - mu) / beta)))


@dataclass(frozen=True)
class Cluster:
    """One zone of the sequential scan (indices into the arrays given to :func:`scan_low`)."""

    areas: tuple[int, ...]
    #: -T_Z of the zone (standard normal units below p0)
    statistic: float
    #: Monte Carlo p-value, and the reported one (Gumbel beyond the replicates' reach)
    p_monte_carlo: float
    p_value: float
    #: comparison rate, between-area variance and areas in the study region at this step
    p0: float
    tau2: float
    areas_in_region: int
    registered: float
    children: float
    #: registered children the zone's expected rates predict (p0 x children without a
    #: covariate)
    expected_registered: float
    step: int


def _pick_p(observed: float, replicates: Float) -> tuple[float, float]:
    p_mc = monte_carlo_p(observed, replicates)
    # The Gumbel tail is used only where the replicates cannot resolve the p-value (fewer
    # than 10 replicates at or above the observed value), never to make a p larger.
    p = min(p_mc, gumbel_p(observed, replicates)) if p_mc * (len(replicates) + 1) < 10 else p_mc
    return p_mc, p


def between_area_variance(y: ArrayLike, p0: ArrayLike, s2: ArrayLike, method: str = "mad") -> Float:
    """tau2 of each map (row of ``y``; one map or replicates x areas) around p0 with null
    variances ``s2``, by the DerSimonian-Laird moment formula
    tau2 = max(0, (n phi - (n - 1)) / (sum w - sum w^2 / sum w)), w = 1 / s2, with phi:

    * ``"mad"``: (1.4826 MAD(z))^2 of z = (y - p0) / s, the median absolute deviation about
      the median (Hampel 1974; 1.4826 makes it consistent for the normal): up to half of the
      areas can be stories without moving it, and a shift of every area (p0 pulled down by
      the stories) does not inflate it either;
    * ``"winsorised"``: Spiegelhalter's mean of z^2 winsorised at the 10th/90th percentiles
      (:func:`everyfamily.reach.statistics.overdispersion`, reach.csv's estimator).
    """
    yy = np.atleast_2d(np.asarray(y, dtype="float64"))
    s = np.sqrt(np.asarray(s2, dtype="float64"))
    z = (yy - p0) / s
    n = z.shape[1]
    if method == "mad":
        med = np.median(z, axis=1, keepdims=True)
        phi = (1.482602218505602 * np.median(np.abs(z - med), axis=1)) ** 2
    elif method == "winsorised":
        lo, hi = np.percentile(z, [WINSOR_PERCENT, 100.0 - WINSOR_PERCENT], axis=1)
        phi = np.mean(np.clip(z, lo[:, None], hi[:, None]) ** 2, axis=1)
        phi = phi / winsorised_square_normal(WINSOR_PERCENT)  # as reach.statistics does
    else:
        raise ValueError(f"unknown dispersion method {method!r}")
    w = 1.0 / np.asarray(s2, dtype="float64") * np.ones(n)
    denom = float(w.sum() - (w**2).sum() / w.sum())
    if n < 3 or not denom > 0:
        return np.zeros(len(z))
    return np.asarray(np.maximum(0.0, (n * phi - (n - 1)) / denom), dtype="float64")


def expected_rates(y: ArrayLike, n: ArrayLike, covariate: ArrayLike | None) -> Float:
    """Each area's expected rate: the pooled rate, or with a ``covariate`` (e.g. the area's
    deprivation rank) the fit of a robust linear regression of the rates on it (Huber's
    M-estimator with a MAD scale, statsmodels ``RLM``; Huber 1981, Robust Statistics), each
    area weighted by its children (rows multiplied by sqrt(n)). This is covariate adjustment
    as in Kulldorff (1997, section 4: expected counts by indirect standardisation) for a
    covariate that is a number rather than a few strata; robust, so that the clusters being
    looked for do not tilt the expectation they are judged against. Clipped to [0.01, 0.99].
    """
    yy = np.asarray(y, dtype="float64")
    nn = np.asarray(n, dtype="float64")
    pooled = float((yy * nn).sum() / nn.sum())
    if covariate is None:
        return np.full(len(yy), pooled)
    c = np.asarray(covariate, dtype="float64")
    if len(yy) < 5 or not np.isfinite(c).all() or np.ptp(c) == 0:
        return np.full(len(yy), pooled)
    import statsmodels.api as sm

    root = np.sqrt(nn)
    exog = np.column_stack([np.ones(len(c)), c])
    fit = sm.RLM(yy * root, exog * root[:, None], M=sm.robust.norms.HuberT()).fit()
    return np.asarray(np.clip(exog @ fit.params, 0.01, 0.99), dtype="float64")


def scan_low(
    registered: ArrayLike,
    children: ArrayLike,
    xy: ArrayLike,
    *,
    design_effect: float = 1.0,
    alpha: float = SCAN_ALPHA,
    max_clusters: int = MAX_CLUSTERS,
    replicates: int = REPLICATES,
    seed: int = SCAN_SEED,
    max_share: float = MAX_ZONE_SHARE,
    dispersion: str = "mad",
    covariate: ArrayLike | None = None,
    null: str = "parametric",
) -> tuple[Cluster, ...]:
    """The sequential low-rate scan (module docstring): significant clusters in the order
    found, then the first zone that was not significant (so a caller sees the last test).

    ``registered``/``children`` per area, ``xy`` their centroids in metres; areas with no
    children are never in a zone. ``covariate`` (one number per area, e.g. its deprivation
    rank): expected rates from it (:func:`expected_rates`), so that a cluster is low beyond
    what the covariate explains; without it every area is compared with the pooled rate.
    ``null``: ``"parametric"`` (the over-dispersed normal model, tau2 re-estimated in every
    replicate; the default) or ``"permutation"`` (the areas' standardised residuals shuffled
    over the map: calibrated whatever the spread, but the stories' own residuals are in the
    shuffled pool, which costs most of the power on a map with several stories).
    """
    cov = None if covariate is None else np.asarray(covariate, dtype="float64")
    x_all = np.asarray(registered, dtype="float64")
    n_all = np.asarray(children, dtype="float64")
    pts = np.asarray(xy, dtype="float64").reshape(-1, 2)
    cov = None if covariate is None else np.asarray(covariate, dtype="float64")
    region = np.flatnonzero((n_all > 0) & np.isfinite(x_all) & np.isfinite(pts).all(axis=1))
    rng = np.random.default_rng(seed)
    deff = max(1.0, float(design_effect))
    out: list[Cluster] = []
    for step in range(1, max_clusters + 1):
        if len(region) < (MIN_AREAS_LEFT if out else 3):
            break
        # the null model of this step, fitted on the areas still in the study region
        x, n = np.minimum(x_all[region], n_all[region]), n_all[region]
        p0 = float(x.sum() / n.sum())
        if not 0.0 < p0 < 1.0:
            break
        y = x / n
        e = expected_rates(y, n, None if cov is None else cov[region])
        s2 = e * (1.0 - e) * deff / n
        tau2 = float(between_area_variance(y, e, s2, dispersion)[0])
        v = s2 + tau2
        zones = circular_zones(pts[region], n, max_share)
        if not zones:
            break
        member = membership(zones, len(region))
        t = zone_scores(y, e, v, member)
        best = int(np.argmin(t))
        observed = float(-t[best])
        if null == "permutation":
            # spatial randomisation: the areas' standardised residuals shuffled over the
            # map (Besag & Diggle 1977), so the null keeps their own spread, tails and any
            # over-dispersion whatever tau2 is
            r = (y - e) / np.sqrt(v)
            perm = rng.permuted(np.broadcast_to(r, (replicates, len(r))), axis=1)
            root_w = 1.0 / np.sqrt(v)
            null_max = np.max(-((perm * root_w) @ member.T) / np.sqrt(member @ (root_w**2)), axis=1)
        else:
            # parametric bootstrap: every replicate map re-estimates its own tau2
            sims = rng.normal(e, np.sqrt(v), size=(replicates, len(region)))
            w_sim = 1.0 / (s2[None, :] + between_area_variance(sims, e, s2, dispersion)[:, None])
            null_max = np.max(
                -(((sims - e) * w_sim) @ member.T) / np.sqrt(w_sim @ member.T), axis=1
            )
        p_mc, p = _pick_p(observed, null_max)
        local = list(zones[best])
        out.append(
            Cluster(
                areas=tuple(int(region[i]) for i in local),
                statistic=observed,
                p_monte_carlo=p_mc,
                p_value=p,
                p0=p0,
                tau2=tau2,
                areas_in_region=len(region),
                registered=float(x[local].sum()),
                children=float(n[local].sum()),
                expected_registered=float((e * n)[local].sum()),
                step=step,
            )
        )
        if p > alpha:
            break
        region = np.delete(region, local)
    return tuple(out)


# --- the detector: clusters as unreached_area findings -------------------------------------

ADJUSTED_TEXT = "; expected rates adjusted for deprivation (robust regression)"
#: Area-attribute dimensions whose rank is the scan's covariate, finest first.
COVARIATE_DIMENSIONS: tuple[str, ...] = ("imd_decile", "idaci_decile", "imd_quintile")


def _fnum(value: float) -> float | None:
    return round(float(value), 6) if value is not None and math.isfinite(value) else None


def _sig(value: float) -> float | None:
    return float(f"{float(value):.3g}") if value is not None and math.isfinite(value) else None


def _small_rows(reach: pd.DataFrame, level: str, dimension: str) -> pd.DataFrame:
    rows = reach[
        (reach["level"] == level) & (reach["dimension"] == dimension) & (reach["service"] == "any")
    ].copy()
    for col in ("known", "registered"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce")
    den = (
        pd.to_numeric(rows["denominator"], errors="coerce")
        if "denominator" in rows.columns
        else rows["known"]
    )
    rows["den"] = den.where(den.notna(), rows["known"])
    return rows


def deprivation_rank(reach: pd.DataFrame, level: str) -> tuple[str, dict[str, float]] | None:
    """Each small area's cumulative rank midpoint on the first deprivation index the reach
    table has (0 = most deprived end; :func:`everyfamily.findings.gradient.rank_midpoints`
    over the quantiles' children), or None without one."""
    from everyfamily.findings.gradient import rank_midpoints

    for dim in COVARIATE_DIMENSIONS:
        rows = _small_rows(reach, level, dim)
        rows["q"] = pd.to_numeric(rows["group_value"], errors="coerce")
        rows = rows[rows["q"].notna() & (rows["den"].fillna(0) > 0)]
        if rows.empty:
            continue
        rows = rows.sort_values(["area_code", "den"], ascending=[True, False])
        rows = rows.drop_duplicates("area_code")
        levels = np.sort(rows["q"].unique())
        if len(levels) < 3:
            continue
        nk = np.array([rows.loc[rows["q"] == v, "den"].sum() for v in levels], dtype="float64")
        mids = rank_midpoints(nk / nk.sum())
        rank = mids[np.searchsorted(levels, rows["q"].to_numpy())]
        return dim, dict(zip(rows["area_code"].astype(str), rank.tolist(), strict=True))
    return None


@dataclass(frozen=True, eq=False)
class ScanMap:
    """The small areas one scan runs over, in one order: codes, display names, registered
    children, children, centroids (metres) and the deprivation covariate (with the name of
    its index) when the reach table has one."""

    level: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    registered: Float
    children: Float
    xy: Float
    covariate: Float | None
    adjusted_for: str | None


def scan_map(
    reach: pd.DataFrame,
    level: str,
    centroids: Mapping[str, tuple[float, float]],
    area_labels: Mapping[str, str] | None = None,
) -> ScanMap | None:
    """The small areas of ``level`` with children and a centroid (one row each), or None when
    fewer than :data:`MIN_AREAS_LEFT` are left to scan."""
    rows = _small_rows(reach, level, "all")
    rows = rows[(rows["den"].fillna(0) > 0) & rows["area_code"].astype(str).isin(set(centroids))]
    rows = rows.drop_duplicates("area_code").reset_index(drop=True)
    if len(rows) < MIN_AREAS_LEFT:
        return None
    codes = tuple(rows["area_code"].astype(str))
    area_names = rows["area_name"].astype(object).where(rows["area_name"].notna(), None)
    names = tuple(
        (area_labels or {}).get(code) or str(area_names[i] or code) for i, code in enumerate(codes)
    )
    dep = deprivation_rank(reach, level)
    cov = None
    if dep is not None and all(c in dep[1] for c in codes):
        cov = np.array([dep[1][c] for c in codes], dtype="float64")
    return ScanMap(
        level=level,
        codes=codes,
        names=names,
        registered=rows["registered"].fillna(0).to_numpy(dtype="float64"),
        children=rows["den"].to_numpy(dtype="float64"),
        xy=np.array([centroids[c] for c in codes], dtype="float64"),
        covariate=cov,
        adjusted_for=dep[0] if (cov is not None and dep is not None) else None,
    )


def find_unreached_clusters(
    reach: pd.DataFrame,
    *,
    settings: FindingsSettings,
    centroids: Mapping[str, tuple[float, float]] | None,
    design_effect: float = 1.0,
    area_labels: Mapping[str, str] | None = None,
    replicates: int = REPLICATES,
    seed: int = SCAN_SEED,
) -> list[Finding]:
    """Compact groups of small areas whose registered rate is low, by the sequential scan
    (module docstring), as ``unreached_area`` findings.

    ``centroids``: small area -> (x, y) in metres (a projected CRS). Each area's expected
    rate allows for deprivation when the reach table has a deprivation dimension (the
    gradient is its own finding: a cluster is low beyond what deprivation explains). A cluster
    is a finding when its scan p <= ``SCAN_ALPHA`` and its rate is at least
    ``min_area_gap`` below its expected rate; *striking* at p <= :data:`STRIKING_P`.
    Shown counts are released (suppression, rounding or the released table's cells) as in
    the area funnel; the test uses exact counts.
    """
    from everyfamily.findings.detectors import borough_row
    from everyfamily.findings.text import table_pair

    if not centroids:
        return []
    m = scan_map(reach, settings.small_area_level, centroids, area_labels)
    if m is None:
        return []
    clusters = scan_low(
        m.registered,
        m.children,
        m.xy,
        design_effect=design_effect,
        covariate=m.covariate,
        replicates=replicates,
        seed=seed,
    )
    b = borough_row(reach, settings)
    b_cell = [("borough", str(b["area_code"]), "all", "all", "any")]
    borough = table_pair(b["registered"], b["den"], settings, b_cell, "registered")
    found = (_cluster_finding(c, m, settings, borough, design_effect, replicates) for c in clusters)
    return [f for f in found if f is not None]


def _cluster_finding(
    c: Cluster,
    m: ScanMap,
    settings: FindingsSettings,
    borough: tuple[int | None, int | None],
    design_effect: float,
    replicates: int,
) -> Finding | None:
    """One cluster of the scan as an ``unreached_area`` finding with released counts, or
    None when it is not significant, not ``min_area_gap`` below its expected rate, or one
    area (the funnel's finding, find_unreached_areas, not a group)."""
    from everyfamily.evidence import strength
    from everyfamily.findings.model import Finding
    from everyfamily.findings.text import affected, areas_label, share, shown, table_pair
    from everyfamily.privacy.disclosure import released_rate

    x, n = m.registered, m.children
    ii = sorted(c.areas, key=lambda i: (x[i] / n[i], m.codes[i]))
    kk, xx = float(n[ii].sum()), float(x[ii].sum())
    expected_rate = c.expected_registered / c.children
    if not (c.p_value <= SCAN_ALPHA and expected_rate - xx / kk >= settings.min_area_gap):
        return None
    if len(ii) < 2:
        return None
    names = [m.names[i] for i in ii]
    cells = [(m.level, m.codes[i], "all", "all", "any") for i in ii]
    rx, rk = table_pair(xx, kk, settings, cells, "registered")
    bx, bk = borough
    shown_expected = round(expected_rate, 2)
    adjusted = (
        f", {shown_expected:.0%} expected given their deprivation"
        if m.covariate is not None
        else ""
    )
    headline = (
        f"{areas_label(names)}: {shown(kk, rk, settings)} under-fives living there, "
        f"{shown(xx, rx, settings)} registered with a centre ({share(rx, rk)}{adjusted}; "
        f"borough {share(bx, bk)})"
    )
    excess = c.expected_registered - xx
    st = strength(c.p_value)
    counts = {"children": rk, "registered": rx, "borough_children": bk, "borough_registered": bx}
    evidence = _cluster_evidence(
        c, m, settings, counts, (shown_expected, excess, st), design_effect, replicates
    )
    lo, hi = (math.nan, math.nan)
    if rx is not None and rk:
        from everyfamily.findings import stats

        lo, hi = stats.wilson_interval(float(rx), float(rk))
    return Finding(
        kind="unreached_area",
        areas=tuple(m.codes[i] for i in ii),
        group=None,
        site=None,
        measure="registered_rate",
        observed=released_rate(rx, rk),
        expected=shown_expected,
        interval=(lo, hi),
        children_affected=affected(rx, rk, kk - xx, settings),
        headline=headline,
        evidence=evidence,
        score=max(excess, 0.0) * st,
        severity="striking" if c.p_value <= STRIKING_P else "watch",
        level=m.level,
        area_names=tuple(names),
    )


def _cluster_evidence(
    c: Cluster,
    m: ScanMap,
    settings: FindingsSettings,
    counts: dict[str, int | None],
    expected_excess_strength: tuple[float, float, float],
    design_effect: float,
    replicates: int,
) -> dict[str, object]:
    """The evidence of one cluster's finding: the method with its references, the scan's
    numbers and the released counts."""
    from everyfamily.findings.text import excess_of

    test = (
        "spatial scan statistic for a compact group of low-reach areas: circular "
        "zones on area centroids (Kulldorff 1997), weighted normal zone score with the "
        "over-dispersed funnel's variances (Huang et al. 2009; Spiegelhalter 2005), "
        "Monte Carlo p-value from the over-dispersed null with tau2 re-estimated per "
        "replicate (Gumbel tail, Abrams et al. 2010), clusters found in turn "
        "(Zhang, Assuncao & Kulldorff 2010)"
    )
    rk, rx = counts["children"], counts["registered"]
    shown_expected, excess, st = expected_excess_strength
    return {
        "test": test + (ADJUSTED_TEXT if m.covariate is not None else ""),
        "p_value": _sig(c.p_value),
        "q_value": _sig(c.p_value),
        "p_monte_carlo": _sig(c.p_monte_carlo),
        "replicates": replicates,
        "scan_step": c.step,
        "areas_in_region": c.areas_in_region,
        "fdr_alpha": settings.fdr_alpha,
        "scan_alpha": SCAN_ALPHA,
        "striking_at": STRIKING_P,
        "zone_score": _fnum(-c.statistic),
        "overdispersion": {"tau2": _fnum(c.tau2), "estimator": "MAD"},
        "family_design_effect": _fnum(max(1.0, float(design_effect))),
        "expected_rate": shown_expected,
        "adjusted_for": m.adjusted_for,
        "counts": counts,
        "tests_in_family": c.step,
        "excess_unreached": excess_of(rk, rx, shown_expected, excess, settings),
        "strength": _fnum(st),
    }
