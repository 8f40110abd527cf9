"""Emerging communities, the statistics: births by area and group, the growth and census
baseline tests of each area and cluster, the false discovery control and the candidates
(methods: everyfamily.communities.detect's docstring)."""

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
from everyfamily.communities.groups import GROUPS
from everyfamily.evidence import p_bound
from everyfamily.findings.model import Finding, FindingsSettings
from everyfamily.findings.stats import bh_adjust
from everyfamily.findings.text import (
    ReleasedCount,
    released,
    released_pair,
)
from everyfamily.privacy.cellkey import child_record_keys
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
    """Birth year of each child counted back from the reference date: 0 = the year up to it.
    Cells counted in the engine carry the age already (``age_at_reference``, -1 for a birth
    after the reference date: communities.engine_sums)."""
    if "age_at_reference" in children.columns:
        years = children["age_at_reference"].astype("float64")
        years[(years < 0).to_numpy()] = np.nan
        return years.where(years < n_periods)
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


def child_counts(children: pd.DataFrame) -> np.ndarray:
    """How many children each row stands for: its ``n`` (rows that are cells of children,
    counted in the engine: communities.engine_sums), else one."""
    if "n" in children.columns:
        return children["n"].to_numpy(dtype=np.int64)
    return np.ones(len(children), dtype=np.int64)


def with_record_keys(children: pd.DataFrame) -> pd.DataFrame:
    """The children with their cell-key record keys (``record_key``, derived from
    ``person_id`` by :func:`everyfamily.privacy.cellkey.child_record_keys` when absent: the
    same key the reach table's cells are summed from). On cells of children it is the sum
    of their keys."""
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


def _has_birth(children: pd.DataFrame) -> pd.Series:
    if "age_at_reference" in children.columns:  # cells (engine_sums): None without a month
        return children["age_at_reference"].notna()
    return children["date_of_birth"].notna()


def _births(children: pd.DataFrame, ref: dt.date, years: int) -> _Births:
    kids = children[
        children["known"].fillna(False).astype(bool)
        & children["area_code"].notna()
        & _has_birth(children)
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
    for weight in (child_counts(kids), keys):
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
