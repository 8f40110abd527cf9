"""The detectors: each reads the reach table and returns findings of one kind.

Every detector is pure (frames in, frozen findings out) and states its test in the
finding's evidence. Families of tests are controlled by Benjamini-Hochberg; the minimum
effect sizes and counts are the named constants of :mod:`everyfamily.findings.model`.

Tests run on the exact counts (the statistics are right), but every number a finding
shows is disclosure-controlled: counts in the headline and the evidence are released by the
rules of the reach release (suppression, the complement rule, rounding:
:func:`everyfamily.findings.text.released_pair`), and the finding's ``observed``,
``expected``, ``interval``, rates and shares are computed from those released counts, so
no shown number undoes the rounding of another (an exact 13/40 = 32.5% would reveal both
counts; 15/39 = 38% does not).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.findings import stats
from everyfamily.findings.gradient import deprivation_gradient, sii_rii
from everyfamily.findings.model import (
    AREA_ATTRIBUTE_DIMENSIONS,
    NOT_A_GROUP,
    STRENGTH_CAP,
    Finding,
    FindingsSettings,
)
from everyfamily.findings.text import (
    affected,
    areas_label,
    excess_of,
    expected_of,
    group_phrase,
    pct,
    released,
    released_pair,
    share,
    shown,
    table_pair,
    table_rest,
    withheld,
)
from everyfamily.privacy.disclosure import released_rate
from everyfamily.reach.statistics import Z_95, Z_998, overdispersed_z

Neighbours = Mapping[str, Iterable[str]]


# --- shared helpers ------------------------------------------------------------------------


def strength(q: float) -> float:
    """Strength of evidence: -log10(q), capped at STRENGTH_CAP; 0 when q is undefined."""
    if q is None or not math.isfinite(q):
        return 0.0
    return float(min(-math.log10(max(q, 1e-300)), STRENGTH_CAP))


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _fnum(value: float) -> float | None:
    """A float for JSON: None for NaN/inf, rounded to 6 places."""
    return round(float(value), 6) if value is not None and math.isfinite(value) else None


def _sig(value: float) -> float | None:
    """A p- or q-value for JSON: None for NaN, 3 significant figures (tiny values kept)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{float(value):.3g}")


def _interval(part: int | None, whole: int | None) -> tuple[float, float]:
    """Wilson interval of RELEASED counts (NaN when either is suppressed)."""
    if part is None or whole is None:
        return math.nan, math.nan
    return stats.wilson_interval(float(part), float(whole))


