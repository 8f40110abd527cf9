"""Each small area against areas of similar deprivation and age mix (pure: frames in, frames out).

**Indirect standardisation** (Breslow & Day 1987, Statistical Methods in Cancer Research II,
s.2.3; APHO Technical Briefing 3, "Commonly used public health statistics and their
confidence intervals", 2008; the Fingertips technical guidance). The borough's children are
cut into strata s = (deprivation quintile of their small area, single year of age). For a
measure with events y (children registered, or engaged) and children n:

    R_s      = Σ_A y_{A,s} / Σ_A n_{A,s}           the borough's rate in stratum s
    E_A      = Σ_s n_{A,s} R_s                     expected events in area A
    ratio_A  = O_A / E_A                           the standardised ratio (100 x: the SR)

An area lies in one deprivation quintile, so E_A is what the area would have if its children
were reached as the borough's children of the same age in equally deprived areas are: a ratio
below 1 says the area does worse than similar places, not merely worse than the borough.
The limits are Byar's approximation to the exact Poisson limits for O >= 10 and the exact
(Garwood) limits below (``reach.statistics.byar_ratio_interval``, as PHEindicatormethods
``calculate_ISRatio``), at 95% and 99.8% as Fingertips draws them. The label follows
Fingertips' "compared with benchmark" rule for a ratio against 1: ``better`` when the
interval lies wholly above 1 (more children reached than similar places), ``worse`` wholly
below, ``similar`` when it contains 1, ``not compared`` when a count is withheld or E = 0.

**Privacy.** The observed count and the children of each area are its RELEASED counts
(reach.csv's ``all`` row, perturbed or suppressed by ``privacy.release``): a withheld count
is not compared. The expected count needs each area's children by single year of age and the
borough's rate in each quintile x age stratum: these come from the exact reach table, because
the released age cells of a small area are too noisy to standardise with (on the quarter-size
demo, cell key perturbation of 0-8 children per cell made age rows sum to 32 where the
area's released total is 19). What the expected count discloses is the area's age mix (a
population count: ONS publishes it by single year for every small area) weighted by
borough-wide stratum rates (aggregates of hundreds of children), never an area's own
registered or engaged count. Without the exact table (``compare_table(released)``) every
number comes from the released table, and a withheld cell is left out of the rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from everyfamily.reach.statistics import Z_95, Z_998, byar_ratio_interval, safe_ratio

#: Measures compared: output prefix -> the reach.csv count column.
MEASURES: dict[str, str] = {"registered": "registered", "engaged": "engaged"}
BETTER, SIMILAR, WORSE, NOT_COMPARED = "better", "similar", "worse", "not compared"
AGE_DIMENSION = "age_years"
DEPRIVATION_DIMENSION = "imd_quintile"
#: The columns of compare.csv, in order.
COMPARE_COLUMNS: tuple[str, ...] = (
    "level",
    "area_code",
    "area_name",
    "measure",
    "strata",
    "deprivation_group",
    "observed",
    "children",
    "expected",
    "ratio",
    "ratio_lower_95",
    "ratio_upper_95",
    "ratio_lower_998",
    "ratio_upper_998",
    "rate",
    "rate_standardised",
    "compared_95",
    "compared_998",
)


@dataclass(frozen=True)
class Strata:
    """Children and events of each area in each stratum: area_code, group (deprivation
    quintile, or ``all``), age, children, and one column per measure (NaN = withheld)."""

    table: pd.DataFrame
    by_deprivation: bool


def label(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Fingertips' comparison of a ratio's interval with 1 (higher reach is better)."""
    lo = np.asarray(lower, dtype="float64")
    hi = np.asarray(upper, dtype="float64")
    out = np.full(lo.shape, NOT_COMPARED, dtype=object)
    ok = np.isfinite(lo) & np.isfinite(hi)
    out[ok] = SIMILAR
    out[ok & (lo > 1.0)] = BETTER
    out[ok & (hi < 1.0)] = WORSE
    return out


