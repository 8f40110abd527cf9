"""The access stage: travel times, access measures and barriers (the I/O edge of access/).

Runs after measure. Reads the project's network files (``access:``), the sites file, the
small-area boundaries and hierarchy, and the store tables ``children``, ``records`` and
``links`` (each child's home point: the same record the measure stage takes the home area
from); writes

* store ``access_children`` (restricted, person-level): each child's nearest site on foot,
  walking distance and time, band, straight-line distance and detour ratio (and by car when
  ``driving`` is on);
* store ``access_areas`` (restricted: exact counts): per small area, children, registered,
  median walk, band, detour ratio, two-step floating catchment access, expected reach and
  its residual;
* store ``access_bands`` (restricted): reach by travel-time band (walking, and driving when
  on), exact counts and, for the report, the released counts (``*_shown``);
* store ``access_barriers``: every barrier-class line with its crossings and whether it was
  a candidate, as WKT in EPSG:4326;
* layers ``access_time_bands``, ``access_barriers`` and ``access_cut_off`` in ``reach.gpkg``
  (public: the time-band layer holds released counts and rates from them, no residual z;
  see :func:`released_areas`; and the three centres nearest on foot from each area's
  middle, ``walk_site_1``/``walk_m_1``/``walk_min_1`` ...: access/area_walks.py);
* ``area_walks.csv``: the same three centres on foot from the middle of each larger area
  (ward ...; places, not counts: access/area_walks.py ``write_level_walks``);
* ``access_barrier`` candidate findings for the find stage (findings/stage.py).

Nothing person-level goes to the console or run.json: only whole-borough counts (operator
figures; no counts by area or group). When the network is
approximate (the demo, or ``access.approximate_network``: access/approximate.py), every
table, layer, finding and summary says so.

The network is checked first (:func:`everyfamily.access.network.check_network`): when most
home points are far from it or it lies in many disconnected pieces, the stage warns loudly
(``ctx.warn``: console, run.json ``warnings``, the report's "Read this first") and withholds
everything above rather than compute it on that network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.access import barriers as br
from everyfamily.access import engine_sums
from everyfamily.access import measures as ms
from everyfamily.access import points as pt
from everyfamily.access.area_walks import (
    LEVEL_WALKS_FILE,
    area_middles,
    nearest_sites_on_foot,
    write_level_walks,
)
from everyfamily.access.network import (
    NetworkCheck,
    check_metres,
    check_network,
    read_network_lines,
    walking_graph,
)
from everyfamily.access.points import measure_points
from everyfamily.access.tables import (  # band_table: re-exported (tests read it here)
    area_table_from_cells,
    band_table,  # noqa: F401
    band_table_from_sums,
    barrier_table,
    released_areas,
    write_layers,
)
from everyfamily.errors import DataError
from everyfamily.stage import MapOverlay, ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.config import AccessSettings, Project
    from everyfamily.findings.model import FindingsSettings
    from everyfamily.pipeline import RunContext

NAME = "access"
GPKG_FILE = "reach.gpkg"
#: Layers this stage adds to reach.gpkg (the dashboard treats them as overlays, not levels).
LAYERS = ("access_time_bands", "access_barriers", "access_cut_off")
CHILD_FIELDS = (
    "person_id",
    "area_code",
    "in_age_range",
    "known",
    "registered",
    "engaged",
    "age_years",
    "imd_decile",
    "ethnicity_broad",
    "main_language",
)

#: Each child's home point: the record the measure stage takes the home area from
#: (reach/children.py: universal sources first, then the most recent, then source and
#: record id), among records with a small area. Kept in SQL here so the child table's
#: columns do not change. Written once in the reference dialect and run through
#: ``engine.dialect.portable`` (sqlglot spells the null ordering out where engines differ).
HOME_SQL = """
SELECT person_id, area_code AS home_area, latitude, longitude FROM (
  SELECT l.person_id, r.area_code, r.latitude, r.longitude,
         row_number() OVER (
           PARTITION BY l.person_id
           ORDER BY (r.service_type = 'universal') DESC,
                    coalesce(r.event_date, r.date_of_birth) DESC NULLS LAST,
                    r.source, r.record_id) AS k
  FROM records r JOIN links l ON l.source = r.source AND l.record_id = r.record_id
  WHERE r.area_code IS NOT NULL
) AS ranked WHERE k = 1
"""


def _note(a: AccessSettings) -> str | None:
    from everyfamily.access.approximate import NOTE

    if a.approximate_note and (a.approximate or a.approximate_network is not None):
        return a.approximate_note
    if a.approximate_network is not None:
        return NOTE
    if not a.approximate:
        return None
    return "approximate network: walking distances are indicative"


def _postcode_points(p: Project, area_codes: set[str], to_xy: Any) -> np.ndarray:
    """(n, 2) centroids of the lookup's postcodes in the project's small areas (projected)."""
    from everyfamily.population.geography import load_postcode_lookup

    lk = load_postcode_lookup(p)
    lk = lk[lk["area_code"].astype("string").isin(area_codes)]
    lat = pd.to_numeric(lk["latitude"], errors="coerce").to_numpy(dtype="float64")
    lon = pd.to_numeric(lk["longitude"], errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        raise DataError(
            f"{p.geography.postcode_lookup.path}: access.approximate_network needs postcode "
            "centroids, and no postcode of the small areas has a latitude and longitude",
            hint="set geography.postcode_lookup.latitude_column and longitude_column",
        )
    x, y = to_xy(lon[ok], lat[ok])
    return np.column_stack([np.asarray(x), np.asarray(y)])


def network_lines(
    p: Project, a: AccessSettings, crs: Any, to_xy: Any, area_codes: set[str], sites_xy: Any
) -> Any:
    """Every line of the project's walking (and driving) network: its network files and,
    with ``approximate_network``, the approximate network on the postcode centroids of the
    small areas and the sites (access/approximate.py)."""
    import geopandas as gpd

    from everyfamily.access.approximate import approximate_lines

    parts = []
    if a.networks:
        parts.append(read_network_lines(a, crs, need_walkable=a.approximate_network is None))
    if a.approximate_network is not None:
        pts = np.vstack(
            [
                _postcode_points(p, area_codes, to_xy),
                sites_xy[["x", "y"]].to_numpy(dtype="float64"),
            ]
        )
        parts.append(approximate_lines(a, pts, crs))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)


def _withhold(
    ctx: RunContext,
    problems: list[str],
    check: NetworkCheck,
    a: AccessSettings,
    summary: dict[str, Any],
) -> None:
    """Warn loudly (console, run.json, the report's "Read this first") and withhold every
    access output: no tables, layers or findings are computed on a network that fails
    :func:`check_network`."""
    from everyfamily.findings.stage import write_candidates

    messages = {
        "network_far_from_homes": (
            f"access findings withheld: {check.share_far:.0%} of home points are more than "
            f"{check.max_snap_m:g} m from the walking network (the limit is "
            f"{a.max_share_far_from_network:.0%}, access.max_share_far_from_network); check "
            "that the network covers the area and is in the right coordinate system"
        ),
        "network_in_pieces": (
            f"access findings withheld: the walking network is in {check.pieces:,} "
            f"disconnected pieces, {check.share_outside_main:.0%} of its length outside the "
            f"largest (the limit is {a.max_share_outside_main_piece:.0%}, "
            "access.max_share_outside_main_piece); lines that cross without sharing end "
            "points need split_crossings: true on their network file"
        ),
    }
    for code in problems:
        ctx.warn(NAME, code, messages[code])
    for name in ("access_children", "access_areas", "access_bands", "access_barriers"):
        if ctx.engine.has_table(name):
            ctx.engine.drop_table(name)
    ctx.metadata["access"] = {**summary, "withheld": problems}
    write_candidates(ctx, NAME, [])


def _children(ctx: RunContext, small_xy: pd.DataFrame, to_xy: Any) -> pd.DataFrame:
    """Children in the reach population with a home point in the projected CRS."""
    # the reach population is filtered, and home points read for it only, in the engine
    have = set(ctx.engine.columns("children"))
    sql = engine_sums.population_sql(ctx.engine, have, CHILD_FIELDS)
    kids = engine_sums.in_person_order(ctx.engine.query(sql).to_pandas())
    home = ctx.engine.query(engine_sums.homes_sql(ctx.engine, have, HOME_SQL)).to_pandas()
    kids = kids.merge(home, on="person_id", how="left")
    kids["x"], kids["y"] = pt.place(kids, small_xy, to_xy)
    kids = kids[np.isfinite(kids["x"]) & np.isfinite(kids["y"])].reset_index(drop=True)
    kids["registered"] = kids["registered"].astype(bool)
    placed: pd.DataFrame = kids.drop(columns=["latitude", "longitude", "home_area"])
    return placed


@dataclass(frozen=True)
class _Loaded:
    """What the access stage reads: the projected geography, the sites, the walking network
    checked against the children's home points, and the reach population's distinct origins
    (a row per home point and small area with its children counted, from the engine)."""

    crs: Any
    note: str | None
    to_wgs84: Any
    small: Any
    sites: pd.DataFrame
    sites_xy: pd.DataFrame
    lines: Any
    graph: Any
    origins: pt.Origins
    check: NetworkCheck
    t0: float
    t_net: float
    #: each small area's point and the projection (to place the engine's home points)
    small_xy: pd.DataFrame
    to_xy: Any
    #: the per-child frame, only for planning (load_inputs): the access stage counts in SQL
    per_child: pd.DataFrame | None = None

    @property
    def kids(self) -> pd.DataFrame:
        """The per-child frame (:func:`load_inputs` reads it; the access stage does not)."""
        if self.per_child is None:
            raise ValueError("loaded without the per-child frame (load_inputs reads it)")
        return self.per_child


def access_stage(ctx: RunContext) -> None:
    """Compute access measures and barrier findings (see module docstring): load, check the
    network, measure each child's access (pure), find barriers, write."""
    from everyfamily.findings.stage import write_candidates

    a = ctx.project.access
    (ctx.out_dir / LEVEL_WALKS_FILE).unlink(missing_ok=True)  # never an earlier run's walks
    if a is None:
        ctx.echo("  access skipped: the project file has no access: block (no street network)")
        ctx.metadata["access"] = {"skipped": "no access settings"}
        write_candidates(ctx, NAME, [])
        return
    if not ctx.engine.has_table("children"):
        raise DataError("the store has no 'children' table", hint="run the measure stage first")
    step = ctx.progress.steps("access", 4)  # console only: names and counts
    step("reading and checking the street network")
    got = _load(ctx, a)
    if got is None:
        ctx.echo("  access skipped: no sites")
        ctx.metadata["access"] = {"skipped": "no sites"}
        write_candidates(ctx, NAME, [])
        return
    problems = got.check.problems(
        max_share_far=a.max_share_far_from_network,
        max_share_outside_main=a.max_share_outside_main_piece,
    )
    if problems:
        _withhold(ctx, problems, got.check, a, _network_summary(got))
        return
    if "record_key" not in ctx.engine.columns("children"):
        raise DataError(
            "the store's 'children' table has no record_key column (a store from an older version)",
            hint="run the measure stage again",
        )
    eng, origins = ctx.engine, got.origins
    step(f"travel times: {origins.children:,} children x {len(got.sites_xy)} sites on foot")
    measured = measure_origins(origins, got.graph, got.lines, got.sites, got.sites_xy, a)
    with engine_sums.point_table(eng, origins.table, measured.rows):
        counted = count_cells(ctx, measured)
        t_model = time.perf_counter()
        step(f"barriers: testing lines across {len(measured.points):,} home points")
        settings, bars, tests, findings = _barriers(ctx, a, got, counted.cells)
        write_candidates(ctx, NAME, findings)
        t_bar = time.perf_counter()
        step("writing tables and map layers")
        _write(ctx, a, got, measured, counted, settings, bars, tests, findings)
    summary = _summary(a, got, measured, counted, bars, tests, findings, t_model, t_bar)
    ctx.metadata["access"] = summary
    ctx.echo(
        f"  {origins.children:,} children at {len(measured.points):,} home points x "
        f"{len(got.sites_xy)} sites: median walk {summary['median_walk_minutes']} min"
        + (" (APPROXIMATE network)" if got.note else "")
    )
    ctx.echo(
        f"  {summary['barriers']['candidates']} candidate barriers of {len(bars)}, "
        f"{len(findings)} access_barrier finding(s)"
    )


def _load(ctx: RunContext, a: AccessSettings, per_child: bool = False) -> _Loaded | None:
    """Read the geography, sites, network and the reach population's distinct origins
    (and, with ``per_child``, the per-child frame); check the network against the
    children's home points (each point weighted by its children). None when the project
    has no sites."""
    from pyproj import Transformer

    from everyfamily.population.attributes import load_sites
    from everyfamily.population.geography import load_small_areas

    p = ctx.project
    t0 = time.perf_counter()
    crs = p.geography.projected_crs
    check_metres(crs)
    note = _note(a)
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform

    small = load_small_areas(p)
    small_p = small.to_crs(crs)
    cent = small_p.geometry.representative_point()
    small_xy = pd.DataFrame(
        {
            "area_code": small["area_code"].astype(str),
            "x": cent.x.to_numpy(),
            "y": cent.y.to_numpy(),
        }
    )
    sites = load_sites(p.sites) if p.sites is not None else pd.DataFrame()
    if sites.empty:
        return None
    sx, sy = to_xy(
        sites["longitude"].to_numpy(dtype="float64"), sites["latitude"].to_numpy(dtype="float64")
    )
    sites_xy = pd.DataFrame(
        {"site_id": sites["site_id"].astype(str), "x": np.asarray(sx), "y": np.asarray(sy)}
    )
    lines = network_lines(p, a, crs, to_xy, set(small_xy["area_code"]), sites_xy)
    graph = walking_graph(lines)
    t_net = time.perf_counter()
    origins = pt.load_origins(ctx.engine, HOME_SQL, small_xy, to_xy)
    check = check_network(
        graph,
        origins.pts[:, 0],
        origins.pts[:, 1],
        max_snap_m=a.max_snap_m,
        weights=origins.demand,
    )
    kids = _children(ctx, small_xy, to_xy) if per_child else None
    return _Loaded(
        crs,
        note,
        to_wgs84,
        small,
        sites,
        sites_xy,
        lines,
        graph,
        origins,
        check,
        t0,
        t_net,
        small_xy,
        to_xy,
        kids,
    )


def load_inputs(ctx: RunContext, a: AccessSettings) -> _Loaded | None:
    """What the access stage reads (geography, sites, network checked against the children's
    home points), and the per-child frame (``kids``), for a later stage that needs the
    same (planning/stage.py: its plan counts per child)."""
    return _load(ctx, a, per_child=True)


def _network_summary(got: _Loaded) -> dict[str, Any]:
    return {
        "approximate_network": got.note is not None,
        "note": got.note,
        "network": {
            "lines": len(got.lines),
            "walking_nodes": got.graph.n_nodes,
            "walking_edges": got.graph.n_edges,
        },
        "network_check": got.check.as_dict(),
    }


@dataclass(frozen=True)
class Measured:
    """The access measures of each distinct home point (:func:`measure_origins`) and how
    they were measured."""

    #: a row per distinct home point: its measures, with x and y
    points: pd.DataFrame
    #: a row per origin (the engine's, Origins.table order): its point's measures
    rows: pd.DataFrame
    drive_info: dict[str, Any]
    cap_used: bool
    t_matrix: float

    @property
    def measures(self) -> list[str]:
        """The measures ``access_children`` takes from a child's point."""
        return point_measures(self.points)


def point_measures(points: pd.DataFrame) -> list[str]:
    """The point measures a child's ``access_children`` row takes (driving when measured)."""
    driving = ["drive_min", "drive_band"] if "drive_band" in points else []
    return [*engine_sums.POINT_MEASURES, *driving]


def measure_origins(
    origins: pt.Origins,
    graph: Any,
    lines: Any,
    sites: pd.DataFrame,
    sites_xy: pd.DataFrame,
    a: AccessSettings,
) -> Measured:
    """Pure: each distinct home point's nearest site on foot (and by car), walking band and
    two-step floating catchment access (Luo & Wang 2003), its children the demand
    (:func:`measure_points`); and each origin's row of them."""
    per_point, drive_info, cap_used, t_matrix = measure_points(
        origins.pts, origins.demand, graph, lines, sites, sites_xy, a
    )
    points = per_point.assign(x=origins.pts[:, 0], y=origins.pts[:, 1])
    rows = per_point[point_measures(per_point)].iloc[origins.at].reset_index(drop=True)
    return Measured(points, rows, drive_info, bool(cap_used), t_matrix)


@dataclass(frozen=True)
class Counted:
    """What the engine counted on the children joined to their points
    (:func:`count_cells`): the per-area cells with both models' expectations, the band
    sums per mode, and the two reach models."""

    #: access.engine_sums.area_cells_sql's cells, with ``expected_full`` and
    #: ``expected_composition`` (each child's expectation is its cell's)
    cells: pd.DataFrame
    sums: dict[str, pd.DataFrame]
    full: Any  # measures.ReachModel with the access terms
    composition: Any  # measures.ReachModel without them


def count_cells(ctx: RunContext, measured: Measured) -> Counted:
    """In the engine, with the working point table open: the band sums (walking, and
    driving when measured) and the per-area cells; the reach model with and without access
    fitted once each on the cells (access.measures.expected_reach(cells=True): the same
    likelihood as a row per child)."""
    eng, have = ctx.engine, set(ctx.engine.columns("children"))
    modes = {
        "walk": "walk_band",
        **({"drive": "drive_band"} if "drive_band" in measured.points else {}),
    }
    sums = {
        mode: eng.query(engine_sums.band_sums_sql(eng, have, HOME_SQL, col)).to_pandas()
        for mode, col in modes.items()
    }
    cells = eng.query(engine_sums.area_cells_sql(eng, have, HOME_SQL)).to_pandas()
    full = ms.expected_reach(cells, with_access=True, cells=True)
    comp = ms.expected_reach(cells, with_access=False, cells=True)
    cells = cells.assign(expected_full=full.expected, expected_composition=comp.expected)
    return Counted(cells, sums, full, comp)


def _barriers(
    ctx: RunContext, a: AccessSettings, got: _Loaded, cells: pd.DataFrame
) -> tuple[FindingsSettings, list[Any], Any, list[Any]]:
    """Candidate barriers, their side tests on the engine's per-area cells and the findings
    they make."""
    from everyfamily.findings.stage import settings_for

    settings = settings_for(ctx.project)
    if ctx.engine.has_table("reach_released"):
        # what reach.csv suppresses (secondary suppression included), access outputs never show
        import dataclasses

        from everyfamily.findings.stage import withheld_cells
        from everyfamily.findings.text import ReleasedTable

        shown = ctx.engine.query("SELECT * FROM reach_released").to_pandas()
        # a barrier side's counts are sums of these released cells (barriers.shown_side)
        settings = dataclasses.replace(
            settings,
            withheld=withheld_cells(shown),
            released_table=ReleasedTable.from_frame(shown),
        )
    bars = br.find_barriers(got.lines, a.barrier_classes)
    tests = br.side_tests(
        bars,
        area_points(got.origins),
        got.sites_xy,
        cells,
        buffer_m=a.barrier_buffer_m,
        max_crossings_per_km=a.max_crossings_per_km,
    )
    labels, places = _labels(ctx, ctx.project, got.small)
    findings = br.make_findings(
        tests,
        settings=settings,
        area_labels=labels,
        place_names=places,
        to_wgs84=got.to_wgs84,
        approximate_note=got.note,
        speed_kmh=a.walking_speed_kmh,
    )
    return settings, bars, tests, findings


def area_points(origins: pt.Origins) -> pd.DataFrame:
    """Each small area's mean home point over its children (area_code, x, y), from the
    origins and their counts: sums rounded once (access.measures.weighted_mean)."""
    rows = []
    codes = origins.area_code.astype(str)
    for code in sorted(set(codes)):
        at = codes == code
        w = origins.n[at]
        rows.append(
            {
                "area_code": code,
                "x": ms.weighted_mean(origins.x[at], w),
                "y": ms.weighted_mean(origins.y[at], w),
            }
        )
    return pd.DataFrame(rows, columns=["area_code", "x", "y"])


def _write(
    ctx: RunContext,
    a: AccessSettings,
    got: _Loaded,
    measured: Measured,
    counted: Counted,
    settings: FindingsSettings,
    bars: list[Any],
    tests: Any,
    findings: list[Any],
) -> None:
    """The four store tables and the reach.gpkg layers, from the engine with the working
    point table open (access.engine_sums): ``access_children`` is the children joined to
    their points in SQL, the band counts the engine's sums, the per-area table the cells
    with the reach model's expectations."""
    names = got.small[["area_code", "area_name"]]
    # the centres nearest on foot from each area's middle (area profiles; places, not counts)
    near = nearest_sites_on_foot(
        got.graph, area_middles(got.small, got.crs), got.sites_xy, a.walking_speed_kmh
    )
    barrier_rows = barrier_table(
        bars, a.max_crossings_per_km, tests, findings, got.to_wgs84, got.note
    )
    eng, have = ctx.engine, set(ctx.engine.columns("children"))
    bands = band_table_from_sums(counted.sums, a.band_minutes, got.note, settings=settings)
    cells = counted.cells
    areas = area_table_from_cells(
        cells, cells["expected_full"].to_numpy(), names, a.band_minutes, got.note
    )
    areas = areas.merge(near, on="area_code", how="left")
    with eng.transaction():
        sql = engine_sums.children_sql(eng, have, HOME_SQL, measured.measures)
        eng.replace_table_as("access_children", sql)
        _write_tables(ctx, areas, bands, barrier_rows)
    write_layers(
        ctx.out_dir / GPKG_FILE,
        got.small,
        released_areas(areas, settings),
        bars,
        barrier_rows,
        findings,
        got.to_wgs84,
    )
    # the same walk from the middle of each ward (and other larger area): area profiles
    write_level_walks(
        ctx.out_dir, ctx.project, got.graph, got.small, got.crs, got.sites_xy, a.walking_speed_kmh
    )


def _write_tables(
    ctx: RunContext, areas: pd.DataFrame, bands: pd.DataFrame, barrier_rows: pd.DataFrame
) -> None:
    for name, frame in (
        ("access_areas", areas),
        ("access_bands", bands),
        ("access_barriers", barrier_rows),
    ):
        ctx.engine.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))


