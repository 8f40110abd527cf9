"""The child-level table: one row per linked child, built from ``records`` and ``links``.

Person-level and restricted. Pure: takes frames and typed parameters, returns frames; the
stage (reach/stage.py) does the reading and writing. Rules, each chosen so that a child's
row does not depend on the order records arrive in:

* date of birth: the most common value across the child's records (ties: the earliest);
* sex: the most common known value (female/male), else 'unknown';
* home area: from the most recent record that has a small area, universal sources first
  (a registration form is often filled once and not updated when a family moves; the health
  visitor's record is); a record's date is its event date, else the child's date of birth;
* ethnicity, main language, mother's country of birth: the most frequent non-missing value
  across all sources (ties: the value on the highest-priority record: universal first, then
  most recent);
* interpreter needed: True when any of the child's records says so, False when records say
  only no, NULL when none records it (a need recorded once is a fact about the family);
* known: has a record from a universal source; registered: has a record of role
  'registrations' (per site: the sites on those records); attendances: records of role
  'attendances' dated within the engagement window (window_months up to and including the
  reference date); engaged: at least min_attendances of them (in total for 'any centre',
  at that site for a site);
* age in whole years on the reference date; children outside [min_age, max_age] are kept
  here with ``in_age_range`` False and left out of reach;
* nearest site: straight-line distance in the projected CRS (metres) from the child's
  postcode centroid, else from the home small area's centroid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from everyfamily.reach.regions import region_of_birth
from everyfamily.schema import ETHNICITY_2021

CHILD_COLUMNS: tuple[str, ...] = (
    "person_id",
    "family_id",
    "date_of_birth",
    "age_years",
    "in_age_range",
    "sex",
    "area_code",
    "ethnicity",
    "ethnicity_broad",
    "main_language",
    "mother_country_of_birth",
    "mother_region_of_birth",
    "interpreter_needed",
    "known",
    "known_by",
    "registered",
    "registered_sites",
    "attendances_in_window",
    "engaged",
    "engaged_sites",
    "imd_decile",
    "imd_quintile",
    "idaci_decile",
    "idaci_quintile",
    "nearest_site",
    "nearest_site_distance_m",
    "n_records",
)

CHILD_SITE_COLUMNS: tuple[str, ...] = ("person_id", "site", "registered", "attendances", "engaged")


@dataclass(frozen=True)
class ChildParameters:
    """What the child table depends on besides the data (from the project file)."""

    reference_date: dt.date
    min_attendances: int = 3
    window_months: int = 12
    min_age_years: int = 0
    max_age_years: int = 4

    @property
    def window_start(self) -> dt.date:
        """First day NOT in the window: attendances must be after it and on or before the
        reference date (a 12-month window ending 31 March 2025 runs 1 April 2024 - 31 March
        2025)."""
        return (pd.Timestamp(self.reference_date) - pd.DateOffset(months=self.window_months)).date()


@dataclass(frozen=True)
class ChildTables:
    """``children``: one row per person (CHILD_COLUMNS); ``child_sites``: one row per person and
    site they were registered at or attended (CHILD_SITE_COLUMNS); ``unlinked_records``:
    records with no row in ``links`` (left out)."""

    children: pd.DataFrame
    child_sites: pd.DataFrame
    unlinked_records: int


def _mode(frame: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent non-null value of ``column`` per person; ties go to the value on the
    highest-priority record (lowest ``_prio``). Indexed by person_id."""
    sub = frame.loc[frame[column].notna(), ["person_id", column, "_prio"]]
    if sub.empty:
        return pd.Series(dtype=object)
    counts = sub.groupby(["person_id", column], sort=False).agg(
        n=("_prio", "size"), best=("_prio", "min")
    )
    counts = counts.reset_index().sort_values(
        ["person_id", "n", "best"], ascending=[True, False, True]
    )
    first = counts.drop_duplicates("person_id", keep="first")
    return first.set_index("person_id")[column]


