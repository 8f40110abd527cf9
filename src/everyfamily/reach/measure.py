"""The ``reach`` table: counts and rates by area level x group x service.

Pure: takes the child tables, an area-membership table and the ONS estimates, returns one
long frame with exactly the columns of ``schema.REACH_COLUMNS``.
Everything is grouped counts on the small areas first, then summed up to larger areas through
the membership table (a child lives in one small area, so sums are exact; a small area may
belong to several reach areas, which the membership table allows).

Definitions (docs/measures.md has the full text):

* denominator: children in the age range resident in the area who are known to a universal
  service OR registered OR engaged (a child registered with a centre but missing from the
  universal sources still counts: the known population undercounts, so must not cap reach);
* known: of those, children with a universal-source record;
* registered / engaged: for service 'any', registered with any centre / at least
  min_attendances attendances in the window at any centres in total; for a site, at that site;
* registered_rate = registered / denominator, engaged_rate = engaged / denominator (Wilson
  95% intervals); the *_ons rates divide by the ONS estimate instead;
* funnel_z / funnel_band / funnel_target / funnel_tau2: registered_rate against the borough's
  rate for the same dimension, group and service, with the row's denominator and the
  over-dispersion tau2 of its family (Spiegelhalter 2005);
* registered_rate_smoothed: beta-binomial empirical Bayes (Kleinman 1973) across the small
  areas of the same dimension / group / service (small-area level only);
* registered_expected / registered_std_ratio (+ interval) / registered_rate_std: indirect
  age standardisation against the borough's single-year-of-age rates ('all' rows).

:func:`statistics_columns` derives all of these from the counts, for the exact table here
and for the released table (privacy.release), so the two cannot disagree in method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from everyfamily.reach import statistics as st
from everyfamily.reach.children import nearest_points
from everyfamily.reach.statistics import Float
from everyfamily.schema import REACH_COLUMNS

#: Group dimensions, in output order: reach table dimension -> child-table column.
DIMENSIONS: dict[str, str | None] = {
    "all": None,
    "ethnicity": "ethnicity",
    "ethnicity_broad": "ethnicity_broad",
    "main_language": "main_language",
    "mother_country_of_birth": "mother_country_of_birth",
    "mother_region_of_birth": "mother_region_of_birth",
    "imd_decile": "imd_decile",
    "imd_quintile": "imd_quintile",
    "idaci_decile": "idaci_decile",
    "idaci_quintile": "idaci_quintile",
    "age_years": "age_years",
    "sex": "sex",
}

#: The output columns: exactly schema.REACH_COLUMNS (which ends with ``denominator``).
REACH_OUTPUT_COLUMNS: tuple[str, ...] = REACH_COLUMNS

UNKNOWN = "unknown"
ANY_SERVICE = "any"


#: A cell counter: (children, child_sites, membership, small_area_level) -> what
#: :func:`cell_sums` returns.
CellSums = Callable[
    [pd.DataFrame, pd.DataFrame, pd.DataFrame, str], tuple[pd.DataFrame, pd.DataFrame]
]


@dataclass(frozen=True)
class ReachInputs:
    """What the reach table is computed from.

    ``membership``: level, area_code, area_name, small_area (one row per small area in each
    larger area; the small-area level maps each area to itself). ``ons``: small_area, age,
    population (ages already within the range). ``sites``: site ids to report as services
    (besides 'any'), in order. ``linkage_quality``: optional dimension, group_value, recall,
    precision (a row with dimension 'all' is the fallback for every group).
    """

    children: pd.DataFrame
    child_sites: pd.DataFrame
    membership: pd.DataFrame
    ons: pd.DataFrame
    sites: tuple[str, ...]
    small_area_level: str = "lsoa"
    linkage_quality: pd.DataFrame | None = None
    #: how the cells are counted: :func:`cell_sums` (pandas) when None, or the same
    #: grouping run in an engine (``reach.engine_sums.cell_sums_in_engine`` bound to one)
    sums: CellSums | None = None


def _group_value(values: pd.Series) -> pd.Series:
    """Group labels as text; missing -> 'unknown'. Integers (deciles, ages) print without '.0'."""
    if pd.api.types.is_numeric_dtype(values):
        as_int = values.astype("Int64").astype("string")
        return as_int.fillna(UNKNOWN).astype(object)
    return values.astype("string").fillna(UNKNOWN).replace("", UNKNOWN).astype(object)


def in_reach_population(children: pd.DataFrame, small_areas: set[str]) -> pd.DataFrame:
    """Children who count: in the age range, resident in one of the small areas, and known,
    registered or engaged."""
    mask = (
        children["in_age_range"].astype(bool)
        & children["area_code"].isin(small_areas)
        & (children["known"] | children["registered"] | children["engaged"])
    )
    return children.loc[mask]


def _long_groups(base: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for dim, column in DIMENSIONS.items():
        gv = (
            pd.Series("all", index=base.index, dtype=object)
            if column is None
            else _group_value(base[column])
        )
        parts.append(
            pd.DataFrame(
                {
                    "person_id": base["person_id"].to_numpy(),
                    "small_area": base["area_code"].to_numpy(),
                    "dimension": dim,
                    "group_value": gv.to_numpy(),
                    "known": base["known"].to_numpy(dtype=bool),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _service_flags(base: pd.DataFrame, child_sites: pd.DataFrame) -> pd.DataFrame:
    anyc = base.loc[base["registered"] | base["engaged"], ["person_id", "registered", "engaged"]]
    anyc = anyc.assign(service=ANY_SERVICE)
    cs = child_sites[
        child_sites["person_id"].isin(base["person_id"])
        & (child_sites["registered"] | child_sites["engaged"])
    ]
    cs = cs.rename(columns={"site": "service"})[["person_id", "service", "registered", "engaged"]]
    out = pd.concat([anyc, cs], ignore_index=True)
    out["service"] = out["service"].astype(str)
    return out


def cell_sums(
    children: pd.DataFrame,
    child_sites: pd.DataFrame,
    membership: pd.DataFrame,
    small_area_level: str,
    weight: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """THE grouping of the reach table: for every cell (level, area, dimension, group, and
    service), the sum over its children of ``weight`` (a column of ``children``; 1 each when
    None, so the sums are the counts). :func:`build_reach` takes the counts,
    :func:`everyfamily.privacy.cellkey.reach_cell_keys` the sums of record keys, so a cell key
    is always the key of exactly the children counted in the cell.

    Returns ``(free, by_service)``, indexed by (level, area_code, dimension, group_value):
    ``free`` has ``known`` and ``denominator`` (the same on every service's row),
    ``by_service`` (indexed by service too) ``registered`` and ``engaged``."""
    m = membership[["level", "area_code", "small_area"]]
    small = set(m.loc[m["level"] == small_area_level, "small_area"])
    base = in_reach_population(children, small)
    long = _long_groups(base)
    if weight is None:
        long["_w"] = np.int64(1)
    else:
        by_id = pd.Series(base[weight].to_numpy(dtype=np.int64), index=base["person_id"].to_numpy())
        long["_w"] = long["person_id"].map(by_id).to_numpy(dtype=np.int64)
    long["_known"] = np.where(long["known"], long["_w"], 0)
    keys = ["small_area", "dimension", "group_value"]
    counts = long.groupby(keys, sort=False).agg(known=("_known", "sum"), denominator=("_w", "sum"))
    counts = counts.reset_index()

    flags = _service_flags(base, child_sites)
    svc = long[["person_id", "_w", *keys]].merge(flags, on="person_id")
    svc["_reg"] = np.where(svc["registered"].astype(bool), svc["_w"], 0)
    svc["_eng"] = np.where(svc["engaged"].astype(bool), svc["_w"], 0)
    svc_counts = (
        svc.groupby([*keys, "service"], sort=False)
        .agg(registered=("_reg", "sum"), engaged=("_eng", "sum"))
        .reset_index()
    )

    # Up to every level through the membership table.
    level_keys = ["level", "area_code", "dimension", "group_value"]
    lc = (
        counts.merge(m, on="small_area")
        .groupby(level_keys, sort=False)[["known", "denominator"]]
        .sum()
    )
    ls = (
        svc_counts.merge(m, on="small_area")
        .groupby([*level_keys, "service"], sort=False)[["registered", "engaged"]]
        .sum()
    )
    return lc, ls


def build_reach(inputs: ReachInputs) -> pd.DataFrame:
    """The reach table (see module docstring)."""
    m = inputs.membership[["level", "area_code", "area_name", "small_area"]]
    sums = inputs.sums or cell_sums
    lc, ls = sums(inputs.children, inputs.child_sites, inputs.membership, inputs.small_area_level)
    level_keys = ["level", "area_code", "dimension", "group_value"]

    # ONS: whole range ('all') and single years ('age_years').
    ons = inputs.ons.rename(columns={"area_code": "small_area"}).merge(m, on="small_area")
    ons_all = ons.groupby(["level", "area_code"])["population"].sum(min_count=1).reset_index()
    ons_all = ons_all.assign(dimension="all", group_value="all")
    ons_age = (
        ons.groupby(["level", "area_code", "age"])["population"].sum(min_count=1).reset_index()
    )
    ons_age = ons_age.assign(
        dimension="age_years", group_value=ons_age["age"].astype(int).astype(str)
    )
    ons_rows = pd.concat([ons_all, ons_age.drop(columns="age")], ignore_index=True)
    ons_rows = ons_rows.rename(columns={"population": "ons_population"})

    # Rows: every (area, group) with children, plus every area's 'all' and age rows (so an
    # area with nobody known still appears), crossed with every service.
    areas = m[["level", "area_code", "area_name"]].drop_duplicates(["level", "area_code"])
    grid_all = areas.assign(dimension="all", group_value="all")
    grid = pd.concat(
        [lc.reset_index()[level_keys], ons_rows[level_keys], grid_all[level_keys]],
        ignore_index=True,
    ).drop_duplicates()
    services = [ANY_SERVICE, *[s for s in inputs.sites if s != ANY_SERVICE]]
    extra = sorted(set(ls.index.get_level_values("service")) - set(services))
    services += extra  # sites seen in records but not in the sites file
    grid = grid.merge(pd.DataFrame({"service": services}), how="cross")
    out = grid.merge(areas, on=["level", "area_code"], how="left")
    out = out.merge(lc.reset_index(), on=level_keys, how="left")
    out = out.merge(ls.reset_index(), on=[*level_keys, "service"], how="left")
    out = out.merge(ons_rows, on=level_keys, how="left")
    for c in ("known", "denominator", "registered", "engaged"):
        out[c] = out[c].fillna(0).astype("int64")

    _add_rates(out, inputs.small_area_level)
    _add_linkage_shift(out, inputs.linkage_quality)
    return _order(out, inputs, services)


def _add_rates(out: pd.DataFrame, small_level: str) -> None:
    ons = out["ons_population"].to_numpy(dtype="float64")
    out["known_completeness"] = st.safe_ratio(out["known"].to_numpy(dtype="float64"), ons)
    cols = statistics_columns(
        out[["area_code", *FAMILY_KEYS]],
        registered=out["registered"].to_numpy(dtype="float64"),
        engaged=out["engaged"].to_numpy(dtype="float64"),
        denominator=out["denominator"].to_numpy(dtype="float64"),
        ons=ons,
        small_area_level=small_level,
    )
    for name, values in cols.items():
        out[name] = values


#: The keys of a funnel family: rows sharing them are compared with one target and one tau2.
FAMILY_KEYS: tuple[str, ...] = ("level", "dimension", "group_value", "service")
BOROUGH = "borough"
AGE_DIMENSION = "age_years"


def funnel_targets(keys: pd.DataFrame, registered: np.ndarray, denominator: np.ndarray) -> Float:
    """Each row's funnel target: the borough's rate for the SAME dimension, group and service
    (issue 14, defect 2: babies are compared with the borough's babies, not with all
    children). NaN where the borough has no such group."""
    k = keys[["level", "dimension", "group_value", "service"]].astype(str).reset_index(drop=True)
    boro = np.asarray(k["level"] == BOROUGH)
    rate = st.safe_ratio(registered[boro], denominator[boro])
    idx = pd.MultiIndex.from_frame(k.loc[boro, ["dimension", "group_value", "service"]])
    target = pd.Series(rate, index=idx)
    target = target[~target.index.duplicated()]
    key = pd.MultiIndex.from_frame(k[["dimension", "group_value", "service"]])
    return np.asarray(target.reindex(key).to_numpy(dtype="float64"), dtype="float64")


@dataclass(frozen=True)
class FunnelColumns:
    """Per row: target p0, the family's tau2, the z-score and band (statistics.funnel_z)."""

    target: Float
    tau2: Float
    z: Float
    band: np.ndarray


def family_dispersion(
    keys: pd.DataFrame, registered: np.ndarray, denominator: np.ndarray
) -> pd.DataFrame:
    """Spiegelhalter over-dispersion (statistics.proportion_dispersion) of every funnel family:
    the areas of one level, dimension, group and service around the borough's rate for that
    group and service. Columns: FAMILY_KEYS, target, units, phi, tau2, p_value. Borough rows
    are their own target and form no family."""
    k = keys[list(FAMILY_KEYS)].astype(str).reset_index(drop=True)
    target = funnel_targets(k, registered, denominator)
    rows = []
    sel = np.flatnonzero(np.asarray(k["level"] != BOROUGH))
    for fam, idx in k.iloc[sel].groupby(list(FAMILY_KEYS), sort=False).indices.items():
        pos = sel[idx]
        p0 = float(target[pos[0]])
        d = st.proportion_dispersion(registered[pos], denominator[pos], p0)
        rows.append((*cast("tuple[str, ...]", fam), p0, d.units, d.phi, d.tau2, d.p_value))
    return pd.DataFrame(
        rows, columns=[*FAMILY_KEYS, "target", "units", "phi", "tau2", "p_value"]
    ).astype({"units": "int64"})


def funnel_columns(
    keys: pd.DataFrame,
    registered: np.ndarray,
    denominator: np.ndarray,
    tau2: np.ndarray | None = None,
) -> FunnelColumns:
    """The funnel of every row: each compared with the borough's rate for the same group and
    service (:func:`funnel_targets`), with the additive over-dispersion tau2 of its family
    (:func:`family_dispersion`; Spiegelhalter 2005). ``tau2`` given (one per row, e.g. the
    exact table's when the released table is built): used as is, so reach.csv, the report,
    the dashboard and the findings share one tau2. Borough rows: tau2 0."""
    k = keys[list(FAMILY_KEYS)].astype(str).reset_index(drop=True)
    target = funnel_targets(k, registered, denominator)
    if tau2 is None:
        fam = family_dispersion(k, registered, denominator)
        t2 = (
            k.merge(fam[[*FAMILY_KEYS, "tau2"]], on=list(FAMILY_KEYS), how="left")["tau2"]
            .fillna(0.0)
            .to_numpy(dtype="float64")
        )
    else:
        t2 = np.nan_to_num(np.asarray(tau2, dtype="float64"))
    z = st.funnel_z(registered, denominator, target, t2)
    return FunnelColumns(target=target, tau2=t2, z=z, band=st.funnel_band(z))


def smoothed_rates(
    keys: pd.DataFrame, registered: np.ndarray, denominator: np.ndarray, small_level: str
) -> Float:
    """Beta-binomial empirical Bayes (statistics.empirical_bayes) across the small areas of
    each dimension / group / service; NaN on every other level."""
    k = keys[list(FAMILY_KEYS)].astype(str).reset_index(drop=True)
    smoothed = np.full(len(k), np.nan)
    small = np.flatnonzero(np.asarray(k["level"] == small_level))
    if len(small):
        groups = k.iloc[small].groupby(["dimension", "group_value", "service"], sort=False)
        for idx in groups.indices.values():
            pos = small[idx]
            smoothed[pos] = st.empirical_bayes(registered[pos], denominator[pos])
    return smoothed


def age_standardised(
    keys: pd.DataFrame, area_codes: pd.Series, registered: np.ndarray, denominator: np.ndarray
) -> dict[str, Float]:
    """Indirectly age-standardised registration on every area's ``all`` row.

    expected_A = Σ_a n_{A,a} r_a, the area's children of each single year of age a (its
    ``age_years`` rows) times the borough's registered rate at that age for the same service;
    ratio = observed / expected (the SMR of Breslow & Day 1987, vol. II s.2.3) with Byar's or
    exact Poisson 95% limits (statistics.byar_ratio_interval, as PHEindicatormethods
    ``calculate_ISRatio``), and the standardised rate = ratio x the borough's crude rate.
    A ratio below 1 says the area registers fewer children than its age mix predicts.
    NaN on every other row, and where an age count or borough age rate is missing.
    """
    k = keys[list(FAMILY_KEYS)].astype(str).reset_index(drop=True)
    k["area_code"] = area_codes.astype(str).to_numpy()
    n = len(k)
    age = np.asarray(k["dimension"] == AGE_DIMENSION)
    boro_age = age & np.asarray(k["level"] == BOROUGH)
    rate_age = pd.Series(
        st.safe_ratio(registered[boro_age], denominator[boro_age]),
        index=pd.MultiIndex.from_frame(k.loc[boro_age, ["group_value", "service"]]),
    )
    rate_age = rate_age[~rate_age.index.duplicated()]
    r = rate_age.reindex(pd.MultiIndex.from_frame(k.loc[age, ["group_value", "service"]]))
    r_arr = r.to_numpy(dtype="float64")
    den_age = denominator[age]
    # an age with no children in the area contributes nothing, even with no borough rate
    contrib = np.where(den_age == 0, 0.0, den_age * r_arr)
    exp = (
        pd.DataFrame(
            {
                "level": k.loc[age, "level"].to_numpy(),
                "area_code": k.loc[age, "area_code"].to_numpy(),
                "service": k.loc[age, "service"].to_numpy(),
                "e": contrib,
            }
        )
        .groupby(["level", "area_code", "service"], sort=False)["e"]
        .sum(min_count=1)
    )
    nan_any = (
        pd.DataFrame(
            {
                "level": k.loc[age, "level"].to_numpy(),
                "area_code": k.loc[age, "area_code"].to_numpy(),
                "service": k.loc[age, "service"].to_numpy(),
                "bad": ~np.isfinite(contrib),
            }
        )
        .groupby(["level", "area_code", "service"], sort=False)["bad"]
        .any()
    )
    exp = exp.where(~nan_any)
    all_rows = np.flatnonzero(np.asarray(k["dimension"] == "all"))
    key = pd.MultiIndex.from_frame(k.iloc[all_rows][["level", "area_code", "service"]])
    expected = np.full(n, np.nan)
    expected[all_rows] = exp.reindex(key).to_numpy(dtype="float64")
    obs = np.where(np.isfinite(expected), registered, np.nan)
    ratio, lo, hi = st.byar_ratio_interval(obs, expected)
    crude = funnel_targets(k, registered, denominator)
    return {
        "registered_expected": expected,
        "registered_std_ratio": ratio,
        "registered_std_ratio_lower": lo,
        "registered_std_ratio_upper": hi,
        "registered_rate_std": ratio * crude,
    }


def statistics_columns(
    keys: pd.DataFrame,
    *,
    registered: np.ndarray,
    engaged: np.ndarray,
    denominator: np.ndarray,
    ons: np.ndarray,
    small_area_level: str,
    tau2: np.ndarray | None = None,
    count_error: float = 0.0,
) -> dict[str, np.ndarray]:
    """Every derived column of the reach table from its counts: THE one function for the exact
    table (build_reach) and the released one (privacy.release, from the protected counts).

    ``keys``: level, area_code, dimension, group_value, service. ``count_error``: the most a
    count may differ from the true count (``ReleaseRules.max_error``; 0 for exact counts):
    intervals become the union over that range (statistics.wilson_interval_widened).
    ``tau2``: per row, the exact table's over-dispersion (None: estimated from these counts).
    """
    cols: dict[str, np.ndarray] = {}
    for name, num in (("registered", registered), ("engaged", engaged)):
        rate = st.safe_ratio(num, denominator)
        lo, hi = st.wilson_interval_widened(
            np.nan_to_num(num), np.nan_to_num(denominator), count_error
        )
        shown = np.isfinite(rate)
        cols[f"{name}_rate"] = rate
        cols[f"{name}_rate_lower"] = np.where(shown, lo, np.nan)
        cols[f"{name}_rate_upper"] = np.where(shown, hi, np.nan)
        cols[f"{name}_rate_ons"] = st.safe_ratio(num, ons)
    cols["registered_rate_smoothed"] = np.where(
        np.isfinite(cols["registered_rate"]),
        smoothed_rates(keys, registered, denominator, small_area_level),
        np.nan,
    )
    f = funnel_columns(keys, registered, denominator, tau2)
    shown = np.isfinite(cols["registered_rate"]) & np.isfinite(f.z)
    cols["funnel_z"] = np.where(shown, f.z, np.nan)
    band = f.band.copy()
    band[~shown] = None
    cols["funnel_band"] = band
    cols["funnel_target"] = f.target
    cols["funnel_tau2"] = f.tau2
    cols.update(age_standardised(keys, keys["area_code"], registered, denominator))
    return cols


def _add_linkage_shift(out: pd.DataFrame, quality: pd.DataFrame | None) -> None:
    if quality is None or quality.empty:
        out["linkage_shift_lower"] = np.nan
        out["linkage_shift_upper"] = np.nan
        return
    q = (
        quality.assign(group_value=quality["group_value"].astype(str))
        .drop_duplicates(["dimension", "group_value"])
        .set_index(["dimension", "group_value"])
    )
    key = pd.MultiIndex.from_frame(out[["dimension", "group_value"]].astype(str))
    recall = q["recall"].astype("float64").reindex(key).to_numpy(dtype="float64")
    precision = q["precision"].astype("float64").reindex(key).to_numpy(dtype="float64")
    fallback = q.reindex(pd.MultiIndex.from_tuples([("all", "all")]))
    if fallback["recall"].notna().all():  # 'all' figures stand in for groups without their own
        recall = np.where(np.isnan(recall), fallback["recall"].to_numpy(dtype="float64")[0], recall)
        precision = np.where(
            np.isnan(precision), fallback["precision"].to_numpy(dtype="float64")[0], precision
        )
    out["linkage_shift_lower"], out["linkage_shift_upper"] = st.linkage_shift(
        out["registered"].to_numpy(dtype="float64"),
        out["denominator"].to_numpy(dtype="float64"),
        recall,
        precision,
    )


def _order(out: pd.DataFrame, inputs: ReachInputs, services: list[str]) -> pd.DataFrame:
    level_order = [
        inputs.small_area_level,
        *[lv for lv in dict.fromkeys(inputs.membership["level"]) if lv != inputs.small_area_level],
    ]
    out = out.assign(
        _l=out["level"].map({lv: i for i, lv in enumerate(level_order)}),
        _d=out["dimension"].map({d: i for i, d in enumerate(DIMENSIONS)}),
        _s=out["service"].map({s: i for i, s in enumerate(services)}),
    )
    out = out.sort_values(["_l", "area_code", "_d", "group_value", "_s"], kind="mergesort")
    out = out[list(REACH_OUTPUT_COLUMNS)].reset_index(drop=True)
    out["ons_population"] = out["ons_population"].astype("float64")
    return out


def membership_table(
    small_areas: pd.DataFrame,
    hierarchy: pd.DataFrame,
    *,
    small_area_level: str,
    borough_code: str,
    borough_name: str,
    reach_areas: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """level, area_code, area_name, small_area for every level.

    ``small_areas``: area_code, area_name. ``hierarchy``: area_code plus a column per level
    (and optional ``<level>_name``); levels called 'borough', 'lad' or 'la' are folded into
    the single borough row. ``reach_areas``: site_id, site_name, small_area.
    """
    parts = [
        pd.DataFrame(
            {
                "level": small_area_level,
                "area_code": small_areas["area_code"],
                "area_name": small_areas["area_name"],
                "small_area": small_areas["area_code"],
            }
        )
    ]
    known = set(small_areas["area_code"])
    h = hierarchy[hierarchy["area_code"].isin(known)] if not hierarchy.empty else hierarchy
    for level in [c for c in h.columns if c != "area_code" and not c.endswith("_name")]:
        if level.lower() in {"borough", "lad", "la", small_area_level}:
            continue
        names = h[f"{level}_name"] if f"{level}_name" in h else h[level]
        sub = pd.DataFrame(
            {
                "level": level,
                "area_code": h[level],
                "area_name": names,
                "small_area": h["area_code"],
            }
        )
        parts.append(sub[sub["area_code"].notna() & (sub["area_code"] != "")])
    parts.append(
        pd.DataFrame(
            {
                "level": "borough",
                "area_code": borough_code,
                "area_name": borough_name,
                "small_area": small_areas["area_code"],
            }
        )
    )
    if reach_areas is not None and not reach_areas.empty:
        ra = reach_areas[reach_areas["small_area"].isin(known)]
        parts.append(
            pd.DataFrame(
                {
                    "level": "reach_area",
                    "area_code": ra["site_id"],
                    "area_name": ra["site_name"],
                    "small_area": ra["small_area"],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["area_name"] = out["area_name"].fillna(out["area_code"]).astype(str)
    return out.drop_duplicates(["level", "area_code", "small_area"]).reset_index(drop=True)


def assign_reach_areas(
    area_xy: pd.DataFrame, sites: pd.DataFrame, sites_xy: pd.DataFrame
) -> pd.DataFrame:
    """site_id, site_name, small_area: the reach areas.

    Where the sites file lists each site's small areas (``reach_areas``), those are used as
    given; a site with no list, or every site when there is no list at all, gets the small
    areas whose centroid is nearest to it in straight line (projected CRS). Areas listed by
    some site are not also assigned by distance.
    """
    if sites.empty:
        return pd.DataFrame(columns=["site_id", "site_name", "small_area"])
    given = sites[sites["reach_areas"].notna()]
    rows = given[["site_id", "site_name", "reach_areas"]].explode("reach_areas")
    rows = rows.rename(columns={"reach_areas": "small_area"})
    if len(given) == len(sites):
        return rows.reset_index(drop=True)
    listed = set(rows["small_area"])
    free = area_xy[~area_xy["area_code"].isin(listed)]
    open_sites = sites_xy[~sites_xy["site_id"].isin(set(given["site_id"]))]
    site_id, _ = nearest_points(
        free["x"].to_numpy(dtype="float64"), free["y"].to_numpy(dtype="float64"), open_sites
    )
    names = sites.set_index("site_id")["site_name"]
    near = pd.DataFrame({"site_id": site_id, "small_area": free["area_code"].to_numpy()})
    near["site_name"] = near["site_id"].map(names)
    return pd.concat([rows, near[["site_id", "site_name", "small_area"]]], ignore_index=True)