def _summary(
    a: AccessSettings,
    got: _Loaded,
    measured: Measured,
    counted: Counted,
    bars: list[Any],
    tests: Any,
    findings: list[Any],
    t_model: float,
    t_bar: float,
) -> dict[str, Any]:
    """run.json's ``access``: whole-borough figures only (the median over children: the
    cells' medians weighted by their children)."""
    cells, full = counted.cells, counted.full
    n = cells["n"].to_numpy(dtype="int64")
    median = ms.weighted_median(cells["walk_min"].to_numpy(dtype="float64"), n)
    return {
        **_network_summary(got),
        "origins": len(measured.points),
        "sites": len(got.sites_xy),
        "children": int(n.sum()),
        "walking_speed_kmh": a.walking_speed_kmh,
        "median_walk_minutes": round(median, 1) if n.sum() else None,
        "driving": measured.drive_info,
        "two_step_fca": {
            "catchment_minutes": a.catchment_minutes,
            "supply": "capacity" if measured.cap_used else "one per site",
        },
        "model": {
            "terms": list(full.terms),
            "children": full.n,
            "converged": full.converged,
        },
        "barriers": {
            "lines": len(bars),
            "candidates": int(sum(b.crossings_per_km <= a.max_crossings_per_km for b in bars)),
            "tests": len(tests),
            "findings": len(findings),
        },
        "seconds": {
            "network": round(got.t_net - got.t0, 3),
            "matrix": round(measured.t_matrix - got.t_net, 3),
            "model": round(t_model - measured.t_matrix, 3),
            "barriers": round(t_bar - t_model, 3),
            "total": round(time.perf_counter() - got.t0, 3),
        },
    }


