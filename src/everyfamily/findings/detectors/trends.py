"""declining_reach / improving_reach: a rate that moved over the latest periods.

The recent-trend test of OHID Fingertips: a chi-squared test for trend in proportions
(Cochran-Armitage, :func:`everyfamily.findings.stats.chi_square_trend`) over the latest
``test_periods`` quarters of each series (an area, a group at the borough level, a site),
Benjamini-Hochberg across every series tested, and a named minimum change (the fitted
change over the test periods: ``min_change``, 10 points by default, the findings'
``MIN_RATE_GAP``). Tests run on the exact counts of the store's ``trends`` table; every
number a finding shows comes from the released table (``trends.csv``).

Caveat (docs/trends.md): quarters overlap in children (a registered child stays registered),
so successive rates are not independent samples as the test assumes; the minimum change and
the false discovery rate across all series keep chance drifts out (tested on a world with
no planted trend).

Series and measures (:data:`MEASURES`): for every area of every level (and each group at
the borough level) ``registered_rate`` and ``engaged_rate`` of the children in the age band;
for a site, ``engaged_of_registered`` (its registered children in the band who are engaged).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2 as chi2_dist

from everyfamily.evidence import fnum, sig, strength
from everyfamily.findings import stats
from everyfamily.findings.model import Finding, FindingsSettings
from everyfamily.findings.text import ReleasedCount, group_phrase, pct
from everyfamily.reach.statistics import overdispersion

#: measure -> (numerator, denominator) columns of the trends table, and the services it is for.
MEASURES: dict[str, tuple[str, str, str]] = {
    "registered_rate": ("registered", "denominator", "any"),
    "engaged_rate": ("engaged", "denominator", "any"),
    "engaged_of_registered": ("engaged", "registered", "site"),
}
MEASURE_WORDS: dict[str, str] = {
    "registered_rate": "registered reach",
    "engaged_rate": "engaged reach",
    "engaged_of_registered": "engagement of registered children",
}
SERIES: tuple[str, ...] = ("level", "area_code", "dimension", "group_value", "service")
#: The level of the pooled series: a small area with its touching neighbours.
NEIGHBOURHOOD = "neighbourhood"
#: The level of a cluster found by the trend scan (trends.scan): its small areas pooled.
TREND_CLUSTER = "trend_cluster"
SCAN_TEST = (
    "scan over neighbouring small areas (circular zones): each zone's trend against the "
    "borough's (score test for trend), Monte Carlo p from shuffling the areas' series"
)
DECREASING = "decreasing"
INCREASING = "increasing"
NO_CHANGE = "no significant change"
NOT_TESTED = "cannot be calculated"


@dataclass(frozen=True)
class TrendRules:
    """What a tested series must have and what makes it a finding."""

    test_periods: int = 5
    min_children: int = 20
    min_change: float = 0.10
    fdr_alpha: float = 0.05


def trend_tests(trends: pd.DataFrame, rules: TrendRules) -> pd.DataFrame:
    """One row per series and measure: the test over the latest ``rules.test_periods``
    periods with a count (first and last period, exact rates, chi2, p, slope per period,
    fitted change over the periods, BH q across every series tested, and the Fingertips
    label: decreasing / increasing / no significant change / cannot be calculated).

    ``trends``: the store's ``trends`` table (period_index, period_end, the series keys and
    the exact counts)."""
    rows = []
    for measure, (num_col, den_col, service) in MEASURES.items():
        sub = trends[(trends["service"] == "any") == (service == "any")]
        sub = sub[sub[[num_col, den_col]].notna().all(axis=1)]
        for key, s in sub.groupby(list(SERIES), sort=True):
            s = s.sort_values("period_index").tail(rules.test_periods)
            x = s[num_col].to_numpy(dtype="float64")
            n = s[den_col].to_numpy(dtype="float64")
            row = dict(zip(SERIES, key, strict=True))
            row.update(
                measure=measure,
                periods=len(s),
                first_period=s["period_end"].iloc[0],
                last_period=s["period_end"].iloc[-1],
                first_rate=x[0] / n[0] if n[0] > 0 else math.nan,
                last_rate=x[-1] / n[-1] if n[-1] > 0 else math.nan,
                chi2=math.nan,
                p_value=math.nan,
                slope=math.nan,
            )
            if len(s) == rules.test_periods and n.min() >= rules.min_children:
                chi2, p, slope = stats.chi_square_trend(x, n, s["period_index"].to_numpy())
                row.update(chi2=chi2, p_value=p, slope=slope)
            rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["change"] = out["slope"] * (rules.test_periods - 1)
    out = _overdispersed(out)
    out["q_value"] = stats.bh_adjust(out["p_value"].to_numpy(dtype="float64"))
    sig_ = (out["q_value"] <= rules.fdr_alpha) & (out["change"].abs() >= rules.min_change)
    out["trend"] = np.where(
        out["p_value"].isna(),
        NOT_TESTED,
        np.where(sig_ & (out["change"] < 0), DECREASING, np.where(sig_, INCREASING, NO_CHANGE)),
    )
    return out


def pool_neighbourhoods(
    exact: pd.DataFrame, small_level: str, neighbours: Mapping[str, Iterable[str]]
) -> pd.DataFrame:
    """Series of each small area pooled with its touching neighbours (level
    :data:`NEIGHBOURHOOD`, area_code the centre area): the sums of the small areas' counts
    and record-key sums for everyone ('all', any service). A child lives in one small area
    per period, so the sums count each child once. A decline across a few neighbouring small
    areas, each too small to test alone, shows in the pools that hold them (the idea of the
    spatial scan, findings.scan, with the pools fixed by contiguity)."""
    rows = exact[
        (exact["level"] == small_level)
        & (exact["dimension"] == "all")
        & (exact["service"] == "any")
    ]
    if rows.empty or not neighbours:
        return exact.iloc[0:0].copy()
    sums = [c for c in rows.columns if c in POOLED_SUMS]
    frames = []
    for centre in sorted(set(rows["area_code"].astype(str))):
        pool = {centre, *(str(n) for n in neighbours.get(centre, ()))}
        if len(pool) < 2:
            continue
        part = rows[rows["area_code"].astype(str).isin(pool)]
        agg = part.groupby(["period_index", "period_end"], as_index=False)[sums].sum(min_count=1)
        frames.append(agg.assign(area_code=centre))
    if not frames:
        return exact.iloc[0:0].copy()
    out = pd.concat(frames, ignore_index=True).assign(
        level=NEIGHBOURHOOD, dimension="all", group_value="all", service="any"
    )
    for c in exact.columns:
        if c not in out:
            out[c] = rows[c].iloc[0] if c == "age_band" else None
    return out[list(exact.columns)]


#: Columns summed when small areas are pooled.
POOLED_SUMS: frozenset[str] = frozenset(
    {
        "denominator",
        "known",
        "registered",
        "engaged",
        "denominator_key",
        "known_key",
        "registered_key",
        "engaged_key",
        "ons_population",
    }
)


def _overdispersed(tests: pd.DataFrame) -> pd.DataFrame:
    """Widen each test by the over-dispersion of its family (the series of one level and
    measure, a group dimension's series apart): Spiegelhalter's winsorised dispersion
    statistic phi of the signed trend z-scores (``reach.statistics.overdispersion`` with
    target 0 and unit standard errors), used multiplicatively (Spiegelhalter 2005, QSHC:
    chi2 / phi when phi > 1). Small areas drift for reasons no binomial model holds (a
    street's families moving in together, cohorts that persist from quarter to quarter), and
    the test must not read that drift as a trend; a planted or real change is an outlier
    the winsorising keeps from inflating phi."""
    out = tests.copy()
    z = np.sign(out["slope"]) * np.sqrt(out["chi2"])
    fam = out["level"] + "|" + out["measure"] + "|" + out["dimension"]
    phi = pd.Series(1.0, index=out.index)
    for _key, idx in fam.groupby(fam).groups.items():
        d = overdispersion(z.loc[idx].to_numpy(dtype="float64"), 0.0, 1.0)
        if math.isfinite(d.phi) and d.phi > 1:
            phi.loc[idx] = d.phi
    out["phi"] = phi
    out["chi2"] = out["chi2"] / phi
    out["p_value"] = chi2_dist.sf(out["chi2"].to_numpy(dtype="float64"), 1)
    return out


def find_reach_trends(
    tests: pd.DataFrame,
    released: pd.DataFrame,
    *,
    settings: FindingsSettings,
    age_band: tuple[int, int],
    area_labels: Mapping[str, str] | None = None,
    site_names: Mapping[str, str] | None = None,
    members: Mapping[str, Mapping[str, frozenset[str]]] | None = None,
) -> list[Finding]:
    """``declining_reach`` and ``improving_reach`` findings from the tests marked decreasing
    or increasing. ``released``: the trends table as released (the numbers shown).
    ``members``: level -> area -> its small areas; where several levels flag the same place
    (a small area, its ward, its MSOA) only the best-scoring finding is kept, and it names
    how many others agree."""
    flagged = tests[tests["trend"].isin([DECREASING, INCREASING])] if len(tests) else tests
    pools = {lv: (members or {}).get(lv, {}) for lv in (NEIGHBOURHOOD, TREND_CLUSTER)}
    out = [
        _finding(r, released, settings, age_band, area_labels or {}, site_names or {}, pools)
        for r in flagged.itertuples(index=False)
    ]
    return _one_per_place([f for f in out if f is not None], members or {})


def _released_at(released: pd.DataFrame, r: object, period: object) -> pd.Series | None:
    m = released["period_end"].astype(str) == str(period)
    for k in SERIES:
        m &= released[k].astype(str) == str(getattr(r, k))
    rows = released[m]
    return None if rows.empty else rows.iloc[0]


def _count(v: object) -> ReleasedCount | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return ReleasedCount(int(f)) if math.isfinite(f) else None


def _name(released: pd.DataFrame, level: str, code: str) -> str:
    """The area's name in the released table ('Knowsley 009'), else its code."""
    if "area_name" not in released:
        return code
    rows = released[(released["level"] == level) & (released["area_code"] == code)]
    names = rows["area_name"].dropna()
    return str(names.iloc[0]) if len(names) else code


def _rate(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _finding(
    r: object,
    released: pd.DataFrame,
    settings: FindingsSettings,
    age_band: tuple[int, int],
    labels: Mapping[str, str],
    site_names: Mapping[str, str],
    pools: Mapping[str, Mapping[str, frozenset[str]]],
) -> Finding | None:
    g = getattr
    num_col, den_col, _svc = MEASURES[g(r, "measure")]
    first = _released_at(released, r, g(r, "first_period"))
    last = _released_at(released, r, g(r, "last_period"))
    if first is None or last is None:
        return None
    n1, d1 = _count(first[num_col]), _count(first[den_col])
    n2, d2 = _count(last[num_col]), _count(last[den_col])
    # the released table's rates: from released counts, shown only when the rule allows
    rate1, rate2 = _rate(first[g(r, "measure")]), _rate(last[g(r, "measure")])
    if not (math.isfinite(rate1) and math.isfinite(rate2)):
        return None  # a rate that may not be shown makes no headline
    falling = g(r, "trend") == DECREASING
    kind = "declining_reach" if falling else "improving_reach"
    quarters = int(g(r, "periods")) - 1
    site = None if g(r, "service") == "any" else str(g(r, "service"))
    group = (
        None if g(r, "dimension") == "all" else (str(g(r, "dimension")), str(g(r, "group_value")))
    )
    code, level = str(g(r, "area_code")), str(g(r, "level"))
    place = labels.get(code) or _name(released, level, code)
    areas: tuple[str, ...] = (code,) if site is None else ()
    if level in pools:
        pool = sorted(set(pools[level].get(code, ())) - {code})
        place = f"{labels.get(code, code)} and {len(pool)} neighbouring areas"
        areas, level = (code, *pool), settings.small_area_level
    who = f"children aged {age_band[0]}-{age_band[1]}"
    if group is not None:
        who = f"{who} in {group_phrase(*group)}"
    if site is not None:
        subject = f"At {site_names.get(site, site)}, engagement of registered {who}"
    else:
        subject = f"In {place}, {MEASURE_WORDS[g(r, 'measure')]} of {who}"
    verb = "fell" if falling else "rose"
    headline = (
        f"{subject} {verb} from {pct(rate1)} to {pct(rate2)} over {quarters} quarters "
        f"(to {g(r, 'last_period')})"
    )
    q = float(g(r, "q_value"))
    # children who would be reached had the first rate held (falls), or more now (rises)
    excess = ReleasedCount(max(round(abs(rate1 - rate2) * float(d2 or 0)), 0))
    st = strength(q)
    evidence = {
        "test": SCAN_TEST
        if g(r, "level") == TREND_CLUSTER
        else "chi-squared test for trend in proportions (Cochran-Armitage), as Fingertips' "
        "recent trend; Benjamini-Hochberg across every series tested",
        "periods": int(g(r, "periods")),
        "first_period": str(g(r, "first_period")),
        "last_period": str(g(r, "last_period")),
        "first_rate": fnum(rate1),
        "last_rate": fnum(rate2),
        "change_per_quarter": fnum(float(g(r, "slope"))),
        "p_value": sig(float(g(r, "p_value"))),
        "q_value": sig(q),
        "strength": st,
        "age_band": list(age_band),
        "registered" if num_col == "registered" else "engaged": n2,
        "children" if den_col == "denominator" else "registered": d2,
        "excess_unreached": excess,
        "first_counts": [n1, d1],
        "last_counts": [n2, d2],
    }
    lo, hi = stats.wilson_interval(float(n2 or 0), float(d2 or 0)) if d2 else (math.nan, math.nan)
    return Finding(
        kind=kind,
        areas=areas,
        group=group,
        site=site,
        measure=str(g(r, "measure")),
        observed=float(rate2),
        expected=float(rate1),
        interval=(lo, hi),
        children_affected=excess if falling else 0,
        headline=headline,
        evidence=evidence,
        score=float(excess) * st if falling else float(excess) * st / 2,
        severity="striking" if falling else "watch",
        level=level,
        area_names=(place,) if site is None else (),
    )


def _one_per_place(
    found: list[Finding], members: Mapping[str, Mapping[str, frozenset[str]]]
) -> list[Finding]:
    """Keep the best-scoring finding of each place, measure and direction: a finding whose
    small areas overlap a kept finding's in over half of the smaller set is folded into it."""

    def smalls(f: Finding) -> frozenset[str]:
        if len(f.areas) != 1:  # none (a site) or a pool of small areas
            return frozenset(f.areas)
        return frozenset(members.get(f.level, {}).get(f.areas[0], frozenset(f.areas)))

    kept: list[tuple[Finding, frozenset[str], int]] = []
    for f in sorted(found, key=lambda f: (-f.score, f.id)):
        mine = smalls(f)
        for i, (k, theirs, n) in enumerate(kept):
            same = (k.kind, k.measure, k.group, k.site) == (f.kind, f.measure, f.group, f.site)
            smaller = min(len(mine), len(theirs))
            if same and smaller and len(mine & theirs) > smaller / 2:
                kept[i] = (k, theirs, n + 1)
                break
        else:
            kept.append((f, mine, 0))
    out = []
    for f, _mine, n in kept:
        if n:
            ev = {**f.evidence, "also_flagged_areas": n}
            f = dataclasses.replace(f, evidence=ev)
        out.append(f)
    return out


def released_rates(tests: pd.DataFrame, released: pd.DataFrame) -> pd.DataFrame:
    """``tests`` with ``shown_first_rate`` and ``shown_last_rate``: each series' rate at its
    first and last tested period as RELEASED (trends.csv: rates from released counts, NaN
    where the release rule withholds them), the only rates a finding may quote."""
    out = tests.copy()
    if out.empty:
        return out.assign(shown_first_rate=[], shown_last_rate=[])
    keys = list(SERIES)
    rel = released.assign(period_end=released["period_end"].astype(str))
    for when, column in (("first_period", "shown_first_rate"), ("last_period", "shown_last_rate")):
        shown = np.full(len(out), math.nan)
        for measure in out["measure"].unique():
            if measure not in rel:
                continue
            mine = (out["measure"] == measure).to_numpy()
            left = out.loc[mine, keys].astype(str)
            left["period_end"] = out.loc[mine, when].astype(str)
            right = rel[[*keys, "period_end", measure]].copy()
            right[keys] = right[keys].astype(str)
            right = right.drop_duplicates([*keys, "period_end"])
            got = left.merge(right, on=[*keys, "period_end"], how="left")[measure]
            shown[mine] = pd.to_numeric(got, errors="coerce").to_numpy(dtype="float64")
        out[column] = shown
    if "area_name" in rel and "area_name" not in out:
        names = rel[["level", "area_code", "area_name"]].dropna().astype(str)
        names = names.drop_duplicates(["level", "area_code"])
        key = out[["level", "area_code"]].astype(str)
        out["area_name"] = key.merge(names, on=["level", "area_code"], how="left")[
            "area_name"
        ].to_numpy()
    return out


#: Kinds a trend is attached to, and the trend measure that describes them.
ATTACH: dict[str, str] = {
    "unreached_area": "registered_rate",
    "unreached_group": "registered_rate",
    "low_engagement_site": "engaged_of_registered",
}


def attach_trends(findings: list[Finding], tests: pd.DataFrame | None) -> list[Finding]:
    """Findings of the other kinds with the recent trend of their own series attached
    (``evidence["trend"]``), when that series is marked decreasing or increasing by
    :func:`trend_tests`: an area's registered rate (any of its areas at the finding's
    level), a group's at the borough level, a site's engagement of its registered children.
    The trend is said in the finding's sentence too ("...; registered reach here has been
    falling for 4 quarters: 62% to 48%"), with the RELEASED rates of its first and last
    tested quarters (:func:`released_rates`; without them the sentence gives no numbers).
    Others are returned unchanged."""
    if tests is None or tests.empty or "trend" not in tests:
        return findings
    moving = tests[tests["trend"].isin([DECREASING, INCREASING])]
    if moving.empty:
        return findings
    out = []
    for f in findings:
        measure = ATTACH.get(f.kind)
        rows = _own_series(f, moving, measure)
        if rows.empty or measure is None:
            out.append(f)
            continue
        r = rows.sort_values("q_value").iloc[0]
        # a finding of several areas names the one whose series moved
        name = r.get("area_name") if len(f.areas) > 1 else None
        trend = _trend_words(r, measure, None if pd.isna(name) else str(name))
        headline = f"{f.headline.rstrip('. ')}; {trend['text']}"
        out.append(
            dataclasses.replace(f, headline=headline, evidence={**f.evidence, "trend": trend})
        )
    return out


def _own_series(f: Finding, moving: pd.DataFrame, measure: str | None) -> pd.DataFrame:
    """The moving series that describe finding ``f`` itself (see :func:`attach_trends`)."""
    rows = moving[moving["measure"] == measure] if measure else moving.iloc[0:0]
    if f.kind == "low_engagement_site":
        return rows[rows["service"].astype(str) == str(f.site)]
    if f.group is not None:
        return rows[
            (rows["dimension"] == f.group[0]) & (rows["group_value"].astype(str) == f.group[1])
        ]
    return rows[
        (rows["level"] == f.level)
        & rows["area_code"].astype(str).isin(f.areas)
        & (rows["dimension"] == "all")
        & (rows["service"] == "any")
    ]


def _trend_words(r: pd.Series, measure: str, where: str | None) -> dict[str, Any]:
    """The attached trend: direction, quarters, the released first and last rates, text
    ("here", or in ``where``: the one area of several whose series moved)."""
    word = "falling" if r["trend"] == DECREASING else "rising"
    quarters = int(r["periods"]) - 1
    first, last = _rate(r.get("shown_first_rate")), _rate(r.get("shown_last_rate"))
    place = "here" if where is None else f"in {where}"
    text = f"{MEASURE_WORDS[measure]} {place} has been {word} for {quarters} quarters"
    shown = math.isfinite(first) and math.isfinite(last)
    if shown:
        text += f": {pct(first)} to {pct(last)} (to {r['last_period']})"
    return {
        "measure": measure,
        "direction": word,
        "quarters": quarters,
        "to": str(r["last_period"]),
        "first_rate": fnum(first) if shown else None,
        "last_rate": fnum(last) if shown else None,
        "q_value": sig(float(r["q_value"])),
        "text": text,
    }
