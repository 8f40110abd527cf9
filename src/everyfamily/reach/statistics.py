"""Pure statistics for reach: Wilson intervals, funnel-plot limits, empirical Bayes smoothing.

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


def funnel_limits(target: float, n: ArrayLike) -> FunnelLimits:
    """Spiegelhalter (2005) funnel control limits for a proportion around a target p0.

        limit = p0 ± z * sqrt(p0 (1 - p0) / n),   z = 1.96 (95%) or 3.09 (99.8%)

    clipped to [0, 1] (Spiegelhalter DJ, "Funnel plots for comparing institutional
    performance", Stat Med 2005;24:1185-1202, section 3.1, normal approximation).

    Fingertips (PHEindicatormethods ``sigma_adjustment``) computes its proportion limits by
    inverting the Wilson score interval: the limit is the observed proportion whose Wilson
    bound just reaches p0. Solving that quadratic gives exactly the expression above (the
    Wilson interval is the set of p0 with |p - p0| <= z sqrt(p0(1-p0)/n)), so the two agree
    to rounding; tests/reach check this against the Fingertips formula. NaN where n is 0.
    """
    nn = _as_float(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(nn > 0, np.sqrt(target * (1.0 - target) / nn), np.nan)

    def lim(z: float, sign: float) -> Float:
        return np.asarray(np.clip(target + sign * z * sd, 0.0, 1.0), dtype="float64")

    return FunnelLimits(lim(Z_998, -1), lim(Z_95, -1), lim(Z_95, 1), lim(Z_998, 1))


def funnel_z(successes: ArrayLike, n: ArrayLike, target: ArrayLike) -> Float:
    """Spiegelhalter z-score of an observed proportion against a target p0:

        z = (x/n - p0) / sqrt(p0 (1 - p0) / n)

    (Spiegelhalter 2005, eq. 3). ``target`` is one rate or one per row. NaN where n is 0 or
    p0 is 0, 1 or missing (no binomial spread to compare against).
    """
    p = safe_ratio(successes, n)
    nn = _as_float(n)
    p0 = np.broadcast_to(_as_float(target), p.shape)
    ok = np.isfinite(p) & (nn > 0) & np.isfinite(p0) & (p0 > 0) & (p0 < 1)
    out = np.full(p.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p - p0) / np.sqrt(p0 * (1.0 - p0) / nn)
    out[ok] = z[ok]
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


def empirical_bayes(events: ArrayLike, population: ArrayLike) -> Float:
    """Marshall's global empirical Bayes estimate of small-area rates.

    With r_i = e_i / b_i, m = Σe / Σb, b̄ = mean of b over areas with b > 0:

        s²  = Σ b_i (r_i - m)² / Σ b_i  -  m / b̄          (between-area variance)
        w_i = s² / (s² + m / b_i)                          (shrinkage weight)
        EB_i = w_i r_i + (1 - w_i) m

    (Marshall RJ, "Mapping disease and mortality rates using empirical Bayes estimators",
    Applied Statistics 1991;40:283-294; as in PySAL ``esda.smoothing.Empirical_Bayes``.)

    Written here rather than calling esda because esda divides by every population (an area
    with no children gives inf/NaN that spreads) and does not handle a negative variance
    estimate. Here: areas with b_i = 0 are left out of m, s² and b̄ and get NaN (no rate to
    smooth); a negative s² is set to 0, as Marshall advises, so every rate shrinks to m. On
    data with all b_i > 0 and s² > 0 the result equals esda's (tested).
    """
    e = _as_float(events)
    b = _as_float(population)
    out = np.full(e.shape, np.nan)
    ok = np.isfinite(b) & (b > 0) & np.isfinite(e)
    if not ok.any():
        return out
    e_ok, b_ok = e[ok], b[ok]
    m = e_ok.sum() / b_ok.sum()
    r = e_ok / b_ok
    s2 = float((b_ok * (r - m) ** 2).sum() / b_ok.sum() - m / b_ok.mean())
    s2 = max(s2, 0.0)
    if s2 == 0.0 or m == 0.0:
        # No between-area variation beyond chance (or no events at all): all shrink to m.
        out[ok] = m
        return out
    w = s2 / (s2 + m / b_ok)
    out[ok] = w * r + (1.0 - w) * m
    return out


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