def _labels(ctx: RunContext, p: Project, small: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Area labels ('Knowsley 004D (Cherryfield)') and place (ward) names by small area."""
    from everyfamily.errors import EveryfamilyError
    from everyfamily.population.geography import load_hierarchy, place_names

    labels = {str(c): str(n) for c, n in zip(small["area_code"], small["area_name"], strict=True)}
    try:
        h = load_hierarchy(p)
    except EveryfamilyError:
        return labels, {}
    places = place_names(h)  # the first larger level the project lists (ward, locality ...)
    for code, place in places.items():
        if code in labels and place not in labels[code]:
            labels[code] = f"{labels[code]} ({place})"
    return labels, places


#: The access stage, declared once (everyfamily.stage).
STAGE = Stage(
    name=NAME,
    zone="analysis",
    order=50,
    run=access_stage,
    reads=("children", "records", "links", "reach_released"),
    may_write=(
        "access_children",
        "access_areas",
        "access_bands",
        "access_barriers",
        "candidate_findings",
    ),
    sections=(
        ReportSection(
            "access", "Access: walking time to the nearest centre", 50, template="access"
        ),
    ),
    overlays=(
        MapOverlay("access_time_bands", "Walking time to the nearest centre (band)"),
        MapOverlay("access_barriers", "Roads and railways with few crossings (barriers)"),
        MapOverlay("access_cut_off", "Areas cut off by a barrier"),
    ),
)