def _select(
    reach: pd.DataFrame, level: str, dimension: str = "all", service: str = "any"
) -> pd.DataFrame:
    mask = (
        (reach["level"] == level)
        & (reach["dimension"] == dimension)
        & (reach["service"] == service)
    )
    rows = reach.loc[mask].copy()
    for col in ("known", "registered", "engaged", "ons_population"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce")
    rows["den"] = _denominator(rows)
    return rows


def _denominator(rows: pd.DataFrame) -> pd.Series:
    """The children a rate is out of: the reach table's ``denominator`` (known, registered
    or engaged; everyfamily.reach) when present, else ``known`` (schema.REACH_COLUMNS)."""
    known = pd.to_numeric(rows["known"], errors="coerce")
    if "denominator" in rows.columns:
        den = pd.to_numeric(rows["denominator"], errors="coerce")
        return den.where(den.notna(), known)
    return known


def borough_row(reach: pd.DataFrame, settings: FindingsSettings) -> dict[str, Any]:
    """Borough totals (the comparison for every area): the borough row when present, else
    the sum over small areas."""
    rows = _select(reach, "borough")
    if len(rows):
        r = rows.iloc[0]
        return {
            "area_code": str(r["area_code"]),
            "area_name": str(r["area_name"]) if pd.notna(r["area_name"]) else settings.borough_name,
            "known": _num(r["known"]),
            "den": _num(r["den"]),
            "registered": _num(r["registered"]),
            "engaged": _num(r["engaged"]),
            "ons_population": _num(r["ons_population"]),
        }
    small = _select(reach, settings.small_area_level)
    return {
        "area_code": "borough",
        "area_name": settings.borough_name,
        "known": float(small["known"].sum()),
        "den": float(small["den"].sum()),
        "registered": float(small["registered"].sum()),
        "engaged": float(small["engaged"].sum()),
        "ons_population": float(small["ons_population"].sum(min_count=1)),
    }


def _components(codes: list[str], neighbours: Neighbours | None) -> list[list[str]]:
    """Connected groups of flagged areas (contiguity), in the order first seen."""
    flagged = set(codes)
    parent = {c: c for c in codes}

    def root(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    if neighbours:
        for c in codes:
            for n in neighbours.get(c, ()):
                if n in flagged:
                    ra, rb = root(c), root(n)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for c in codes:
        groups.setdefault(root(c), []).append(c)
    return list(groups.values())


def _label(code: str, name: Any, labels: Mapping[str, str] | None) -> str:
    if labels and code in labels:
        return labels[code]
    return (
        str(name)
        if name is not None and not (isinstance(name, float) and math.isnan(name))
        else code
    )


# --- unreached_area ------------------------------------------------------------------------


def _area_funnel(
    rows: pd.DataFrame, x: np.ndarray, n: np.ndarray, p0: float, design_effect: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    y = x / n
    # families register together: the binomial variance is widened by the family design
    # effect; then the same over-dispersion function (and so the same tau2 method) as
    # reach.csv's funnel_z (issue 14, defect 1)
    se = np.sqrt(p0 * (1 - p0) / n * design_effect)
    z, tau2, od = overdispersed_z(y, p0, se)
    p = stats.lower_p_from_z(z)
    q = stats.bh_adjust(p)
    return z, p, q, tau2, od


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
    (:func:`everyfamily.findings.stats.family_design_effect`; 1 when families are unknown):
    the binomial standard error is multiplied by its square root before the over-dispersion
    allowance, which then measures what families alone do not explain.
    """
    rows = _select(reach, settings.small_area_level)
    rows = rows[rows["den"].fillna(0) > 0].reset_index(drop=True)
    b = borough_row(reach, settings)
    if len(rows) < 3 or not b["den"] or not b["den"] > 0:
        return []
    p0 = b["registered"] / b["den"]
    if not 0 < p0 < 1:
        return []
    n = rows["den"].to_numpy(dtype="float64")
    x = np.minimum(rows["registered"].fillna(0).to_numpy(dtype="float64"), n)
    z, p, q, tau2, od = _area_funnel(rows, x, n, p0, design_effect)
    gap = p0 - x / n
    band = np.where(z < -Z_998, "below_998", np.where(z < -Z_95, "below_95", "within"))
    # "watch" findings pass BH too (issue 14, defect 5): an area is flagged only with
    # q <= fdr_alpha; the 99.8% band then separates striking from watch.
    flagged = (band != "within") & (gap >= settings.min_area_gap) & (q <= settings.fdr_alpha)
    striking = flagged & (band == "below_998")
    idx = {str(c): i for i, c in enumerate(rows["area_code"])}
    codes = [str(c) for c, f in zip(rows["area_code"], flagged, strict=True) if f]
    out: list[Finding] = []
    for comp in _components(codes, neighbours):
        ii = sorted(
            (idx[c] for c in comp), key=lambda i: (x[i] / n[i], str(rows.at[i, "area_code"]))
        )
        kk, xx = float(n[ii].sum()), float(x[ii].sum())
        excess = kk * p0 - xx
        qmin = float(np.nanmin(q[ii]))
        st = strength(qmin)
        severity = "striking" if bool(striking[ii].any()) else "watch"
        names = [
            _label(str(rows.at[i, "area_code"]), rows.at[i, "area_name"], area_labels) for i in ii
        ]
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
        area_counts = {
            i: table_pair(x[i], n[i], settings, [cell], "registered")
            for i, cell in zip(ii, cells, strict=True)
        }
        per_area = [
            {
                "area_code": str(rows.at[i, "area_code"]),
                "area_name": names[j],
                "children": area_counts[i][1],
                "registered": area_counts[i][0],
                "rate": _fnum(released_rate(*area_counts[i])),
                "z": _fnum(z[i]),
                "p_value": _sig(p[i]),
                "q_value": _sig(q[i]),
                "band": str(band[i]),
            }
            for j, i in enumerate(ii)
        ]
        evidence = {
            "test": "funnel plot z-score of the registered rate against the borough rate "
            "(Spiegelhalter 2005), one-sided, with the design effect of children clustered in "
            "families and an over-dispersion allowance; "
            "Benjamini-Hochberg across all small areas",
            "p_value": _sig(float(np.nanmin(p[ii]))),
            "q_value": _sig(qmin),
            "fdr_alpha": settings.fdr_alpha,
            "band": "below_998" if (band[ii] == "below_998").any() else "below_95",
            "overdispersion": {"detected": od, "tau2": _fnum(tau2)},
            "family_design_effect": _fnum(design_effect),
            "counts": {
                "children": rk,
                "registered": rx,
                "borough_children": bk,
                "borough_registered": bx,
            },
            "tests_in_family": len(rows),
            "areas": per_area,
            "excess_unreached": excess_of(rk, rx, released_rate(bx, bk), excess, settings),
            "strength": _fnum(st),
        }
        lo, hi = _interval(rx, rk)
        out.append(
            Finding(
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
        )
    return out


# --- unreached_group -----------------------------------------------------------------------


def _group_tests(
    reach: pd.DataFrame, settings: FindingsSettings, design_effect: float = 1.0
) -> pd.DataFrame:
    """One row per (level, area, dimension, value) tested, with p-values and BH q-values."""
    any_rows = reach[reach["service"] == "any"]
    groups = any_rows[any_rows["dimension"].isin(settings.group_dimensions)].copy()
    totals = any_rows[any_rows["dimension"] == "all"].copy()
    totals["total_known"] = _denominator(totals)
    totals = totals[["level", "area_code", "total_known", "registered"]].rename(
        columns={"registered": "total_registered"}
    )
    groups["known"] = _denominator(groups)
    # Children whose value is unknown belong to no group and to no "everyone else": they
    # come mostly from sources that do not record the field (registration forms), so
    # leaving them in the rest would bias every gap (issue 14, defect 6).
    is_unknown = groups["group_value"].isna() | groups["group_value"].astype(
        str
    ).str.strip().str.lower().isin(NOT_A_GROUP)
    unknown = groups[is_unknown].copy()
    for col in ("known", "registered"):
        unknown[col] = pd.to_numeric(unknown[col], errors="coerce").fillna(0)
    unknown = unknown.groupby(["level", "area_code", "dimension"], as_index=False).agg(
        unknown_known=("known", "sum"), unknown_registered=("registered", "sum")
    )
    g = groups.merge(totals, on=["level", "area_code"], how="inner")
    g = g[~g["group_value"].astype(str).str.strip().str.lower().isin(NOT_A_GROUP)]
    g = g.merge(unknown, on=["level", "area_code", "dimension"], how="left")
    g[["unknown_known", "unknown_registered"]] = g[["unknown_known", "unknown_registered"]].fillna(
        0
    )
    # Area attributes (deprivation deciles) are not groups of independent children: they are
    # reported as one gradient with a clustered test (find_deprivation_gradients) instead.
    g = g[~g["dimension"].isin(AREA_ATTRIBUTE_DIMENSIONS)]
    g = g[g["group_value"].notna()]
    for col in ("known", "registered", "total_known", "total_registered"):
        g[col] = pd.to_numeric(g[col], errors="coerce").fillna(0)
    g["x"] = np.minimum(g["registered"], g["known"])
    g["rest_known"] = g["total_known"] - g["known"] - g["unknown_known"]
    g["rest_x"] = np.clip(
        g["total_registered"] - g["x"] - g["unknown_registered"],
        0,
        g["rest_known"].clip(lower=0),
    )
    g = g[(g["known"] >= settings.min_group_known) & (g["rest_known"] >= settings.min_group_known)]
    g = g.reset_index(drop=True)
    zs, ps = [], []
    # Rao & Scott (1981, JASA 76:221): with children clustered in families, dividing every
    # count by the design effect gives the effective sample sizes the test may use.
    d = max(1.0, float(design_effect))
    for x, n, rx, rn in zip(g["x"], g["known"], g["rest_x"], g["rest_known"], strict=True):
        z, p = stats.two_proportion_lower(round(x / d), round(n / d), round(rx / d), round(rn / d))
        zs.append(z)
        ps.append(p)
    g["z"] = zs
    g["p_value"] = ps
    g["q_value"] = stats.bh_adjust(np.asarray(ps, dtype="float64"))
    g["rate"] = g["x"] / g["known"]
    g["rest_rate"] = g["rest_x"] / g["rest_known"]
    return g


def find_unreached_groups(
    reach: pd.DataFrame,
    *,
    settings: FindingsSettings,
    area_labels: Mapping[str, str] | None = None,
    design_effect: float = 1.0,
) -> list[Finding]:
    """Groups whose registered rate is below everyone else's in the same area.

    For every area at every level and every group value: a one-sided two-proportion z-test
    (Fisher's exact test when any expected cell is below 5) of the group's registered rate
    (registered / children living there) against the rest of the area's children whose
    value is KNOWN (children with an unknown value are in neither side). Benjamini-Hochberg
    across
    every test at every level; a finding needs q <= FDR, a gap of at least
    ``min_rate_gap`` and at least ``min_group_known`` known children on both sides.
    ``design_effect`` (children clustered in families, stats.family_design_effect): the
    counts are divided by it before the test (Rao-Scott effective sample sizes).
    """
    if reach.empty:
        return []
    g = _group_tests(reach, settings, design_effect)
    hits = g[
        (g["q_value"] <= settings.fdr_alpha) & (g["rest_rate"] - g["rate"] >= settings.min_rate_gap)
    ]
    out: list[Finding] = []
    for _, r in hits.iterrows():
        k, x, rk, rx = float(r["known"]), float(r["x"]), float(r["rest_known"]), float(r["rest_x"])
        level, code = str(r["level"]), str(r["area_code"])
        name = _label(code, r["area_name"], area_labels)
        if level == "borough":
            name = f"{name} (borough-wide)"
        dim, value = str(r["dimension"]), str(r["group_value"])
        rest_rate = rx / rk
        excess = k * rest_rate - x
        st = strength(float(r["q_value"]))
        # shown: released counts, and rates from them (the test used exact counts)
        group_cell = [(level, code, dim, value, "any")]
        sx, sk = table_pair(x, k, settings, group_cell, "registered")
        # everyone else = the area's total - the group - the unknowns: withheld with any
        rest_cells = [*group_cell, (level, code, "all", "all", "any")]
        if float(r["unknown_known"]) > 0:
            rest_cells.append((level, code, dim, "unknown", "any"))
        srx, srk = table_rest(
            rx,
            rk,
            settings,
            group_cell[0],
            (level, code, "all", "all", "any"),
            "registered",
            fallback_cells=rest_cells,
        )
        lo, hi = _interval(sx, sk)
        headline = (
            f"{name}: {shown(k, sk, settings)} {group_phrase(dim, value)}, "
            f"{shown(x, sx, settings)} registered with a centre "
            f"({share(sx, sk)}, everyone else {share(srx, srk)})"
        )
        total_k = None if sk is None or srk is None else sk + srk
        total_x = None if sx is None or srx is None else sx + srx
        evidence = {
            "test": "one-sided two-proportion z-test of the group's registered rate against "
            "everyone else in the same area whose value is known (Fisher's exact test for "
            "small counts), on counts divided by the family design effect (Rao-Scott); "
            "Benjamini-Hochberg across all groups, areas and levels",
            "z": _fnum(float(r["z"])),
            "p_value": _sig(float(r["p_value"])),
            "q_value": _sig(float(r["q_value"])),
            "fdr_alpha": settings.fdr_alpha,
            "family_design_effect": _fnum(max(1.0, float(design_effect))),
            "tests_in_family": len(g),
            "counts": {
                "children": sk,
                "registered": sx,
                "rest_children": srk,
                "rest_registered": srx,
            },
            "share_of_known": _fnum(released_rate(sk, total_k)),
            "share_of_registered": _fnum(released_rate(sx, total_x)),
            "excess_unreached": excess_of(sk, sx, released_rate(srx, srk), excess, settings),
            "strength": _fnum(st),
            "level": level,
        }
        out.append(
            Finding(
                kind="unreached_group",
                areas=(code,),
                group=(dim, value),
                site=None,
                measure="registered_rate",
                observed=released_rate(sx, sk),
                expected=released_rate(srx, srk),
                interval=(lo, hi),
                children_affected=affected(sx, sk, k - x, settings),
                headline=headline,
                evidence=evidence,
                score=max(excess, 0.0) * st,
                level=level,
                area_names=(name,),
            )
        )
    return out


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
    site_rows = reach[(reach["service"] != "any") & (reach["dimension"] == "all")].copy()
    if site_rows.empty:
        return []
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
        return []
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
    # Leave-one-out over-dispersion: each site is compared with the others, and the spread
    # between the *other* sites (Spiegelhalter's tau^2) widens its limits, so a very low site
    # cannot hide itself by inflating the spread it is judged against.
    p_funnel = np.ones(len(per))
    od_any, tau2_max = False, 0.0
    for i in range(len(per)):
        others = np.arange(len(per)) != i
        pr = float(rest_rate[i])
        tau2 = 0.0
        if others.sum() >= 3 and 0 < pr < 1:
            _z, tau2, od = stats.overdispersed_z(
                eng[others] / reg[others], pr, np.sqrt(pr * (1 - pr) / reg[others])
            )
            od_any = od_any or od
            tau2_max = max(tau2_max, tau2)
        se = math.sqrt(pr * (1 - pr) / reg[i] + tau2) if 0 < pr < 1 else math.nan
        if se and math.isfinite(se):
            p_funnel[i] = float(stats.lower_p_from_z((eng[i] / reg[i] - pr) / se))
    p = np.maximum(p_binom, p_funnel)
    od, tau2 = od_any, tau2_max
    q = stats.bh_adjust(p)
    out: list[Finding] = []
    for i, site in enumerate(per["service"].astype(str)):
        rate = eng[i] / reg[i]
        if not (q[i] <= settings.fdr_alpha and rest_rate[i] - rate >= settings.min_rate_gap):
            continue
        name = (site_names or {}).get(site, site)
        excess = reg[i] * rest_rate[i] - eng[i]
        st = strength(float(q[i]))
        # shown: released counts, and rates from them (the test used exact counts)
        site_cell = [("borough", boro_code, "all", "all", site)] if boro_code else []
        s_eng, s_reg = table_pair(eng[i], reg[i], settings, site_cell, "engaged", "registered")
        other_cells = [
            ("borough", boro_code, "all", "all", str(o))
            for j, o in enumerate(per["service"])
            if j != i
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
            "p_value": _sig(float(p[i])),
            "q_value": _sig(float(q[i])),
            "fdr_alpha": settings.fdr_alpha,
            "tests_in_family": len(per),
            "overdispersion": {"detected": od, "tau2": _fnum(tau2)},
            "counts": {
                "registered": s_reg,
                "engaged": s_eng,
                "rest_registered": r_reg,
                "rest_engaged": r_eng,
            },
            "excess_unreached": excess_of(
                s_reg, s_eng, released_rate(r_eng, r_reg), excess, settings
            ),
            "strength": _fnum(st),
        }
        out.append(
            Finding(
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
                level=level,
                area_names=(name,),
            )
        )
    return out


# --- unknown_population --------------------------------------------------------------------


def find_unknown_population(
    reach: pd.DataFrame,
    *,
    settings: FindingsSettings,
    neighbours: Neighbours | None = None,
    area_labels: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Small areas where far fewer children are known than ONS estimates live there.

    Expected known = ONS 0-4 estimate x the borough's overall completeness (known / ONS), so
    a borough-wide shortfall (e.g. an ONS estimate that runs high) is allowed for. Test: an
    exact one-sided Poisson test of known against expected; when areas vary more than chance
    explains, Spiegelhalter's over-dispersed z on the ratio instead (the larger p is kept).
    Benjamini-Hochberg across areas; needs q <= FDR and a shortfall of at least
    ``min_unknown_shortfall``. Touching flagged areas form one finding.
    """
    rows = _select(reach, settings.small_area_level)
    rows = rows[rows["ons_population"].fillna(0) >= settings.min_ons_population].reset_index(
        drop=True
    )
    if len(rows) < 3:
        return []
    ons = rows["ons_population"].to_numpy(dtype="float64")
    known = rows["known"].fillna(0).to_numpy(dtype="float64")
    c = known.sum() / ons.sum()
    if not c > 0:
        return []
    expected = c * ons
    p_pois = np.array(
        [stats.poisson_lower_p(int(k), float(e)) for k, e in zip(known, expected, strict=True)]
    )
    z, tau2, od = stats.overdispersed_z(known / ons, c, np.sqrt(c / ons))
    p = np.maximum(p_pois, stats.lower_p_from_z(z)) if od else p_pois
    q = stats.bh_adjust(p)
    ratio = known / expected
    flagged = (q <= settings.fdr_alpha) & (ratio <= 1 - settings.min_unknown_shortfall)
    idx = {str(code): i for i, code in enumerate(rows["area_code"])}
    codes = [str(code) for code, f in zip(rows["area_code"], flagged, strict=True) if f]
    out: list[Finding] = []
    for comp in _components(codes, neighbours):
        ii = sorted(
            (idx[code] for code in comp), key=lambda i: (ratio[i], str(rows.at[i, "area_code"]))
        )
        kk, ee, oo = float(known[ii].sum()), float(expected[ii].sum()), float(ons[ii].sum())
        qmin = float(np.nanmin(q[ii]))
        st = strength(qmin)
        excess = ee - kk
        names = [
            _label(str(rows.at[i, "area_code"]), rows.at[i, "area_name"], area_labels) for i in ii
        ]
        # shown: released known counts; ONS estimates are published figures, shown as
        # everyfamily shows every count (rounded); rates from those released counts
        level = settings.small_area_level
        cells = [(level, str(rows.at[i, "area_code"]), "all", "all", "any") for i in ii]
        table = settings.released_table
        boro = _select(reach, "borough")
        boro_cells = [("borough", str(c), "all", "all", "any") for c in boro["area_code"]]
        sk: int | None
        boro_known: int | None
        if table is not None:  # known counts as the released table shows them
            sk = table.total(cells, "known")
            every = [(level, str(c), "all", "all", "any") for c in rows["area_code"]]
            boro_known = table.total(boro_cells or every, "known")
        else:
            sk = None if withheld(settings, cells, "known") else released(kk, settings)
            boro_known = (
                None if withheld(settings, boro_cells, "known") else released(known.sum(), settings)
            )
        so = released(oo, settings)
        c_shown = released_rate(boro_known, released(ons.sum(), settings))
        headline = (
            f"{areas_label(names)}: ONS estimates {shown(oo, so, settings)} under-fives, "
            f"{shown(kk, sk, settings)} known to any service ({share(sk, so)}, "
            f"borough {pct(c_shown)})"
        )
        lo, hi = (math.nan, math.nan)
        if sk is not None and so:
            lo, hi = stats.poisson_ratio_interval(sk, float(so))
        area_known = {
            i: (
                table.total([cell], "known")
                if table is not None
                else None
                if withheld(settings, [cell], "known")
                else released(known[i], settings)
            )
            for i, cell in zip(ii, cells, strict=True)
        }
        shown_excess = excess_of(so, sk, c_shown, excess, settings)
        evidence = {
            "test": "exact one-sided Poisson test of known children against the ONS estimate "
            "times the borough's completeness (over-dispersed funnel z when areas vary more "
            "than chance); Benjamini-Hochberg across small areas",
            "p_value": _sig(float(np.nanmin(p[ii]))),
            "q_value": _sig(qmin),
            "fdr_alpha": settings.fdr_alpha,
            "tests_in_family": len(rows),
            "borough_completeness": _fnum(c_shown),
            "overdispersion": {"detected": od, "tau2": _fnum(tau2)},
            "counts": {
                "known": sk,
                "ons_population": so,
                "expected_known": (
                    released(ee, settings) if table is None else expected_of(so, c_shown)
                ),
            },
            "areas": [
                {
                    "area_code": str(rows.at[i, "area_code"]),
                    "area_name": names[j],
                    "known": area_known[i],
                    "ons_population": released(ons[i], settings),
                    "ratio_to_expected": _fnum(
                        area_known[i] / (c_shown * ons[i])
                        if area_known[i] is not None and ons[i] > 0 and c_shown > 0
                        else math.nan
                    ),
                    "p_value": _sig(p[i]),
                    "q_value": _sig(q[i]),
                }
                for j, i in enumerate(ii)
            ],
            "excess_unreached": shown_excess,
            "strength": _fnum(st),
        }
        out.append(
            Finding(
                kind="unknown_population",
                areas=tuple(str(rows.at[i, "area_code"]) for i in ii),
                group=None,
                site=None,
                measure="known_completeness",
                observed=released_rate(sk, so),
                expected=c_shown,
                interval=(lo, hi),
                children_affected=affected(sk, so, oo - kk, settings),
                headline=headline,
                evidence=evidence,
                score=max(excess, 0.0) * st,
                level=settings.small_area_level,
                area_names=tuple(names),
            )
        )
    return out


# --- deprivation gradient ------------------------------------------------------------------

#: Area-attribute dimensions reported as a gradient (decile 1 = most deprived), each with the
#: coarser dimension used when the finer one is absent.
GRADIENT_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("imd_decile", "imd_quintile"),
    ("idaci_decile", "idaci_quintile"),
)
_INDEX_NAMES = {"imd": "the Index of Multiple Deprivation", "idaci": "IDACI"}


def _area_quantiles(reach: pd.DataFrame, level: str, dimension: str) -> pd.DataFrame:
    """One row per small area: its quantile (the group value holding its children), registered
    and children (the denominator) at that level."""
    rows = _select(reach, level, dimension)
    rows["q"] = pd.to_numeric(rows["group_value"], errors="coerce")
    rows = rows[rows["q"].notna() & (rows["den"].fillna(0) > 0)]
    rows = rows.sort_values(["area_code", "den"], ascending=[True, False])
    return rows.drop_duplicates("area_code")[["area_code", "q", "registered", "den"]]


def find_deprivation_gradients(
    reach: pd.DataFrame, *, settings: FindingsSettings, set_aside: frozenset[str] = frozenset()
) -> list[Finding]:
    """Reach falling with deprivation, as one gradient finding per index (issue 14, defect 4).

    ``set_aside``: small areas already explained by a striking finding of their own (an
    unreached cluster, a barrier's cut-off side): left out of the test, so that a few
    stories that happen to sit at one end of the scale neither hide nor fake the gradient
    (the slope is then estimated net of the clusters found, as in Zhang, Assuncao &
    Kulldorff 2010's adjustment for detected clusters; findings.scan).

    Deciles are area attributes, so they are not tested child by child ("decile 1 against
    everyone else" would count children as independent). Per index: the slope index and
    relative index of inequality across deciles with simulation intervals, and a
    quasi-binomial test of the slope over small areas (everyfamily.findings.gradient, which
    states the methods); Benjamini-Hochberg across the indices. A finding needs q <= FDR and
    an SII of at least ``min_rate_gap`` in either direction: reach falling with deprivation
    (the usual concern) or rising with it (a universal service missing the less deprived
    areas; children's centres sited for deprived areas often show this). The test is
    two-sided for that reason.
    """
    level = settings.small_area_level
    wanted = set(settings.group_dimensions)
    tested: list[tuple[str, Any]] = []
    for fine, coarse in GRADIENT_DIMENSIONS:
        for dim in (fine, coarse):
            if dim not in wanted:
                continue
            areas = _area_quantiles(reach, level, dim)
            areas = areas[~areas["area_code"].astype(str).isin(set_aside)]
            if len(areas) < 3:
                continue
            g = deprivation_gradient(
                areas["q"].to_numpy(),
                areas["registered"].fillna(0).to_numpy(),
                areas["den"].to_numpy(),
            )
            if g is not None:
                tested.append((dim, g))
                break
    if not tested:
        return []
    # the gradient module's p is one-sided (slope > 0); either direction is a finding
    qs = stats.bh_adjust([min(1.0, 2 * min(g.p_value, 1 - g.p_value)) for _, g in tested])
    out: list[Finding] = []
    for (dim, g), q in zip(tested, qs, strict=True):
        if not (q <= settings.fdr_alpha and abs(g.sii) >= settings.min_rate_gap):
            continue
        # shown: SII and RII refitted on the released borough counts per quantile
        brows = _select(reach, "borough", dim)
        brows = brows[brows["group_value"].astype(str).isin(g.quantiles)]
        brows = brows.assign(_q=pd.to_numeric(brows["group_value"], errors="coerce"))
        brows = brows.sort_values("_q")
        rel = [
            table_pair(
                float(r["registered"]),
                float(r["den"]),
                settings,
                [("borough", str(r["area_code"]), dim, str(r["group_value"]), "any")],
                "registered",
            )
            for _, r in brows.iterrows()
        ]
        ok = [(x, k) for x, k in rel if x is not None and k]
        if len(ok) >= 3:
            rk = np.array([k for _, k in ok], dtype="float64")
            rx = np.array([x for x, _ in ok], dtype="float64")
            sii, rii, intercept = sii_rii(rx / rk, rk / rk.sum())
        else:  # too much withheld to refit: show the interval, not a point from exact counts
            sii, rii, intercept = math.nan, math.nan, math.nan
        index = _INDEX_NAMES.get(dim.split("_")[0], dim)
        unit = "deciles" if dim.endswith("decile") else "quintiles"
        falls = g.sii > 0  # the least deprived end (rank 1) reached more
        lower_end, higher_end = ("most deprived", "least") if falls else ("least deprived", "most")
        headline = (
            f"Reach {'falls' if falls else 'rises'} with deprivation ({index}, "
            f"{len(g.quantiles)} {unit}): the registered rate is {_points(abs(sii))} lower at "
            f"the {lower_end} end than at the {higher_end} (slope index of inequality "
            f"{_points(sii)}, 95% interval {_points(g.sii_interval[0])} to "
            f"{_points(g.sii_interval[1])})"
        )
        # excess: children not registered who would be if every decile reached the fitted
        # rate of the better-reached end: sum_k SII (1 - b_k) n_k when reach falls with
        # deprivation (b_k the cumulative rank midpoint, 0 = most deprived), sum_k |SII| b_k n_k
        # when it rises (released n_k)
        excess = (
            float(
                sum(
                    abs(sii) * ((1.0 - m) if falls else m) * k
                    for m, (_, k) in zip(g.midpoints, ok, strict=True)
                )
            )
            if math.isfinite(sii) and len(ok) == len(g.midpoints)
            else math.nan
        )
        st = strength(float(q))
        evidence = {
            "test": "quasi-binomial GLM of small areas' registered rates on the cumulative rank "
            "midpoint of their decile (Pearson scale: clustering of children in areas "
            "respected), two-sided t-test of the slope; slope and relative index of "
            "inequality by the Fingertips method (population-weighted quantiles, weighted "
            "regression, simulation intervals); Benjamini-Hochberg across the indices",
            "p_value": _sig(g.p_value),
            "q_value": _sig(float(q)),
            "fdr_alpha": settings.fdr_alpha,
            "tests_in_family": len(tested),
            "areas_tested": g.n_areas,
            "areas_set_aside": len(set_aside),
            "pearson_scale": _fnum(g.scale),
            "slope_index_of_inequality": _fnum(sii),
            "sii_interval": [_fnum(g.sii_interval[0]), _fnum(g.sii_interval[1])],
            "relative_index_of_inequality": _fnum(rii),
            "rii_interval": [_fnum(g.rii_interval[0]), _fnum(g.rii_interval[1])],
            "excess_unreached": _fnum(excess),
            "strength": _fnum(st),
        }
        out.append(
            Finding(
                kind="unreached_group",
                areas=(),
                group=(dim, "gradient"),
                site=None,
                measure="registered_rate_slope_index",
                observed=intercept if math.isfinite(intercept) else math.nan,
                expected=intercept + sii if math.isfinite(sii) else math.nan,
                interval=(math.nan, math.nan),
                children_affected=round(excess) if math.isfinite(excess) else 0,
                headline=headline,
                evidence=evidence,
                score=(max(excess, 0.0) if math.isfinite(excess) else 0.0) * st,
                severity="striking",
                level="borough",
            )
        )
    # IMD and IDACI rank the same areas much alike: one finding per issue (issue 14, defect 9),
    # the strongest, with the other indices' headlines attached
    if len(out) > 1:
        out.sort(key=lambda f: -f.score)
        also = {"also_by_other_indices": [f.headline for f in out[1:]]}
        out = [dataclasses.replace(out[0], evidence={**out[0].evidence, **also})]
    return out


def _points(rate_difference: float) -> str:
    if not math.isfinite(rate_difference):
        return "n/a"
    return f"{100 * rate_difference:.0f} percentage points"


# --- linkage_quality_gap -------------------------------------------------------------------

_COUNT_COLUMNS = (
    "true_links",
    "n",
    "n_true_links",
    "pairs",
    "n_pairs",
    "records",
    "n_records",
    "children",
    "n_children",
    "count",
)

#: Expected-count columns of a model-based quality table (linkage.estimated_quality) with
#: the model's own variances: with them, the gap is tested against its own uncertainty.
_MODEL_COLUMNS = (
    "true_positives",
    "false_negatives",
    "true_positives_variance",
    "false_negatives_variance",
)

#: Dimensions defined by the compared pair rather than by the child: ``moved`` is "the two
#: records' postcodes differ", one of the comparisons the model weighs, so its group has a
#: lower estimated recall by construction (every disagreement lowers a pair's probability).
#: Such a gap is reported as *watch* at most: it describes the model, not a group of children.
PAIR_LEVEL_DIMENSIONS = frozenset({"moved"})


def _model_gap_test(part: pd.DataFrame, j: int) -> tuple[float, float, float, float]:
    """(recall, rest recall, z, one-sided p) for row ``j`` of one dimension of a model table.

    Recall_est = TP / (TP + FN) with TP, FN sums of pair probabilities; its variance by the
    delta method from Var[TP] = sum p(1 - p) (accepted pairs) and Var[FN] (the rest), pairs
    independent (linkage.estimated_quality.recall_variance). The rest of the dimension pools
    the other groups' expected counts and variances. Wald test:
    z = (R_g - R_rest) / sqrt(Var R_g + Var R_rest), p = Phi(z).
    """
    from everyfamily.linkage.estimated_quality import recall_variance

    cols = {
        c: pd.to_numeric(part[c], errors="coerce").fillna(0).to_numpy("float64")
        for c in _MODEL_COLUMNS
    }
    tp, fn = cols["true_positives"], cols["false_negatives"]
    vtp, vfn = cols["true_positives_variance"], cols["false_negatives_variance"]
    rest = np.ones(len(part), dtype=bool)
    rest[j] = False
    r_tp, r_fn = float(tp[rest].sum()), float(fn[rest].sum())
    g_total, r_total = tp[j] + fn[j], r_tp + r_fn
    if g_total <= 0 or r_total <= 0:
        return math.nan, math.nan, math.nan, 1.0
    rec, rest_rec = float(tp[j] / g_total), r_tp / r_total
    var = recall_variance(float(tp[j]), float(fn[j]), float(vtp[j]), float(vfn[j]))
    var += recall_variance(r_tp, r_fn, float(vtp[rest].sum()), float(vfn[rest].sum()))
    if var <= 0:
        z = -math.inf if rec < rest_rec else (math.inf if rec > rest_rec else 0.0)
    else:
        z = (rec - rest_rec) / math.sqrt(var)
    return rec, rest_rec, z, float(stats.lower_p_from_z(z))


def find_linkage_quality_gaps(
    quality: pd.DataFrame | None, *, settings: FindingsSettings
) -> list[Finding]:
    """Groups whose linkage recall is notably lower than everyone else's in the dimension.

    Reads a ``linkage_quality_by_group`` table (columns ``dimension``, ``group_value``,
    ``recall`` and a count column such as ``n``/``true_links``). With counts: a one-sided
    two-proportion test of the group's recall against the pooled recall of the rest of its
    dimension, Benjamini-Hochberg across groups, and a gap of at least ``min_recall_gap``.
    Without counts there is nothing to test, so a gap of at least twice ``min_recall_gap``
    gives a *watch* finding.

    A model-based table (linkage.estimated_quality: expected TP and FN with their variances,
    columns :data:`_MODEL_COLUMNS`) holds estimates, not counts: a binomial test would treat
    E[TP] as observed. Its gap is tested against its own uncertainty instead
    (:func:`_model_gap_test`). Groups of :data:`PAIR_LEVEL_DIMENSIONS` are *watch* at most.
    """
    if quality is None or quality.empty:
        return []
    if not {"dimension", "recall"} <= set(quality.columns) or not (
        {"group_value", "group"} & set(quality.columns)
    ):
        return []
    q = quality.copy()
    if "group_value" not in q.columns and "group" in q.columns:  # linkage.quality's naming
        q = q.rename(columns={"group": "group_value"})
    q = q[q["dimension"].astype(str) != "all"]
    q = q[~q["group_value"].astype(str).str.strip().str.lower().isin(NOT_A_GROUP)]
    q["recall"] = pd.to_numeric(q["recall"], errors="coerce")
    q = q[q["recall"].notna()].reset_index(drop=True)
    if q.empty:
        return []
    count_col = next((c for c in _COUNT_COLUMNS if c in q.columns), None)
    model = set(_MODEL_COLUMNS) <= set(q.columns)
    rows: list[dict[str, Any]] = []
    for dim, part in q.groupby("dimension", sort=True):
        if len(part) < 2:
            continue
        if count_col is not None:
            n = pd.to_numeric(part[count_col], errors="coerce").fillna(0).to_numpy(dtype="float64")
            if {"true_links", "true_positives"} <= set(part.columns):
                tp = pd.to_numeric(part["true_positives"], errors="coerce").fillna(0)
                found = tp.to_numpy(dtype="float64")
            else:
                found = np.round(part["recall"].to_numpy(dtype="float64") * n)
            for j, (_, r) in enumerate(part.iterrows()):
                rn, rf = n.sum() - n[j], found.sum() - found[j]
                if n[j] < settings.min_group_known or rn < settings.min_group_known:
                    continue
                if model:
                    rec, rest_rec, _z, p = _model_gap_test(part, j)
                else:
                    _z, p = stats.two_proportion_lower(int(found[j]), int(n[j]), int(rf), int(rn))
                    rec, rest_rec = found[j] / n[j], rf / rn
                rows.append(
                    {
                        "dimension": str(dim),
                        "group_value": str(r["group_value"]),
                        "recall": rec,
                        "rest_recall": rest_rec,
                        "n": n[j],
                        "found": found[j],
                        "rest_n": rn,
                        "rest_found": rf,
                        "p": p,
                    }
                )
        else:
            recs = part["recall"].to_numpy(dtype="float64")
            for j, (_, r) in enumerate(part.iterrows()):
                rest = float(np.delete(recs, j).mean())
                rows.append(
                    {
                        "dimension": str(dim),
                        "group_value": str(r["group_value"]),
                        "recall": recs[j],
                        "rest_recall": rest,
                        "n": math.nan,
                        "found": math.nan,
                        "rest_n": math.nan,
                        "rest_found": math.nan,
                        "p": math.nan,
                    }
                )
    if not rows:
        return []
    tab = pd.DataFrame(rows)
    tab["q"] = stats.bh_adjust(tab["p"].to_numpy(dtype="float64"))
    out: list[Finding] = []
    for _, r in tab.iterrows():
        gap = float(r["rest_recall"] - r["recall"])
        tested = math.isfinite(r["p"])
        if tested:
            if not (r["q"] <= settings.fdr_alpha and gap >= settings.min_recall_gap):
                continue
            pair_level = str(r["dimension"]) in PAIR_LEVEL_DIMENSIONS
            severity = "watch" if pair_level else "striking"
        else:
            if gap < 2 * settings.min_recall_gap:
                continue
            severity = "watch"
        missed = float(r["n"] * gap) if tested else math.nan
        st = strength(float(r["q"])) if tested else 1.0
        phrase = group_phrase(str(r["dimension"]), str(r["group_value"]))
        if tested:  # shown: recall from released counts (the test used exact ones)
            sf, sn = released_pair(float(r["found"]), float(r["n"]), settings)
            srf, srn = released_pair(float(r["rest_found"]), float(r["rest_n"]), settings)
            recall, rest_recall = released_rate(sf, sn), released_rate(srf, srn)
            lo, hi = _interval(sf, sn)
        else:  # a table of rates only: nothing to release but the rates it gives
            recall, rest_recall = float(r["recall"]), float(r["rest_recall"])
            lo, hi = math.nan, math.nan
            sn = None
        headline = (
            f"Linkage finds {pct(recall)} of true matches for {phrase} "
            f"(everyone else {pct(rest_recall)}): their reach may be understated"
        )
        if not tested:
            test = "recall gap only (the quality table has no counts to test)"
        elif model:
            test = (
                "one-sided Wald test of the group's estimated linkage recall against the rest "
                "of its dimension, with the delta-method variance of each estimate from the "
                "model's pair probabilities; Benjamini-Hochberg across groups"
            )
        else:
            test = (
                "one-sided two-proportion test of the group's linkage recall against the "
                "rest of its dimension; Benjamini-Hochberg across groups"
            )
        if tested and str(r["dimension"]) in PAIR_LEVEL_DIMENSIONS:
            test += (
                "; a group defined by the compared pair (a field the two records disagree "
                "on), so watch at most"
            )
        evidence = {
            "test": test,
            "p_value": _sig(float(r["p"])),
            "q_value": _sig(float(r["q"])),
            "fdr_alpha": settings.fdr_alpha,
            "counts": {"records": sn} if tested else {},
            "recall_gap": _fnum(rest_recall - recall),
            "excess_unreached": _fnum(missed),
            "strength": _fnum(st),
        }
        out.append(
            Finding(
                kind="linkage_quality_gap",
                areas=(),
                group=(str(r["dimension"]), str(r["group_value"])),
                site=None,
                measure="linkage_recall",
                observed=recall,
                expected=rest_recall,
                interval=(lo, hi),
                children_affected=round(missed) if tested else 0,
                headline=headline,
                evidence=evidence,
                score=(max(missed, 0.0) * st) if tested else 0.0,
                severity=severity,
                level="borough",
            )
        )
    return out
