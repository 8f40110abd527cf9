"""The trend scan (trends.scan) on synthetic maps: a fall planted in four neighbouring areas
of a 6 x 6 grid is found as that cluster; a borough-wide fall and an area that is simply
low at every quarter are not clusters; maps with no planted trend but over-dispersed drift
in every area raise a cluster at about the nominal 5%."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from everyfamily.trends.scan import cluster_tests, scan_trends, zone_z

GRID = np.array([(i % 6, i // 6) for i in range(36)], dtype="float64") * 1000.0
CODES = tuple(f"A{i:02d}" for i in range(36))
#: Four neighbouring cells: (0,0), (1,0), (0,1), (1,1).
PLANTED = ("A00", "A01", "A06", "A07")


def _map(
    rng: np.random.Generator, drop: float = 0.0, drift: float = 0.04, periods: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Registered x of n = 40 children per area and quarter: every area's rate wanders
    around 0.6 by its own random walk (sd ``drift`` a quarter: over-dispersion), and the
    planted areas fall by ``drop`` over the quarters."""
    n = np.full((36, periods), 40.0)
    walk = np.cumsum(rng.normal(0.0, drift, (36, periods)), axis=1)
    rate = 0.6 + walk - walk[:, :1]
    planted = np.isin(np.array(CODES), PLANTED)
    rate[planted] -= drop * np.linspace(0.0, 1.0, periods)
    return rng.binomial(40, np.clip(rate, 0.02, 0.98)).astype("float64"), n


def test_the_score_is_zero_for_a_level_shift_and_signed_for_a_trend() -> None:
    p = np.array([0.6, 0.6, 0.6, 0.6, 0.6])
    n = np.full((1, 5), 100.0)
    # always 20 points below the borough: no trend
    assert zone_z(np.full((1, 5), 40.0), n, p)[0] == pytest.approx(0.0, abs=1e-12)
    # by hand: x = 60, 55, 50, 45, 40; s_bar = 2; U = sum (x - 60)(s - 2) = -50;
    # V = 100 x 0.24 x 10 = 240; z = -50 / sqrt(240)
    x = np.array([[60.0, 55.0, 50.0, 45.0, 40.0]])
    assert zone_z(x, n, p)[0] == pytest.approx(-50 / np.sqrt(240))


def test_a_planted_fall_in_four_neighbouring_areas_is_the_cluster() -> None:
    rng = np.random.default_rng(7)
    x, n = _map(rng, drop=0.25, drift=0.02)
    found = scan_trends(x, n, CODES, GRID, replicates=199)
    assert found, "no cluster"
    first = found[0]
    assert first.z < 0 and first.p_value <= 0.05
    assert len(set(first.areas) & set(PLANTED)) >= 3 and len(first.areas) <= 6


def test_a_borough_wide_fall_or_a_low_area_is_no_cluster() -> None:
    rng = np.random.default_rng(11)
    x, n = _map(rng, drift=0.0)
    falling = x * np.linspace(1.0, 0.7, 5)  # every area falls 30%
    assert scan_trends(np.round(falling), n, CODES, GRID, replicates=199) == ()
    low = x.copy()
    low[:4] = np.round(low[:4] * 0.5)  # four areas at half the rate at every quarter
    assert scan_trends(low, n, CODES, GRID, replicates=199) == ()


def test_false_alarms_on_maps_with_drift_and_nothing_planted() -> None:
    rng = np.random.default_rng(2026)
    hits = 0
    maps = 60
    for _ in range(maps):
        x, n = _map(rng, drift=0.05)
        hits += bool(scan_trends(x, n, CODES, GRID, replicates=99, seed=int(rng.integers(1e9))))
    # nominal 5%: 3 of 60 expected; 8 or more has probability under 2% if it holds
    assert hits <= 7, hits


def test_cluster_rows_for_the_trend_tests() -> None:
    rng = np.random.default_rng(7)
    x, n = _map(rng, drop=0.25, drift=0.02)
    ends = pd.date_range("2025-03-31", periods=5, freq="QE").strftime("%Y-%m-%d")
    rows = [
        dict(period_index=t, period_end=ends[t], level="lsoa", area_code=c, area_name=c,
             dimension="all", group_value="all", service="any", age_band="0-1",
             denominator=n[i, t], known=n[i, t], registered=x[i, t], engaged=np.nan,
             denominator_key=0.0, known_key=0.0, registered_key=0.0, engaged_key=0.0)
        for i, c in enumerate(CODES) for t in range(5)
    ]  # fmt: skip
    exact = pd.DataFrame(rows)
    centroids = {c: (float(a), float(b)) for c, (a, b) in zip(CODES, GRID, strict=True)}
    got = cluster_tests(exact, "lsoa", 5, 0.10, centroids, replicates=199)
    assert len(got.tests) >= 1
    row = got.tests.iloc[0]
    assert row["trend"] == "decreasing" and row["level"] == "trend_cluster"
    areas = got.members[row["area_code"]]
    last = got.series[(got.series["area_code"] == row["area_code"])]
    last = last[last["period_index"] == 4].iloc[0]
    # the pooled series sums its small areas' counts
    assert last["registered"] == sum(x[CODES.index(a), 4] for a in areas)
    assert row["last_rate"] == pytest.approx(last["registered"] / last["denominator"])
    assert cluster_tests(exact, "lsoa", 5, 0.10, None).tests.empty


