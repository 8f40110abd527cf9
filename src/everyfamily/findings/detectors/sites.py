"""low_engagement_site: centres that register families but do not engage them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from everyfamily.findings import stats
from everyfamily.findings.detectors.common import (
    _fnum,
    _interval,
    _sig,
    strength,
)
from everyfamily.findings.model import (
    Finding,
    FindingsSettings,
)
from everyfamily.findings.text import (
    affected,
    excess_of,
    released_pair,
    share,
    shown,
    table_pair,
)
from everyfamily.privacy.disclosure import released_rate
from everyfamily.reach.statistics import (
    overdispersed_z,
)

# --- low_engagement_site -------------------------------------------------------------------


def find_low_engagement_sites(
    reach: pd.DataFrame, *, settings: FindingsSettings, site_names: Mapping[str, str] | None = None
) -> list[Finding]:
    """Sites that register families but do not engage them.

    For each site, engaged/registered against the pooled ratio of all other sites: an exact
    one-sided binomial test, and a funnel z widened by the between-site spread of the other
    sites (Spiegelhalter's additive over-dispersion, estimated leaving the site out); the
    larger (more cautious) p-value is kept.
    Benjamini-Hochberg across sites; a finding needs q <= FDR and a gap of at least
    ``min_rate_gap``.
    """
    t = _site_tests(reach, settings)
    if t is None:
        return []
    out: list[Finding] = []
    for i, site in enumerate(t.per["service"].astype(str)):
        rate = t.eng[i] / t.reg[i]
        if not (t.q[i] <= settings.fdr_alpha and t.rest_rate[i] - rate >= settings.min_rate_gap):
            continue
        out.append(_site_finding(t, i, site, settings, site_names))
    return out


@dataclass(frozen=True, eq=False)
class _SiteTests:
    """Per site (``per``: service, registered, engaged): the other sites' pooled rate, the
    kept p-value and its BH q; the largest leave-one-out tau2 and whether any was > 0; the
    level of the rows and the borough's code (empty when the rows are small areas)."""

    per: pd.DataFrame
    reg: np.ndarray
    eng: np.ndarray
    rest_rate: np.ndarray
    p: np.ndarray
    q: np.ndarray
    over_dispersed: bool
    tau2: float
    level: str
    boro_code: str


def _site_tests(reach: pd.DataFrame, settings: FindingsSettings) -> _SiteTests | None:
    """Each site's tests against the other sites; None with fewer than 2 sites to compare."""
    site_rows = reach[(reach["service"] != "any") & (reach["dimension"] == "all")].copy()
    if site_rows.empty:
        return None
    levels = set(site_rows["level"])
    level = "borough" if "borough" in levels else settings.small_area_level
    site_rows = site_rows[site_rows["level"] == level]
    # a site's borough row is a reach-table cell (a sum over small areas is not)
    boro_code = str(site_rows["area_code"].iloc[0]) if level == "borough" else ""
    for col in ("registered", "engaged"):
        site_rows[col] = pd.to_numeric(site_rows[col], errors="coerce").fillna(0)
    per = site_rows.groupby("service", as_index=False)[["registered", "engaged"]].sum()
    per["engaged"] = np.minimum(per["engaged"], per["registered"])
    per = per[per["registered"] >= settings.min_site_registered].reset_index(drop=True)
    if len(per) < 2:
        return None
    reg = per["registered"].to_numpy(dtype="float64")
    eng = per["engaged"].to_numpy(dtype="float64")
    big_r, big_e = reg.sum(), eng.sum()
    rest_rate = (big_e - eng) / (big_r - reg)
    p_binom = np.array(
        [
            stats.binomial_lower_p(int(e), int(r), float(pr))
            for e, r, pr in zip(eng, reg, rest_rate, strict=True)
        ]
    )
    p_funnel, od, tau2 = _leave_one_out_funnel(reg, eng, rest_rate)
    p = np.maximum(p_binom, p_funnel)
    q = stats.bh_adjust(p)
    return _SiteTests(per, reg, eng, rest_rate, p, q, od, tau2, level, boro_code)


def _leave_one_out_funnel(
    reg: np.ndarray, eng: np.ndarray, rest_rate: np.ndarray
) -> tuple[np.ndarray, bool, float]:
    """One-sided funnel p per site, widened by the other sites' tau2; (p, any tau2 > 0,
    the largest tau2).

    Leave-one-out over-dispersion: each site is compared with the others, and the spread
    between the *other* sites (Spiegelhalter's tau^2) widens its limits, so a very low site
    cannot hide itself by inflating the spread it is judged against."""
    p_funnel = np.ones(len(reg))
    od_any, tau2_max = False, 0.0
    for i in range(len(reg)):
        others = np.arange(len(reg)) != i
        pr = float(rest_rate[i])
        tau2 = 0.0
        if others.sum() >= 3 and 0 < pr < 1:
            _z, tau2, od = overdispersed_z(
                eng[others] / reg[others], pr, np.sqrt(pr * (1 - pr) / reg[others])
            )
            od_any = od_any or od
            tau2_max = max(tau2_max, tau2)
        se = math.sqrt(pr * (1 - pr) / reg[i] + tau2) if 0 < pr < 1 else math.nan
        if se and math.isfinite(se):
            p_funnel[i] = float(stats.lower_p_from_z((eng[i] / reg[i] - pr) / se))
    return p_funnel, od_any, tau2_max


def _site_finding(
    t: _SiteTests,
    i: int,
    site: str,
    settings: FindingsSettings,
    site_names: Mapping[str, str] | None,
) -> Finding:
    """One finding for site ``i`` (released numbers, evidence)."""
    reg, eng, per, boro_code = t.reg, t.eng, t.per, t.boro_code
    big_r, big_e = reg.sum(), eng.sum()
    name = (site_names or {}).get(site, site)
    excess = reg[i] * t.rest_rate[i] - eng[i]
    st = strength(float(t.q[i]))
    # shown: released counts, and rates from them (the test used exact counts)
    site_cell = [("borough", boro_code, "all", "all", site)] if boro_code else []
    s_eng, s_reg = table_pair(eng[i], reg[i], settings, site_cell, "engaged", "registered")
    other_cells = [
        ("borough", boro_code, "all", "all", str(o)) for j, o in enumerate(per["service"]) if j != i
    ]
    if boro_code and settings.released_table is not None:
        r_eng, r_reg = table_pair(
            big_e - eng[i], big_r - reg[i], settings, other_cells, "engaged", "registered"
        )
    else:
        r_eng, r_reg = released_pair(big_e - eng[i], big_r - reg[i], settings)
    lo, hi = _interval(s_eng, s_reg)
    headline = (
        f"{name}: {shown(reg[i], s_reg, settings)} children registered, "
        f"{shown(eng[i], s_eng, settings)} engaged ({share(s_eng, s_reg)}, "
        f"other centres {share(r_eng, r_reg)})"
    )
    evidence = {
        "test": "exact one-sided binomial test of engaged/registered against the other "
        "sites' pooled ratio (and the over-dispersed funnel z when sites vary more than "
        "chance); Benjamini-Hochberg across sites",
        "p_value": _sig(float(t.p[i])),
        "q_value": _sig(float(t.q[i])),
        "fdr_alpha": settings.fdr_alpha,
        "tests_in_family": len(per),
        "overdispersion": {"detected": t.over_dispersed, "tau2": _fnum(t.tau2)},
        "counts": {
            "registered": s_reg,
            "engaged": s_eng,
            "rest_registered": r_reg,
            "rest_engaged": r_eng,
        },
        "excess_unreached": excess_of(s_reg, s_eng, released_rate(r_eng, r_reg), excess, settings),
        "strength": _fnum(st),
    }
    return Finding(
        kind="low_engagement_site",
        areas=(),
        group=None,
        site=site,
        measure="engaged_per_registered",
        observed=released_rate(s_eng, s_reg),
        expected=released_rate(r_eng, r_reg),
        interval=(lo, hi),
        children_affected=affected(s_eng, s_reg, reg[i] - eng[i], settings),
        headline=headline,
        evidence=evidence,
        score=max(excess, 0.0) * st,
        level=t.level,
        area_names=(name,),
    )
