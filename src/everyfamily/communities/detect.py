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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from everyfamily.communities.adjust import (
    adjust_counts,
    adjusted_interval,
    misclassification_matrix,
)
from everyfamily.communities.groups import GROUP_LABELS, GROUPS
from everyfamily.evidence import p_bound
from everyfamily.findings.model import STRENGTH_CAP, Finding, FindingsSettings
from everyfamily.findings.stats import bh_adjust, wilson_interval
from everyfamily.findings.text import (
    Cell,
    ReleasedCount,
    ReleasedTable,
    WithheldCount,
    areas_label,
    released,
    released_cells,
    released_pair,
    shown,
)
from everyfamily.findings.text import share as share_text
from everyfamily.privacy.cellkey import child_record_keys
from everyfamily.privacy.disclosure import released_rate
from everyfamily.privacy.release import ReleaseRules, release_child_counts
from everyfamily.reach.children import age_in_years

#: Birth years examined: the five that under-fives span (whole years of age on the reference
#: date, 0 to 4). A community may have arrived in any of them, so the growth test scans every
#: split "the last j years against the years before" (j = 1 .. YEARS - 1) and keeps the
#: strongest, paying for the scan with a Bonferroni factor of YEARS - 1.
YEARS = 5
#: Fewest recent births in a group (assigned, and after correcting names for the classifier's
#: error) for a finding: 10. Below 10 a count is too small to publish under the usual
#: suppression rules (7 or fewer) once rounded, and one family of three moves it by a third.
MIN_RECENT_BIRTHS = 10
#: Smallest rise in the group's share of births (recent over earlier) for a finding: a
#: doubling. With thousands of births a test finds 20% drifts that are not a new community.
MIN_RATE_RATIO = 2.0
#: Fewest recent births of the group in one small area for that area to be named as part of
#: a community found in a cluster: 3 (fewer is one family, not a community's home).
MIN_AREA_RECENT = 3
#: Groups tested by default. British and Irish is the settled majority and 'other' is a
#: remainder of many origins, not a community.
DEFAULT_GROUPS: tuple[str, ...] = tuple(g for g in GROUPS if g not in {"british_irish", "other"})
#: The reach table's dimension and group value of every child.
ALL = "all"


@dataclass(frozen=True)
class DetectSettings:
    """The knobs of the detector (defaults: the named constants above)."""

    reference_date: dt.date
    years: int = YEARS
    min_recent_births: int = MIN_RECENT_BIRTHS
    min_rate_ratio: float = MIN_RATE_RATIO
    min_area_recent: int = MIN_AREA_RECENT
    groups: tuple[str, ...] = DEFAULT_GROUPS
    findings: FindingsSettings = field(default_factory=FindingsSettings)


@dataclass(frozen=True)
class Detection:
    """Findings, the aggregate test table (restricted: exact small counts) and a summary."""

    findings: list[Finding]
    tests: pd.DataFrame
    summary: dict[str, Any]
    communities: list[dict[str, Any]]


def growth_p(x1: int, x0: int, t1: float, t0: float) -> float:
    """One-sided P(X >= x1) for X ~ Binomial(x1 + x0, t1 / (t1 + t0)): the conditional test
    that a Poisson rate rose from (x0 per t0) to (x1 per t1)."""
    n = x1 + x0
    if n == 0 or t1 <= 0 or t0 <= 0:
        return 1.0
    return float(stats.binom.sf(x1 - 1, n, t1 / (t1 + t0)))


def baseline_p(x1: int, t1: int, share: float) -> float:
    """One-sided P(X >= x1) for X ~ Binomial(t1, share): more births in the group than the
    census share predicts."""
    if t1 <= 0 or x1 <= 0:
        return 1.0
    return float(stats.binom.sf(x1 - 1, t1, min(max(share, 0.0), 1.0)))


@dataclass(frozen=True)
class Growth:
    """The best split of one unit's birth years for one group (see :func:`best_split`)."""

    split: int  # the last ``split`` birth years are "recent"
    recent: int
    earlier: int
    recent_births: int
    earlier_births: int
    p_value: float  # Bonferroni-adjusted over the splits tried

    @property
    def rate_ratio(self) -> float:
        if self.recent_births <= 0:
            return math.nan
        if self.earlier == 0 or self.earlier_births <= 0:
            return math.inf
        return (self.recent / self.recent_births) / (self.earlier / self.earlier_births)


def best_split(x: np.ndarray, t: np.ndarray) -> Growth:
    """Scan "the last j birth years against the earlier ones" for j = 1 .. len(x) - 1.

    ``x``: the group's births by year of age (index 0 = the most recent year); ``t``: all
    births by the same years. Returns the split with the smallest p-value, that p-value
    multiplied by the number of splits (Bonferroni, capped at 1).
    """
    n = len(x)
    best: Growth | None = None
    for j in range(1, n):
        x1, x0 = int(x[:j].sum()), int(x[j:].sum())
        t1, t0 = int(t[:j].sum()), int(t[j:].sum())
        p = growth_p(x1, x0, t1, t0)
        g = Growth(j, x1, x0, t1, t0, p)
        if best is None or p < best.p_value:
            best = g
    if best is None:
        return Growth(0, 0, 0, 0, 0, 1.0)
    return dataclasses.replace(best, p_value=min(1.0, best.p_value * (n - 1)))


