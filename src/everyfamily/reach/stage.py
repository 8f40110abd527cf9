"""The measure stage: child table, reach table and their files (the I/O edge of reach/).

Reads the store tables ``records`` and ``links`` (and ``linkage_quality_by_group`` when the
linkage stage wrote one) and the project's geography, population, deprivation and sites
files; writes

* store ``children`` (pseudonymised, analysis zone): one row per child, with the month of
  birth (``month_of_birth``, the 1st of the month), never the full date, and
  ``birth_record_quarantined`` (reach/arrivals.py: no linked birth record, but a birth row in
  quarantine matches under the linkage model; the new-arrivals list leaves such children out);
* store ``reach_areas``: site_id, site_name, small_area (how reach areas were drawn);
* store ``reach``: the exact reach table (aggregate but unprotected: it stays in the store);
* store ``reach_released`` and ``reach.csv``: the reach table after disclosure control
  (:func:`everyfamily.privacy.release.release_reach`), the only copy released;
* store ``release_registry``: every cell suppressed so far (kept suppressed in later runs);
* store ``area_membership``: level, area_code, small_area (the geography the release uses);
* ``reach.gpkg`` (released counts): one layer per area level, EPSG:4326, the 'all' rows
  per service with geometry (small areas from the boundary file, larger areas dissolved from them);
* store ``not_reached`` (pseudonymised, analysis zone): children known to universal
  services, in the age range, registered with no centre (the outreach list, before names).

Nothing person-level goes to the console or run.json: only counts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from everyfamily.errors import DataError
from everyfamily.population.attributes import load_deprivation, load_sites
from everyfamily.population.denominators import (
    check_ages,
    check_area_codes,
    check_vintage,
    load_births,
    load_population,
    project_population,
)
from everyfamily.reach.arrivals import mark_quarantined_births
from everyfamily.reach.children import ChildParameters, build_children
from everyfamily.reach.engine_sums import cell_sums_in_engine
from everyfamily.reach.measure import (
    FAMILY_KEYS,
    CellSums,
    ReachInputs,
    assign_reach_areas,
    build_reach,
    family_dispersion,
    membership_table,
)
from everyfamily.reach.statistics import Dispersion
from everyfamily.spreadsheet_safe import neutralise_table
from everyfamily.stage import ReportSection, Stage

if TYPE_CHECKING:
    import geopandas as gpd

    from everyfamily.config import Project
    from everyfamily.pipeline import RunContext

RECORD_FIELDS = (
    "source",
    "record_id",
    "role",
    "service_type",
    "date_of_birth",
    "sex",
    "area_code",
    "latitude",
    "longitude",
    "ethnicity",
    "main_language",
    "mother_country_of_birth",
    "interpreter_needed",
    "event_date",
    "site",
)
NOT_REACHED_TABLE = "not_reached"
NOT_REACHED_COLUMNS = (
    "person_id",
    "area_code",
    "area_name",
    "age_years",
    "sex",
    "ethnicity",
    "ethnicity_broad",
    "main_language",
    "mother_region_of_birth",
    "imd_decile",
    "idaci_decile",
    "nearest_site",
    "nearest_site_distance_m",
)


def _borough(project: Project, hierarchy: pd.DataFrame) -> tuple[str, str]:
    """Borough code and name: a hierarchy level called borough/lad/la with one value, else
    the single feature of a ``geography.boundaries.borough`` layer, else the project name."""
    name = project.project.area_name or project.project.name
    for level in ("borough", "lad", "la"):
        if level in hierarchy and hierarchy[level].nunique() == 1:
            code = str(hierarchy[level].iloc[0])
            nm = hierarchy.get(f"{level}_name")
            return code, (str(nm.iloc[0]) if nm is not None else name)
    layer = project.geography.boundaries.get("borough")
    if layer is not None and layer.path.is_file():
        import pyogrio

        try:
            frame = pyogrio.read_dataframe(layer.path, layer=layer.layer, read_geometry=False)
        except Exception:  # an unreadable map layer must not stop the measures
            frame = pd.DataFrame()
        if layer.code_column in frame and frame[layer.code_column].nunique() == 1:
            code = str(frame[layer.code_column].iloc[0])
            if layer.name_column and layer.name_column in frame:
                name = str(frame[layer.name_column].iloc[0])
            return code, name
    return "borough", name


def reach_stage(ctx: RunContext) -> None:
    """Build ``children`` and ``reach`` and write their files (see module docstring): load
    the linked records and the geography, measure (pure), release, write."""
    if not ctx.engine.has_table("records"):
        raise DataError("the store has no 'records' table", hint="run the ingest stage first")
    if not ctx.engine.has_table("links"):
        ctx.echo("  reach skipped: the store has no 'links' table (run linkage first)")
        ctx.metadata["reach"] = {"skipped": "no links table"}
        return
    records, links, quality = _load_linked(ctx)
    places = _load_places(ctx)
    # the cells are counted in the engine (SQL); the statistics on them stay in Python
    sums = functools.partial(cell_sums_in_engine, ctx.engine)
    m = measure(ctx.project, places, records, links, quality, sums=sums)
    registry = None
    if ctx.engine.has_table("release_registry"):
        registry = ctx.engine.query("SELECT * FROM release_registry").to_pandas()
    rel = release(ctx.project, m, registry)
    children = analysis_children(rel.children)
    # the new-arrivals list leaves out children whose birth row is in quarantine (arrivals.py)
    children = mark_quarantined_births(ctx, children)
    not_reached = _write(ctx, places, m, rel, children)
    headline = _headline(ctx.project, places, m, rel, children, not_reached)
    ctx.metadata["reach"] = headline  # released counts only (headline_figures)
    ctx.echo(_summary(headline))


def _load_linked(ctx: RunContext) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The records, their links and, when linkage estimated it, the quality by group."""
    q = ctx.engine.dialect.quote_ident
    have = set(ctx.engine.columns("records"))
    select = ", ".join(q(c) if c in have else f"NULL AS {q(c)}" for c in RECORD_FIELDS)
    records = ctx.engine.query(f"SELECT {select} FROM {q('records')}").to_pandas()
    link_have = set(ctx.engine.columns("links"))
    family = q("family_id") if "family_id" in link_have else f"NULL AS {q('family_id')}"
    links = ctx.engine.query(
        f"SELECT source, record_id, person_id, {family} FROM {q('links')}"
    ).to_pandas()
    quality = None
    if ctx.engine.has_table("linkage_quality_by_group"):
        qcols = set(ctx.engine.columns("linkage_quality_by_group"))
        group_col = "group_value" if "group_value" in qcols else "group"
        if {"dimension", group_col, "recall", "precision"} <= qcols:
            quality = ctx.engine.query(
                f"SELECT dimension, {q(group_col)} AS group_value, recall, precision "
                f"FROM {q('linkage_quality_by_group')}"
            ).to_pandas()
        else:
            ctx.echo(
                "  linkage_quality_by_group lacks dimension/group_value/recall/precision: "
                "linkage shifts left empty"
            )
    return records, links, quality


