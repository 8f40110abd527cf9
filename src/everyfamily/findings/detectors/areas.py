"""unreached_area: small areas below the funnel limits around the borough rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.findings import stats
from everyfamily.findings.detectors.common import (
    Neighbours,
    _components,
    _fnum,
    _interval,
    _label,
    _select,
    _sig,
    borough_row,
    strength,
)
from everyfamily.findings.model import (
    Finding,
    FindingsSettings,
)
from everyfamily.findings.text import (
    affected,
    areas_label,
    excess_of,
    share,
    shown,
    table_pair,
)
from everyfamily.privacy.disclosure import released_rate
from everyfamily.reach.statistics import (
    Z_95,
    Z_998,
    funnel_lower_p,
    funnel_z,
    proportion_dispersion,
)

# --- unreached_area ------------------------------------------------------------------------

#: Why a finding's tau2 and z differ from reach.csv's when families cluster (evidence).
_FUNNEL_NOTE = (
    "reach.csv's funnel (funnel_z, funnel_tau2, the plotted limits) treats children as "
    "independent; this test counts children in families as fewer independent draws (the "
    "family design effect), so its tau2 is the spread between areas beyond what families "
    "explain and its z is smaller"
)


def _area_funnel(
    x: np.ndarray, n: np.ndarray, p0: float, design_effect: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    """The small areas' funnel on effective sample sizes n / D (D the family design effect,
    Rao-Scott as the group tests): the same functions as reach.csv's funnel
    (proportion_dispersion, funnel_z; with D = 1 the finding's z and tau2 ARE the reach
    table's ``funnel_z`` and ``funnel_tau2``); with D > 1 tau2 is the between-area variance
    beyond what families explain. The one-sided p is the exact beta-binomial tail with that
    tau2 on the effective counts (reach.statistics.funnel_lower_p: the normal tail is too
    thin for a small area's skewed proportion); then BH q."""
    d_eff = max(1.0, float(design_effect))
    n_eff = n / d_eff
    d = proportion_dispersion(x / d_eff, n_eff, p0)
    z = funnel_z(x / d_eff, n_eff, p0, d.tau2)
    p = funnel_lower_p(np.round(x / d_eff), np.round(n_eff), p0, d.tau2)
    q = stats.bh_adjust(p)
    return z, p, q, d.tau2, d.over_dispersed


def find_unreached_areas(
    reach: pd.DataFrame,
    *,
    settings: FindingsSettings,
    neighbours: Neighbours | None = None,
    area_labels: Mapping[str, str] | None = None,
    design_effect: float = 1.0,
) -> list[Finding]:
    """Small areas whose registered rate lies below the funnel limits around the borough rate.

    Test: Spiegelhalter (2005) funnel z-score of registered/known against the borough rate,
    with his additive over-dispersion allowance when areas vary more than chance explains;
    one-sided (lower) p-values, Benjamini-Hochberg q-values across all areas. An area below
    the 99.8% limit with q <= FDR is *striking*; below the 95% limit only, *watch* (lower
    severity). Flagged areas that touch (Queen contiguity) form one finding.

    ``design_effect``: the variance inflation of children clustered in families
    (:func:`everyfamily.findings.stats.family_design_effect`; 1 when families are unknown).
    Families register together, so an area's n children are about n / D independent draws;
    the design effect is estimated from thousands of families, far more precisely than an
    additive tau2 from a few dozen areas can take it in (on a null town with tau2 = 0 the
    plain binomial funnel flagged an area the design effect explains). reach.csv's funnel
    treats children as independent (D = 1), so with D > 1 the finding's z and tau2 differ
    from the reach table's; the evidence states both (``reach_table_tau2``) and why
    (:func:`_area_funnel`; docs/measures.md).
    """
    t = _area_tests(reach, settings, design_effect)
    if t is None:
        return []
    idx = {str(c): i for i, c in enumerate(t.rows["area_code"])}
    codes = [str(c) for c, f in zip(t.rows["area_code"], t.flagged, strict=True) if f]
    out: list[Finding] = []
    for comp in _components(codes, neighbours):
        ii = sorted(
            (idx[c] for c in comp),
            key=lambda i: (t.x[i] / t.n[i], str(t.rows.at[i, "area_code"])),
        )
        out.append(_area_finding(t, ii, settings, area_labels))
    return out


@dataclass(frozen=True, eq=False)
class _AreaTests:
    """The small areas' funnel tests: rows (den > 0), registered x of n, the borough's row
    and rate p0, z / p / q per area, tau2 beyond the family design effect, bands, which
    areas are flagged, the design effect and reach.csv's tau2 for the same areas."""

    rows: pd.DataFrame
    x: np.ndarray
    n: np.ndarray
    borough: dict[str, Any]
    p0: float
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    tau2: float
    over_dispersed: bool
    band: np.ndarray
    flagged: np.ndarray
    striking: np.ndarray
    design_effect: float
    reach_tau2: float


def _area_tests(
    reach: pd.DataFrame, settings: FindingsSettings, design_effect: float = 1.0
) -> _AreaTests | None:
    """The funnel of every small area against the borough rate; None when there is nothing
    to compare (fewer than 3 areas, no borough rate, or a rate of 0 or 1)."""
    rows = _select(reach, settings.small_area_level)
    rows = rows[rows["den"].fillna(0) > 0].reset_index(drop=True)
    b = borough_row(reach, settings)
    if len(rows) < 3 or not b["den"] or not b["den"] > 0:
        return None
    p0 = b["registered"] / b["den"]
    if not 0 < p0 < 1:
        return None
    n = rows["den"].to_numpy(dtype="float64")
    x = np.minimum(rows["registered"].fillna(0).to_numpy(dtype="float64"), n)
    z, p, q, tau2, od = _area_funnel(x, n, p0, design_effect)
    reach_tau2 = proportion_dispersion(x, n, p0).tau2  # reach.csv's funnel_tau2
    gap = p0 - x / n
    band = np.where(z < -Z_998, "below_998", np.where(z < -Z_95, "below_95", "within"))
    # "watch" findings pass BH too (issue 14, defect 5): an area is flagged only with
    # q <= fdr_alpha; the 99.8% band then separates striking from watch.
    flagged = (band != "within") & (gap >= settings.min_area_gap) & (q <= settings.fdr_alpha)
    striking = flagged & (band == "below_998")
    d_eff = max(1.0, float(design_effect))
    return _AreaTests(
        rows, x, n, b, p0, z, p, q, tau2, od, band, flagged, striking, d_eff, reach_tau2
    )


def _area_finding(
    t: _AreaTests, ii: list[int], settings: FindingsSettings, area_labels: Mapping[str, str] | None
) -> Finding:
    """One finding for the touching flagged areas ``ii`` (sorted lowest rate first)."""
    rows, x, n, b = t.rows, t.x, t.n, t.borough
    kk, xx = float(n[ii].sum()), float(x[ii].sum())
    excess = kk * t.p0 - xx
    qmin = float(np.nanmin(t.q[ii]))
    st = strength(qmin)
    severity = "striking" if bool(t.striking[ii].any()) else "watch"
    names = [_label(str(rows.at[i, "area_code"]), rows.at[i, "area_name"], area_labels) for i in ii]
    # shown: released counts, and rates from them (the test above used exact counts)
    level = settings.small_area_level
    cells = [(level, str(rows.at[i, "area_code"]), "all", "all", "any") for i in ii]
    rx, rk = table_pair(xx, kk, settings, cells, "registered")
    b_cell = [("borough", str(b["area_code"]), "all", "all", "any")]
    bx, bk = table_pair(b["registered"], b["den"], settings, b_cell, "registered")
    headline = (
        f"{areas_label(names)}: {shown(kk, rk, settings)} under-fives living there, "
        f"{shown(xx, rx, settings)} registered with a centre ({share(rx, rk)}, "
        f"borough {share(bx, bk)})"
    )
    evidence = {
        "test": "funnel plot z-score of the registered rate against the borough rate "
        "(Spiegelhalter 2005) with the design effect of children clustered in families "
        "(Rao-Scott effective counts) and an additive over-dispersion allowance; one-sided "
        "p-value from the exact beta-binomial tail; Benjamini-Hochberg across all small "
        "areas",
        "p_value": _sig(float(np.nanmin(t.p[ii]))),
        "q_value": _sig(qmin),
        "fdr_alpha": settings.fdr_alpha,
        "band": "below_998" if (t.band[ii] == "below_998").any() else "below_95",
        "overdispersion": {"detected": t.over_dispersed, "tau2": _fnum(t.tau2)},
        "family_design_effect": _fnum(t.design_effect),
        "reach_table_tau2": _fnum(t.reach_tau2),
        "counts": {
            "children": rk,
            "registered": rx,
            "borough_children": bk,
            "borough_registered": bx,
        },
        "tests_in_family": len(rows),
        "areas": _per_area(t, ii, names, cells, settings),
        "excess_unreached": excess_of(rk, rx, released_rate(bx, bk), excess, settings),
        "strength": _fnum(st),
    }
    if t.design_effect > 1.0:
        evidence["funnel_note"] = _FUNNEL_NOTE
    lo, hi = _interval(rx, rk)
    return Finding(
        kind="unreached_area",
        areas=tuple(str(rows.at[i, "area_code"]) for i in ii),
        group=None,
        site=None,
        measure="registered_rate",
        observed=released_rate(rx, rk),
        expected=released_rate(bx, bk),
        interval=(lo, hi),
        children_affected=affected(rx, rk, kk - xx, settings),
        headline=headline,
        evidence=evidence,
        score=max(excess, 0.0) * st,
        severity=severity,
        level=settings.small_area_level,
        area_names=tuple(names),
    )


def _per_area(
    t: _AreaTests,
    ii: list[int],
    names: list[str],
    cells: list[tuple[str, str, str, str, str]],
    settings: FindingsSettings,
) -> list[dict[str, Any]]:
    """Each area of a finding: released counts and rate, and its own test."""
    area_counts = {
        i: table_pair(t.x[i], t.n[i], settings, [cell], "registered")
        for i, cell in zip(ii, cells, strict=True)
    }
    return [
        {
            "area_code": str(t.rows.at[i, "area_code"]),
            "area_name": names[j],
            "children": area_counts[i][1],
            "registered": area_counts[i][0],
            "rate": _fnum(released_rate(*area_counts[i])),
            "z": _fnum(t.z[i]),
            "p_value": _sig(t.p[i]),
            "q_value": _sig(t.q[i]),
            "band": str(t.band[i]),
        }
        for j, i in enumerate(ii)
    ]
