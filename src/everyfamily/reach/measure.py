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
* funnel_z / funnel_band: registered_rate against the borough's overall ('all') rate for the
  same service (Spiegelhalter 2005), with the row's denominator;
* registered_rate_smoothed: Marshall global empirical Bayes across the small areas of the
  same dimension / group / service (small-area level only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from everyfamily.reach import statistics as st
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
    lc, ls = cell_sums(
        inputs.children, inputs.child_sites, inputs.membership, inputs.small_area_level
    )
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

    _add_rates(out)
    _add_funnel(out)
    _add_smoothing(out, inputs.small_area_level)
    _add_linkage_shift(out, inputs.linkage_quality)
    return _order(out, inputs, services)


def _add_rates(out: pd.DataFrame) -> None:
    ons = out["ons_population"].to_numpy(dtype="float64")
    den = out["denominator"].to_numpy(dtype="float64")
    reg = out["registered"].to_numpy(dtype="float64")
    eng = out["engaged"].to_numpy(dtype="float64")
    out["known_completeness"] = st.safe_ratio(out["known"].to_numpy(dtype="float64"), ons)
    out["registered_rate"] = st.safe_ratio(reg, den)
    out["registered_rate_lower"], out["registered_rate_upper"] = st.wilson_interval(reg, den)
    out["engaged_rate"] = st.safe_ratio(eng, den)
    out["engaged_rate_lower"], out["engaged_rate_upper"] = st.wilson_interval(eng, den)
    out["registered_rate_ons"] = st.safe_ratio(reg, ons)
    out["engaged_rate_ons"] = st.safe_ratio(eng, ons)


def _add_funnel(out: pd.DataFrame) -> None:
    boro = out[(out["level"] == "borough") & (out["dimension"] == "all")]
    target = boro.groupby("service")["registered"].sum() / boro.groupby("service")[
        "denominator"
    ].sum().where(lambda s: s > 0)
    p0 = out["service"].map(target).to_numpy(dtype="float64")
    z = st.funnel_z(
        out["registered"].to_numpy(dtype="float64"),
        out["denominator"].to_numpy(dtype="float64"),
        p0,
    )
    out["funnel_z"] = z
    out["funnel_band"] = st.funnel_band(z)


def _add_smoothing(out: pd.DataFrame, small_level: str) -> None:
    smoothed = np.full(len(out), np.nan)
    rows = out.index[out["level"] == small_level]
    sub = out.loc[rows, ["dimension", "group_value", "service", "registered", "denominator"]]
    reg = sub["registered"].to_numpy(dtype="float64")
    den = sub["denominator"].to_numpy(dtype="float64")
    pos = out.index.get_indexer(rows)
    for idx in sub.groupby(["dimension", "group_value", "service"], sort=False).indices.values():
        smoothed[pos[idx]] = st.empirical_bayes(reg[idx], den[idx])
    out["registered_rate_smoothed"] = smoothed


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
    from everyfamily.reach.children import nearest_points

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
