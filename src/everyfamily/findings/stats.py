"""The statistics behind the findings: one-sided tests, the family design effect and
Benjamini-Hochberg false discovery rate control. Funnel z-scores with over-dispersion come
from :mod:`everyfamily.reach.statistics` (one implementation for reach.csv and every
detector).

Pure numeric functions over numpy arrays; scipy supplies the distributions. Everything here
asks one question: is this rate *lower* than the comparison by more than chance allows? So
every test is one-sided (lower tail).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def bh_adjust(p: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for a family of tests.

    Benjamini & Hochberg (1995), J R Stat Soc B 57:289-300; computed with
    ``scipy.stats.false_discovery_control(method='bh')``. Rejecting every test with q <= alpha
    keeps the expected share of false findings among those reported at or below alpha.
    """
    arr = np.asarray(p, dtype="float64")
    if arr.size == 0:
        return arr.copy()
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    if ok.any():
        out[ok] = stats.false_discovery_control(np.clip(arr[ok], 0.0, 1.0), method="bh")
    return out


def binomial_lower_p(successes: int, trials: int, p0: float) -> float:
    """Exact one-sided binomial p-value P(X <= successes | n=trials, p=p0)."""
    if trials <= 0:
        return 1.0
    p0 = min(max(p0, 0.0), 1.0)
    return float(stats.binom.cdf(successes, trials, p0))


def poisson_lower_p(observed: int, expected: float) -> float:
    """Exact one-sided Poisson p-value P(X <= observed | mean=expected)."""
    if expected <= 0:
        return 1.0
    return float(stats.poisson.cdf(observed, expected))


