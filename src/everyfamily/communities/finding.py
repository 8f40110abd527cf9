"""Emerging communities, the findings: the children and births a community's finding
counts, released through the project's one release path, and its headline, evidence and
map layer entry (methods: everyfamily.communities.detect's docstring)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.communities.groups import GROUP_LABELS, GROUPS
from everyfamily.communities.growth import (
    ALL,
    DetectSettings,
    Growth,
    _Births,
    _births_by_basis,
    _ByBasis,
    _Release,
    _shown_interval,
    best_split,
    child_counts,
    period_label,
)
from everyfamily.evidence import p_bound
from everyfamily.findings.model import STRENGTH_CAP, Finding, FindingsSettings
from everyfamily.findings.stats import wilson_interval
from everyfamily.findings.text import (
    Cell,
    ReleasedCount,
    ReleasedTable,
    WithheldCount,
    areas_label,
    released_cells,
    shown,
)
from everyfamily.findings.text import share as share_text
from everyfamily.privacy.disclosure import released_rate


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
    return int(child_counts(frame).sum()), int(frame["record_key"].astype("int64").sum())


def _children_counts(children: pd.DataFrame, comp: list[str], g: str) -> _Children:
    kids = children[
        children["in_age_range"].fillna(False).astype(bool)
        & children["known"].fillna(False).astype(bool)
    ]
    here = kids[kids["area_code"].astype(str).isin(comp)]
    is_mine = kids["area_code"].astype(str).isin(comp) & (kids["origin_group"] == g)
    mine = kids[is_mine]
    rest = kids[~is_mine]  # rows are children, or cells of children (one area, one group)
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
        sums[row, GROUPS.index(str(grp))] += int(child_counts(part).sum())
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
        _flag_sums(here)[0],
        _flag_sums(here, "registered")[0],
        _flag_sums(here, "engaged")[0],
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
