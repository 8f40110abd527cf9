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
    areas_label,
    released,
    released_cells,
    released_pair,
    shown,
)
from everyfamily.findings.text import share as share_text
from everyfamily.privacy.disclosure import released_rate
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


@dataclass(frozen=True)
class _Births:
    """Births by area and birth year: all, and per group split by basis (direct / name)."""

    areas: list[str]
    total: np.ndarray  # (areas, years)
    group: np.ndarray  # (groups, areas, years): assigned group, any basis
    named: np.ndarray  # (groups, areas, years): assigned from the name only

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
    total = np.zeros((len(areas), years), dtype=int)
    group = np.zeros((len(GROUPS), len(areas), years), dtype=int)
    named = np.zeros_like(group)
    a_idx = kids["area_code"].map(ai).to_numpy()
    p_idx = kids["period"].astype(int).to_numpy()
    np.add.at(total, (a_idx, p_idx), 1)
    has = kids["origin_group"].isin(list(gi)).to_numpy()
    g_idx = kids["origin_group"].map(gi).to_numpy()
    np.add.at(group, (g_idx[has].astype(int), a_idx[has], p_idx[has]), 1)
    nm = has & (kids["basis"] == "name").to_numpy()
    np.add.at(named, (g_idx[nm].astype(int), a_idx[nm], p_idx[nm]), 1)
    return _Births(areas, total, group, named)


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
    fs = s.findings
    b = _births(children, s.reference_date, s.years)
    units = _units(b.areas, neighbours)
    base = baseline.set_index("area_code") if baseline is not None else None
    rows: list[dict[str, Any]] = []
    all_total = b.total.sum()
    mis = misclassification_matrix(confusion) if confusion is not None else None
    leaks: dict[tuple[tuple[str, ...], int], np.ndarray] = {}

    def leak(u: tuple[str, ...], split: int) -> np.ndarray:
        """Births expected in each group only because names of other groups were misread:
        sum over h != g of M[h, g] * (corrected name-based births of h)."""
        if mis is None:
            return np.zeros(len(GROUPS))
        if (u, split) not in leaks:
            named = b.named[:, b.rows(list(u)), :split].sum(axis=(1, 2)).astype("float64")
            n_hat = adjust_counts(named, mis)
            off = mis * (1 - np.eye(len(GROUPS)))
            leaks[(u, split)] = off.T @ n_hat
        return leaks[(u, split)]

    for g in s.groups:
        if g not in GROUPS:
            continue
        k = GROUPS.index(g)
        all_group = b.group[k].sum()
        for u in units:
            r = b.rows(list(u))
            gr = best_split(b.group[k, r].sum(axis=0), b.total[r].sum(axis=0))
            if base is not None and g in base.columns:
                sub = base.reindex(list(u))
                total = float(sub["total"].fillna(0).sum())
                share = float(sub[g].fillna(0).sum()) / total if total > 0 else math.nan
                source = "census"
                base_group, base_total = float(sub[g].fillna(0).sum()), total
                # Under "no new community" the assigned count also holds misread names.
                extra = float(leak(u, gr.split)[k]) if gr.split else 0.0
                null_share = share + (extra / gr.recent_births if gr.recent_births else 0.0)
            else:
                # No census: the group's share of births everywhere else in the borough.
                total = float(all_total - b.total[r].sum())
                share = float(all_group - b.group[k, r].sum()) / total if total > 0 else math.nan
                source = "rest_of_borough"
                base_group, base_total = float(all_group - b.group[k, r].sum()), total
                extra = 0.0  # the rest of the borough's assigned share holds misreads already
                null_share = share
            # A count of zero is not a share of zero, only a small one: half a person.
            floor = 0.5 / total if total > 0 else math.nan
            share = max(share, floor)
            null_share = max(null_share, floor)
            now = gr.recent / gr.recent_births if gr.recent_births else math.nan
            rows.append(
                {
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
                    "baseline_total": base_total,
                    "misread_expected": extra,
                    "baseline_ratio": now / null_share if null_share > 0 else math.nan,
                    "p_baseline": baseline_p(gr.recent, gr.recent_births, null_share)
                    if math.isfinite(null_share)
                    else 1.0,
                }
            )
    tests = pd.DataFrame(rows)
    if tests.empty:
        return Detection([], tests, {"tests": 0, "findings": 0}, [])
    tests["q_baseline"] = bh_adjust(tests["p_baseline"].to_numpy())
    # A finding claims both "growing" and "above the baseline": an intersection-union test
    # (Berger 1982, Technometrics 24:295) whose p-value is the larger of the two. The false
    # discovery rate is controlled on that p (Benjamini-Hochberg across every unit x group
    # test) and findings rank on its q (issue 14, defect 5).
    # The family is the units that could become a finding at all: a unit with fewer of the
    # group's births in every year together than min_recent_births can never have that many
    # recent ones. The filter is the total x1 + x0 that the growth test conditions on, so it
    # is independent of that test under its null (Bourgon, Gentleman & Huber 2010, PNAS
    # 107:9546, independent filtering); without it most of the family is empty units.
    tests["p_finding"] = np.maximum(tests["p_growth"].to_numpy(), tests["p_baseline"].to_numpy())
    in_family = (tests["recent"] + tests["earlier"]).to_numpy() >= s.min_recent_births
    tests["in_family"] = in_family
    q_finding = np.full(len(tests), np.nan)
    q_finding[in_family] = bh_adjust(tests["p_finding"].to_numpy()[in_family])
    tests["q_finding"] = q_finding
    ok = (
        (tests["q_finding"] <= fs.fdr_alpha)
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

    found: list[Finding] = []
    communities: list[dict[str, Any]] = []
    for g in s.groups:
        cand = tests[tests["candidate"] & (tests["group"] == g)]
        if cand.empty:
            continue
        k = GROUPS.index(g)
        # The areas of the flagged units that hold the community themselves.
        members: set[str] = set()
        for unit, split in zip(cand["unit"], cand["split_years"], strict=True):
            for a in unit.split("+"):
                r = b.rows([a])
                x, t = b.group[k, r].sum(axis=0), b.total[r].sum(axis=0)
                x1, x0 = int(x[:split].sum()), int(x[split:].sum())
                t1, t0 = max(int(t[:split].sum()), 1), max(int(t[split:].sum()), 1)
                if x1 >= s.min_area_recent and x1 / t1 > x0 / t0:
                    members.add(a)
        for comp in _components(members, neighbours):
            comp_set = set(comp)
            flagged = cand[cand["unit"].map(lambda x, c=comp_set: bool(set(x.split("+")) & c))]
            if flagged.empty:
                continue
            r = b.rows(comp)
            whole = best_split(b.group[k, r].sum(axis=0), b.total[r].sum(axis=0))
            est, _, _ = _corrected(b, r, slice(0, max(whole.split, 1)), confusion)
            if whole.recent < s.min_recent_births or est[k] < s.min_recent_births:
                continue  # the areas that hold the community are too few on their own
            f, doc = _finding(g, comp, flagged, b, children, s, area_labels or {}, confusion)
            found.append(f)
            communities.append(doc)
    summary = {
        "tests": len(tests),
        "units": len(units),
        "groups_tested": list(s.groups),
        "candidates": int(tests["candidate"].sum()),
        "findings": len(found),
        "smallest_q_baseline": p_bound(float(tests["q_baseline"].min())),
        "smallest_q_finding": p_bound(float(tests["q_finding"].min()))
        if bool(in_family.any())
        else None,
        "tests_in_family": int(in_family.sum()),
        "baseline": str(tests["baseline"].iloc[0]),
    }
    return Detection(found, tests, summary, communities)


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
    k = GROUPS.index(g)
    r = b.rows(comp)
    x = b.group[k, r].sum(axis=0)
    gr = best_split(x, b.total[r].sum(axis=0))
    split = max(gr.split, 1)
    est1, lo1, hi1 = _corrected(b, r, slice(0, split), confusion)
    est0, lo0, hi0 = _corrected(b, r, slice(split, s.years), confusion)
    recent_by_area = b.group[k, r, :split].sum(axis=1)
    order = dict(zip([b.areas[i] for i in r], recent_by_area.tolist(), strict=True))
    areas = tuple(sorted(comp, key=lambda a: (-int(order.get(a, 0)), a)))
    names = [labels.get(a, a) for a in areas]

    kids = children[
        children["in_age_range"].fillna(False).astype(bool)
        & children["known"].fillna(False).astype(bool)
    ]
    here = kids[kids["area_code"].astype(str).isin(comp)]
    mine = here[here["origin_group"] == g]
    rest = kids[~kids["person_id"].isin(mine["person_id"])]
    n, rest_n = len(mine), len(rest)
    reg = int(mine["registered"].fillna(False).astype(bool).sum())
    eng = int(mine["engaged"].fillna(False).astype(bool).sum())
    rest_reg = int(rest["registered"].fillna(False).astype(bool).sum())
    reg_here = int(here["registered"].fillna(False).astype(bool).sum())
    eng_here = int(here["engaged"].fillna(False).astype(bool).sum())
    # shown: released counts, and every rate and share from them (the tests used exact ones)
    shown_n = _shown_counts(n, reg, eng, fs)
    # everyone else = the borough's known children (public in reach.csv) - the group: not
    # shown when the group's own count is not, or the subtraction would give it back
    rest_reg_, rest_n_ = released_pair(rest_reg, rest_n, fs)
    if shown_n.children is None:
        rest_n_ = rest_reg_ = None
    elif shown_n.registered is None:
        rest_reg_ = None
    cells = [(fs.small_area_level, a, "all", "all", "any") for a in comp]
    here_reg, here_n = released_cells(reg_here, len(here), fs, cells, "registered")
    here_eng, _ = released_cells(eng_here, len(here), fs, cells, "engaged")
    observed = released_rate(shown_n.registered, shown_n.children)
    expected = released_rate(rest_reg_, rest_n_)
    lo, hi = (
        wilson_interval(float(shown_n.registered), float(shown_n.children))
        if shown_n.registered is not None and shown_n.children is not None
        else (math.nan, math.nan)
    )
    # How the group's children were assigned: shares of released counts per signal.
    basis = {
        str(k_): _fraction(released(int(v), fs), shown_n.children)
        for k_, v in mine["basis"].value_counts().items()
    }
    # Under-fives of the group here, the name-based part corrected for the classifier.
    direct = np.zeros(len(GROUPS))
    named = np.zeros(len(GROUPS))
    pairs = here.groupby(["origin_group", "basis"]).size().reset_index(name="n")
    for grp_, bas, cnt in pairs.itertuples(index=False):
        if grp_ in GROUPS:
            (named if bas == "name" else direct)[GROUPS.index(str(grp_))] += int(cnt)
    if confusion is not None and named.sum() > 0:
        e_n, lo_n, hi_n = adjusted_interval(named, confusion, direct=direct)
    else:
        e_n = lo_n = hi_n = direct + named

    q_value = float(flagged["q_finding"].min())
    strength = min(-math.log10(max(q_value, 1e-300)), STRENGTH_CAP)
    # severity and score from the exact rates (statistics stay exact; the ranking's
    # released score comes from released numbers, findings/engine.public_score)
    exact_gap = (rest_reg / rest_n - reg / n) if n and rest_n else math.nan
    excess = max(n * exact_gap, 0.0) if math.isfinite(exact_gap) else 0.0
    severity = "striking" if math.isfinite(exact_gap) and exact_gap >= fs.min_rate_gap else "watch"
    label = GROUP_LABELS[g]
    ref = s.reference_date
    since = period_label(ref, split - 1).split(" to ")[0]
    # births a year: the released totals of the two periods over their years
    before = per_year(gr.earlier, s.years - split, fs)
    now = per_year(gr.recent, split, fs)
    headline = (
        f"Births of {label}-origin children in {areas_label(names)} rose from "
        f"{before} to {now} a year since {since}; "
        f"{shown(reg, shown_n.registered, fs)} of {shown(n, shown_n.children, fs)} "
        f"under-fives of {label} origin there are registered with a centre "
        f"({share_text(shown_n.registered, shown_n.children)}, against "
        f"{share_text(rest_reg_, rest_n_)} for everyone else)."
    )
    periods = [
        {"period": period_label(ref, kk), "births": _released(int(x[kk]), fs)}
        for kk in reversed(range(s.years))
    ]

    def interval(e: np.ndarray, lo_: np.ndarray, hi_: np.ndarray) -> dict[str, Any]:
        return {
            "estimate": _released(e[k], fs),
            "lower": _released(lo_[k], fs),
            "upper": _released(hi_[k], fs),
        }

    evidence: dict[str, Any] = {
        "test": "growth against earlier years (conditional binomial test of two Poisson "
        "rates) and recent births against the baseline share (exact binomial test), combined "
        "as an intersection-union test (p = the larger of the two); Benjamini-Hochberg on "
        "that p across every area x group and cluster x group test",
        "q_value": q_value,
        "baseline": str(flagged["baseline"].iloc[0]),
        "baseline_share": _baseline_share(flagged, fs),
        "p_value_growth": float(flagged["p_growth"].min()),
        "p_value_baseline": float(flagged["p_baseline"].min()),
        "rate_ratio": _rate_ratio(gr, fs),
        "since": since,
        "units_flagged": len(flagged),
        "births_by_period": periods,
        "births_recent_corrected": interval(est1, lo1, hi1),
        "births_earlier_corrected": interval(est0, lo0, hi0),
        "children_corrected": interval(e_n, lo_n, hi_n),
        "known": shown_n.children,
        "registered": shown_n.registered,
        "engaged": shown_n.engaged,
        "rest_known": rest_n_,
        "rest_registered": rest_reg_,
        "share_of_known": _fraction(shown_n.children, here_n),
        "share_of_registered": _fraction(shown_n.registered, here_reg),
        "share_of_engaged": _fraction(shown_n.engaged, here_eng),
        "signals": basis,
        "excess_unreached": excess,
        "strength": strength,
        "origin_note": "Origin comes from recorded signals where a record has them and "
        "otherwise from an estimate from names, corrected at area level for its measured "
        "error; it is never a fact about a child.",
    }
    f = Finding(
        kind="emerging_community",
        areas=areas,
        group=("origin_group", g),
        site=None,
        measure="registered_rate",
        observed=observed,
        expected=expected,
        interval=(lo, hi),
        children_affected=n - reg,
        headline=headline,
        evidence=evidence,
        score=excess * strength,
        severity=severity,
        level=fs.small_area_level,
        area_names=tuple(names),
    )
    doc = {
        "id": f.id,
        "group": g,
        "group_label": label,
        "areas": list(areas),
        "area_names": names,
        "headline": headline,
        "severity": severity,
        "since": since,
        "births_by_period": periods,
        "children": shown_n.children,
        "registered": shown_n.registered,
        "engaged": shown_n.engaged,
        "children_corrected": evidence["children_corrected"],
        "q_value": p_bound(q_value),
    }
    return f, doc


@dataclass(frozen=True)
class _ShownCounts:
    """A group's under-fives, registered and engaged as released (None: not released)."""

    children: int | None
    registered: int | None
    engaged: int | None


def _shown_counts(n: int, reg: int, eng: int, fs: FindingsSettings) -> _ShownCounts:
    """Registered and engaged of the group's children, each with the complement rule."""
    s_reg, s_n = released_pair(reg, n, fs)
    s_eng, _ = released_pair(eng, n, fs)
    return _ShownCounts(s_n, s_reg, s_eng)


def _fraction(part: int | None, whole: int | None) -> float | None:
    """A share of released counts for JSON (None when either is not released)."""
    rate = released_rate(part, whole)
    return round(rate, 6) if math.isfinite(rate) else None


def per_year(total: int, years: int, fs: FindingsSettings) -> str:
    """Births a year as text: the released total over the years ('14'), or what a
    suppressed total reads as ('fewer than 8': then each year had fewer too)."""
    value = released(total, fs)
    if value is None or years <= 0:
        return shown(total, value, fs)
    return f"{value / years:,.0f}"


def _rate_ratio(gr: Growth, fs: FindingsSettings) -> float | None:
    """The rise in the group's share of births, from released counts (None when one of
    them is not released, or nothing came before)."""
    counts = [released(v, fs) for v in (gr.recent, gr.recent_births, gr.earlier)]
    counts.append(released(gr.earlier_births, fs))
    recent, recent_births, earlier, earlier_births = counts
    now, then = released_rate(recent, recent_births), released_rate(earlier, earlier_births)
    if not (math.isfinite(now) and math.isfinite(then)) or then <= 0:
        return None
    return round(now / then, 6)


def _baseline_share(flagged: pd.DataFrame, fs: FindingsSettings) -> float | None:
    """The baseline share the group was tested against (the largest over the flagged
    units). A census share is a published figure and shown as it is; a share of the rest of
    the borough's births is a ratio of council counts, so it is shown from released ones."""
    row = flagged.iloc[int(np.argmax(flagged["baseline_share"].to_numpy(dtype="float64")))]
    if str(row["baseline"]) == "census":
        return round(float(row["baseline_share"]), 6)
    return _fraction(
        released(float(row["baseline_group"]), fs), released(float(row["baseline_total"]), fs)
    )
