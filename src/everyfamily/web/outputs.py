"""Reading a run's output folder: the ONE place the dashboard touches files.

Everything the dashboard shows comes from what :func:`load_outputs` reads here (the reach
table, findings.json, run.json, the boundaries in reach.gpkg, the sites file named in the
run's settings, and small aggregate tables of the analysis store opened read-only). When an
output format changes, this module is the one to change. Both stores are encrypted
(``everyfamily.stores``): they are opened with the key run.json points at. The
person-level tables are read separately and only on demand (:func:`read_not_reached`,
:func:`read_children`), so a viewer's requests never load them; names and contact details
(:func:`read_contact_details`) come from the identifiable store, opened for one request and
closed.

Files are read once when the app starts: a run's outputs do not change under it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from everyfamily.catalogue import ANALYSIS
from everyfamily.engines.layout import DUCKDB_ZONE_FILES
from everyfamily.errors import InputError

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

REACH_FILE = "reach.csv"
GPKG_FILE = "reach.gpkg"
FINDINGS_FILE = "findings.json"
RUN_FILE = "run.json"
#: The analysis store's file (the engine's layout, everyfamily.engines.layout)
STORE_FILE = DUCKDB_ZONE_FILES[ANALYSIS]
NOT_REACHED_TABLE = "not_reached"

#: Columns of the reach table read as text (codes that look like numbers stay codes).
_TEXT_COLUMNS = (
    "level",
    "area_code",
    "area_name",
    "dimension",
    "group_value",
    "service",
    "funnel_band",
)


@dataclass(frozen=True)
class AreaShapes:
    """Boundaries of one area level as GeoJSON (EPSG:4326) plus each area's centre point."""

    level: str
    geojson: bytes  # FeatureCollection; properties: area_code, area_name
    centres: dict[str, tuple[float, float]]  # area_code -> (lat, lon) of a point inside it


@dataclass(frozen=True)
class RunOutputs:
    """What one run wrote, as read from its output folder (aggregates only)."""

    out_dir: Path
    reach: pd.DataFrame
    findings: dict[str, Any]
    run: dict[str, Any]
    shapes: dict[str, AreaShapes] = field(default_factory=dict)
    sites: pd.DataFrame = field(default_factory=pd.DataFrame)  # site_id, site_name, lat, lon
    reach_areas: pd.DataFrame = field(default_factory=pd.DataFrame)  # site_id, small_area
    linkage_by_group: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()
    #: level, area_code, small_area (store table area_membership; None for older runs)
    membership: pd.DataFrame | None = None
    overlays: dict[str, bytes] = field(default_factory=dict)  # layer name -> GeoJSON
    #: whether the analysis store holds the outreach list (table not_reached)
    has_outreach_list: bool = False
    #: where a key named by privacy.key_env is looked up (None: os.environ at the time)
    environ: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = self.run.get("settings") or {}
        return settings

    def open_store(self, zone: str) -> Engine:
        """One of the run's stores, read-only, opened with the key the run's settings say
        where to find (from the run.json already read: no second read per request)."""
        return _open_store(self.out_dir, self.run, zone, self.environ)


