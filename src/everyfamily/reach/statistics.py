"""Pure statistics for reach: Wilson intervals, funnel plots with over-dispersion, beta-binomial
empirical Bayes, indirectly standardised ratios.

Every function takes and returns numpy arrays (vectorised: the reach table has tens of
thousands of rows) and never divides by a zero denominator: where a rate is undefined the
result is NaN, which becomes NULL in the store. Conventions follow OHID Fingertips
("Public health statistics: technical guidance") so figures match what analysts already see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Two-sided normal quantiles used by Fingertips funnel plots: 95% (p = 0.975, "2 s.d.") and
#: 99.8% (p = 0.999, "3 s.d.") control limits.
Z_95 = 1.959963984540054
Z_998 = 3.090232306167813

FUNNEL_BANDS = ("below_998", "below_95", "within", "above_95", "above_998")

Float = NDArray[np.float64]


def _as_float(x: ArrayLike) -> Float:
    return np.atleast_1d(np.asarray(x, dtype="float64"))


def safe_ratio(numerator: ArrayLike, denominator: ArrayLike) -> Float:
    """numerator / denominator, NaN where the denominator is 0 or missing (never inf)."""
    num = _as_float(numerator)
    den = _as_float(denominator)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = np.isfinite(den) & (den > 0) & np.isfinite(num)
    np.divide(num, den, out=out, where=ok)
    return out


def wilson_interval(successes: ArrayLike, n: ArrayLike, z: float = Z_95) -> tuple[Float, Float]:
    """Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3).

    With p = x/n:

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)
        lower, upper = centre ∓ half

    Unlike the Wald interval it stays inside [0, 1] and is valid at x = 0 and x = n (the
    bounds are then exactly 0 and 1), which is why Fingertips uses it for proportions.
    Reference values (Newcombe 1998, Stat Med 17:857-872, table II): 81/263 -> 0.2553 to
    0.3662; 15/148 -> 0.0624 to 0.1605; 0/20 -> 0 to 0.1611; 0/10 -> 0 to 0.2775.
    NaN where n is 0.
    """
    x = _as_float(successes)
    nn = _as_float(n)
    p = safe_ratio(x, nn)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2n = z * z / nn
        denom = 1.0 + z2n
        centre = (p + z2n / 2.0) / denom
        half = z / denom * np.sqrt(np.clip(p * (1.0 - p), 0.0, None) / nn + z * z / (4.0 * nn * nn))
    lower = np.where(np.isfinite(p), centre - half, np.nan)
    upper = np.where(np.isfinite(p), centre + half, np.nan)
    # Exact endpoints at the boundaries (algebraically 0 and 1; remove rounding dust).
    lower = np.where(x == 0, 0.0, np.clip(lower, 0.0, 1.0))
    upper = np.where(x == nn, 1.0, np.clip(upper, 0.0, 1.0))
    lower = np.where(np.isfinite(p), lower, np.nan)
    upper = np.where(np.isfinite(p), upper, np.nan)
    return lower, upper


@dataclass(frozen=True)
class FunnelLimits:
    """Funnel-plot control limits for a proportion at each denominator (all 0-1 scale)."""

    lower_998: Float
    lower_95: Float
    upper_95: Float
    upper_998: Float


#: Spiegelhalter (2005, QSHC) winsorises the z-scores at the 10th and 90th percentiles
#: before estimating over-dispersion, so the outliers a funnel plot exists to find do not
#: inflate the limits.
WINSOR_PERCENT = 10.0


def winsorised_square_normal(percent: float = WINSOR_PERCENT) -> float:
    """E[w(Z)^2] for a standard normal Z winsorised at its ``percent`` / (100 - percent)
    percentiles: the consistency factor of a winsorised mean square.

    With a = Phi^-1(1 - P), P = percent / 100:  E = (1 - 2P) - 2 a phi(a) + 2 P a^2
    (the truncated second moment of the normal plus the clipped tails). At 10% it is 0.6787,
    so the winsorised mean square of pure-chance z-scores is about 0.68, not 1. 1 without
    winsorising (percent <= 0).
    """
    tail = percent / 100.0
    if tail <= 0.0:
        return 1.0
    from scipy.special import ndtri  # the normal quantile, lighter than scipy.stats

    a = float(ndtri(1.0 - tail))
    density = float(np.exp(-0.5 * a * a) / np.sqrt(2.0 * np.pi))
    return (1.0 - 2.0 * tail) - 2.0 * a * density + 2.0 * tail * a * a


@dataclass(frozen=True)
class Dispersion:
    """Over-dispersion of a set of units around a target (Spiegelhalter 2005).

    ``units``: units with a finite z-score; ``phi``: the dispersion statistic (the mean of
    the squared winsorised z, divided by :func:`winsorised_square_normal` so that it is 1
    when units vary by chance alone); ``tau2``: the additive between-unit variance on the
    rate's own scale (0 when n phi <= n - 1); ``p_value``: P(chi2(n-1) >= n phi), the
    test of "no over-dispersion" (NaN with fewer than 3 units).
    """

    units: int
    phi: float
    tau2: float
    p_value: float

    @property
    def over_dispersed(self) -> bool:
        """Whether the limits are widened (tau2 > 0)."""
        return self.tau2 > 0.0

    def as_dict(self) -> dict[str, float | int | bool | None]:
        """For run.json and the methods text (rounded; None where undefined)."""

        def r(v: float, k: int) -> float | None:
            return None if not np.isfinite(v) else float(f"{v:.{k}g}")

        return {
            "units": self.units,
            "phi": r(self.phi, 4),
            "tau2": r(self.tau2, 4),
            "tau": r(float(np.sqrt(self.tau2)), 4),
            "p_value": r(self.p_value, 3),
            "over_dispersed": self.over_dispersed,
        }


NO_DISPERSION = Dispersion(units=0, phi=float("nan"), tau2=0.0, p_value=float("nan"))


def overdispersion(
    y: ArrayLike,
    target: ArrayLike,
    se: ArrayLike,
    winsor_percent: float = WINSOR_PERCENT,
    *,
    consistent: bool = True,
) -> Dispersion:
    """Spiegelhalter's additive random-effects over-dispersion for a funnel plot: the one
    estimate every funnel and every detector uses (reach.csv, the report, the dashboard,
    run.json and the findings).

    Spiegelhalter DJ, "Funnel plots for comparing institutional performance", Stat Med
    2005;24:1185-1202 (section 5) and "Handling over-dispersion of performance indicators",
    Qual Saf Health Care 2005;14:347-351:

        z_i   = (y_i - target) / s_i                    (naive z-scores)
        z_w   = z winsorised at the 10th and 90th percentiles
        phi   = mean(z_w^2) / c                          (dispersion statistic)
        tau2  = (n phi - (n - 1)) / (Σ w_i - Σ w_i^2 / Σ w_i),  w_i = 1 / s_i^2
                (the DerSimonian-Laird method-of-moments estimate; 0 when n phi <= n - 1)

    ``c`` is :func:`winsorised_square_normal` (0.679 at 10%): the winsorised mean square of
    z-scores that vary by chance alone, so phi is 1 then, and phi estimates the dispersion
    without bias when every z is scaled alike. Spiegelhalter's recipe (and NHS-R's
    FunnelPlotR, ``phi_func`` / ``tau_func``) uses c = 1 (``consistent=False``): winsorising
    then shrinks phi by a third, over-dispersion of up to about 1.5 is not seen at all and
    areas that merely vary come out "striking" (issue 14's null calibration).

    ``y`` are the unit rates, ``s`` their standard errors under the null (for a proportion
    sqrt(p0 (1 - p0) / n_i)), ``target`` one value or one per unit. Units with a missing
    y or s <= 0 are left out. Fewer than 3 units: no estimate (tau2 = 0). Percentiles are
    numpy's linear interpolation (R's ``quantile`` type 7, as FunnelPlotR).
    """
    yy = _as_float(y)
    s = np.broadcast_to(_as_float(se), yy.shape)
    t = np.broadcast_to(_as_float(target), yy.shape)
    ok = np.isfinite(yy) & np.isfinite(s) & (s > 0) & np.isfinite(t)
    n = int(ok.sum())
    if n < 3:
        return Dispersion(units=n, phi=float("nan"), tau2=0.0, p_value=float("nan"))
    z = (yy[ok] - t[ok]) / s[ok]
    lo, hi = np.percentile(z, [winsor_percent, 100.0 - winsor_percent])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    if consistent:
        phi /= winsorised_square_normal(winsor_percent)
    from scipy.special import chdtrc  # chi-square survival function, lighter than scipy.stats

    p_value = float(chdtrc(n - 1, n * phi))
    w = 1.0 / s[ok] ** 2
    denom = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (n * phi - (n - 1)) / denom) if denom > 0 else 0.0
    return Dispersion(units=n, phi=phi, tau2=float(tau2), p_value=p_value)


def overdispersed_z(y: ArrayLike, target: ArrayLike, se: ArrayLike) -> tuple[Float, float, bool]:
    """z-scores widened by :func:`overdispersion`: z = (y - target) / sqrt(s^2 + tau2).

    Returns (z, tau2, over_dispersed); NaN z where y or s is missing or s <= 0. Every
    detector's funnel uses this (areas, centres, completeness), so a finding's tau2 is the
    one in reach.csv when it tests the same family.
    """
    yy = _as_float(y)
    s = np.broadcast_to(_as_float(se), yy.shape)
    t = np.broadcast_to(_as_float(target), yy.shape)
    d = overdispersion(yy, t, s)
    ok = np.isfinite(yy) & np.isfinite(s) & (s > 0) & np.isfinite(t)
    z = np.full(yy.shape, np.nan)
    z[ok] = (yy[ok] - t[ok]) / np.sqrt(s[ok] ** 2 + d.tau2)
    return z, d.tau2, d.over_dispersed


def proportion_dispersion(successes: ArrayLike, n: ArrayLike, target: float) -> Dispersion:
    """:func:`overdispersion` of proportions x_i / n_i around p0 with binomial standard
    errors s_i = sqrt(p0 (1 - p0) / n_i); NO_DISPERSION when p0 is 0, 1 or missing."""
    if not (np.isfinite(target) and 0.0 < target < 1.0):
        return NO_DISPERSION
    p = safe_ratio(successes, n)
    nn = _as_float(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(nn > 0, np.sqrt(target * (1.0 - target) / nn), np.nan)
    return overdispersion(p, target, se)


def funnel_limits(target: float, n: ArrayLike, tau2: float = 0.0) -> FunnelLimits:
    """Spiegelhalter (2005) funnel control limits for a proportion around a target p0:

        limit = p0 ± z * sqrt(p0 (1 - p0) / n + tau2),   z = 1.96 (95%) or 3.09 (99.8%)

    clipped to [0, 1] (Spiegelhalter DJ, "Funnel plots for comparing institutional
    performance", Stat Med 2005;24:1185-1202, section 3.1, normal approximation; with
    ``tau2`` from :func:`overdispersion` the additive random-effects limits of section 5).

    With tau2 = 0, Fingertips (PHEindicatormethods ``sigma_adjustment``) computes its
    proportion limits by inverting the Wilson score interval: the limit is the observed
    proportion whose Wilson bound just reaches p0. Solving that quadratic gives exactly the
    expression above (the Wilson interval is the set of p0 with
    |p - p0| <= z sqrt(p0(1-p0)/n)), so the two agree to rounding; tests/reach check this
    against the Fingertips formula. NaN where n is 0.
    """
    nn = _as_float(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(nn > 0, np.sqrt(target * (1.0 - target) / nn + tau2), np.nan)

    def lim(z: float, sign: float) -> Float:
        return np.asarray(np.clip(target + sign * z * sd, 0.0, 1.0), dtype="float64")

    return FunnelLimits(lim(Z_998, -1), lim(Z_95, -1), lim(Z_95, 1), lim(Z_998, 1))


def funnel_z(successes: ArrayLike, n: ArrayLike, target: ArrayLike, tau2: ArrayLike = 0.0) -> Float:
    """Spiegelhalter z-score of an observed proportion against a target p0:

        z = (x/n - p0) / sqrt(p0 (1 - p0) / n + tau2)

    (Spiegelhalter 2005, eq. 3; with ``tau2`` > 0 the additive random-effects score of his
    section 5). ``target`` and ``tau2`` are one value or one per row. NaN where n is 0 or
    p0 is 0, 1 or missing (no binomial spread to compare against).
    """
    p = safe_ratio(successes, n)
    nn = _as_float(n)
    p0 = np.broadcast_to(_as_float(target), p.shape)
    t2 = np.broadcast_to(np.nan_to_num(_as_float(tau2)), p.shape)
    ok = np.isfinite(p) & (nn > 0) & np.isfinite(p0) & (p0 > 0) & (p0 < 1)
    out = np.full(p.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p - p0) / np.sqrt(p0 * (1.0 - p0) / nn + t2)
    out[ok] = z[ok]
    return out


def funnel_lower_p(successes: ArrayLike, n: ArrayLike, target: float, tau2: float = 0.0) -> Float:
    """Exact lower-tail p-value of x of n against a target p0 with between-unit variance
    tau2: P(X <= x) under the beta-binomial with mean p0 and intra-unit correlation

        rho = tau2 / (p0 (1 - p0))      (capped below 1)

    whose variance of X/n, p0 (1 - p0) / n + tau2 (n - 1) / n, is the funnel's
    p0 (1 - p0) / n + tau2 up to the factor (n - 1) / n (the beta-binomial of Kleinman
    1973, as :func:`beta_binomial_moments`); the binomial P(X <= x) when tau2 = 0.

    Why not Phi(z): a proportion near 75% is skewed to the left in a small area, so the
    normal tail of :func:`funnel_z` is too thin there and areas of a dozen children fall
    below the 99.8% limit by chance (Spiegelhalter 2005, s.3.1, prefers exact limits for
    small counts). The funnel's z and band stay the reach table's; this gives the p-value
    a finding's false discovery rate control uses. NaN where n is 0 or p0 is 0, 1 or
    missing.
    """
    from scipy.stats import betabinom, binom

    x = _as_float(successes)
    nn = np.broadcast_to(_as_float(n), x.shape)
    out = np.full(x.shape, np.nan)
    if not (np.isfinite(target) and 0.0 < target < 1.0):
        return out
    ok = np.isfinite(x) & np.isfinite(nn) & (nn > 0)
    k = np.floor(np.minimum(x[ok], nn[ok]) + 1e-9)
    rho = min(max(float(tau2), 0.0) / (target * (1.0 - target)), 1.0 - 1e-9)
    if rho <= 0.0:
        out[ok] = binom.cdf(k, nn[ok], target)
    else:
        strength = (1.0 - rho) / rho
        out[ok] = betabinom.cdf(k, nn[ok], target * strength, (1.0 - target) * strength)
    return out


def funnel_band(z: ArrayLike) -> NDArray[np.object_]:
    """Which funnel band a z-score falls in; None where z is NaN.

    Strictly outside a limit counts as outside (as in Fingertips ``phe_funnel_significance``):
    below_998 (z < -3.09), below_95 (z < -1.96), within, above_95 (z > 1.96),
    above_998 (z > 3.09).
    """
    zz = _as_float(z)
    out = np.full(zz.shape, None, dtype=object)
    ok = np.isfinite(zz)
    out[ok] = "within"
    out[ok & (zz < -Z_95)] = "below_95"
    out[ok & (zz < -Z_998)] = "below_998"
    out[ok & (zz > Z_95)] = "above_95"
    out[ok & (zz > Z_998)] = "above_998"
    return out


@dataclass(frozen=True)
class BetaBinomialFit:
    """A beta(a, b) prior for the areas' true proportions, fitted by moments.

    ``mean`` = a / (a + b); ``rho`` = 1 / (a + b + 1), the intra-area correlation (the share
    of the variance of a single child's outcome that lies between areas); ``strength`` =
    a + b (inf when rho <= 0: no between-area variation, every area shrinks to the mean).
    """

    mean: float
    rho: float
    strength: float
    units: int

    @property
    def a(self) -> float:
        return self.mean * self.strength

    @property
    def b(self) -> float:
        return (1.0 - self.mean) * self.strength


def beta_binomial_moments(events: ArrayLike, n: ArrayLike) -> BetaBinomialFit | None:
    """Kleinman's (1973) method-of-moments fit of a beta-binomial to x_i of n_i.

    Kleinman JC, "Proportions with extraneous variance: single and independent samples",
    JASA 1973;68:46-54, with weights n_i: with k units, N = Σ n_i, p̂ = Σ x_i / N and
    S = Σ n_i (x_i/n_i - p̂)^2,

        E[S] = p(1 - p) [(k - 1) + rho (N - Σ n_i^2 / N - (k - 1))]

    so rho = (S / (p̂ (1 - p̂)) - (k - 1)) / (N - Σ n_i^2 / N - (k - 1)) and the prior
    strength a + b = (1 - rho) / rho. rho <= 0 (no extra-binomial variation) gives
    strength inf; rho >= 1 gives strength 0 (no shrinkage). Units with n_i = 0 are left
    out. None when fewer than 2 units remain.
    """
    x = _as_float(events)
    nn = _as_float(n)
    ok = np.isfinite(x) & np.isfinite(nn) & (nn > 0)
    k = int(ok.sum())
    if k < 2:
        return None
    x, nn = x[ok], nn[ok]
    big_n = float(nn.sum())
    p = float(x.sum() / big_n)
    if p <= 0.0 or p >= 1.0:
        return BetaBinomialFit(mean=p, rho=0.0, strength=float("inf"), units=k)
    s = float((nn * (x / nn - p) ** 2).sum())
    denom = big_n - float((nn**2).sum()) / big_n - (k - 1)
    if denom <= 0:  # every unit of size 1: rho cannot be told from binomial noise
        return BetaBinomialFit(mean=p, rho=0.0, strength=float("inf"), units=k)
    rho = (s / (p * (1.0 - p)) - (k - 1)) / denom
    if rho <= 0.0:
        return BetaBinomialFit(mean=p, rho=0.0, strength=float("inf"), units=k)
    rho = min(rho, 1.0)
    return BetaBinomialFit(mean=p, rho=rho, strength=(1.0 - rho) / rho, units=k)


def empirical_bayes(events: ArrayLike, population: ArrayLike) -> Float:
    """Beta-binomial empirical Bayes estimates of small-area proportions.

    The areas' true proportions are taken as draws from a beta(a, b) fitted to all of them
    by Kleinman's method of moments (:func:`beta_binomial_moments`); each area's estimate
    is its posterior mean

        EB_i = (x_i + a) / (n_i + a + b) = w_i x_i/n_i + (1 - w_i) p̂,  w_i = n_i / (n_i + a + b)

    (Kleinman 1973; the beta-binomial empirical Bayes of e.g. Carlin & Louis, *Bayesian
    Methods for Data Analysis*, 3rd ed., s.5.3). Unlike Marshall's (1991) estimator, which
    assumes Poisson (rare-event) variance, the binomial variance p(1-p)/n suits a proportion
    near 75%: Marshall's m / n overstates the sampling variance of such a rate about
    1/(1-p) = 4-fold and so shrinks too hard (issue 14).

    Areas with n_i = 0 get NaN. No extra-binomial variation: every area gets p̂. Tested
    against a maximum-likelihood beta-binomial fit (scipy.stats.betabinom).
    """
    e = _as_float(events)
    b = _as_float(population)
    out = np.full(e.shape, np.nan)
    ok = np.isfinite(b) & (b > 0) & np.isfinite(e)
    if not ok.any():
        return out
    fit = beta_binomial_moments(e[ok], b[ok])
    if fit is None:  # one area: nothing to borrow strength from
        out[ok] = e[ok] / b[ok]
        return out
    if not np.isfinite(fit.strength):
        out[ok] = fit.mean
        return out
    out[ok] = (e[ok] + fit.a) / (b[ok] + fit.strength)
    return out


def wilson_interval_widened(
    successes: ArrayLike, n: ArrayLike, max_error: float, z: float = Z_95
) -> tuple[Float, Float]:
    """Wilson interval of a proportion whose released counts may each be off by up to E.

    When the numerator x and the denominator n shown are each within E of the true counts
    (rounding: E = half the rounding base; the cell key method: the ptable's largest
    perturbation; ``privacy.release.ReleaseRules.max_error``), the interval is the union of
    the Wilson intervals over every true (x*, n*) with |x* - x| <= E, |n* - n| <= E and
    0 <= x* <= n*. The Wilson lower bound rises with x* and falls with n*, the upper bound
    likewise, so the union is

        lower = L(max(x - E, 0), n + E)
        upper = U(x + E, n - E)  if x + E < n - E,  else 1

    An honest interval for a count that is itself uncertain: a bound, not a coverage
    statement about the rounding. E = 0 gives the Wilson interval.
    """
    x = _as_float(successes)
    nn = _as_float(n)
    e = float(max_error)
    if e <= 0:
        return wilson_interval(x, nn, z)
    lo, _ = wilson_interval(np.maximum(x - e, 0.0), nn + e, z)
    x_hi = x + e
    n_lo = nn - e
    room = np.isfinite(x_hi) & np.isfinite(n_lo) & (x_hi < n_lo) & (n_lo > 0)
    _, up = wilson_interval(np.where(room, x_hi, 0.0), np.where(room, n_lo, 1.0), z)
    up = np.where(room, up, 1.0)
    defined = np.isfinite(safe_ratio(x, nn))
    return np.where(defined, lo, np.nan), np.where(defined, up, np.nan)


def byar_ratio_interval(
    observed: ArrayLike, expected: ArrayLike, z: float = Z_95
) -> tuple[Float, Float, Float]:
    """Observed / expected (an indirectly standardised ratio) with its 95% interval.

    As PHE's PHEindicatormethods (``calculate_ISRatio``) and the Fingertips technical
    guidance: Byar's approximation to the exact Poisson limits for O >= 10,

        lower = O (1 - 1/(9O) - z/(3 sqrt(O)))^3 / E
        upper = (O+1) (1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3 / E

    and the exact Poisson (Garwood) limits chi2(α/2, 2O)/2 / E and chi2(1-α/2, 2O+2)/2 / E
    below 10 (Breslow & Day 1987, Statistical Methods in Cancer Research II, s.2.3).
    NaN where E <= 0 or O is missing.
    """
    from scipy.stats import chi2, norm

    o = _as_float(observed)
    e = _as_float(expected)
    ratio = safe_ratio(o, e)
    alpha = 2.0 * float(norm.sf(z))
    ok = np.isfinite(ratio)
    oo = np.where(ok, o, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        byar_lo = oo * (1 - 1 / (9 * oo) - z / (3 * np.sqrt(oo))) ** 3
        byar_hi = (oo + 1) * (1 - 1 / (9 * (oo + 1)) + z / (3 * np.sqrt(oo + 1))) ** 3
        exact_lo = np.where(oo > 0, chi2.ppf(alpha / 2, 2 * oo) / 2, 0.0)
        exact_hi = chi2.ppf(1 - alpha / 2, 2 * oo + 2) / 2
    small = oo < 10
    lo = safe_ratio(np.where(small, exact_lo, byar_lo), e)
    hi = safe_ratio(np.where(small, exact_hi, byar_hi), e)
    return ratio, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def linkage_shift(
    registered: ArrayLike, denominator: ArrayLike, recall: ArrayLike, precision: ArrayLike
) -> tuple[Float, Float]:
    """How far linkage error could move a registered rate R/N (both on the 0-1 scale).

    Missed links (recall r < 1): a registration record that should have joined a known child
    stays apart, so that child looks unregistered. If the observed R registrations are the
    found fraction r of the true ones, the true count could be up to R / r, so the rate
    could be higher by up to

        upper = R (1/r - 1) / N      (capped so the rate does not exceed 1)

    False links (precision p < 1): a fraction 1 - p of accepted links join records of
    different children, which can make an unregistered child look registered, so the rate
    could be lower by up to

        lower = -R (1 - p) / N       (capped so the rate does not go below 0)

    These are first-order bounds (each error assumed to act wholly in one direction), not a
    confidence interval. NaN where N is 0 or recall/precision is missing.
    """
    big_r = _as_float(registered)
    n = _as_float(denominator)
    rec = _as_float(recall)
    prec = _as_float(precision)
    rate = safe_ratio(big_r, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(rec > 0, big_r * (1.0 / rec - 1.0), np.nan)
        down = big_r * (1.0 - prec)
    upper = np.minimum(safe_ratio(up, n), 1.0 - rate)
    lower = -np.minimum(safe_ratio(down, n), rate)
    return lower, upper
