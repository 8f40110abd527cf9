"""unreached_group: groups whose registered rate is below everyone else's in the same area."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from everyfamily.findings import stats
from everyfamily.findings.detectors.common import (
    _denominator,
    _fnum,
    _interval,
    _label,
    _sig,
    strength,
)
from everyfamily.findings.model import (
    AREA_ATTRIBUTE_DIMENSIONS,
    NOT_A_GROUP,
    Finding,
    FindingsSettings,
)
from everyfamily.findings.text import (
    affected,
    excess_of,
    group_phrase,
    share,
    shown,
    table_pair,
    table_rest,
)
from everyfamily.privacy.disclosure import released_rate

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
        out.append(_group_finding(r, len(g), settings, area_labels, design_effect))
    return out


def _group_finding(
    r: pd.Series,
    tests_in_family: int,
    settings: FindingsSettings,
    area_labels: Mapping[str, str] | None,
    design_effect: float,
) -> Finding:
    """One finding for a group test row ``r`` that passed (released numbers, evidence)."""
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
        "tests_in_family": tests_in_family,
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
    return Finding(
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