def indirect_standardise(
    strata: Strata,
    measure: str,
    released: pd.DataFrame | None = None,
    into: pd.Series | None = None,
) -> pd.DataFrame:
    """Observed, expected, ratio, limits and labels of every area for one measure (module
    docstring). Areas with a withheld count in any stratum get NaN and ``not compared``.

    ``released`` (area_code, children and the measure's column): the area's released counts;
    when given, they are the observed count and the children shown (withheld: not
    compared), and the strata only give the expected count.

    ``into`` (small area -> a larger area, e.g. its ward): compare the larger areas instead.
    The stratum rates R_s stay the borough's (from the small areas); a larger area's
    expected count is the sum of its small areas' (E_W = Σ_{A in W} Σ_s n_{A,s} R_s: the
    same indirect standardisation, with the area's own mix of deprivation and age, as
    Fingertips does for wards and districts); its deprivation group lists the quintiles of
    its small areas."""
    t = strata.table
    y = pd.to_numeric(t[measure], errors="coerce").to_numpy(dtype="float64")
    n = pd.to_numeric(t["children"], errors="coerce").to_numpy(dtype="float64")
    full = np.isfinite(y) & np.isfinite(n)
    cells = t.assign(_y=np.where(full, y, 0.0), _n=np.where(full, n, 0.0), _bad=~full)
    rates = cells.groupby(["group", "age"])[["_y", "_n"]].sum()
    rates["R"] = safe_ratio(rates["_y"].to_numpy(), rates["_n"].to_numpy())
    cells = cells.merge(rates[["R"]], left_on=["group", "age"], right_index=True, how="left")
    # a stratum with no children in the area adds nothing, even where the borough rate is NaN
    cells["_e"] = np.where(cells["_n"] == 0, 0.0, cells["_n"] * cells["R"])
    if into is not None:
        up = into.astype(str)
        cells = cells.assign(area_code=cells["area_code"].astype(str).map(up))
        cells = cells[cells["area_code"].notna()]
    per = cells.groupby("area_code", sort=True).agg(
        group=("group", _groups),
        observed=("_y", "sum"),
        children=("_n", "sum"),
        expected=("_e", "sum"),
        bad=("_bad", "any"),
    )
    if released is not None:
        rel = released.drop_duplicates("area_code").set_index("area_code")
        for col, src in (("observed", measure), ("children", "children")):
            per[col] = pd.to_numeric(rel[src], errors="coerce").reindex(per.index)
        per["bad"] |= per["observed"].isna() | per["children"].isna()
    bad = per["bad"].to_numpy() | ~np.isfinite(per["expected"].to_numpy())
    o = np.where(bad, np.nan, per["observed"].to_numpy(dtype="float64"))
    e = np.where(bad, np.nan, per["expected"].to_numpy(dtype="float64"))
    ratio, lo95, hi95 = byar_ratio_interval(o, e, Z_95)
    _r, lo998, hi998 = byar_ratio_interval(o, e, Z_998)
    y_all, n_all = float(np.where(full, y, 0.0).sum()), float(np.where(full, n, 0.0).sum())
    crude = y_all / n_all if n_all > 0 else float("nan")
    children = np.where(bad, np.nan, per["children"].to_numpy(dtype="float64"))
    return pd.DataFrame(
        {
            "area_code": per.index.astype(str),
            "measure": measure,
            "strata": "deprivation quintile x age" if strata.by_deprivation else "age",
            "deprivation_group": per["group"].astype(str).to_numpy(),
            "observed": o,
            "children": children,
            "expected": np.round(e, 2),
            "ratio": np.round(ratio, 4),
            "ratio_lower_95": np.round(lo95, 4),
            "ratio_upper_95": np.round(hi95, 4),
            "ratio_lower_998": np.round(lo998, 4),
            "ratio_upper_998": np.round(hi998, 4),
            "rate": np.round(safe_ratio(o, children), 4),
            "rate_standardised": np.round(ratio * crude, 4),
            "compared_95": label(lo95, hi95),
            "compared_998": label(lo998, hi998),
        }
    )


def _groups(values: pd.Series) -> str:
    """The deprivation group of an area: its quintile, or its small areas' quintiles."""
    return "/".join(sorted({str(v) for v in values}))


def strata_from_reach(released: pd.DataFrame, small_level: str) -> Strata | None:
    """The strata of the small areas from the released reach table: each small area's
    ``age_years`` rows (service ``any``) give children and events by age; its deprivation
    quintile is the ``imd_quintile`` group holding its children. Without deprivation rows
    the strata are age alone. None when the table has no age rows."""
    r = released[(released["level"].astype(str) == small_level) & (released["service"] == "any")]
    ages = r[r["dimension"] == AGE_DIMENSION]
    if ages.empty:
        return None
    cols = ["area_code", "group_value", "denominator", *MEASURES.values()]
    table = ages[cols].rename(columns={"group_value": "age", "denominator": "children"})
    dep = r[(r["dimension"] == DEPRIVATION_DIMENSION) & (r["group_value"] != "unknown")]
    by_dep = not dep.empty
    if by_dep:
        dep = dep.assign(_n=pd.to_numeric(dep["denominator"], errors="coerce").fillna(0))
        top = dep.sort_values(["area_code", "_n"], ascending=[True, False])
        quint = top.drop_duplicates("area_code").set_index("area_code")["group_value"]
        table = table.assign(group=table["area_code"].map(quint).fillna("unknown").astype(str))
    else:
        table = table.assign(group="all")
    return Strata(table.reset_index(drop=True), by_dep)


def compare_table(
    released: pd.DataFrame,
    small_level: str,
    exact: pd.DataFrame | None = None,
    membership: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """compare.csv: every small area x measure (registered, engaged) against similar places,
    in :data:`COMPARE_COLUMNS` order; empty when the reach table has no age rows.

    With ``exact`` (the store's exact reach table), the strata come from it and the observed
    counts from ``released``'s ``all`` rows (module docstring, Privacy); without it, both
    come from ``released``. With ``membership`` (level, area_code, small_area), every area
    of the other levels but the borough (wards, MSOAs: :func:`indirect_standardise`'s
    ``into``) is compared too, its observed count its own released one."""
    strata = strata_from_reach(released if exact is None else exact, small_level)
    if strata is None:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    levels: dict[str, pd.Series | None] = {small_level: None}
    if membership is not None:
        for level, m in membership.groupby("level", sort=True):
            if str(level) != small_level and m["area_code"].nunique() > 1:
                m = m.drop_duplicates("small_area")
                levels[str(level)] = m.set_index(m["small_area"].astype(str))["area_code"]
    frames = []
    for level, into in levels.items():
        names = (
            released.loc[released["level"].astype(str) == level, ["area_code", "area_name"]]
            .drop_duplicates("area_code")
            .astype(str)
        )
        shown = None
        if exact is not None or into is not None:
            r = released
            alls = r[(r["level"].astype(str) == level) & (r["dimension"] == "all")]
            shown = alls[alls["service"] == "any"].rename(columns={"denominator": "children"})
        parts = [indirect_standardise(strata, m, shown, into) for m in MEASURES.values()]
        out = pd.concat(parts, ignore_index=True).merge(names, on="area_code", how="left")
        frames.append(out.assign(level=level))
    return pd.concat(frames, ignore_index=True)[list(COMPARE_COLUMNS)]
