"""The formulas against published reference values and hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from everyfamily.reach import statistics as st


# --- Wilson ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        # Newcombe RG (1998) Stat Med 17:857-872, Table II, method 3 (score, no correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
        # 0/10: upper = z²/(n + z²) = 3.8415/13.8415.
        (0, 10, 0.0, 0.2775),
    ],
)
def test_wilson_matches_newcombe_table(x: int, n: int, lower: float, upper: float) -> None:
    lo, up = st.wilson_interval([x], [n])
    assert lo[0] == pytest.approx(lower, abs=5e-5)
    assert up[0] == pytest.approx(upper, abs=5e-5)


def test_wilson_by_hand_and_edges() -> None:
    # 3/6 by hand: p = .5, z² = 3.8415; centre = (.5 + .32013)/1.64025 = .5;
    # half = 1.96/1.64025 * sqrt(.25/6 + 3.8415/144) = 1.19491 * .26125 = .31218
    lo, up = st.wilson_interval([3, 0, 6, 0], [6, 6, 6, 0])
    assert lo[0] == pytest.approx(0.18761, abs=1e-4) and up[0] == pytest.approx(0.81239, abs=1e-4)
    assert lo[1] == 0.0 and up[2] == 1.0  # exact at 0 and n
    assert math.isnan(lo[3]) and math.isnan(up[3])  # n = 0: no rate, never a division by zero


# --- Funnel ------------------------------------------------------------------------------
def _fingertips_sigma_adjustment(p: float, n: float, avg: float, side: str) -> float:
    """PHEindicatormethods::sigma_adjustment (Fingertips), transcribed, on the 0-1 scale."""
    from scipy.stats import norm

    z2 = norm.ppf(p) ** 2
    first = avg * (n / z2 + 1)
    adj = math.sqrt(
        (-8 * avg * (n / z2 + 1)) ** 2
        - 64 * (1 / z2 + 1 / n) * avg * (n * (avg * (n / z2 + 2) - 1) + z2 * (avg - 1))
    )
    last = 1 / z2 + 1 / n
    return ((first - adj / 8) if side == "low" else (first + adj / 8)) / last / n


def test_funnel_limits_by_hand() -> None:
    # p0 = .3, n = 100: sd = sqrt(.21/100) = .045826; 95%: .3 ∓ 1.95996*.045826 = .21018/.38982;
    # 99.8%: .3 ∓ 3.09023*.045826 = .15839/.44161
    lim = st.funnel_limits(0.3, [100])
    assert lim.lower_95[0] == pytest.approx(0.210183, abs=1e-6)
    assert lim.upper_95[0] == pytest.approx(0.389817, abs=1e-6)
    assert lim.lower_998[0] == pytest.approx(0.158388, abs=1e-6)
    assert lim.upper_998[0] == pytest.approx(0.441612, abs=1e-6)


@pytest.mark.parametrize(("avg", "n"), [(0.3, 100), (0.6, 20), (0.5, 5), (0.92, 340)])
def test_funnel_limits_equal_fingertips_wilson_inversion(avg: float, n: int) -> None:
    lim = st.funnel_limits(avg, [n])
    assert lim.lower_95[0] == pytest.approx(
        max(0, _fingertips_sigma_adjustment(0.975, n, avg, "low"))
    )
    assert lim.upper_95[0] == pytest.approx(
        min(1, _fingertips_sigma_adjustment(0.975, n, avg, "high"))
    )
    assert lim.lower_998[0] == pytest.approx(
        max(0, _fingertips_sigma_adjustment(0.999, n, avg, "low"))
    )
    assert lim.upper_998[0] == pytest.approx(
        min(1, _fingertips_sigma_adjustment(0.999, n, avg, "high"))
    )


def test_funnel_limits_clip_to_unit_interval() -> None:
    lim = st.funnel_limits(0.95, [4])  # .95 + 3.09*sqrt(.0475/4) = 1.287 -> 1
    assert lim.upper_998[0] == 1.0 and lim.upper_95[0] == 1.0


def test_funnel_z_and_bands() -> None:
    # target .5, n = 100, sd = .05: 40 -> z = -2; 34 -> -3.2; 50 -> 0; 61 -> 2.2; 66 -> 3.2
    z = st.funnel_z([40, 34, 50, 61, 66, 0], [100, 100, 100, 100, 100, 0], 0.5)
    assert z[:5] == pytest.approx([-2.0, -3.2, 0.0, 2.2, 3.2])
    assert math.isnan(z[5])
    assert list(st.funnel_band(z)) == [
        "below_95",
        "below_998",
        "within",
        "above_95",
        "above_998",
        None,
    ]


def test_funnel_z_undefined_at_target_zero_or_one() -> None:
    assert np.isnan(st.funnel_z([1], [10], 0.0)).all()
    assert np.isnan(st.funnel_z([1], [10], 1.0)).all()
    z = st.funnel_z([1, 1], [4, 4], [0.25, 1.0])  # per-row targets
    assert z[0] == 0.0 and math.isnan(z[1])


def test_band_agrees_with_limits() -> None:
    target, n = 0.62, np.arange(5, 400, 7)
    lim = st.funnel_limits(target, n)
    just_below = np.floor(lim.lower_95 * n - 1e-9)  # a count just under the lower 95% limit
    bands = st.funnel_band(st.funnel_z(just_below, n, target))
    assert set(bands) <= {"below_95", "below_998"}


# --- Empirical Bayes ----------------------------------------------------------------------
def test_empirical_bayes_equals_esda() -> None:
    from esda.smoothing import Empirical_Bayes

    e = np.array([10, 3, 0, 25, 8, 14, 2, 30])
    b = np.array([40, 30, 12, 50, 60, 35, 9, 45])
    ours = st.empirical_bayes(e, b)
    theirs = Empirical_Bayes(e, b).r.ravel()
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_empirical_bayes_by_hand() -> None:
    # e = (1, 9), b = (10, 10): m = .5, r = (.1, .9), s² = (10*.16 + 10*.16)/20 - .5/10 = .11;
    # w = .11/(.11 + .05) = .6875; EB = (.6875*.1 + .3125*.5, .6875*.9 + .3125*.5)
    eb = st.empirical_bayes([1, 9], [10, 10])
    assert eb == pytest.approx([0.225, 0.775])


def test_empirical_bayes_zero_population_and_negative_variance() -> None:
    eb = st.empirical_bayes([1, 9, 0], [10, 10, 0])
    assert eb[:2] == pytest.approx([0.225, 0.775]) and math.isnan(eb[2])  # not inf, not spread
    # Rates closer together than chance alone: s² < 0 -> 0, everything shrinks to m = 5/10.
    assert st.empirical_bayes([2, 3], [5, 5]) == pytest.approx([0.5, 0.5])
    assert np.isnan(st.empirical_bayes([0, 0], [0, 0])).all()


# --- Linkage shift -------------------------------------------------------------------------
def test_linkage_shift_by_hand() -> None:
    # R = 3, N = 6, recall .8, precision .9: up = 3*(1/.8 - 1)/6 = .125; down = -3*.1/6 = -.05
    lo, up = st.linkage_shift([3], [6], [0.8], [0.9])
    assert lo[0] == pytest.approx(-0.05) and up[0] == pytest.approx(0.125)
    # capped: rate 5/6 can rise at most 1/6
    _, up2 = st.linkage_shift([5], [6], [0.5], [1.0])
    assert up2[0] == pytest.approx(1 / 6)
    lo3, up3 = st.linkage_shift([1], [0], [0.9], [0.9])
    assert math.isnan(lo3[0]) and math.isnan(up3[0])
