"""Finding emerging communities: small areas where births in one origin group are new or
growing, and how many of those children centres know (pure; restricted input, aggregate
output).

For every small area, and every small cluster (an area with its touching neighbours, Queen
contiguity), and every origin group tested:

* **growth**: births in the group in the recent years against the earlier years, conditional
  on the area's own births in each period. Under "the group's share of births did not
  change", the recent count given the total is Binomial(x1 + x0, t1 / (t1 + t0)) with t the
  area's known births per period: the conditional test for comparing two Poisson rates
  (Przyborowski & Wilenski 1940; Lehmann & Romano, Testing Statistical Hypotheses, s.4.5),
  exact at any size, so small numbers are handled without approximation. One-sided (growth).
* **census baseline** (when configured): recent births in the group against the area's
  census share of the broader census category the group belongs to (e.g. Romanian within
  "Other White", 2011). Exact one-sided binomial P(X >= x1 | t1, share). The census category
  is broader than the group, so this asks "more than even the whole category had".

A unit is flagged only when both hold, so its p-value is the larger of the two (an
intersection-union test, Berger 1982): Benjamini-Hochberg controls the false discovery rate
on that p across every area x group and cluster x group test that could become a finding
(at least ``min_recent_births`` of the group's births in the unit over all years), and
findings rank on its q.
A unit is a candidate when its tests pass and it clears the named minimum counts and
effects below; candidate areas of a group that touch become one finding. Births are
children known to a universal service (births, health visiting) by date of birth; a
child's group comes from signals.py; counts of name-based groups are corrected for the
classifier's error (adjust.py) before they are reported.

Tests and flags run on exact counts; every number a finding shows is disclosure-controlled
like the find stage's own (findings/detectors.py): counts released (suppression, the
complement rule, rounding), and every rate, share, ratio and interval computed from the
released counts; p- and q-values leave as one-figure upper bounds (findings/engine.py).

This module runs the steps; the statistics are in growth.py, and what a finding counts,
releases and says is in finding.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.communities.finding import _finding, per_year
from everyfamily.communities.growth import (
    DEFAULT_GROUPS,
    Detection,
    DetectSettings,
    _births,
    _community_areas,
    _summary,
    _units,
    baseline_p,
    best_split,
    flag_candidates,
    growth_p,
    unit_tests,
    with_record_keys,
)
from everyfamily.findings.model import Finding

# the module's public names: detect, and what callers took from it before the statistics
# (growth.py) and the findings (finding.py) became modules of their own
__all__ = [
    "DEFAULT_GROUPS",
    "DetectSettings",
    "Detection",
    "baseline_p",
    "best_split",
    "detect",
    "growth_p",
    "per_year",
]


def detect(
    children: pd.DataFrame,
    settings: DetectSettings,
    *,
    confusion: np.ndarray | None = None,
    neighbours: Mapping[str, set[str]] | None = None,
    baseline: pd.DataFrame | None = None,
    area_labels: Mapping[str, str] | None = None,
) -> Detection:
    """Emerging-community findings from the children table with signals.assign_groups'
    columns (person_id, area_code, date_of_birth, known, registered, engaged, in_age_range,
    origin_group, basis).

    ``confusion``: the classifier's held-out confusion counts (GROUPS x GROUPS), used to
    correct name-based counts; ``baseline``: area_code, total and one column per group with
    the census count of the category that holds the group.
    """
    s = settings
    children = with_record_keys(children)
    b = _births(children, s.reference_date, s.years)
    units = _units(b.areas, neighbours)
    tests = unit_tests(b, units, s, confusion, baseline)
    if tests.empty:
        return Detection([], tests, {"tests": 0, "findings": 0}, [])
    tests = flag_candidates(tests, b, s, confusion)
    found: list[Finding] = []
    communities: list[dict[str, Any]] = []
    for g in s.groups:
        cand = tests[tests["candidate"] & (tests["group"] == g)]
        if cand.empty:
            continue
        for comp, flagged in _community_areas(g, cand, b, s, confusion, neighbours):
            f, doc = _finding(g, comp, flagged, b, children, s, area_labels or {}, confusion)
            found.append(f)
            communities.append(doc)
    return Detection(found, tests, _summary(tests, len(units), len(found), s), communities)