def two_proportion_lower(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """One-sided test that proportion 1 is lower than proportion 2.

    Pooled two-proportion z-test (Agresti 2013, Categorical Data Analysis, s.3.1) when every
    expected cell count is at least 5; otherwise Fisher's exact test (one-sided, 'less'), which
    is valid at any size. Returns (z or NaN for Fisher, one-sided p-value).
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    cells = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]
    if min(cells) >= 5:
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        if se == 0:
            return math.nan, 1.0
        z = (x1 / n1 - x2 / n2) / se
        return z, float(stats.norm.cdf(z))
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    return math.nan, float(stats.fisher_exact(table, alternative="less").pvalue)


def wilson_interval(x: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927), the Fingertips convention."""
    if n <= 0:
        return math.nan, math.nan
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_ratio_interval(observed: int, expected: float) -> tuple[float, float]:
    """Exact (Garwood 1936) 95% interval for observed/expected, from the chi-square link."""
    if expected <= 0:
        return math.nan, math.nan
    lo = 0.0 if observed == 0 else stats.chi2.ppf(0.025, 2 * observed) / 2
    hi = stats.chi2.ppf(0.975, 2 * (observed + 1)) / 2
    return float(lo / expected), float(hi / expected)


def family_design_effect(registered: np.ndarray, family: np.ndarray) -> float:
    """Design effect of children clustered in families for a registered proportion.

    Families register together (one form for every child), so n children are fewer than n
    independent draws. The ratio-estimator variance of p = sum y_f / sum m_f over F families
    (Cochran 1977, Sampling Techniques, s.6.13; Kish 1965 for the design effect):

        Var(p) = F / (F - 1) * sum_f (y_f - p m_f)^2 / N^2,   N = sum_f m_f

    divided by the binomial p(1 - p) / N. Floored at 1 (never narrower than binomial); 1 when
    every child is their own family or p is 0 or 1. ``family``: one id per child (a missing
    id is a family of one).
    """
    y = np.asarray(registered, dtype="float64")
    if y.size < 2:
        return 1.0
    fam = pd.Series(family, dtype="object").reset_index(drop=True)
    singles = fam.isna()
    fam = fam.astype(str).where(~singles, "__single__" + pd.Series(range(len(fam))).astype(str))
    grouped = pd.DataFrame({"f": fam.to_numpy(), "y": y}).groupby("f")["y"].agg(["sum", "size"])
    n_fam = len(grouped)
    total = float(grouped["size"].sum())
    p = float(grouped["sum"].sum()) / total
    if n_fam < 2 or not 0 < p < 1:
        return 1.0
    resid = grouped["sum"].to_numpy("float64") - p * grouped["size"].to_numpy("float64")
    var = n_fam / (n_fam - 1) * float((resid**2).sum()) / total**2
    return max(1.0, var / (p * (1 - p) / total))


def family_design_effect_from_sizes(
    size: np.ndarray, registered: np.ndarray, families: np.ndarray
) -> float:
    """:func:`family_design_effect` from families counted by their size ``m`` and registered
    children ``y`` (``families`` of each (m, y); a child without a family id is a family of
    one): the same ratio-estimator variance, each family's term ``(y - p m)^2`` counted as
    often as such families occur (an aggregate the engine returns, no row per child)."""
    m = np.asarray(size, dtype="float64")
    y = np.asarray(registered, dtype="float64")
    k = np.asarray(families, dtype="float64")
    total = float((k * m).sum())
    if total < 2:
        return 1.0
    n_fam = float(k.sum())
    p = float((k * y).sum()) / total
    if n_fam < 2 or not 0 < p < 1:
        return 1.0
    resid = y - p * m
    var = n_fam / (n_fam - 1) * float((k * resid**2).sum()) / total**2
    return max(1.0, var / (p * (1 - p) / total))


def lower_p_from_z(z: np.ndarray | float) -> np.ndarray:
    """One-sided lower-tail normal p-value."""
    return np.asarray(stats.norm.cdf(np.asarray(z, dtype="float64")))


def chi_square_trend(
    successes: np.ndarray | list[float],
    trials: np.ndarray | list[float],
    scores: np.ndarray | list[float] | None = None,
) -> tuple[float, float, float]:
    """Chi-squared test for (linear) trend in proportions: ``(chi2, two-sided p, slope)``.

    The Cochran-Armitage test (Cochran 1954, Biometrics 10:417-451; Armitage 1955,
    Biometrics 11:375-386), which OHID Fingertips uses for an indicator's "recent trend"
    (the latest five points; Public Health England, *Technical guide: recent trends*, 2018).
    With ``x_i`` successes of ``n_i`` at score ``t_i`` (the period), ``N = sum n``,
    ``p = sum x / N`` and ``t_bar = sum n_i t_i / N``::

        T    = sum x_i (t_i - t_bar)
        V    = p (1 - p) sum n_i (t_i - t_bar)^2
        chi2 = T^2 / V            (1 degree of freedom)
        slope = T / sum n_i (t_i - t_bar)^2   (change in the proportion per unit of score)

    The sign of ``slope`` gives the direction. This is the linear-by-linear association
    statistic ``M^2 = (N - 1) r^2`` of Agresti (2013, section 3.4.6) times ``N / (N - 1)``;
    tests/findings/test_trend_test.py checks both against Agresti's published value and
    statsmodels. Periods with no trials are left out; with fewer than two periods left, or
    no variation in the pooled proportion, the test is undefined: ``(nan, nan, nan)``.
    """
    x = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    t = np.arange(len(x), dtype="float64") if scores is None else np.asarray(scores, "float64")
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    x, n, t = x[ok], n[ok], t[ok]
    if len(x) < 2:
        return math.nan, math.nan, math.nan
    big_n = n.sum()
    p = x.sum() / big_n
    t_bar = float((n * t).sum() / big_n)
    sxx = float((n * (t - t_bar) ** 2).sum())
    var = p * (1 - p) * sxx
    if not var > 0:
        return math.nan, math.nan, math.nan
    big_t = float((x * (t - t_bar)).sum())
    chi2 = big_t**2 / var
    return chi2, float(stats.chi2.sf(chi2, 1)), big_t / sxx