def _any_true(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per person: True if any record is True, False if all recorded values are False, NA when
    none is recorded (or the column is absent). Nullable boolean, indexed by person_id."""
    if column not in frame:
        return pd.Series(pd.NA, index=pd.Index([], name="person_id"), dtype="boolean")
    said = frame.loc[frame[column].notna(), ["person_id", column]]
    flags = said[column].astype(bool)
    return flags.groupby(said["person_id"]).any().astype("boolean")


def age_in_years(date_of_birth: pd.Series, on: dt.date) -> pd.Series:
    """Whole years of age on ``on`` (birthdays count on the day; 29 February birthdays count
    on 1 March in non-leap years)."""
    dob = pd.to_datetime(date_of_birth)
    years = on.year - dob.dt.year
    before = (dob.dt.month > on.month) | ((dob.dt.month == on.month) & (dob.dt.day > on.day))
    return (years - before.astype(int)).astype("Int64")


def build_children(
    records: pd.DataFrame,
    links: pd.DataFrame,
    params: ChildParameters,
    *,
    deprivation: pd.DataFrame | None = None,
    sites_xy: pd.DataFrame | None = None,
    area_xy: pd.DataFrame | None = None,
    to_xy: object | None = None,
) -> ChildTables:
    """Build the child-level tables.

    ``records`` needs source, record_id, role, service_type, date_of_birth, sex, area_code,
    ethnicity, main_language, mother_country_of_birth, event_date, site (latitude and
    longitude optional); ``links`` needs source, record_id, person_id (family_id optional).
    ``sites_xy``: site_id, x, y and ``area_xy``: area_code, x, y in a projected CRS (metres);
    ``to_xy``: a callable (lon, lat) -> (x, y) into that CRS for record centroids.
    """
    r, unlinked = _prioritised(records, links)
    g = r.groupby("person_id", sort=True)
    out = pd.DataFrame(index=pd.Index(sorted(r["person_id"].unique()), name="person_id"))
    out["n_records"] = g.size()
    if "family_id" in r:
        out["family_id"] = _mode(r, "family_id")
    else:
        out["family_id"] = None
    _describe(out, r, params)
    out["known"] = g["_universal"].any()
    out["known_by"] = _universal_roles(r, out.index)
    child_sites = _service_use(out, r, params)

    dep = deprivation if deprivation is not None else pd.DataFrame(columns=["area_code"])
    for c in ("imd_decile", "imd_quintile", "idaci_decile", "idaci_quintile"):
        lookup = dep.set_index("area_code")[c] if c in dep else pd.Series(dtype="Int64")
        out[c] = out["area_code"].map(lookup).astype("Int64")

    out["nearest_site"], out["nearest_site_distance_m"] = _nearest_sites(
        out, sites_xy, area_xy, to_xy
    )
    children = out.reset_index()[list(CHILD_COLUMNS)]
    children["date_of_birth"] = children["date_of_birth"].dt.date  # a DATE in the store
    return ChildTables(children=children, child_sites=child_sites, unlinked_records=unlinked)


def _prioritised(records: pd.DataFrame, links: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The linked records in priority order (universal first, then most recent, then a
    stable id order; ``_prio`` numbers them), and how many records were not linked."""
    link_cols = ["source", "record_id", "person_id"] + (
        ["family_id"] if "family_id" in links else []
    )
    r = records.merge(links[link_cols], on=["source", "record_id"], how="left")
    unlinked = int(r["person_id"].isna().sum())
    r = r[r["person_id"].notna()].copy()
    r["date_of_birth"] = pd.to_datetime(r["date_of_birth"])
    r["event_date"] = pd.to_datetime(r["event_date"])
    r["_universal"] = r["service_type"].astype(str) == "universal"
    r["_date"] = r["event_date"].fillna(r["date_of_birth"])
    # Record priority: universal first, then most recent, then a stable id order.
    r = r.sort_values(
        ["_universal", "_date", "source", "record_id"],
        ascending=[False, False, True, True],
        na_position="last",
        kind="mergesort",
    )
    r["_prio"] = np.arange(len(r))
    return r, unlinked


def _universal_roles(r: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Each child's universal roles with a record of them, sorted (e.g. ["births",
    "health_visiting"]; empty when only targeted services know the child). The outreach
    lists read it: "known to health visiting, never registered"; a child known to universal
    services without a local birth record moved in after birth (a new arrival)."""
    uni = r.loc[r["_universal"], ["person_id", "role"]].drop_duplicates()
    roles = uni.sort_values(["person_id", "role"]).groupby("person_id")["role"].agg(list)
    got = roles.reindex(index)
    return pd.Series(
        [[str(x) for x in v] if isinstance(v, list) else [] for v in got], index=index, dtype=object
    )


def _describe(out: pd.DataFrame, r: pd.DataFrame, params: ChildParameters) -> None:
    """Each child's date of birth (the most often recorded), age, sex, home area (from the
    first record in priority order with one) and groups (the most often recorded)."""
    dob = r.groupby(["person_id", "date_of_birth"]).size().reset_index(name="n")
    dob = dob.sort_values(["person_id", "n", "date_of_birth"], ascending=[True, False, True])
    out["date_of_birth"] = dob.drop_duplicates("person_id").set_index("person_id")["date_of_birth"]
    out["age_years"] = age_in_years(out["date_of_birth"], params.reference_date)
    ref = pd.Timestamp(params.reference_date)
    out["in_age_range"] = (
        (
            (out["date_of_birth"] <= ref)
            & (out["age_years"] >= params.min_age_years)
            & (out["age_years"] <= params.max_age_years)
        )
        .fillna(False)
        .astype(bool)
    )

    sexed = r[r["sex"].isin(["female", "male"])]
    out["sex"] = _mode(sexed, "sex")
    out["sex"] = out["sex"].fillna("unknown")

    placed = r[r["area_code"].notna()]
    home = placed.drop_duplicates("person_id", keep="first").set_index("person_id")
    out["area_code"] = home["area_code"]
    for c in ("latitude", "longitude"):
        out[f"_{c}"] = pd.to_numeric(home[c], errors="coerce") if c in home else np.nan

    for column in ("ethnicity", "main_language", "mother_country_of_birth"):
        out[column] = _mode(r, column)
    broad = {code: group for code, (_label, group) in ETHNICITY_2021.items()}
    out["ethnicity_broad"] = out["ethnicity"].map(broad)
    out["mother_region_of_birth"] = region_of_birth(out["mother_country_of_birth"])
    out["interpreter_needed"] = _any_true(r, "interpreter_needed").reindex(out.index)


def _service_use(out: pd.DataFrame, r: pd.DataFrame, params: ChildParameters) -> pd.DataFrame:
    """Registrations and attendances, per site (long: the returned child_sites), then
    rolled up to the child (``out``: registered, attendances, engaged, site lists)."""
    ref = pd.Timestamp(params.reference_date)
    reg = r[r["role"] == "registrations"]
    out["registered"] = out.index.isin(reg["person_id"].unique())
    start, end = pd.Timestamp(params.window_start), ref
    att = r[(r["role"] == "attendances") & (r["event_date"] > start) & (r["event_date"] <= end)]
    out["attendances_in_window"] = (
        att.groupby("person_id").size().reindex(out.index).fillna(0).astype(int)
    )
    out["engaged"] = out["attendances_in_window"] >= params.min_attendances

    reg_site = reg[reg["site"].notna()].groupby(["person_id", "site"]).size().rename("_reg")
    att_site = att[att["site"].notna()].groupby(["person_id", "site"]).size().rename("attendances")
    cs = pd.concat([reg_site, att_site], axis=1).fillna(0).reset_index()
    cs["site"] = cs["site"].astype(str)
    cs["registered"] = cs["_reg"] > 0
    cs["attendances"] = cs["attendances"].astype(int)
    cs["engaged"] = cs["attendances"] >= params.min_attendances
    child_sites = (
        cs[list(CHILD_SITE_COLUMNS)].sort_values(["person_id", "site"]).reset_index(drop=True)
    )

    def site_lists(mask: pd.Series) -> pd.Series:
        # child_sites is sorted by person and site, so each list comes out sorted.
        lists = child_sites.loc[mask].groupby("person_id", sort=False)["site"].agg(list)
        got = lists.reindex(out.index)
        return pd.Series(
            [v if isinstance(v, list) else [] for v in got], index=out.index, dtype=object
        )

    out["registered_sites"] = site_lists(child_sites["registered"])
    out["engaged_sites"] = site_lists(child_sites["engaged"])
    return child_sites


def _nearest_sites(
    out: pd.DataFrame,
    sites_xy: pd.DataFrame | None,
    area_xy: pd.DataFrame | None,
    to_xy: object | None,
) -> tuple[pd.Series, pd.Series]:
    none = pd.Series([None] * len(out), index=out.index, dtype=object)
    nan = pd.Series(np.nan, index=out.index)
    if sites_xy is None or sites_xy.empty:
        return none, nan
    x = np.full(len(out), np.nan)
    y = np.full(len(out), np.nan)
    lat = out["_latitude"].to_numpy(dtype="float64")
    lon = out["_longitude"].to_numpy(dtype="float64")
    have = np.isfinite(lat) & np.isfinite(lon)
    if have.any() and callable(to_xy):
        px, py = to_xy(lon[have], lat[have])
        x[have], y[have] = np.asarray(px, dtype="float64"), np.asarray(py, dtype="float64")
    if area_xy is not None and not area_xy.empty:
        ax = out["area_code"].map(area_xy.set_index("area_code")["x"]).to_numpy(dtype="float64")
        ay = out["area_code"].map(area_xy.set_index("area_code")["y"]).to_numpy(dtype="float64")
        fill = ~np.isfinite(x) & np.isfinite(ax)
        x[fill], y[fill] = ax[fill], ay[fill]
    ok = np.isfinite(x) & np.isfinite(y)
    site, dist = nearest_points(x[ok], y[ok], sites_xy)
    s = none.copy()
    d = nan.copy()
    s[ok] = site
    d[ok] = dist
    return s, d


def nearest_points(
    x: np.ndarray, y: np.ndarray, sites_xy: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest site id and straight-line distance (same units as x/y) for each point.

    Brute force over all sites in numpy, in chunks: a council has tens of sites, so this is
    faster than building a k-d tree (and avoids importing scipy.spatial, which alone costs
    more than the whole search). Exact ties go to the site listed first.
    """
    if len(x) == 0 or sites_xy.empty:
        return np.array([None] * len(x), dtype=object), np.full(len(x), np.nan)
    sx = sites_xy["x"].to_numpy(dtype="float64")
    sy = sites_xy["y"].to_numpy(dtype="float64")
    ids = sites_xy["site_id"].to_numpy(dtype=object)
    idx = np.empty(len(x), dtype=np.int64)
    dist = np.empty(len(x), dtype="float64")
    step = max(1, 2_000_000 // len(sx))
    for start in range(0, len(x), step):
        d = np.hypot(x[start : start + step, None] - sx, y[start : start + step, None] - sy)
        k = np.argmin(d, axis=1)
        idx[start : start + step] = k
        dist[start : start + step] = d[np.arange(len(k)), k]
    return ids[idx], dist