@dataclass(frozen=True)
class Places:
    """The project's geography and sites, projected: small areas (and their centroids),
    the hierarchy, the sites, the ONS population in the age range and deprivation."""

    small: Any  # GeoDataFrame of the small areas (EPSG:4326)
    hierarchy: pd.DataFrame
    to_xy: Any
    area_xy: pd.DataFrame
    sites: pd.DataFrame
    sites_xy: pd.DataFrame
    ons: pd.DataFrame
    deprivation: Any


def _load_places(ctx: RunContext) -> Places:
    from pyproj import Transformer

    from everyfamily.population.geography import load_hierarchy, load_small_areas

    p = ctx.project
    eng = p.engagement
    small = load_small_areas(p)
    hierarchy = load_hierarchy(p)
    crs = p.geography.projected_crs
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    cent = small.to_crs(crs).geometry.centroid
    area_xy = pd.DataFrame(
        {"area_code": small["area_code"].to_numpy(), "x": cent.x.to_numpy(), "y": cent.y.to_numpy()}
    )
    sites = load_sites(p.sites)
    sx, sy = to_xy(
        sites["longitude"].to_numpy(dtype="float64"), sites["latitude"].to_numpy(dtype="float64")
    )
    sites_xy = pd.DataFrame(
        {
            "site_id": sites["site_id"].to_numpy(),
            "x": np.asarray(sx, dtype="float64"),
            "y": np.asarray(sy, dtype="float64"),
        }
    )

    check_ages(p, eng.min_age_years, eng.max_age_years)
    pop = _population_at_reference_date(ctx, small["area_code"])
    ons = pop[(pop["age"] >= eng.min_age_years) & (pop["age"] <= eng.max_age_years)]
    deprivation = load_deprivation(p.deprivation)
    return Places(small, hierarchy, to_xy, area_xy, sites, sites_xy, ons, deprivation)