def _periods(children: pd.DataFrame, ref: dt.date, n_periods: int) -> pd.Series:
    """Birth year of each child counted back from the reference date: 0 = the year up to it."""
    dob = pd.to_datetime(children["date_of_birth"])
    years = age_in_years(dob, ref).astype("float64")
    years[(dob > pd.Timestamp(ref)).to_numpy()] = np.nan
    return years.where(years < n_periods)


def period_label(ref: dt.date, k: int) -> str:
    """'Apr 2025 to Mar 2026' for k = 0 and a reference date of 31 March 2026."""
    end = ref.replace(year=ref.year - k) if not (ref.month == 2 and ref.day == 29) else ref
    start = end.replace(year=end.year - 1) + dt.timedelta(days=1)
    return f"{start:%b %Y} to {end:%b %Y}"


def _units(areas: list[str], neighbours: Mapping[str, set[str]] | None) -> list[tuple[str, ...]]:
    """Every small area alone, and every area with its touching neighbours (deduplicated)."""
    units: dict[tuple[str, ...], None] = {(a,): None for a in areas}
    if neighbours:
        have = set(areas)
        for a in areas:
            near = sorted(n for n in neighbours.get(a, set()) if n in have)
            if near:
                units[tuple(sorted({a, *near}))] = None
    return list(units)


def _components(areas: set[str], neighbours: Mapping[str, set[str]] | None) -> list[list[str]]:
    """Groups of touching areas (connected components)."""
    seen: set[str] = set()
    out: list[list[str]] = []
    for a in sorted(areas):
        if a in seen:
            continue
        stack, comp = [a], []
        seen.add(a)
        while stack:
            cur = stack.pop()
            comp.append(cur)
            for n in sorted((neighbours or {}).get(cur, set())):
                if n in areas and n not in seen:
                    seen.add(n)
                    stack.append(n)
        out.append(sorted(comp))
    return out


def _released(n: float, s: FindingsSettings) -> int | None:
    return released(max(float(n), 0.0), s)


def with_record_keys(children: pd.DataFrame) -> pd.DataFrame:
    """The children with their cell-key record keys (``record_key``, derived from
    ``person_id`` by :func:`everyfamily.privacy.cellkey.child_record_keys` when absent: the
    same key the reach table's cells are summed from)."""
    if "record_key" in children.columns and children["record_key"].notna().all():
        return children
    return children.assign(record_key=child_record_keys(children["person_id"]))


@dataclass(frozen=True)
class _Release:
    """How a community finding releases a count of a set of children (issue 15).

    ``cell_key`` (the project default): the count is perturbed with the cell key of exactly
    the children it counts (:func:`everyfamily.privacy.release.release_child_counts`), so
    the same children read the same everywhere and a count of 1-7 never appears; the result
    is a :class:`ReleasedCount`. ``suppress_round``: suppressed and rounded, a count and its
    group with the complement rule (``findings.text.released_pair``), as before."""

    fs: FindingsSettings

    @property
    def cell_key(self) -> bool:
        return self.fs.release_method == "cell_key"

    def count(self, n: float, key: int) -> int | None:
        if not self.cell_key:
            return _released(n, self.fs)
        rules = ReleaseRules(self.fs.suppress_at_or_below, self.fs.rounding, "cell_key")
        value = float(release_child_counts([max(float(n), 0.0)], [int(key)], rules)[0])
        return ReleasedCount(round(value)) if math.isfinite(value) else None

    def pair(
        self, part: float, part_key: int, whole: float, whole_key: int
    ) -> tuple[int | None, int | None]:
        """A count and its group released together (a part never above its whole)."""
        if not self.cell_key:
            return released_pair(part, whole, self.fs)
        p, w = self.count(part, part_key), self.count(whole, whole_key)
        if p is not None and w is not None and p > w:
            p = w
        return p, w


@dataclass(frozen=True)
class _Births:
    """Births by area and birth year: all, and per group split by basis (direct / name);
    each with the sum of the children's record keys (the cell key of the same cell)."""

    areas: list[str]
    total: np.ndarray  # (areas, years)
    group: np.ndarray  # (groups, areas, years): assigned group, any basis
    named: np.ndarray  # (groups, areas, years): assigned from the name only
    total_keys: np.ndarray  # record-key sums of the same cells
    group_keys: np.ndarray
    named_keys: np.ndarray

    def rows(self, areas: list[str]) -> np.ndarray:
        index = {a: i for i, a in enumerate(self.areas)}
        return np.array([index[a] for a in areas if a in index], dtype=int)