def _rook(width: int, cells: int) -> list[set[int]]:
    """Area index -> the cells sharing an edge with it, on a grid ``width`` cells wide."""
    out = []
    for i in range(cells):
        x, y = i % width, i // width
        near = {(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)}
        out.append({a + b * width for a, b in near if 0 <= a < width and 0 <= b < cells // width})
    return out


def test_flexible_zones_by_hand() -> None:
    """Four areas on a line, 1 km apart; a river between the third and the fourth (they do
    not touch). With k = 3 (an area and 2 nearest): area 0 -> {0,1}, {0,1,2} ({0,2} is not
    connected); area 1 -> {0,1}, {1,2}, {0,1,2}; area 2's and 3's sets all need 2-3, which
    do not touch. Three distinct zones; at most half the children, {0,1,2} goes."""
    from everyfamily.trends.scan import flexible_zones

    xy = np.array([[0.0, 0.0], [1000.0, 0.0], [2000.0, 0.0], [3000.0, 0.0]])
    adjacency = [{1}, {0, 2}, {1}, set()]
    w = np.ones(4)
    assert flexible_zones(xy, adjacency, w, max_share=1.0, k=3) == ((0, 1), (0, 1, 2), (1, 2))
    assert flexible_zones(xy, adjacency, w, max_share=0.5, k=3) == ((0, 1), (1, 2))


def test_flexible_zones_hold_an_l_shaped_fall_exactly() -> None:
    """A fall in an L of four areas ((0,0), (1,0), (2,0), (2,1)) is no circle's first four
    areas: the circles' best zone takes an unaffected area in (or leaves a planted one out),
    the flexibly shaped zones' best is the L itself."""
    from everyfamily.findings.scan import membership
    from everyfamily.trends.scan import scan_zones

    planted = {0, 1, 2, 8}
    rng = np.random.default_rng(3)
    n = np.full((36, 5), 200.0)
    rate = np.full((36, 5), 0.6)
    rate[list(planted)] -= 0.3 * np.linspace(0.0, 1.0, 5)
    x = rng.binomial(200, rate).astype("float64")
    p = x.sum(axis=0) / n.sum(axis=0)
    best = {}
    for name, adjacency in (("circles", None), ("flexible", _rook(6, 36))):
        zones = scan_zones(GRID, n.mean(axis=1), adjacency)
        m = membership(zones, 36)
        z = zone_z(m @ x, m @ n, p)
        best[name] = set(zones[int(np.argmin(z))])
    assert best["flexible"] == planted
    assert best["circles"] != planted


def test_binomial_null_finds_the_planted_fall() -> None:
    rng = np.random.default_rng(7)
    x, n = _map(rng, drop=0.25, drift=0.02)
    found = scan_trends(x, n, CODES, GRID, replicates=199, null="binomial")
    assert found and found[0].z < 0 and found[0].p_value <= 0.05
    assert len(set(found[0].areas) & set(PLANTED)) >= 3


def test_area_dispersion_is_one_by_chance_and_grows_with_drift() -> None:
    """Binomial counts alone: phi is floored at 1. Every area wandering by a random walk of
    sd 8 points a quarter (n = 40: the binomial sd of a rate is about 8 points too) makes
    each area's own trend z vary several times more than chance."""
    from everyfamily.trends.scan import area_dispersion

    rng = np.random.default_rng(5)
    x, n = _map(rng, drift=0.0)
    assert area_dispersion(x, n, x.sum(axis=0) / n.sum(axis=0)) == 1.0
    x, n = _map(rng, drift=0.08)
    assert area_dispersion(x, n, x.sum(axis=0) / n.sum(axis=0)) > 2.0


def test_binomial_null_false_alarms_with_drift_and_nothing_planted() -> None:
    """As the permutation null's test above: over-dispersed maps (sd 5 points a quarter),
    nothing planted, nominal 5%; the quasi-binomial phi keeps the alarms near it."""
    rng = np.random.default_rng(2027)
    hits = 0
    for _ in range(60):
        x, n = _map(rng, drift=0.05)
        seed = int(rng.integers(1e9))
        hits += bool(scan_trends(x, n, CODES, GRID, replicates=99, seed=seed, null="binomial"))
    assert hits <= 7, hits


def test_hinge_scores_by_hand() -> None:
    from everyfamily.trends.scan import hinge_scores

    assert hinge_scores(12, 5).tolist() == [0.0] * 8 + [1.0, 2.0, 3.0, 4.0]
    assert hinge_scores(5, 5).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_the_hinge_scores_a_fall_in_the_last_year_against_a_flat_baseline() -> None:
    """By hand: one zone of n = 100 at the borough's 0.6 for 8 quarters, then 55, 50, 45, 40
    registered over the last 4 (scores 0 x 8, 1, 2, 3, 4). Equal weights v = 24, so
    s_bar = 10/12; U = sum (x - 60) s - s_bar sum (x - 60) = -150 + 50 x 10/12 = -108.33;
    V = 24 sum (s - s_bar)^2; z = -4.75. The recent statistic over the last 5 quarters
    (60, 55, 50, 45, 40) scores the same fall -3.23: the flat baseline adds evidence."""
    from everyfamily.trends.scan import hinge_scores

    x = np.array([[60.0] * 8 + [55.0, 50.0, 45.0, 40.0]])
    n = np.full((1, 12), 100.0)
    p = np.full(12, 0.6)
    s = hinge_scores(12, 5)
    s_bar = s.mean()  # equal weights v = 24 in every quarter
    u = float(((x[0] - 60.0) * (s - s_bar)).sum())
    var = float((24.0 * (s - s_bar) ** 2).sum())
    assert u == pytest.approx(-150.0 + 50.0 * s_bar)
    assert zone_z(x, n, p, s)[0] == pytest.approx(u / np.sqrt(var))
    assert zone_z(x, n, p, s)[0] == pytest.approx(-4.7507, abs=1e-4)
    assert zone_z(x[:, -5:], n[:, -5:], p[:5])[0] == pytest.approx(-3.2275, abs=1e-4)