@dataclass(frozen=True)
class Measured:
    """What :func:`measure` returns: the children (and their sites), the reach areas, the
    area membership, the exact reach table and its over-dispersion by funnel family."""

    tables: Any  # reach.children.ChildTables
    children: pd.DataFrame
    reach_areas: pd.DataFrame
    membership: pd.DataFrame
    reach: pd.DataFrame
    dispersion: pd.DataFrame
    borough: tuple[str, str]


def measure(
    p: Project,
    places: Places,
    records: pd.DataFrame,
    links: pd.DataFrame,
    quality: pd.DataFrame | None,
    *,
    sums: CellSums | None = None,
) -> Measured:
    """Pure: the children, reach areas, membership, reach table and funnel dispersion
    (``sums``: how the cells are counted, :class:`ReachInputs`; None: in pandas)."""
    eng = p.engagement
    params = ChildParameters(
        reference_date=p.project.reference_date,
        min_attendances=eng.min_attendances,
        window_months=eng.window_months,
        min_age_years=eng.min_age_years,
        max_age_years=eng.max_age_years,
    )
    tables = build_children(
        records,
        links,
        params,
        deprivation=places.deprivation,
        sites_xy=places.sites_xy,
        area_xy=places.area_xy,
        to_xy=places.to_xy,
    )
    children = tables.children

    reach_areas = assign_reach_areas(places.area_xy, places.sites, places.sites_xy)
    b_code, b_name = _borough(p, places.hierarchy)
    membership = membership_table(
        places.small[["area_code", "area_name"]],
        places.hierarchy,
        small_area_level=p.geography.small_area_level,
        borough_code=b_code,
        borough_name=b_name,
        reach_areas=reach_areas,
    )
    reach = build_reach(
        ReachInputs(
            children=children,
            child_sites=tables.child_sites,
            membership=membership,
            ons=places.ons,
            sites=tuple(places.sites["site_id"].astype(str)),
            small_area_level=p.geography.small_area_level,
            linkage_quality=quality,
            sums=sums,
        )
    )

    dispersion = family_dispersion(
        reach[list(FAMILY_KEYS)],
        reach["registered"].to_numpy(dtype="float64"),
        reach["denominator"].to_numpy(dtype="float64"),
    )
    return Measured(tables, children, reach_areas, membership, reach, dispersion, (b_code, b_name))


@dataclass(frozen=True)
class Released:
    """The reach table as released, the children with their record keys, the cell keys
    and the registry of suppressed cells to keep."""

    released: pd.DataFrame
    children: pd.DataFrame
    cell_keys: pd.DataFrame
    registry: pd.DataFrame


def release(p: Project, m: Measured, registry: pd.DataFrame | None) -> Released:
    """Pure: disclosure control of the reach table (privacy.release.release_reach).

    reach.csv / reach.gpkg are released outputs: the exact table stays in the store only
    (table ``reach``, for analysts with the store); everything written to the output folder
    passes privacy.release.release_reach, and cells suppressed by earlier runs into this
    folder stay suppressed (``registry``: the store's release_registry)."""
    # cell keys (privacy.cellkey): one record key per child, kept in the children table
    from everyfamily.privacy.cellkey import child_record_keys, reach_cell_keys
    from everyfamily.privacy.release import release_reach, suppressed_cells

    children = m.children.assign(record_key=child_record_keys(m.children["person_id"]))
    cell_keys = reach_cell_keys(
        children, m.tables.child_sites, m.membership, p.geography.small_area_level
    )
    released = release_reach(
        m.reach,
        m.membership,
        p.privacy,
        small_area_level=p.geography.small_area_level,
        previously_suppressed=registry,
        cell_keys=cell_keys,
    )
    new_registry = suppressed_cells(released)
    if registry is not None and not registry.empty:
        new_registry = pd.concat([registry.astype(str), new_registry]).drop_duplicates()
    return Released(released, children, cell_keys, new_registry)


