"""unknown_population: small areas where far fewer children are known than ONS estimates."""

from __future__ import annotations

import math
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
    _label,
    _select,
    _sig,
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
    expected_of,
    pct,
    released,
    share,
    shown,
    withheld,
)
from everyfamily.privacy.disclosure import released_rate
from everyfamily.reach.statistics import (
    overdispersed_z,
)

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
    t = _completeness_tests(reach, settings)
    if t is None:
        return []
    idx = {str(code): i for i, code in enumerate(t.rows["area_code"])}
    codes = [str(code) for code, f in zip(t.rows["area_code"], t.flagged, strict=True) if f]
    out: list[Finding] = []
    for comp in _components(codes, neighbours):
        ii = sorted(
            (idx[code] for code in comp),
            key=lambda i: (t.ratio[i], str(t.rows.at[i, "area_code"])),
        )
        out.append(_completeness_finding(reach, t, ii, settings, area_labels))
    return out


@dataclass(frozen=True, eq=False)
class _CompletenessTests:
    """Per small area (ONS estimate >= the minimum): ONS and known counts, the expected
    known (ONS x the borough's completeness c), p, q, known / expected and the flag; the
    tau2 of the completeness funnel and whether it is > 0."""

    rows: pd.DataFrame
    ons: np.ndarray
    known: np.ndarray
    c: float
    expected: np.ndarray
    p: np.ndarray
    q: np.ndarray
    ratio: np.ndarray
    flagged: np.ndarray
    tau2: float
    over_dispersed: bool


def _completeness_tests(
    reach: pd.DataFrame, settings: FindingsSettings
) -> _CompletenessTests | None:
    """Each small area's known children against ONS x completeness; None with fewer than 3
    areas or no known children."""
    rows = _select(reach, settings.small_area_level)
    rows = rows[rows["ons_population"].fillna(0) >= settings.min_ons_population].reset_index(
        drop=True
    )
    if len(rows) < 3:
        return None
    ons = rows["ons_population"].to_numpy(dtype="float64")
    known = rows["known"].fillna(0).to_numpy(dtype="float64")
    c = known.sum() / ons.sum()
    if not c > 0:
        return None
    expected = c * ons
    p_pois = np.array(
        [stats.poisson_lower_p(int(k), float(e)) for k, e in zip(known, expected, strict=True)]
    )
    z, tau2, od = overdispersed_z(known / ons, c, np.sqrt(c / ons))
    p = np.maximum(p_pois, stats.lower_p_from_z(z)) if od else p_pois
    q = stats.bh_adjust(p)
    ratio = known / expected
    flagged = (q <= settings.fdr_alpha) & (ratio <= 1 - settings.min_unknown_shortfall)
    return _CompletenessTests(rows, ons, known, c, expected, p, q, ratio, flagged, tau2, od)


def _shown_known(
    reach: pd.DataFrame,
    t: _CompletenessTests,
    cells: list[tuple[str, str, str, str, str]],
    kk: float,
    settings: FindingsSettings,
) -> tuple[int | None, int | None]:
    """(the areas' known, the borough's known) as released: from the released table when
    there is one, else by the release rules; None when withheld."""
    level = settings.small_area_level
    table = settings.released_table
    boro = _select(reach, "borough")
    boro_cells = [("borough", str(c), "all", "all", "any") for c in boro["area_code"]]
    if table is not None:  # known counts as the released table shows them
        every = [(level, str(c), "all", "all", "any") for c in t.rows["area_code"]]
        return table.total(cells, "known"), table.total(boro_cells or every, "known")
    sk = None if withheld(settings, cells, "known") else released(kk, settings)
    boro_known = (
        None if withheld(settings, boro_cells, "known") else released(t.known.sum(), settings)
    )
    return sk, boro_known


def _completeness_finding(
    reach: pd.DataFrame,
    t: _CompletenessTests,
    ii: list[int],
    settings: FindingsSettings,
    area_labels: Mapping[str, str] | None,
) -> Finding:
    """One finding for the touching flagged areas ``ii`` (sorted lowest ratio first)."""
    rows, known, ons, p, q = t.rows, t.known, t.ons, t.p, t.q
    kk, ee, oo = float(known[ii].sum()), float(t.expected[ii].sum()), float(ons[ii].sum())
    qmin = float(np.nanmin(q[ii]))
    st = strength(qmin)
    excess = ee - kk
    names = [_label(str(rows.at[i, "area_code"]), rows.at[i, "area_name"], area_labels) for i in ii]
    # shown: released known counts; ONS estimates are published figures, shown as
    # everyfamily shows every count (rounded); rates from those released counts
    level = settings.small_area_level
    cells = [(level, str(rows.at[i, "area_code"]), "all", "all", "any") for i in ii]
    table = settings.released_table
    sk, boro_known = _shown_known(reach, t, cells, kk, settings)
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
        "overdispersion": {"detected": t.over_dispersed, "tau2": _fnum(t.tau2)},
        "counts": {
            "known": sk,
            "ons_population": so,
            "expected_known": (
                released(ee, settings) if table is None else expected_of(so, c_shown)
            ),
        },
        "areas": _per_area(t, ii, names, cells, c_shown, settings),
        "excess_unreached": shown_excess,
        "strength": _fnum(st),
    }
    return Finding(
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


def _per_area(
    t: _CompletenessTests,
    ii: list[int],
    names: list[str],
    cells: list[tuple[str, str, str, str, str]],
    c_shown: float,
    settings: FindingsSettings,
) -> list[dict[str, Any]]:
    """Each area of a finding: released known and ONS counts, ratio and its own test."""
    table = settings.released_table
    area_known = {
        i: (
            table.total([cell], "known")
            if table is not None
            else None
            if withheld(settings, [cell], "known")
            else released(t.known[i], settings)
        )
        for i, cell in zip(ii, cells, strict=True)
    }
    return [
        {
            "area_code": str(t.rows.at[i, "area_code"]),
            "area_name": names[j],
            "known": area_known[i],
            "ons_population": released(t.ons[i], settings),
            "ratio_to_expected": _fnum(
                area_known[i] / (c_shown * t.ons[i])
                if area_known[i] is not None and t.ons[i] > 0 and c_shown > 0
                else math.nan
            ),
            "p_value": _sig(t.p[i]),
            "q_value": _sig(t.q[i]),
        }
        for j, i in enumerate(ii)
    ]