def _births(children: pd.DataFrame, ref: dt.date, years: int) -> _Births:
    kids = children[
        children["known"].fillna(False).astype(bool)
        & children["area_code"].notna()
        & children["date_of_birth"].notna()
    ].copy()
    kids["area_code"] = kids["area_code"].astype(str)
    kids["period"] = _periods(kids, ref, years)
    areas = sorted(kids["area_code"].unique())
    kids = kids[kids["period"].notna()]
    ai = {a: i for i, a in enumerate(areas)}
    gi = {g: i for i, g in enumerate(GROUPS)}
    a_idx = kids["area_code"].map(ai).to_numpy()
    p_idx = kids["period"].astype(int).to_numpy()
    keys = kids["record_key"].to_numpy(dtype=np.int64)
    has = kids["origin_group"].isin(list(gi)).to_numpy()
    g_idx = kids["origin_group"].map(gi).to_numpy()
    nm = has & (kids["basis"] == "name").to_numpy()
    out: list[np.ndarray] = []
    for weight in (np.ones(len(kids), dtype=np.int64), keys):
        total = np.zeros((len(areas), years), dtype=np.int64)
        group = np.zeros((len(GROUPS), len(areas), years), dtype=np.int64)
        named = np.zeros_like(group)
        np.add.at(total, (a_idx, p_idx), weight)
        np.add.at(group, (g_idx[has].astype(int), a_idx[has], p_idx[has]), weight[has])
        np.add.at(named, (g_idx[nm].astype(int), a_idx[nm], p_idx[nm]), weight[nm])
        out += [total, group, named]
    return _Births(areas, *out)