def analysis_children(children: pd.DataFrame) -> pd.DataFrame:
    """The analysis copy of the children holds month and year of birth only (issue 7):
    the exact date stays in the identifiable ``records`` table, where linkage needs it.
    Named for what it holds, so no reader of the analysis store takes it for a full date."""
    month = pd.to_datetime(children["date_of_birth"]).dt.to_period("M").dt.to_timestamp()
    return children.drop(columns="date_of_birth").assign(
        month_of_birth=pd.Series(month, index=children.index).dt.date
    )


def _write(
    ctx: RunContext, places: Places, m: Measured, rel: Released, children: pd.DataFrame
) -> pd.DataFrame:
    """The store tables, reach.csv and reach.gpkg; returns the outreach list written."""
    small, membership = places.small, m.membership
    reach_arrow = pa.Table.from_pandas(m.reach, preserve_index=False)
    released_arrow = pa.Table.from_pandas(rel.released, preserve_index=False)
    with ctx.engine.transaction():
        ctx.engine.write_table("children", pa.Table.from_pandas(children, preserve_index=False))
        ctx.engine.write_table(
            "reach_areas",
            pa.Table.from_pandas(m.reach_areas.reset_index(drop=True), preserve_index=False),
        )
        ctx.engine.write_table(
            "area_membership",
            pa.Table.from_pandas(
                membership[["level", "area_code", "small_area"]].reset_index(drop=True),
                preserve_index=False,
            ),
        )
        ctx.engine.write_table("reach", reach_arrow)
        ctx.engine.write_table(
            "reach_dispersion", pa.Table.from_pandas(m.dispersion, preserve_index=False)
        )
        ctx.engine.write_table("reach_released", released_arrow)
        ctx.engine.write_table(
            "reach_cell_keys", pa.Table.from_pandas(rel.cell_keys, preserve_index=False)
        )
        ctx.engine.write_table(
            "release_registry",
            pa.Table.from_pandas(rel.registry.reset_index(drop=True), preserve_index=False),
        )
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    # arrow: ~20x faster than pandas
    pa_csv.write_csv(neutralise_table(released_arrow), ctx.out_dir / "reach.csv")
    _write_gpkg(rel.released, membership, small, ctx.out_dir / "reach.gpkg")
    not_reached = not_reached_list(children, small[["area_code", "area_name"]])
    # Pseudonymised, in the analysis store; names are joined only when an outreach worker
    # opens the list (everyfamily.privacy.reidentify).
    ctx.engine.write_table(
        NOT_REACHED_TABLE, pa.Table.from_pandas(not_reached, preserve_index=False)
    )
    return not_reached


def _headline(
    p: Project,
    places: Places,
    m: Measured,
    rel: Released,
    children: pd.DataFrame,
    not_reached: pd.DataFrame,
) -> dict[str, Any]:
    """run.json's ``reach``: released counts only (headline_figures)."""
    from everyfamily.privacy.release import ReleaseRules

    sites = places.sites
    rules = ReleaseRules.from_settings(p.privacy)
    headline = headline_figures(rel.released, children, m.borough[0], p.privacy)
    headline.update(
        {
            "unlinked_records": rules.count(m.tables.unlinked_records),
            "not_reached_listed": rules.count(len(not_reached)),
            "levels": sorted(set(m.membership["level"])),
            "sites": len(sites),
            "reach_rows": len(m.reach),
            "reach_areas_from": "sites file"
            if sites["reach_areas"].notna().any()
            else "nearest site",
            "population_vintage": p.population.vintage,
            "gpkg_crs": "EPSG:4326",
            "funnel": funnel_summary(m.dispersion, p.geography.small_area_level),
        }
    )
    return headline


