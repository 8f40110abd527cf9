"""The statistics behind the findings: one-sided tests, funnel z-scores with over-dispersion,
and Benjamini-Hochberg false discovery rate control.

Pure numeric functions over numpy arrays; scipy supplies the distributions. Everything here
asks one question: is this rate *lower* than the comparison by more than chance allows? So
every test is one-sided (lower tail).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

#: Spiegelhalter (2005) winsorises the z-scores at these percentiles before estimating
#: over-dispersion, so the outliers a funnel plot exists to find do not inflate the limits.
WINSOR_PERCENT = 10.0


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


def winsorised_square_normal(percent: float = WINSOR_PERCENT) -> float:
    """E[w(Z)^2] for a standard normal Z winsorised at its ``percent`` / (100 - percent)
    percentiles: the consistency factor of a winsorised mean square.

    With a = Phi^-1(1 - P), P = percent / 100:  E = (1 - 2P) - 2 a phi(a) + 2 P a^2
    (the truncated second moment of the normal plus the clipped tails). At 10% it is 0.6786,
    so an unscaled winsorised mean square of pure-chance z-scores is about 0.68, not 1.
    """
    tail = percent / 100.0
    a = float(stats.norm.ppf(1.0 - tail))
    return (1.0 - 2.0 * tail) - 2.0 * a * float(stats.norm.pdf(a)) + 2.0 * tail * a * a


def overdispersed_z(y: np.ndarray, target: float, se: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Funnel-plot z-scores allowing for over-dispersion between units.

    Spiegelhalter (2005) "Handling over-dispersion of performance indicators", Qual Saf Health
    Care 14:347-351: compute naive z = (y - target) / se; winsorise at 10%/90% so the outliers
    a funnel exists to find do not inflate the limits; the dispersion statistic phi is the
    winsorised mean square. If n * phi exceeds the chi-square(n - 1) 95% point the units vary
    more than sampling alone explains, and an additive random effect
    tau^2 = (n phi - (n - 1)) / (sum w - sum w^2 / sum w), w = 1/se^2, widens every unit's
    limits: z = (y - target) / sqrt(se^2 + tau^2). Otherwise the naive z-scores stand.

    One correction to the paper's recipe: the winsorised mean square is divided by its value
    for pure-chance z-scores (:func:`winsorised_square_normal`, 0.679 at 10%), so phi is 1
    when units vary by chance alone. Unscaled, winsorising shrinks phi by a third, and on the
    synthetic null world (nothing planted, areas varying with a true dispersion of about 1.6)
    the test saw no over-dispersion and single areas came out "striking" (issue 14).

    Returns (z, tau^2, over_dispersed).
    """
    y = np.asarray(y, dtype="float64")
    se = np.asarray(se, dtype="float64")
    ok = np.isfinite(y) & np.isfinite(se) & (se > 0)
    z = np.full(y.shape, np.nan)
    z[ok] = (y[ok] - target) / se[ok]
    n = int(ok.sum())
    if n < 3:
        return z, 0.0, False
    zs = z[ok]
    lo, hi = np.percentile(zs, [WINSOR_PERCENT, 100 - WINSOR_PERCENT])
    phi = float(np.mean(np.clip(zs, lo, hi) ** 2)) / winsorised_square_normal(WINSOR_PERCENT)
    if n * phi <= stats.chi2.ppf(0.95, n - 1):
        return z, 0.0, False
    w = 1.0 / se[ok] ** 2
    tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    z[ok] = (y[ok] - target) / np.sqrt(se[ok] ** 2 + tau2)
    return z, tau2, True


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


def lower_p_from_z(z: np.ndarray | float) -> np.ndarray:
    """One-sided lower-tail normal p-value."""
    return np.asarray(stats.norm.cdf(np.asarray(z, dtype="float64")))