def _open_store(
    out_dir: Path, run: Mapping[str, Any], zone: str, environ: Mapping[str, str] | None
) -> Engine:
    from everyfamily.stores import open_stores, privacy_of

    privacy = privacy_of(run, out_dir / RUN_FILE)
    return open_stores(out_dir, privacy, zones=(zone,), read_only=True, environ=environ)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no {what}", hint="give the output folder of an everyfamily run"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f", line {line}" if line else ""
        raise InputError(
            f"{path}{where}: {what} is not valid JSON", hint="rerun the pipeline to rewrite it"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: {what} should be a JSON object")
    return data


def read_reach(out_dir: Path) -> pd.DataFrame:
    """The reach table (docs/measures.md), from reach.csv."""
    path = out_dir / REACH_FILE
    if not path.is_file():
        raise InputError(
            f"{path}: no reach table",
            hint="give the output folder of a run that got past the measure stage",
        )
    frame = pd.read_csv(path, dtype={c: "string" for c in _TEXT_COLUMNS}, keep_default_na=True)
    missing = [
        c
        for c in (
            "level",
            "area_code",
            "dimension",
            "group_value",
            "service",
            "denominator",
            "registered",
            "engaged",
        )
        if c not in frame.columns
    ]
    if missing:
        raise InputError(
            f"{path}, column {missing[0]!r}: missing from the reach table",
            hint="rerun the pipeline with this version of everyfamily",
        )
    for c in _TEXT_COLUMNS:
        if c in frame.columns:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    frame["group_value"] = frame["group_value"].fillna("unknown")
    frame["area_name"] = frame["area_name"].fillna(frame["area_code"])
    return frame


def _shapes(out_dir: Path) -> tuple[dict[str, AreaShapes], list[str]]:
    path = out_dir / GPKG_FILE
    if not path.is_file():
        return {}, [f"{GPKG_FILE} not found: the map cannot be drawn"]
    import geopandas as gpd
    import pyogrio

    out: dict[str, AreaShapes] = {}
    for level, _kind in pyogrio.list_layers(path):
        if is_overlay(str(level)):
            continue  # map overlays (access layers), not area levels: see _overlays
        frame = gpd.read_file(path, layer=str(level), columns=["area_code", "area_name"])
        frame = frame.drop_duplicates("area_code").to_crs("EPSG:4326")
        frame = frame[["area_code", "area_name", "geometry"]].sort_values("area_code")
        points = frame.geometry.representative_point()
        centres = {
            str(code): (round(float(p.y), 6), round(float(p.x), 6))
            for code, p in zip(frame["area_code"], points, strict=True)
        }
        text = frame.to_json(drop_id=True, to_wgs84=False)
        out[str(level)] = AreaShapes(str(level), text.encode("utf-8"), centres)
    return out, []


#: Layers of reach.gpkg whose name starts with this are map overlays (the access stage's
#: travel-time bands, barrier lines and areas cut off), served as GeoJSON as they are.
OVERLAY_PREFIX = "access_"
#: The only overlay columns the dashboard serves: no counts of children and no rates of
#: small areas (reach.gpkg holds exact counts; the dashboard releases only controlled ones).
OVERLAY_COLUMNS = frozenset(
    {
        "area_code",
        "area_name",
        "walk_band",
        "median_walk_min",
        "nearest_site_walk",
        "median_detour_ratio",
        "access_2sfca_per_1000",
        "barrier_id",
        "name",
        "kind",
        "length_km",
        "crossings",
        "crossings_per_km",
        "candidate",
        "finding",
        "finding_id",
        "headline",
        "approximate_network",
        # the centres nearest on foot from each small area's middle (access/area_walks.py)
        *(f"{c}_{i}" for i in (1, 2, 3) for c in ("walk_site", "walk_m", "walk_min")),
    }
)


def is_overlay(layer: str) -> bool:
    """A reach.gpkg layer that is a map overlay (an ``access_`` layer, or one a stage
    declares: everyfamily.stage.MapOverlay), not an area level."""
    from everyfamily.stage import map_overlays

    return layer.startswith(OVERLAY_PREFIX) or layer in {o.key for o in map_overlays()}


def _overlays(out_dir: Path) -> dict[str, bytes]:
    """Overlay layers of reach.gpkg as GeoJSON (EPSG:4326), by layer name."""
    path = out_dir / GPKG_FILE
    if not path.is_file():
        return {}
    import geopandas as gpd
    import pyogrio

    out: dict[str, bytes] = {}
    for name, _kind in pyogrio.list_layers(path):
        if not is_overlay(str(name)):
            continue
        frame = gpd.read_file(path, layer=str(name)).to_crs("EPSG:4326")
        frame = frame[[c for c in frame.columns if c in OVERLAY_COLUMNS] + ["geometry"]]
        out[str(name)] = frame.to_json(drop_id=True, to_wgs84=False).encode("utf-8")
    return out


#: The overlay of the communities stage (communities.json): the areas of each emerging
#: community, with its group and headline (released text; no counts of its own).
COMMUNITY_OVERLAY = "communities_emerging"


def _community_overlay(
    out_dir: Path, run: dict[str, Any], shapes: dict[str, AreaShapes]
) -> dict[str, bytes]:
    """The emerging-community areas as a GeoJSON overlay; none when nothing was found."""
    path = out_dir / "communities.json"
    level = str(((run.get("settings") or {}).get("geography") or {}).get("small_area_level", ""))
    if not path.is_file() or level not in shapes:
        return {}
    doc = _read_json(path, "emerging communities (communities.json)")
    features = json.loads(shapes[level].geojson).get("features", [])
    by_code = {str(f["properties"].get("area_code")): f for f in features}
    out = []
    for c in doc.get("communities", []):
        for code in c.get("areas", []):
            f = by_code.get(str(code))
            if f is None:
                continue
            props = {
                "area_code": str(code),
                "area_name": f["properties"].get("area_name"),
                "group": c.get("group_label"),
                "finding_id": c.get("id"),
                "headline": c.get("headline"),
            }
            out.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    if not out:
        return {}
    return {COMMUNITY_OVERLAY: json.dumps({"type": "FeatureCollection", "features": out}).encode()}


def _sites(run: dict[str, Any], reach: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Sites with their location, from the sites file named in the run's settings; names
    fall back to the reach table's reach-area names when the file has moved."""
    cols = ["site_id", "site_name", "lat", "lon"]
    block = (run.get("settings") or {}).get("sites")
    if block:
        from pydantic import ValidationError

        from everyfamily.config import SitesSettings
        from everyfamily.errors import EveryfamilyError
        from everyfamily.population.attributes import load_sites

        try:
            frame = load_sites(SitesSettings.model_validate(block))
            frame = frame.rename(columns={"latitude": "lat", "longitude": "lon"})
            return frame[cols].reset_index(drop=True), []
        except (EveryfamilyError, ValidationError, KeyError):
            warning = "the sites file could not be read: sites are listed without locations"
    else:
        warning = "the run lists no sites"
    named = reach.loc[reach["level"] == "reach_area", ["area_code", "area_name"]]
    named = named.drop_duplicates("area_code").rename(
        columns={"area_code": "site_id", "area_name": "site_name"}
    )
    named["lat"] = math.nan
    named["lon"] = math.nan
    return named[cols].reset_index(drop=True), [warning]


def _no_reach_areas() -> pd.DataFrame:
    return pd.DataFrame({"site_id": [], "small_area": []})


@dataclass(frozen=True)
class _StoreTables:
    reach_areas: pd.DataFrame = field(default_factory=_no_reach_areas)
    linkage_by_group: pd.DataFrame | None = None
    membership: pd.DataFrame | None = None
    has_outreach_list: bool = False
    warnings: tuple[str, ...] = ()


def _store_tables(
    out_dir: Path, run: Mapping[str, Any], environ: Mapping[str, str] | None
) -> _StoreTables:
    """Small aggregate tables of the analysis store (reach areas, linkage quality by group,
    the area membership the release used) and whether it holds the outreach list; the store
    is opened read-only and closed at once.

    A key that cannot be loaded, or a wrong one, raises :class:`PrivacyError` (so ``serve``
    stops at start with its one line); a store another process holds is a warning."""
    from everyfamily.catalogue import ANALYSIS
    from everyfamily.engines.layout import zone_file
    from everyfamily.errors import EngineError

    if not zone_file(out_dir, ANALYSIS).is_file():
        return _StoreTables(
            warnings=(f"{STORE_FILE} not found: reach-area membership is not shown",)
        )
    try:
        engine = _open_store(out_dir, run, ANALYSIS, environ)
    except EngineError:
        return _StoreTables(
            warnings=(f"{STORE_FILE} could not be opened read-only (is a run writing it?)",)
        )
    try:
        tables = set(engine.tables(ANALYSIS))
        areas = _no_reach_areas()
        if "reach_areas" in tables:
            areas = engine.query(
                "SELECT site_id, small_area FROM reach_areas ORDER BY site_id, small_area"
            ).to_pandas()
        quality = None
        if "linkage_quality_by_group" in tables:
            quality = engine.query("SELECT * FROM linkage_quality_by_group").to_pandas()
        membership = None
        if "area_membership" in tables:
            membership = engine.query(
                "SELECT level, area_code, small_area FROM area_membership"
            ).to_pandas()
        return _StoreTables(areas, quality, membership, NOT_REACHED_TABLE in tables)
    finally:
        engine.close()


def load_outputs(out_dir: Path, environ: Mapping[str, str] | None = None) -> RunOutputs:
    """Read a run's output folder (aggregates only). Raises :class:`InputError` when the
    folder is not an everyfamily output folder and :class:`PrivacyError` when its analysis
    store cannot be opened with the key run.json points at (``environ``: where to look for a
    key named by ``privacy.key_env``; None is ``os.environ``)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(
            f"{out_dir}: output folder not found",
            hint="give the folder a run wrote (everyfamily demo --out DIR)",
        )
    run = _read_json(out_dir / RUN_FILE, "run metadata (run.json)")
    reach = read_reach(out_dir)
    findings_path = out_dir / FINDINGS_FILE
    if findings_path.is_file():
        findings = _read_json(findings_path, "findings (findings.json)")
        warnings: list[str] = []
    else:
        findings = {"schema_version": None, "generated_at": None, "findings": []}
        warnings = [f"{FINDINGS_FILE} not found: no findings are shown"]
    shapes, w1 = _shapes(out_dir)
    sites, w2 = _sites(run, reach)
    stored = _store_tables(out_dir, run, environ)
    by_group = stored.linkage_by_group
    if by_group is None:
        by_group = _linkage_by_group_from_run(run)
    return RunOutputs(
        out_dir=out_dir,
        reach=reach,
        findings=findings,
        run=run,
        shapes=shapes,
        sites=sites,
        reach_areas=stored.reach_areas,
        linkage_by_group=by_group,
        warnings=tuple(warnings + w1 + w2) + stored.warnings,
        membership=stored.membership,
        has_outreach_list=stored.has_outreach_list,
        environ=environ,
        overlays={**_overlays(out_dir), **_community_overlay(out_dir, run, shapes)},
    )


def _linkage_by_group_from_run(run: dict[str, Any]) -> pd.DataFrame | None:
    """Linkage quality by group when the run recorded it (only runs with a known truth)."""
    link = run.get("linkage") or {}
    for holder in (link.get("quality") or {}, link):
        rows = holder.get("by_group") if isinstance(holder, dict) else None
        if rows:
            return pd.DataFrame(rows)
    return None


def read_not_reached(outputs: RunOutputs) -> pd.DataFrame:
    """The person-level list of children not reached (pseudonymised; analysis store table
    ``not_reached``), as text. Callers must have checked the permission first; nothing here
    logs a value."""
    frame = _read_analysis_table(outputs, NOT_REACHED_TABLE, "the outreach list")
    if "person_id" not in frame.columns:
        raise InputError(f"{outputs.out_dir}, table {NOT_REACHED_TABLE!r}: no column 'person_id'")
    return frame


#: Columns of the analysis table ``children`` the record-level view may show: pseudonyms,
#: month and year of birth, the small area, groups and reach; never a name or a full date.
RECORD_COLUMNS: tuple[str, ...] = (
    "person_id",
    "family_id",
    "month_of_birth",
    "age_years",
    "sex",
    "area_code",
    "ethnicity",
    "ethnicity_broad",
    "main_language",
    "mother_region_of_birth",
    "imd_decile",
    "idaci_decile",
    "known",
    "known_by",
    "registered",
    "registered_sites",
    "engaged",
    "engaged_sites",
    "nearest_site",
    "nearest_site_distance_m",
    "in_age_range",
    "birth_record_quarantined",
)


def read_children(outputs: RunOutputs) -> pd.DataFrame:
    """The pseudonymised record-level table ``children`` (the :data:`RECORD_COLUMNS` it has;
    the store keeps the month of birth only). Callers check the permission."""
    engine = _open_analysis_or_fail(outputs, "children", "the record-level table")
    try:
        q = engine.dialect.quote_ident
        have = set(engine.columns("children"))
        cols = [c for c in RECORD_COLUMNS if c in have]
        sql = f"SELECT {', '.join(q(c) for c in cols)} FROM {q('children')}"
        order = f" ORDER BY {q('area_code')}, {q('person_id')}"
        records: pd.DataFrame = engine.query(sql + order).to_pandas()
        return records
    finally:
        engine.close()


#: Each child's nearest centre on foot over the access stage's walking network (store table
#: ``access_children``): the columns the outreach list shows.
WALK_COLUMNS: tuple[str, ...] = ("person_id", "nearest_site_walk", "walk_m", "walk_min")


def read_walks(outputs: RunOutputs) -> pd.DataFrame:
    """Each child's nearest centre on foot, walking distance (m) and time (min), from the
    access stage's ``access_children`` (pseudonymised, restricted: callers check the
    permission). Empty (with :data:`WALK_COLUMNS`) when the run has no walking network."""
    from everyfamily.catalogue import ANALYSIS

    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in WALK_COLUMNS})
    engine = outputs.open_store(ANALYSIS)
    try:
        if not engine.has_table("access_children"):
            return empty
        if not set(WALK_COLUMNS) <= set(engine.columns("access_children")):
            return empty
        q = engine.dialect.quote_ident
        sql = f"SELECT {', '.join(q(c) for c in WALK_COLUMNS)} FROM {q('access_children')}"
        walks: pd.DataFrame = engine.query(sql).to_pandas()
    finally:
        engine.close()
    return walks.astype({"person_id": str}).drop_duplicates("person_id")


def _open_analysis_or_fail(outputs: RunOutputs, table: str, what: str) -> Engine:
    from everyfamily.catalogue import ANALYSIS

    engine = outputs.open_store(ANALYSIS)
    if not engine.has_table(table):
        engine.close()
        raise InputError(
            f"{outputs.out_dir}, table {table!r}: no {what}",
            hint="rerun the pipeline: the measure stage writes it",
        )
    return engine


def _read_analysis_table(outputs: RunOutputs, table: str, what: str) -> pd.DataFrame:
    engine = _open_analysis_or_fail(outputs, table, what)
    try:
        frame = engine.query(f"SELECT * FROM {engine.dialect.quote_ident(table)}").to_pandas()
    finally:
        engine.close()
    # as text, as the CSV it replaces was read: codes stay codes, missing values are ''
    text: pd.DataFrame = frame.astype("string").fillna("").astype(object)
    return text


def read_contact_details(outputs: RunOutputs, person_ids: Sequence[str]) -> pd.DataFrame:
    """Names and contact details of these children (re-identification), from the
    identifiable store opened read-only for this call and closed before returning: nothing
    identifiable stays open or cached. Callers must have checked the permission, scoped the
    ids to the user's areas and written the audit entry first."""
    from everyfamily.catalogue import IDENTIFIABLE
    from everyfamily.privacy.reidentify import contact_details

    engine = outputs.open_store(IDENTIFIABLE)
    try:
        return contact_details(engine, person_ids)
    finally:
        engine.close()