def funnel_summary(dispersion: pd.DataFrame, small_area_level: str) -> dict[str, Any]:
    """run.json ``reach.funnel``: the over-dispersion of the headline funnel (the small areas'
    registered rate, all children, any centre; Spiegelhalter 2005) and how many funnel
    families (level x group x service with 3+ areas) were widened. The same tau2 is in
    reach.csv (``funnel_tau2``), the report and the dashboard; an unreached-area finding
    states it beside its own, which allows for the family design effect."""
    d = dispersion
    main = d[
        (d["level"] == small_area_level)
        & (d["dimension"] == "all")
        & (d["group_value"] == "all")
        & (d["service"] == "any")
    ]
    estimated = d[d["units"] >= 3]
    out: dict[str, Any] = {
        "method": "Spiegelhalter 2005 additive random effect, z winsorised at 10%/90%, "
        "mean square divided by 0.679 (its value for chance alone)",
        "level": small_area_level,
        "families_estimated": len(estimated),
        "families_over_dispersed": int((estimated["tau2"] > 0).sum()),
    }
    if main.empty:
        return {**out, "units": 0, "phi": None, "tau2": 0.0, "p_value": None}
    m = main.iloc[0]
    disp = Dispersion(
        units=int(m["units"]),
        phi=float(m["phi"]),
        tau2=float(m["tau2"]),
        p_value=float(m["p_value"]),
    )
    target = float(m["target"])
    return {**out, "target": round(target, 4) if np.isfinite(target) else None, **disp.as_dict()}


def headline_figures(
    released: pd.DataFrame, children: pd.DataFrame, borough_code: str, privacy: Any = None
) -> dict[str, Any]:
    """Borough-level counts and rates for run.json and the console, as RELEASED.

    run.json is an operator file but a plain one in the output folder, so it holds the
    borough row of the released reach table (``privacy.release.release_reach``: suppressed,
    rounded, rates from the protected counts); counts not in that table pass the same
    rules (``disclosure.released_count``, ``None`` when suppressed). ``"released": true``
    says so. The exact counts stay in the store table ``reach`` only.
    """
    from everyfamily.privacy.release import ReleaseRules

    rules = ReleaseRules.from_settings(privacy)
    marker = {
        "released": True,
        "disclosure": {
            "suppress_at_or_below": rules.suppress_at_or_below,
            "rounding": rules.rounding,
            "release_method": rules.method,
        },
    }

    row = released[
        (released["level"] == "borough")
        & (released["dimension"] == "all")
        & (released["service"] == "any")
    ]
    if row.empty:
        return {"borough": borough_code, **marker}
    r = row.iloc[0]

    def num(v: Any) -> float | None:
        return None if pd.isna(v) else round(float(v), 4)

    def shown(v: Any) -> int | None:  # a released count: NA when suppressed
        return None if pd.isna(v) else int(v)

    in_range = children["in_age_range"].astype(bool)
    known_any = rules.count(float((in_range & children["known"]).sum()))
    known_reg = rules.count(float((in_range & children["known"] & children["registered"]).sum()))
    return {
        "borough": borough_code,
        **marker,
        "children_linked": rules.count(len(children)),
        "children_outside_age_range": rules.count(int((~in_range).sum())),
        "children_without_area": rules.count(int((in_range & children["area_code"].isna()).sum())),
        "ons_population": num(r["ons_population"]),
        "denominator": shown(r["denominator"]),
        "known": shown(r["known"]),
        "registered": shown(r["registered"]),
        "engaged": shown(r["engaged"]),
        "known_completeness": num(r["known_completeness"]),
        "registered_rate": num(r["registered_rate"]),
        "engaged_rate": num(r["engaged_rate"]),
        "registered_rate_ons": num(r["registered_rate_ons"]),
        "engaged_rate_ons": num(r["engaged_rate_ons"]),
        # from the protected counts too, so the rate cannot undo their rounding
        "registered_rate_of_known": None
        if not known_any or known_reg is None
        else round(known_reg / known_any, 4),
    }


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * float(v):.1f}%"


def _summary(h: dict[str, Any]) -> str:
    if "denominator" not in h:
        return "  reach: no children in range"
    ons = h["ons_population"]

    def n(v: Any) -> str:  # released counts: None when suppressed
        return "suppressed" if v is None else f"{v:,}"

    return (
        f"  children in range {n(h['denominator'])} (known to universal services {n(h['known'])}"
        f"; ONS estimate {'n/a' if ons is None else f'{ons:,.0f}'}, "
        f"completeness {_pct(h['known_completeness'])})\n"
        f"  registered {_pct(h['registered_rate'])} of children in range, "
        f"{_pct(h['registered_rate_ons'])} of ONS; engaged {_pct(h['engaged_rate'])} of children "
        f"in range, {_pct(h['engaged_rate_ons'])} of ONS"
    )