def _corrected(
    b: _Births, rows: np.ndarray, years: slice, confusion: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(estimate, lower, upper) per group of births in these areas and years, the
    name-based part corrected for the classifier's error."""
    allg = b.group[:, rows, years].sum(axis=(1, 2)).astype("float64")
    named = b.named[:, rows, years].sum(axis=(1, 2)).astype("float64")
    if confusion is None:
        return allg, allg, allg
    return adjusted_interval(named, confusion, direct=allg - named)


@dataclass(frozen=True)
class _ByBasis:
    """Children of every group in some cells, by how the group was assigned: directly
    (a recorded signal) or from the name; counts and record-key sums (per group)."""

    direct: np.ndarray
    named: np.ndarray
    direct_keys: np.ndarray
    named_keys: np.ndarray


def _births_by_basis(b: _Births, rows: np.ndarray, years: slice) -> _ByBasis:
    def total(a: np.ndarray) -> np.ndarray:
        return np.asarray(a[:, rows, years].sum(axis=(1, 2)), dtype=np.int64)

    named, named_keys = total(b.named), total(b.named_keys)
    return _ByBasis(total(b.group) - named, named, total(b.group_keys) - named_keys, named_keys)


def _shown_interval(
    counts: _ByBasis, k: int, confusion: np.ndarray | None, rel: _Release
) -> dict[str, Any]:
    """A group's children (or births) as shown: the estimate and interval of the count
    corrected for the classifier's error. Under the cell key method the correction is
    computed from RELEASED counts (each group's direct and name-based children, each a cell
    with its own cell key), so it is post-processing of released cells and cannot narrow
    them; shown in whole children, a value of 1-7 not at all. Otherwise the exact estimate
    is released as a count (suppressed and rounded)."""
    direct = counts.direct.astype("float64")
    named = counts.named.astype("float64")
    if rel.cell_key:
        direct = np.array(
            [rel.count(n, key) or 0 for n, key in zip(direct, counts.direct_keys, strict=True)],
            dtype="float64",
        )
        named = np.array(
            [rel.count(n, key) or 0 for n, key in zip(named, counts.named_keys, strict=True)],
            dtype="float64",
        )
    if confusion is not None and named.sum() > 0:
        est, lo, hi = adjusted_interval(named, confusion, direct=direct)
    else:
        est = lo = hi = direct + named

    def show(v: float) -> int | None:
        if not rel.cell_key:
            return _released(v, rel.fs)
        return released(ReleasedCount(max(round(float(v)), 0)), rel.fs)

    return {"estimate": show(est[k]), "lower": show(lo[k]), "upper": show(hi[k])}


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


class _Misreads:
    """Births expected in each group only because names of other groups were misread:
    sum over h != g of M[h, g] * (corrected name-based births of h), per unit and split."""

    def __init__(self, b: _Births, confusion: np.ndarray | None) -> None:
        self.b = b
        self.mis = misclassification_matrix(confusion) if confusion is not None else None
        self.cache: dict[tuple[tuple[str, ...], int], np.ndarray] = {}

    def __call__(self, u: tuple[str, ...], split: int) -> np.ndarray:
        if self.mis is None:
            return np.zeros(len(GROUPS))
        if (u, split) not in self.cache:
            named = self.b.named[:, self.b.rows(list(u)), :split].sum(axis=(1, 2))
            n_hat = adjust_counts(named.astype("float64"), self.mis)
            off = self.mis * (1 - np.eye(len(GROUPS)))
            self.cache[(u, split)] = off.T @ n_hat
        return self.cache[(u, split)]


def unit_tests(
    b: _Births,
    units: list[tuple[str, ...]],
    s: DetectSettings,
    confusion: np.ndarray | None,
    baseline: pd.DataFrame | None,
) -> pd.DataFrame:
    """The growth and baseline tests of every unit x group (see the module docstring); one
    row per test, exact counts (restricted: the store table ``community_tests``)."""
    base = baseline.set_index("area_code") if baseline is not None else None
    misreads = _Misreads(b, confusion)
    rows: list[dict[str, Any]] = []
    for g in s.groups:
        if g in GROUPS:
            rows += [_test_row(g, u, b, base, misreads) for u in units]
    return pd.DataFrame(rows)


def _test_row(
    g: str, u: tuple[str, ...], b: _Births, base: pd.DataFrame | None, misreads: _Misreads
) -> dict[str, Any]:
    """One unit x group: the best growth split and the baseline the recent births are
    tested against (the census share of the group's category, or the rest of the borough's
    share of births when no census is configured)."""
    k = GROUPS.index(g)
    r = b.rows(list(u))
    gr = best_split(b.group[k, r].sum(axis=0), b.total[r].sum(axis=0))
    if base is not None and g in base.columns:
        sub = base.reindex(list(u))
        total = float(sub["total"].fillna(0).sum())
        base_group = float(sub[g].fillna(0).sum())
        source = "census"
        # Under "no new community" the assigned count also holds misread names.
        extra = float(misreads(u, gr.split)[k]) if gr.split else 0.0
    else:
        # No census: the group's share of births everywhere else in the borough (which
        # holds misreads already).
        total = float(b.total.sum() - b.total[r].sum())
        base_group = float(b.group[k].sum() - b.group[k, r].sum())
        source = "rest_of_borough"
        extra = 0.0
    share = base_group / total if total > 0 else math.nan
    null_share = share + (extra / gr.recent_births if gr.recent_births else 0.0)
    # A count of zero is not a share of zero, only a small one: half a person.
    floor = 0.5 / total if total > 0 else math.nan
    share = max(share, floor)
    null_share = max(null_share, floor)
    now = gr.recent / gr.recent_births if gr.recent_births else math.nan
    return {
        "unit": "+".join(u),
        "n_areas": len(u),
        "group": g,
        "split_years": gr.split,
        "recent": gr.recent,
        "earlier": gr.earlier,
        "recent_births": gr.recent_births,
        "earlier_births": gr.earlier_births,
        "rate_ratio": gr.rate_ratio,
        "p_growth": gr.p_value,
        "baseline": source,
        "baseline_share": share,
        "baseline_group": base_group,
        "baseline_total": total,
        "misread_expected": extra,
        "baseline_ratio": now / null_share if null_share > 0 else math.nan,
        "p_baseline": baseline_p(gr.recent, gr.recent_births, null_share)
        if math.isfinite(null_share)
        else 1.0,
    }


def flag_candidates(
    tests: pd.DataFrame, b: _Births, s: DetectSettings, confusion: np.ndarray | None
) -> pd.DataFrame:
    """The tests with their q-values and the ``candidate`` flag (a copy).

    A finding claims both "growing" and "above the baseline": an intersection-union test
    (Berger 1982, Technometrics 24:295) whose p-value is the larger of the two. The false
    discovery rate is controlled on that p (Benjamini-Hochberg across every unit x group
    test) and findings rank on its q (issue 14, defect 5). The family is the units that
    could become a finding at all: a unit with fewer of the group's births in every year
    together than min_recent_births can never have that many recent ones. The filter is the
    total x1 + x0 that the growth test conditions on, so it is independent of that test
    under its null (Bourgon, Gentleman & Huber 2010, PNAS 107:9546, independent
    filtering); without it most of the family is empty units."""
    tests = tests.copy()
    tests["q_baseline"] = bh_adjust(tests["p_baseline"].to_numpy())
    tests["p_finding"] = np.maximum(tests["p_growth"].to_numpy(), tests["p_baseline"].to_numpy())
    in_family = (tests["recent"] + tests["earlier"]).to_numpy() >= s.min_recent_births
    tests["in_family"] = in_family
    q_finding = np.full(len(tests), np.nan)
    q_finding[in_family] = bh_adjust(tests["p_finding"].to_numpy()[in_family])
    tests["q_finding"] = q_finding
    ok = (
        (tests["q_finding"] <= s.findings.fdr_alpha)
        & (tests["recent"] >= s.min_recent_births)
        & (tests["rate_ratio"] >= s.min_rate_ratio)
        & (tests["baseline_ratio"] >= s.min_rate_ratio)
    )
    tests["recent_corrected"] = np.nan
    for idx in tests.index[ok]:
        row = tests.loc[idx]
        r = b.rows(str(row["unit"]).split("+"))
        est, _, _ = _corrected(b, r, slice(0, int(row["split_years"])), confusion)
        value = float(est[GROUPS.index(str(row["group"]))])
        tests.at[idx, "recent_corrected"] = value
        ok[idx] = value >= s.min_recent_births
    tests["candidate"] = ok
    return tests


def _community_areas(
    g: str,
    cand: pd.DataFrame,
    b: _Births,
    s: DetectSettings,
    confusion: np.ndarray | None,
    neighbours: Mapping[str, set[str]] | None,
) -> list[tuple[list[str], pd.DataFrame]]:
    """The group's communities: touching areas of the flagged units that hold the community
    themselves (at least ``min_area_recent`` recent births, and a rising share), each with
    the flagged units that touch it; areas too few on their own to be a finding dropped."""
    k = GROUPS.index(g)
    members: set[str] = set()
    for unit, split in zip(cand["unit"], cand["split_years"], strict=True):
        for a in unit.split("+"):
            r = b.rows([a])
            x, t = b.group[k, r].sum(axis=0), b.total[r].sum(axis=0)
            x1, x0 = int(x[:split].sum()), int(x[split:].sum())
            t1, t0 = max(int(t[:split].sum()), 1), max(int(t[split:].sum()), 1)
            if x1 >= s.min_area_recent and x1 / t1 > x0 / t0:
                members.add(a)
    out: list[tuple[list[str], pd.DataFrame]] = []
    for comp in _components(members, neighbours):
        comp_set = set(comp)
        flagged = cand[cand["unit"].map(lambda x, c=comp_set: bool(set(x.split("+")) & c))]
        if flagged.empty:
            continue
        r = b.rows(comp)
        whole = best_split(b.group[k, r].sum(axis=0), b.total[r].sum(axis=0))
        est, _, _ = _corrected(b, r, slice(0, max(whole.split, 1)), confusion)
        if whole.recent >= s.min_recent_births and est[k] >= s.min_recent_births:
            out.append((comp, flagged))
    return out


def _summary(tests: pd.DataFrame, units: int, findings: int, s: DetectSettings) -> dict[str, Any]:
    in_family = tests["in_family"].to_numpy(dtype=bool)
    return {
        "tests": len(tests),
        "units": units,
        "groups_tested": list(s.groups),
        "candidates": int(tests["candidate"].sum()),
        "findings": findings,
        "smallest_q_baseline": p_bound(float(tests["q_baseline"].min())),
        "smallest_q_finding": p_bound(float(tests["q_finding"].min()))
        if bool(in_family.any())
        else None,
        "tests_in_family": int(in_family.sum()),
        "baseline": str(tests["baseline"].iloc[0]),
    }


@dataclass(frozen=True)
class _Children:
    """Exact counts, and record-key sums, of a community's under-fives (known to a
    universal service, in the age range) and of everyone else in the borough."""

    n: int
    registered: int
    engaged: int
    n_key: int
    registered_key: int
    engaged_key: int
    rest_n: int
    rest_registered: int
    rest_n_key: int
    rest_registered_key: int
    here_n: int  # every such child of the areas
    here_registered: int
    here_engaged: int
    #: signal -> (children, record-key sum) of the group's children
    basis: Mapping[str, tuple[int, int]]
    by_basis: _ByBasis  # every group's children of the areas, direct and name-based


def _flag_sums(frame: pd.DataFrame, column: str | None = None) -> tuple[int, int]:
    """(count, record-key sum) of the rows (where ``column`` is true)."""
    if column is not None:
        frame = frame[frame[column].fillna(False).astype(bool)]
    return len(frame), int(frame["record_key"].astype("int64").sum())


def _children_counts(children: pd.DataFrame, comp: list[str], g: str) -> _Children:
    kids = children[
        children["in_age_range"].fillna(False).astype(bool)
        & children["known"].fillna(False).astype(bool)
    ]
    here = kids[kids["area_code"].astype(str).isin(comp)]
    mine = here[here["origin_group"] == g]
    rest = kids[~kids["person_id"].isin(mine["person_id"])]
    (n, n_key), (reg, reg_key), (eng, eng_key) = (
        _flag_sums(mine, c) for c in (None, "registered", "engaged")
    )
    (rest_n, rest_n_key), (rest_reg, rest_reg_key) = (
        _flag_sums(rest, c) for c in (None, "registered")
    )
    basis = {str(v): _flag_sums(part) for v, part in mine.groupby("basis")}
    sums = np.zeros((4, len(GROUPS)), dtype=np.int64)  # direct, named, their key sums
    assigned = here[here["origin_group"].isin(list(GROUPS))]
    for (grp, bas), part in assigned.groupby(["origin_group", "basis"]):
        row = 1 if bas == "name" else 0
        sums[row, GROUPS.index(str(grp))] += len(part)
        sums[row + 2, GROUPS.index(str(grp))] += int(part["record_key"].astype("int64").sum())
    return _Children(
        n,
        reg,
        eng,
        n_key,
        reg_key,
        eng_key,
        rest_n,
        rest_reg,
        rest_n_key,
        rest_reg_key,
        len(here),
        int(here["registered"].fillna(False).astype(bool).sum()),
        int(here["engaged"].fillna(False).astype(bool).sum()),
        basis,
        _ByBasis(sums[0], sums[1], sums[2], sums[3]),
    )


@dataclass(frozen=True)
class _ShownCounts:
    """A group's under-fives, registered and engaged as released (None: not released)."""

    children: int | None
    registered: int | None
    engaged: int | None


def _shown_counts(c: _Children, rel: _Release) -> _ShownCounts:
    """Registered and engaged of the group's children, each released with the group."""
    s_reg, s_n = rel.pair(c.registered, c.registered_key, c.n, c.n_key)
    s_eng, _ = rel.pair(c.engaged, c.engaged_key, c.n, c.n_key)
    return _ShownCounts(s_n, s_reg, s_eng)


def _borough_cell(table: ReleasedTable) -> Cell | None:
    """The released reach table's whole-borough cell (every child, any service)."""
    codes = [code for (lvl, code, dim, svc) in table.groups if lvl == "borough" and dim == ALL]
    return ("borough", codes[0], ALL, ALL, "any") if len(set(codes)) == 1 else None


def _shown_rest(c: _Children, mine: _ShownCounts, rel: _Release) -> tuple[int | None, int | None]:
    """(registered, children) of everyone else in the borough, as shown.

    With the released reach table: the borough's released children and registered minus
    the group's released counts (every other child of the reach population), so the pair
    adds nothing to reach.csv and the group's own numbers. Without it: everyone else's
    own counts released, withheld when the group's count is not shown (the borough total
    minus them would give it back)."""
    table = rel.fs.released_table
    boro = _borough_cell(table) if table is not None else None
    if table is not None and boro is not None:

        def minus(column: str, part: int | None) -> int | None:
            total = table.total([boro], column)
            return None if total is None or part is None else ReleasedCount(max(total - part, 0))

        rest_n, rest_reg = minus("denominator", mine.children), minus("registered", mine.registered)
        if rest_n is not None and rest_reg is not None and rest_reg > rest_n:
            rest_reg = rest_n
        return rest_reg, rest_n
    rest_reg, rest_n = rel.pair(c.rest_registered, c.rest_registered_key, c.rest_n, c.rest_n_key)
    if mine.children is None:
        return None, None
    return (None if mine.registered is None else rest_reg), rest_n


def _shown_here(
    c: _Children, comp: list[str], fs: FindingsSettings
) -> tuple[int | None, int | None, int | None]:
    """(children known, registered, engaged) of the community's areas, as the released
    reach table shows them (sums of the areas' released cells), or released from the exact
    counts and withheld where the table withholds a cell."""
    cells: list[Cell] = [(fs.small_area_level, a, ALL, ALL, "any") for a in comp]
    table = fs.released_table
    if table is not None:
        return (
            table.total(cells, "known"),
            table.total(cells, "registered"),
            table.total(cells, "engaged"),
        )
    here_reg, here_n = released_cells(c.here_registered, c.here_n, fs, cells, "registered")
    here_eng, _ = released_cells(c.here_engaged, c.here_n, fs, cells, "engaged")
    return here_n, here_reg, here_eng


@dataclass(frozen=True)
class _Shown:
    """Every number a community finding shows, released."""

    mine: _ShownCounts
    rest_registered: int | None
    rest_children: int | None
    here_known: int | None
    here_registered: int | None
    here_engaged: int | None
    recent: int | None  # the group's births in the recent / earlier years
    earlier: int | None
    recent_births: int | None  # every birth in the areas in those years
    earlier_births: int | None
    by_period: list[int | None]  # the group's births per year, the latest first

    @property
    def observed(self) -> float:
        return released_rate(self.mine.registered, self.mine.children)

    @property
    def expected(self) -> float:
        return released_rate(self.rest_registered, self.rest_children)


def _shown(
    c: _Children,
    gr: Growth,
    x: np.ndarray,
    xk: np.ndarray,
    tk: np.ndarray,
    comp: list[str],
    rel: _Release,
) -> _Shown:
    """Release every count of the finding (see :class:`_Release`). ``x``, ``xk``: the
    group's births per year and their record-key sums; ``tk``: every birth's key sums."""
    mine = _shown_counts(c, rel)
    rest_reg, rest_n = _shown_rest(c, mine, rel)
    split = gr.split
    return _Shown(
        mine,
        rest_reg,
        rest_n,
        *_shown_here(c, comp, rel.fs),
        recent=rel.count(gr.recent, int(xk[:split].sum())),
        earlier=rel.count(gr.earlier, int(xk[split:].sum())),
        recent_births=rel.count(gr.recent_births, int(tk[:split].sum())),
        earlier_births=rel.count(gr.earlier_births, int(tk[split:].sum())),
        by_period=[rel.count(int(x[kk]), int(xk[kk])) for kk in range(len(x))],
    )


def _affected_and_excess(c: _Children, sh: _Shown, rel: _Release) -> tuple[int, float, float]:
    """(children affected, excess unreached, exact excess for the score). From the released
    counts under the cell key method or with the released table (children affected = the
    group's children minus its registered; excess = children x everyone else's rate minus
    registered; :class:`WithheldCount` when a count behind them is withheld); exact (and
    released by the rules) otherwise."""
    exact_gap = (
        (c.rest_registered / c.rest_n - c.registered / c.n) if c.n and c.rest_n else math.nan
    )
    exact_excess = max(c.n * exact_gap, 0.0) if math.isfinite(exact_gap) else 0.0
    if not rel.cell_key and rel.fs.released_table is None:
        return c.n - c.registered, exact_excess, exact_excess
    n, reg = sh.mine.children, sh.mine.registered
    if n is None or reg is None:
        return WithheldCount(c.n - c.registered), WithheldCount(round(exact_excess)), exact_excess
    rate = sh.expected
    excess: float = (
        ReleasedCount(max(round(n * rate - reg), 0))
        if math.isfinite(rate)
        else WithheldCount(round(exact_excess))
    )
    return ReleasedCount(max(n - reg, 0)), excess, exact_excess


def _finding(
    g: str,
    comp: list[str],
    flagged: pd.DataFrame,
    b: _Births,
    children: pd.DataFrame,
    s: DetectSettings,
    labels: Mapping[str, str],
    confusion: np.ndarray | None,
) -> tuple[Finding, dict[str, Any]]:
    """One emerging_community finding (and its layer entry) for a group's touching areas."""
    fs = s.findings
    rel = _Release(fs)
    k = GROUPS.index(g)
    r = b.rows(comp)
    x = b.group[k, r].sum(axis=0)
    gr = best_split(x, b.total[r].sum(axis=0))
    gr = dataclasses.replace(gr, split=max(gr.split, 1))
    recent_by_area = b.group[k, r, : gr.split].sum(axis=1)
    order = dict(zip([b.areas[i] for i in r], recent_by_area.tolist(), strict=True))
    areas = tuple(sorted(comp, key=lambda a: (-int(order.get(a, 0)), a)))
    names = [labels.get(a, a) for a in areas]
    c = _children_counts(children, comp, g)
    # shown: released counts, and every rate and share from them (the tests used exact ones)
    xk, tk = b.group_keys[k, r].sum(axis=0), b.total_keys[r].sum(axis=0)
    sh = _shown(c, gr, x, xk, tk, comp, rel)
    affected_, excess, exact_excess = _affected_and_excess(c, sh, rel)
    q_value = float(flagged["q_finding"].min())
    strength = min(-math.log10(max(q_value, 1e-300)), STRENGTH_CAP)
    # severity and score from the exact rates (statistics stay exact; the ranking's
    # released score comes from released numbers, findings/engine.public_score)
    exact_gap = (c.rest_registered / c.rest_n - c.registered / c.n) if c.n and c.rest_n else 0.0
    since = period_label(s.reference_date, gr.split - 1).split(" to ")[0]
    headline = _headline(g, names, since, gr, sh, c, fs, s.years)
    evidence = _evidence(g, flagged, b, r, gr, sh, c, confusion, rel, s, since)
    evidence["excess_unreached"] = excess
    evidence["strength"] = strength
    f = Finding(
        kind="emerging_community",
        areas=areas,
        group=("origin_group", g),
        site=None,
        measure="registered_rate",
        observed=sh.observed,
        expected=sh.expected,
        interval=_interval(sh.mine),
        children_affected=affected_,
        headline=headline,
        evidence=evidence,
        score=exact_excess * strength,
        severity="striking" if exact_gap >= fs.min_rate_gap else "watch",
        level=fs.small_area_level,
        area_names=tuple(names),
    )
    return f, _layer_doc(f, g, since, evidence, q_value)


def _interval(mine: _ShownCounts) -> tuple[float, float]:
    if mine.registered is None or mine.children is None:
        return math.nan, math.nan
    return wilson_interval(float(mine.registered), float(mine.children))


def _headline(
    g: str,
    names: list[str],
    since: str,
    gr: Growth,
    sh: _Shown,
    c: _Children,
    fs: FindingsSettings,
    years: int,
) -> str:
    """'Births of Romanian-origin children in A1 rose from fewer than 8 to 14 a year since
    Apr 2024; 15 of 27 under-fives of Romanian origin there are registered with a centre
    (56%, against 76% for everyone else).' Released numbers only."""
    label = GROUP_LABELS[g]
    before = per_year(gr.earlier, sh.earlier, years - gr.split, fs)
    now = per_year(gr.recent, sh.recent, gr.split, fs)
    return (
        f"Births of {label}-origin children in {areas_label(names)} rose from "
        f"{before} to {now} a year since {since}; "
        f"{shown(c.registered, sh.mine.registered, fs)} of {shown(c.n, sh.mine.children, fs)} "
        f"under-fives of {label} origin there are registered with a centre "
        f"({share_text(sh.mine.registered, sh.mine.children)}, against "
        f"{share_text(sh.rest_registered, sh.rest_children)} for everyone else)."
    )


def _evidence(
    g: str,
    flagged: pd.DataFrame,
    b: _Births,
    r: np.ndarray,
    gr: Growth,
    sh: _Shown,
    c: _Children,
    confusion: np.ndarray | None,
    rel: _Release,
    s: DetectSettings,
    since: str,
) -> dict[str, Any]:
    """The finding's evidence: exact test statistics (released later as bounds) and
    released counts, with every share and ratio computed from them."""
    k = GROUPS.index(g)
    ref = s.reference_date
    periods = [
        {"period": period_label(ref, kk), "births": sh.by_period[kk]}
        for kk in reversed(range(s.years))
    ]
    # how the group's children were assigned: shares of released counts per signal
    signals = {v: _fraction(rel.count(n, key), sh.mine.children) for v, (n, key) in c.basis.items()}
    return {
        "test": "growth against earlier years (conditional binomial test of two Poisson "
        "rates) and recent births against the baseline share (exact binomial test), combined "
        "as an intersection-union test (p = the larger of the two); Benjamini-Hochberg on "
        "that p across every area x group and cluster x group test",
        "q_value": float(flagged["q_finding"].min()),
        "baseline": str(flagged["baseline"].iloc[0]),
        "baseline_share": _baseline_share(flagged, b, k, rel),
        "p_value_growth": float(flagged["p_growth"].min()),
        "p_value_baseline": float(flagged["p_baseline"].min()),
        "rate_ratio": _rate_ratio(sh),
        "since": since,
        "units_flagged": len(flagged),
        "births_by_period": periods,
        "births_recent_corrected": _shown_interval(
            _births_by_basis(b, r, slice(0, gr.split)), k, confusion, rel
        ),
        "births_earlier_corrected": _shown_interval(
            _births_by_basis(b, r, slice(gr.split, s.years)), k, confusion, rel
        ),
        "children_corrected": _shown_interval(c.by_basis, k, confusion, rel),
        "known": sh.mine.children,
        "registered": sh.mine.registered,
        "engaged": sh.mine.engaged,
        "rest_known": sh.rest_children,
        "rest_registered": sh.rest_registered,
        "share_of_known": _fraction(sh.mine.children, sh.here_known),
        "share_of_registered": _fraction(sh.mine.registered, sh.here_registered),
        "share_of_engaged": _fraction(sh.mine.engaged, sh.here_engaged),
        "signals": signals,
        "origin_note": "Origin comes from recorded signals where a record has them and "
        "otherwise from an estimate from names, corrected at area level for its measured "
        "error; it is never a fact about a child.",
    }


def _layer_doc(
    f: Finding, g: str, since: str, evidence: Mapping[str, Any], q_value: float
) -> dict[str, Any]:
    """The finding's entry in communities.json (released numbers only)."""
    return {
        "id": f.id,
        "group": g,
        "group_label": GROUP_LABELS[g],
        "areas": list(f.areas),
        "area_names": list(f.area_names),
        "headline": f.headline,
        "severity": f.severity,
        "since": since,
        "births_by_period": evidence["births_by_period"],
        "children": evidence["known"],
        "registered": evidence["registered"],
        "engaged": evidence["engaged"],
        "children_corrected": evidence["children_corrected"],
        "q_value": p_bound(q_value),
    }


def _fraction(part: int | None, whole: int | None) -> float | None:
    """A share of released counts for JSON (None when either is not released)."""
    rate = released_rate(part, whole)
    return round(rate, 6) if math.isfinite(rate) else None


def per_year(total: int, value: int | None, years: int, fs: FindingsSettings) -> str:
    """Births a year as text: the released total ``value`` (of the exact ``total``) over
    the years ('14'), or what a withheld total reads as ('fewer than 8': then each year had
    fewer too). Under the cell key method a released 0 stands for 0 to the ptable's small
    counts (1-7 go to 0), so it reads 'fewer than 8', never '0': "rose from 0" would claim
    more than the release says."""
    if value == 0 and fs.release_method == "cell_key":
        return f"fewer than {fs.suppress_at_or_below + 1}"
    if value is None or years <= 0 or 1 <= value <= fs.suppress_at_or_below:
        return shown(total, value, fs)
    return f"{value / years:,.0f}"


def _rate_ratio(sh: _Shown) -> float | None:
    """The rise in the group's share of births, from released counts (None when one of
    them is not released, or nothing came before)."""
    now = released_rate(sh.recent, sh.recent_births)
    then = released_rate(sh.earlier, sh.earlier_births)
    if not (math.isfinite(now) and math.isfinite(then)) or then <= 0:
        return None
    return round(now / then, 6)


def _baseline_share(flagged: pd.DataFrame, b: _Births, k: int, rel: _Release) -> float | None:
    """The baseline share the group was tested against (the largest over the flagged
    units). A census share is a published figure and shown as it is; a share of the rest of
    the borough's births is a ratio of council counts, so it is shown from released ones
    (the group's births and all births outside the unit, each a cell)."""
    row = flagged.iloc[int(np.argmax(flagged["baseline_share"].to_numpy(dtype="float64")))]
    if str(row["baseline"]) == "census":
        return round(float(row["baseline_share"]), 6)
    r = b.rows(str(row["unit"]).split("+"))
    group_key = int(b.group_keys[k].sum() - b.group_keys[k, r].sum())
    total_key = int(b.total_keys.sum() - b.total_keys[r].sum())
    return _fraction(
        rel.count(float(row["baseline_group"]), group_key),
        rel.count(float(row["baseline_total"]), total_key),
    )
