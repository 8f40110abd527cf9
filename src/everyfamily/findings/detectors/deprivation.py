"""Deprivation gradients: reach falling (or rising) with deprivation, one finding per index."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.findings import stats
from everyfamily.findings.detectors.common import (
    _fnum,
    _select,
    _sig,
    strength,
)
from everyfamily.findings.gradient import deprivation_gradient, sii_rii
from everyfamily.findings.model import (
    Finding,
    FindingsSettings,
)
from everyfamily.findings.text import (
    table_pair,
)

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
    tested = _gradient_tests(reach, settings, set_aside)
    if not tested:
        return []
    # the gradient module's p is one-sided (slope > 0); either direction is a finding
    qs = stats.bh_adjust([min(1.0, 2 * min(g.p_value, 1 - g.p_value)) for _, g in tested])
    out: list[Finding] = []
    for (dim, g), q in zip(tested, qs, strict=True):
        if not (q <= settings.fdr_alpha and abs(g.sii) >= settings.min_rate_gap):
            continue
        out.append(
            _gradient_finding(reach, dim, g, float(q), len(tested), settings, len(set_aside))
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


def _gradient_finding(
    reach: pd.DataFrame,
    dim: str,
    g: Any,
    q: float,
    tests_in_family: int,
    settings: FindingsSettings,
    n_set_aside: int = 0,
) -> Finding:
    """One gradient finding for index ``dim`` (its test ``g``, q-value ``q``)."""
    sii, rii, intercept, ok = _released_refit(reach, dim, g, settings)
    index = _INDEX_NAMES.get(dim.split("_")[0], dim)
    unit = "deciles" if dim.endswith("decile") else "quintiles"
    falls = g.sii > 0  # the least deprived end (rank 1) reached more
    lower_end, higher_end = ("most deprived", "least") if falls else ("least deprived", "most")
    lo, hi = sorted(abs(v) for v in g.sii_interval)
    if math.isfinite(sii):
        gap = (
            f"{_points(abs(sii))} lower at the {lower_end} end than at the {higher_end} "
            f"(slope index of inequality {_points(sii)}, 95% interval "
            f"{_points(g.sii_interval[0])} to {_points(g.sii_interval[1])})"
        )
    else:  # too much withheld to refit a point: the interval alone, never 'n/a'
        gap = (
            f"between {100 * lo:.0f} and {_points(hi)} lower at the {lower_end} end than at "
            f"the {higher_end} (95% interval of the slope index of inequality)"
        )
    headline = (
        f"Reach {'falls' if falls else 'rises'} with deprivation ({index}, "
        f"{len(g.quantiles)} {unit}): the registered rate is {gap}"
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
    st = strength(q)
    evidence = {
        "test": "quasi-binomial GLM of small areas' registered rates on the cumulative rank "
        "midpoint of their decile (Pearson scale: clustering of children in areas "
        "respected), two-sided t-test of the slope; slope and relative index of "
        "inequality by the Fingertips method (population-weighted quantiles, weighted "
        "regression, simulation intervals); Benjamini-Hochberg across the indices",
        "p_value": _sig(g.p_value),
        "q_value": _sig(float(q)),
        "fdr_alpha": settings.fdr_alpha,
        "tests_in_family": tests_in_family,
        "areas_tested": g.n_areas,
        "areas_set_aside": n_set_aside,
        "pearson_scale": _fnum(g.scale),
        "slope_index_of_inequality": _fnum(sii),
        "sii_interval": [_fnum(g.sii_interval[0]), _fnum(g.sii_interval[1])],
        "relative_index_of_inequality": _fnum(rii),
        "rii_interval": [_fnum(g.rii_interval[0]), _fnum(g.rii_interval[1])],
        "excess_unreached": _fnum(excess),
        "strength": _fnum(st),
    }
    return Finding(
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


def _released_refit(
    reach: pd.DataFrame, dim: str, g: Any, settings: FindingsSettings
) -> tuple[float, float, float, list[tuple[int, int]]]:
    """SII, RII and intercept refitted on the released borough counts per quantile, and
    those (registered, children) pairs; NaN when too much is withheld to refit."""
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
    return sii, rii, intercept, ok


def _gradient_tests(
    reach: pd.DataFrame, settings: FindingsSettings, set_aside: frozenset[str] = frozenset()
) -> list[tuple[str, Any]]:
    """(dimension, gradient test) per index: the decile when given, else the quintile."""
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
    return tested