def not_reached_list(children: pd.DataFrame, small: pd.DataFrame) -> pd.DataFrame:
    """Children in the age range known to a universal service and registered with no centre."""
    sel = children[
        children["in_age_range"].astype(bool) & children["known"] & ~children["registered"]
    ]
    out = sel.merge(small, on="area_code", how="left")
    return (
        out[list(NOT_REACHED_COLUMNS)]
        .sort_values(["area_code", "person_id"])
        .reset_index(drop=True)
    )


def _write_gpkg(
    reach: pd.DataFrame, membership: pd.DataFrame, small: gpd.GeoDataFrame, path: Any
) -> None:
    import geopandas as gpd

    if path.exists():
        path.unlink()
    geo = small[["area_code", "geometry"]].rename(columns={"area_code": "small_area"})
    for level in dict.fromkeys(membership["level"]):
        m = membership[membership["level"] == level].merge(geo, on="small_area")
        shapes = gpd.GeoDataFrame(m, geometry="geometry", crs=small.crs)
        if (m.groupby("area_code").size() > 1).any():
            shapes = shapes.dissolve(by="area_code", as_index=False)[["area_code", "geometry"]]
        else:
            shapes = shapes[["area_code", "geometry"]]
        rows = reach[(reach["level"] == level) & (reach["dimension"] == "all")]
        layer = gpd.GeoDataFrame(
            rows.merge(shapes, on="area_code"), geometry="geometry", crs="EPSG:4326"
        )
        layer.to_file(path, layer=level, driver="GPKG")


def _population_at_reference_date(ctx: RunContext, small_areas: pd.Series) -> pd.DataFrame:
    """The ONS-style estimate, checked for its age and area codes and, if the project asks,
    projected to the reference date (population.denominators; docs/measures.md)."""
    p = ctx.project
    ps = p.population
    pop = load_population(p)
    vintage = check_vintage(p, p.project.reference_date)
    births = load_births(ps.births) if ps.births is not None else None
    pop, projection = project_population(pop, vintage, method=ps.projection, births=births)
    warning = vintage.warning(p.engagement.max_age_years)
    if warning and projection.shift_years == 0:
        ctx.warn("measure", "population_vintage", warning)
    elif projection.ages_from_youngest_cohort:
        ctx.warn(
            "measure",
            "population_projection",
            f"population projected {projection.shift_years} year(s) forward without births: "
            f"ages {list(projection.ages_from_youngest_cohort)} are assumed the size of the "
            "estimate's youngest cohort (give population.births for a better projection)",
        )
    codes = check_area_codes(pop, small_areas)
    for message in codes.messages(ps.path):
        ctx.warn("measure", "population_area_codes", message)
    gap = vintage.gap_years
    ctx.metadata["population"] = {
        "vintage": ps.vintage,
        "as_at": vintage.as_at.isoformat() if vintage.as_at else None,
        "as_at_from": vintage.how,
        "years_before_reference_date": round(gap, 2) if gap is not None else None,
        "projection": projection.describe(),
        "areas_without_estimate": len(codes.not_in_population),
        "codes_not_in_geography": len(codes.not_in_geography),
    }
    if projection.shift_years:
        ctx.echo(f"  population: {projection.describe()}")
    return pop


#: The measure stage, declared once (everyfamily.stage).
STAGE = Stage(
    name="measure",
    zone="analysis",
    order=30,
    run=reach_stage,
    reads=("records", "links", "linkage_quality_by_group", "release_registry"),
    writes=(
        "children",
        "reach_areas",
        "area_membership",
        "reach",
        "reach_dispersion",
        "reach_released",
        "reach_cell_keys",
        "release_registry",
        NOT_REACHED_TABLE,
    ),
    sections=(
        ReportSection("figures", "Headline figures", 10, template="figures"),
        ReportSection("map", "Registered reach by small area", 20, template="map"),
        ReportSection("funnel", "Funnel plot", 30, template="funnel"),
    ),
)
