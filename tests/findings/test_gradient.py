"""Deprivation as a gradient: SII and RII by the Fingertips method, worked by hand, and a
slope test that counts areas, not children, as the units that vary (issue 14, defect 4)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from everyfamily.findings import stats
from everyfamily.findings.detectors import find_deprivation_gradients, find_unreached_groups
from everyfamily.findings.gradient import (
    clustered_slope_test,
    deprivation_gradient,
    rank_midpoints,
    sii_rii,
)
from everyfamily.findings.model import FindingsSettings
from findings.reach_tables import Area, reach_table

S = FindingsSettings(rounding="none", suppress_at_or_below=0)


def test_sii_and_rii_worked_by_hand() -> None:
    # shares .2 .3 .5 -> midpoints .1 .35 .75; rates .5 .6 .8 (most deprived first)
    assert rank_midpoints(np.array([0.2, 0.3, 0.5])) == pytest.approx([0.1, 0.35, 0.75])
    # weighted means: b = .5, y = .68; Sxy = .2(-.4)(-.18) + .3(-.15)(-.08) + .5(.25)(.12)
    # = .033, Sxx = .07: slope .033 / .07 = .471429, intercept .68 - .5 slope = .444286
    sii, rii, intercept = sii_rii(np.array([0.5, 0.6, 0.8]), np.array([0.2, 0.3, 0.5]))
    assert sii == pytest.approx(0.033 / 0.07)
    assert intercept == pytest.approx(0.68 - 0.5 * 0.033 / 0.07)
    assert rii == pytest.approx((intercept + sii) / intercept)  # 2.0611
    assert rii == pytest.approx(2.0611, abs=1e-4)
    # two equal halves at .6 and .8: the line through (.25, .6) and (.75, .8)
    assert sii_rii(np.array([0.6, 0.8]), np.array([0.5, 0.5]))[:2] == pytest.approx((0.4, 1.8))


def _clustered_world(
    seed: int, slope: float, sd: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 areas of 150 children, 3 per decile, a real between-area sd (0.05 by default)."""
    rng = np.random.default_rng(seed)
    dec = np.repeat(np.arange(1, 11), 3).astype(float)
    n = np.full(30, 150.0)
    p = np.clip(0.7 + slope * (dec - 5.5) + rng.normal(0, sd, 30), 0, 1)
    return dec, rng.binomial(150, p).astype(float), n


def test_clustered_test_uses_the_pearson_scale_of_a_quasi_binomial_glm() -> None:
    dec, x, n = _clustered_world(4, 0.01)
    rank = (dec - 0.5) / 10
    slope, p, scale = clustered_slope_test(x, n, rank)
    # statsmodels' quasi-binomial fit (proportions with var_weights = n, Pearson scale)
    ref = sm.GLM(x / n, sm.add_constant(rank), family=sm.families.Binomial(), var_weights=n)
    fit = ref.fit(scale="X2")
    assert slope == pytest.approx(float(fit.params[1]))
    assert scale == pytest.approx(max(1.0, float(fit.scale)))
    assert scale > 1.5  # the areas vary beyond binomial
    from scipy import stats as sstats

    assert p == pytest.approx(sstats.t.sf(fit.params[1] / fit.bse[1], 28), rel=1e-6)


def test_no_real_gradient_is_rarely_called_where_child_level_tests_cry_wolf() -> None:
    # 40 worlds with no gradient but clustered areas: the child-level "decile 1-3 vs rest"
    # test is wrong far more often than 5%; the clustered slope test is not
    child_level, clustered = 0, 0
    for seed in range(40):
        dec, x, n = _clustered_world(seed, 0.0, sd=0.08)
        low = dec <= 3
        _z, p_child = stats.two_proportion_lower(
            int(x[low].sum()), int(n[low].sum()), int(x[~low].sum()), int(n[~low].sum())
        )
        child_level += int(p_child < 0.05)
        g = deprivation_gradient(dec, x, n, draws=2000)
        assert g is not None
        clustered += int(g.p_value < 0.05)
    # measured: 8 of 40 child-level, 0 of 40 clustered (nominal 5%: 2 of 40)
    assert child_level >= 6
    assert clustered <= 4


def _gradient_table(slope: float, seed: int = 1):  # type: ignore[no-untyped-def]
    dec, x, n = _clustered_world(seed, slope)
    areas = [
        Area(f"A{i:02d}", int(n[i]), int(x[i]), int(x[i]) // 2, float(n[i])) for i in range(30)
    ]
    groups = [
        ("lsoa", f"A{i:02d}", "imd_decile", str(int(dec[i])), int(n[i]), int(x[i]))
        for i in range(30)
    ]
    for d in range(1, 11):
        m = dec == d
        groups.append(("borough", "B", "imd_decile", str(d), int(n[m].sum()), int(x[m].sum())))
    return reach_table(areas, groups=groups)


def test_a_planted_gradient_gives_one_finding_with_sii_and_rii() -> None:
    reach = _gradient_table(0.02)
    out = find_deprivation_gradients(reach, settings=S)
    assert len(out) == 1
    f = out[0]
    assert f.group == ("imd_decile", "gradient") and f.severity == "striking"
    ev = f.evidence
    # the shown SII is the Fingertips fit on the decile counts
    dec, x, n = _clustered_world(1, 0.02)
    nk = np.array([n[dec == d].sum() for d in range(1, 11)])
    xk = np.array([x[dec == d].sum() for d in range(1, 11)])
    sii, rii, _ = sii_rii(xk / nk, nk / nk.sum())
    assert ev["slope_index_of_inequality"] == pytest.approx(sii, abs=1e-6)
    assert ev["relative_index_of_inequality"] == pytest.approx(rii, abs=1e-6)
    lo, hi = ev["sii_interval"]
    assert lo < sii < hi and lo > 0
    assert ev["rii_interval"][0] > 1
    assert "slope index of inequality" in f.headline
    # children short of the least deprived end's fitted rate: sum SII (1 - b_k) n_k
    b = np.cumsum(nk / nk.sum()) - nk / nk.sum() / 2
    assert f.children_affected == round(float((sii * (1 - b) * nk).sum()))
    # and deciles are no longer tested child by child as "decile vs everyone else"
    assert all(g.group[0] != "imd_decile" for g in find_unreached_groups(reach, settings=S))


def test_a_flat_clustered_scale_gives_no_gradient_finding() -> None:
    assert find_deprivation_gradients(_gradient_table(0.0, seed=2), settings=S) == []


def test_a_gradient_whose_decile_counts_are_withheld_reads_its_interval_not_na() -> None:
    # no borough decile cells released: no point SII can be refitted from released counts,
    # so the headline gives the interval of the test's SII, never "n/a"
    reach = _gradient_table(0.02)
    reach = reach[~((reach["level"] == "borough") & (reach["dimension"] == "imd_decile"))]
    (f,) = find_deprivation_gradients(reach, settings=S)
    lo, hi = sorted(abs(v) for v in f.evidence["sii_interval"])
    assert "n/a" not in f.headline
    assert f"between {100 * lo:.0f} and {100 * hi:.0f} percentage points lower" in f.headline
