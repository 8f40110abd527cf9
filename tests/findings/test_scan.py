"""The spatial scan (findings/scan.py): hand-computed pieces, reference distributions, and
truth planted in simulated maps (a compact low cluster among other stories; null maps)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sstats

from everyfamily.findings import scan
from everyfamily.findings.model import FindingsSettings
from everyfamily.reach.statistics import Z_998, overdispersed_z, overdispersion

from .reach_tables import Area, reach_table


def test_circular_zones_by_hand() -> None:
    # four areas on a line at x = 0, 1, 3, 7; 10 children each; zones up to 50% (20)
    xy = [(0, 0), (1, 0), (3, 0), (7, 0)]
    zones = scan.circular_zones(xy, [10, 10, 10, 10], max_share=0.5)
    # from 0: {0}, {0,1}; from 1: {1}, {0,1} (dup); from 2: {2}, {1,2}; from 3: {3}, {2,3}
    assert zones == ((0,), (0, 1), (1,), (2,), (1, 2), (3,), (2, 3))
    # a zone never holds more than the share: one area of 30 out of 50 is no zone
    assert (0,) not in scan.circular_zones(xy, [30, 10, 5, 5], max_share=0.5)


def test_zone_scores_by_hand() -> None:
    # y = (0.5, 0.8), p0 = 0.7, v = (0.01, 0.04): w = (100, 25)
    member = scan.membership([(0,), (0, 1)], 2)
    t = scan.zone_scores([0.5, 0.8], 0.7, [0.01, 0.04], member)
    assert t[0] == pytest.approx(100 * -0.2 / math.sqrt(100))  # -2.0
    assert t[1] == pytest.approx((100 * -0.2 + 25 * 0.1) / math.sqrt(125))  # -1.5652


def test_monte_carlo_and_gumbel_p_values() -> None:
    assert scan.monte_carlo_p(3.0, [1.0, 2.0, 3.0, 4.0]) == pytest.approx(3 / 5)
    rng = np.random.default_rng(1)
    reps = rng.gumbel(2.0, 0.5, 999)
    beta = reps.std(ddof=1) * math.sqrt(6) / math.pi
    mu = reps.mean() - np.euler_gamma * beta
    # the moment fit's tail is scipy's Gumbel survival function with those parameters
    assert scan.gumbel_p(5.0, reps) == pytest.approx(sstats.gumbel_r.sf(5.0, mu, beta))
    # and close to the true tail of the distribution the replicates came from
    assert scan.gumbel_p(5.0, reps) == pytest.approx(sstats.gumbel_r.sf(5.0, 2.0, 0.5), rel=0.3)


def test_between_area_variance_by_hand_and_against_the_funnel_estimator() -> None:
    # z = (-2, -1, 0, 1, 3) with s^2 = 0.01: MAD about the median 0 is 1, phi = 1.4826^2;
    # w = 100 each: sum w - sum w^2 / sum w = 500 - 100 = 400
    y = 0.5 + 0.1 * np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
    tau2 = scan.between_area_variance(y, 0.5, np.full(5, 0.01), "mad")[0]
    assert tau2 == pytest.approx((5 * 1.482602218505602**2 - 4) / 400)
    # "winsorised" is reach.statistics.overdispersion's estimator, map by map
    rng = np.random.default_rng(3)
    maps = rng.normal(0.7, 0.06, size=(4, 30))
    s2 = np.full(30, 0.002)
    got = scan.between_area_variance(maps, 0.7, s2, "winsorised")
    want = [overdispersion(m, 0.7, np.sqrt(s2)).tau2 for m in maps]
    assert got == pytest.approx(want)


def test_expected_rates_follow_the_covariate_and_ignore_a_few_outliers() -> None:
    c = np.linspace(0, 1, 30)
    y = 0.85 - 0.25 * c
    y[[3, 4, 5]] = 0.3  # three low areas (a story) must not tilt the expectation
    e = scan.expected_rates(y, np.full(30, 100.0), c)
    keep = np.ones(30, dtype=bool)
    keep[[3, 4, 5]] = False
    assert np.abs(e[keep] - y[keep]).max() < 0.01
    ols = sm.OLS(y, sm.add_constant(c)).fit().fittedvalues  # ordinary least squares is pulled
    assert np.abs(ols[keep] - y[keep]).max() > 0.03
    assert scan.expected_rates(y, np.full(30, 100.0), None) == pytest.approx(np.full(30, y.mean()))


def _grid(side: int) -> np.ndarray:
    return np.array([(i * 600.0, j * 600.0) for i in range(side) for j in range(side)])


def _map(
    rng: np.random.Generator, rates: np.ndarray, n: np.ndarray, tau: float
) -> tuple[np.ndarray, np.ndarray]:
    p = np.clip(rates + rng.normal(0, tau, len(rates)), 0.01, 0.99)
    return rng.binomial(n.astype(int), p).astype(float), n


def test_scan_finds_a_compact_cluster_the_funnel_misses_among_other_stories() -> None:
    """Planted: a 3-area cluster at 0.4x registration; a block of 10 areas (a barrier's far
    side) at 0.45x; a 2-area community at 0.65x; a deprivation gradient; over-dispersion."""
    rng = np.random.default_rng(11)
    xy = _grid(7)
    n = rng.integers(70, 130, 49).astype(float)
    dep = (xy[:, 0] + xy[:, 1]) / (xy[:, 0] + xy[:, 1]).max()
    rates = 0.82 * (1 - 0.25 * dep)
    barrier = [i for i in range(49) if xy[i, 0] >= 3000 and xy[i, 1] <= 1200]  # 2 x 5 strip
    cluster = [0, 1, 7]  # a corner: three touching cells
    community = [24, 25]
    rates[barrier] *= 0.45
    rates[cluster] *= 0.4
    rates[community] *= 0.65
    x, n = _map(rng, rates, n, 0.03)
    found = scan.scan_low(x, n, xy, covariate=dep)
    hits = [c for c in found if set(c.areas) & set(cluster) and c.p_value <= scan.STRIKING_P]
    assert hits and set(hits[0].areas) <= set(cluster) | {2, 8, 14}
    # the over-dispersed funnel on its own does not flag the cluster's areas at 99.8%
    p0 = x.sum() / n.sum()
    z, _tau2, _od = overdispersed_z(x / n, p0, np.sqrt(p0 * (1 - p0) / n))
    assert (z[cluster] > -Z_998).any()


def _null_first_p(tau: float, null: str, maps: int = 80) -> np.ndarray:
    rng = np.random.default_rng(5)
    xy = _grid(6)
    dep = (xy[:, 0] + 0.5 * xy[:, 1]) / (xy[:, 0] + 0.5 * xy[:, 1]).max()
    firsts = []
    for k in range(maps):
        n = rng.integers(60, 140, 36).astype(float)
        x, n = _map(rng, 0.75 - 0.15 * dep, n, tau)
        found = scan.scan_low(
            x, n, xy, covariate=dep, replicates=199, seed=k, max_clusters=1, null=null
        )
        firsts.append(found[0].p_value)
    return np.array(firsts)


def test_parametric_scan_is_calibrated_on_binomial_null_maps() -> None:
    """80 maps with nothing planted (a gradient, binomial noise): the first scan is
    significant at 5% in about 5% of them (measured 4%), striking (1%) in about 1%."""
    p = _null_first_p(0.0, "parametric")
    assert (p <= 0.05).mean() <= 0.09
    assert (p <= scan.STRIKING_P).mean() <= 0.03
    assert 0.3 < float(np.median(p)) < 0.7  # p-values spread over (0, 1]


def test_permutation_scan_is_calibrated_on_over_dispersed_null_maps() -> None:
    """With over-dispersion (tau 0.05, as much as the binomial spread) the permutation null
    stays calibrated (measured 3% at 5%). The parametric null is not, there: tau2 estimated
    from 36 areas is often too small, and then measured 9-14% of such maps are significant
    at 5% and 2-7% at 1% (module docstring, "Known weakness")."""
    p = _null_first_p(0.05, "permutation")
    assert (p <= 0.05).mean() <= 0.09
    assert (p <= scan.STRIKING_P).mean() <= 0.03


def test_finder_gives_a_released_unreached_area_finding() -> None:
    rng = np.random.default_rng(2)
    xy = _grid(5)
    n = rng.integers(80, 120, 25)
    rates = np.full(25, 0.75)
    rates[[0, 1, 5]] = 0.3
    x = rng.binomial(n, rates)
    areas = [Area(f"A{i:02d}", int(n[i]), int(x[i])) for i in range(25)]
    reach = reach_table(areas)
    cents = {f"A{i:02d}": (float(xy[i, 0]), float(xy[i, 1])) for i in range(25)}
    found = scan.find_unreached_clusters(
        reach, settings=FindingsSettings(), centroids=cents, replicates=199
    )
    assert found, "the planted cluster is a finding"
    f = found[0]
    assert f.kind == "unreached_area" and set(f.areas) == {"A00", "A01", "A05"}
    assert f.severity == "striking"
    assert f.evidence["counts"]["children"] == pytest.approx(int(n[[0, 1, 5]].sum()), abs=5)
    assert "spatial scan statistic" in f.evidence["test"]
    # no centroids, no scan
    assert scan.find_unreached_clusters(reach, settings=FindingsSettings(), centroids=None) == []


def test_gradient_sets_aside_areas_explained_by_their_own_findings() -> None:
    """Planted: registration 3 points lower per decile towards the least deprived (as the
    town plants), and a barrier's six cut-off areas that happen to be the most deprived
    (deciles 1-2) at 35%. Together the slope is hidden; with the barrier's areas set aside
    (they have a finding of their own) the gradient is found, reach falling with affluence."""
    from everyfamily.findings.detectors import find_deprivation_gradients

    dec = np.repeat(np.arange(1, 11), 3)
    n = np.full(30, 100)
    x = np.round(n * (0.85 - 0.03 * (dec - 1))).astype(int)
    story = np.flatnonzero(dec <= 2)
    x[story] = 35
    areas = [Area(f"A{i:02d}", int(n[i]), int(x[i])) for i in range(30)]
    groups = [
        ("lsoa", f"A{i:02d}", "imd_decile", str(int(dec[i])), int(n[i]), int(x[i]))
        for i in range(30)
    ]
    for d in range(1, 11):
        m = dec == d
        groups.append(("borough", "B", "imd_decile", str(d), int(n[m].sum()), int(x[m].sum())))
    reach = reach_table(areas, groups=groups)
    settings = FindingsSettings()
    assert find_deprivation_gradients(reach, settings=settings) == []
    aside = frozenset(f"A{i:02d}" for i in story)
    found = find_deprivation_gradients(reach, settings=settings, set_aside=aside)
    assert len(found) == 1
    assert found[0].evidence["areas_tested"] == 24 and found[0].evidence["areas_set_aside"] == 6
    # the shown SII is refitted on the released decile counts of every area: still negative
    assert found[0].evidence["slope_index_of_inequality"] < 0
