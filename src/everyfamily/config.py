"""The project file: one YAML document that describes a council's data.

It is read and validated once, here, at the edge. Every setting is a field of a pydantic
model below with a description; docs/settings.md is generated from these models
(``everyfamily settings-doc``) and a test checks the two agree. Unknown or misspelt keys are
rejected with the key, the file and the line.

Relative paths in the file are resolved against the file's own folder, so a project folder
can be moved or zipped as a whole.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from everyfamily.errors import ConfigError
from everyfamily.schema import (
    CANONICAL_NAMES,
    CONSTANT_FIELDS,
    IDENTITY_ALTERNATIVES,
    KNOWN_ROLES,
    ServiceType,
)


class Strict(BaseModel):
    """Base for every settings block: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectInfo(Strict):
    name: str = Field(description="Name of the council or project, shown on every output.")
    area_name: str | None = Field(
        None, description="Name of the place (e.g. 'Knowsley'); defaults to the project name."
    )
    reference_date: dt.date = Field(
        description="The date reach is measured on (ages and the engagement window end here)."
    )
    attribution: list[str] = Field(
        default_factory=list,
        description="Attribution lines for open data used (e.g. OGL v3); shown on every output "
        "(default none).",
    )


class AreaLayer(Strict):
    path: Path = Field(description="Boundary file (GeoJSON, GeoPackage, shapefile) of the areas.")
    code_column: str = Field(description="Column holding the area code.")
    name_column: str | None = Field(None, description="Column holding the area name.")
    layer: str | None = Field(None, description="Layer name inside a GeoPackage.")
    levels: dict[str, str] = Field(
        default_factory=dict,
        description="Small-area layer only: larger area levels read from this file's own "
        "columns, level name -> column of its code (e.g. ward: ward24_code, locality: LOC_ID). "
        "Any level name works; a `geography.hierarchy` file may add other levels.",
    )
    level_names: dict[str, str] = Field(
        default_factory=dict,
        description="Small-area layer only: level name -> column of its name "
        "(e.g. ward: ward24_name). Levels without one get names built from a named level "
        "(docs/geography.md).",
    )


class PostcodeLookup(Strict):
    path: Path = Field(description="CSV of postcodes with their small area and centroid.")
    postcode_column: str = Field("postcode", description="Column holding the postcode.")
    area_column: str = Field(description="Column holding the small-area (e.g. LSOA) code.")
    latitude_column: str | None = Field("lat", description="Column of the centroid latitude.")
    longitude_column: str | None = Field("lon", description="Column of the centroid longitude.")


class AreaHierarchy(Strict):
    path: Path = Field(
        description="File mapping each small area to larger areas: a CSV, or a boundary file "
        "(GeoJSON, GeoPackage, shapefile) whose columns hold the codes (geometry unused)."
    )
    layer: str | None = Field(None, description="Layer name inside a GeoPackage.")
    area_column: str = Field(description="Column holding the small-area code.")
    levels: dict[str, str] = Field(
        default_factory=dict,
        description="Larger area levels: level name -> column of its code (e.g. ward: WD19CD).",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="Optional: level name -> column of its name (e.g. ward: WD19NM).",
    )


class AreaNames(Strict):
    path: Path = Field(description="CSV of area codes and their names.")
    code_column: str = Field(description="Column holding the area code.")
    name_column: str = Field(description="Column holding the area name.")


class GeographySettings(Strict):
    small_area_level: str = Field(
        "lsoa", description="Name of the small-area level everything is built on."
    )
    small_areas: AreaLayer = Field(description="Boundaries of the small areas.")
    postcode_lookup: PostcodeLookup = Field(description="Postcode to small-area lookup.")
    hierarchy: AreaHierarchy | None = Field(
        None, description="Small area to larger areas (ward, MSOA ...)."
    )
    boundaries: dict[str, AreaLayer] = Field(
        default_factory=dict,
        description="Extra boundary layers by level name (e.g. ward, borough), for maps.",
    )
    area_names: dict[str, AreaNames] = Field(
        default_factory=dict,
        description="Names for a level's areas from a lookup by area code, level name -> "
        "file (e.g. msoa: the House of Commons Library MSOA names CSV, OGL). A name found "
        "there wins over the boundary or hierarchy file's; areas it lacks keep theirs, or a "
        "built 'ward name (code)' name.",
    )
    level_labels: dict[str, str] = Field(
        default_factory=dict,
        description="How a level is called on the dashboard and in the report, level name -> "
        "plural label (e.g. neighbourhood: Neighbourhoods). Unlisted levels get a label from "
        "their name (lsoa: 'Small areas (LSOA)', locality: 'Localities').",
    )
    projected_crs: str = Field(
        "EPSG:27700",
        description="Projected CRS (metres) for distances; British National Grid for England.",
    )

    @model_validator(mode="after")
    def _levels_on_the_small_areas_only(self) -> GeographySettings:
        for name, layer in self.boundaries.items():
            if layer.levels or layer.level_names:
                raise ValueError(
                    f"boundaries.{name}: levels and level_names belong to small_areas (the "
                    "file whose rows are the small areas)"
                )
        if self.small_area_level in self.small_areas.levels:
            raise ValueError(
                f"small_areas.levels: {self.small_area_level!r} is the small-area level itself"
            )
        return self


class BirthsSettings(Strict):
    path: Path = Field(description="CSV of births by small area and calendar year.")
    area_column: str = Field(description="Column holding the small-area code.")
    year_column: str = Field(description="Column holding the calendar year of birth.")
    births_column: str = Field(description="Column holding the number of births.")


class PopulationSettings(Strict):
    path: Path = Field(description="CSV of small-area population estimates.")
    area_column: str = Field(description="Column holding the small-area code.")
    age_columns: dict[int, str] = Field(
        description="Single year of age -> column of its count (ages 0 to 4 at least)."
    )
    vintage: str = Field(description="What the estimates are, e.g. 'ONS mid-2020 (SAPE23DT2)'.")
    as_at: dt.date | None = Field(
        None,
        description="The date the estimates describe (ONS mid-year estimates: 30 June of the "
        "year, e.g. 2020-06-30). Compared with project.reference_date: a gap of more than a "
        "year is a loud warning. Without it the year is read from `vintage` ('mid-2020') "
        "where it can be, else the gap cannot be checked (also a warning).",
    )
    projection: Literal["none", "age_forward"] = Field(
        "none",
        description="How to bring the estimates to the reference date. 'none': use them as "
        "they are. 'age_forward': age each single-year cohort forward by the whole years "
        "between as_at and the reference date; cohorts born since come from `births` when "
        "given, else are assumed the size of the estimate's youngest cohort (no migration "
        "or mortality adjustment: docs/measures.md).",
    )
    births: BirthsSettings | None = Field(
        None,
        description="Optional registered births by small area and calendar year (e.g. ONS "
        "births by LSOA, or the council's own), used by projection 'age_forward' for the "
        "cohorts born after the estimate.",
    )


class DeprivationSettings(Strict):
    path: Path = Field(description="CSV of deprivation by small area (e.g. IoD2019).")
    area_column: str = Field(description="Column holding the small-area code.")
    imd_decile_column: str | None = Field(
        None, description="Column of the IMD decile (1 = most deprived)."
    )
    idaci_decile_column: str | None = Field(None, description="Column of the IDACI decile.")
    vintage: str = Field(description="What the index is, e.g. 'English IoD2019'.")


class SitesSettings(Strict):
    path: Path = Field(description="CSV of service sites (children's centres, family hubs).")
    id_column: str = Field("site_id", description="Column holding the site id.")
    name_column: str = Field("name", description="Column holding the site name.")
    latitude_column: str = Field("lat", description="Column of the site latitude (WGS84).")
    longitude_column: str = Field("lon", description="Column of the site longitude (WGS84).")
    reach_areas_column: str | None = Field(
        None,
        description="Optional column listing the small areas the site is responsible for, "
        "separated by ';'. Without it each area is given to its nearest site.",
    )
    capacity_column: str | None = Field(None, description="Optional column of weekly capacity.")
    illustrative: bool = Field(
        False,
        description="True when the sites are illustrative, not the real list (said on outputs).",
    )


FileFormat = Literal["csv", "excel", "parquet", "database"]


class SourceOptions(Strict):
    encoding: str | None = Field(
        None, description="CSV text encoding (e.g. utf-8, cp1252); detected when absent."
    )
    delimiter: str | None = Field(None, description="CSV delimiter; sniffed when absent.")
    sheet: str | None = Field(None, description="Excel sheet name; the first sheet when absent.")
    table: str | None = Field(None, description="Database table to read.")
    query: str | None = Field(None, description="Database SQL query to read (instead of table).")
    skip_rows: int = Field(0, ge=0, description="Lines to skip before the header row.")


class SourceSettings(Strict):
    name: str = Field(description="Short unique name of the source, e.g. 'births'.")
    role: str = Field(
        description="births, health_visiting, registrations, attendances, or another role "
        "(then give service_type)."
    )
    service_type: ServiceType | None = Field(
        None, description="universal or targeted; implied by the built-in roles."
    )
    max_quarantined_share: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Stop the run (before loading anything of this source) when more than "
        "this share of its rows would be quarantined: a wrong date format or column map, "
        "not bad data. 1.0 never stops.",
    )
    path: Path | None = Field(None, description="File to read (CSV, Excel, Parquet).")
    url: str | None = Field(
        None, description="Database connection URL (SQLAlchemy), for format 'database'."
    )
    format: FileFormat | None = Field(
        None, description="csv, excel, parquet or database; from the file name when absent."
    )
    options: SourceOptions = Field(default_factory=SourceOptions, description="Reading options.")
    columns: dict[str, str] = Field(
        description="Canonical field -> the source's column name (docs/input-contract.md)."
    )
    date_formats: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical date field -> strptime format, e.g. date_of_birth: '%d/%m/%Y'.",
    )
    value_maps: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Canonical field -> {source value: canonical value}, e.g. sex codes, "
        "ethnicity codes onto ONS 2021, site names onto site ids.",
    )
    keep_columns: list[str] = Field(
        default_factory=list,
        description="Extra source columns to keep (stored as JSON); default none.",
    )
    constants: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical field -> one value for every row of this source, for a field "
        "the export has no column for, e.g. event_type: registration. Read like a column "
        "(value maps, date formats). Allowed: sex, mother_country_of_birth, main_language, "
        "ethnicity, interpreter_needed, event_date, event_type, site.",
    )
    extra_missing_values: list[str] = Field(
        default_factory=list,
        description="More values meaning 'not recorded' in this source's coded fields. "
        "EXTENDS the built-in list (Not known, Not stated, Unknown, Refused, N/K ...: "
        "docs/code-lists.md); it does not replace it.",
    )
    extra_placeholder_names: list[str] = Field(
        default_factory=list,
        description="More placeholder names read as missing (a trailing * matches any name "
        "starting with the words before it). EXTENDS the built-in list (BABY, UNNAMED, "
        "TWIN 1, BABY OF* ...: docs/code-lists.md); it does not replace it.",
    )
    purpose: str | None = Field(
        None,
        description="Governance: why this source is used (data-flow register, DPIA draft).",
    )
    lawful_basis: str | None = Field(
        None,
        description="Governance: the UK GDPR Article 6 (and Article 9, if health data) basis, "
        "as the council's DPO records it.",
    )
    retention: str | None = Field(
        None, description="Governance: how long extracts of this source are kept, and why."
    )

    @model_validator(mode="after")
    def _check(self) -> SourceSettings:
        unknown = sorted(set(self.columns) - set(CANONICAL_NAMES))
        if unknown:
            raise ValueError(
                f"columns: {unknown[0]!r} is not a canonical field"
                f"{_did_you_mean(unknown[0], CANONICAL_NAMES)}"
            )
        for required in ("record_id", "date_of_birth"):
            if required not in self.columns:
                raise ValueError(f"columns: the required field {required!r} is not mapped")
        if not any(all(f in self.columns for f in alt) for alt in IDENTITY_ALTERNATIVES):
            raise ValueError("columns: map first_name and last_name, or nhs_number")
        for field in self.constants:
            if field not in CANONICAL_NAMES:
                raise ValueError(
                    f"constants: {field!r} is not a canonical field"
                    f"{_did_you_mean(field, CONSTANT_FIELDS)}"
                )
            if field not in CONSTANT_FIELDS:
                raise ValueError(
                    f"constants: {field!r} identifies a person or a row and cannot be a "
                    f"constant (allowed: {', '.join(CONSTANT_FIELDS)})"
                )
            if field in self.columns:
                raise ValueError(
                    f"constants: {field!r} is also mapped in columns; keep one of the two"
                )
            if not self.constants[field].strip():
                raise ValueError(f"constants: {field!r} is empty; give a value or remove it")
        if self.role not in KNOWN_ROLES and self.service_type is None:
            raise ValueError(
                f"role {self.role!r} is not built in: give service_type universal or targeted"
            )
        if self.path is None and self.url is None:
            raise ValueError("give a path (file) or a url (database)")
        return self

    @property
    def kind(self) -> ServiceType:
        return self.service_type or KNOWN_ROLES[self.role]

    @property
    def file_format(self) -> FileFormat:
        if self.format is not None:
            return self.format
        if self.url is not None:
            return "database"
        suffix = (self.path.suffix if self.path else "").lower()
        by_suffix: dict[str, FileFormat] = {
            ".xlsx": "excel",
            ".xlsm": "excel",
            ".parquet": "parquet",
            ".pq": "parquet",
        }
        return by_suffix.get(suffix, "csv")


class EngagementSettings(Strict):
    min_attendances: int = Field(
        3, ge=1, description="Attendances within the window that count as sustained engagement."
    )
    window_months: int = Field(
        12,
        ge=1,
        le=60,
        description="Length of the engagement window, ending on the reference date.",
    )
    min_age_years: int = Field(0, ge=0, description="Youngest age (years) counted as under-five.")
    max_age_years: int = Field(4, ge=0, le=18, description="Oldest age (years) counted.")


class LinkageSettings(Strict):
    match_threshold: float = Field(
        0.9, gt=0, lt=1, description="Match probability at or above which two records are linked."
    )
    family_threshold: float = Field(
        0.8, gt=0, lt=1, description="Match probability for grouping children into families."
    )
    model_path: Path | None = Field(
        None, description="A saved Splink model (JSON) to reuse instead of training."
    )
    blocking_rules: list[str] | None = Field(
        None, description="Splink blocking rules (SQL) replacing the defaults."
    )
    seed: int = Field(42, description="Seed for Splink's sampling (u estimation).")
    max_pairs_for_u: float = Field(
        2e6, gt=0, description="Pairs sampled at random to estimate u probabilities."
    )
    max_pairs_for_em: float = Field(
        5e6,
        gt=0,
        description="Most blocked pairs used by each expectation-maximisation pass (sampled).",
    )
    review_min_probability: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Pairs scored at or above this are kept for the clerical-review sample.",
    )
    clerical_review_per_band: int = Field(
        20, ge=0, description="Pairs sampled per probability band for clerical review."
    )
    previous_ids_path: Path | None = Field(
        None,
        description="Id registry of an earlier run whose child and family ids to keep, as "
        "written by `everyfamily extract OLD_OUT id_registry --to FILE.parquet` (default: the "
        "store's id_registry table when the output folder is reused).",
    )


RoundingRule = Literal["midpoint6", "nearest5", "none"]


class PrivacySettings(Strict):
    suppress_at_or_below: int = Field(
        7, ge=0, description="Released counts at or below this are suppressed (OpenSAFELY: 7)."
    )
    rounding: RoundingRule = Field(
        "midpoint6", description="Rounding of released counts: midpoint6, nearest5 or none."
    )
    release_method: Literal["cell_key", "suppress_round"] = Field(
        "cell_key",
        description="How released counts are protected: cell_key (ONS/ABS cell key "
        "perturbation, consistent in every table; docs/privacy.md) or suppress_round "
        "(primary and secondary suppression, then rounding).",
    )
    key_env: str = Field(
        "EVERYFAMILY_KEY",
        description="Environment variable holding the pseudonymisation key (never the key itself).",
    )
    key_file: Path | None = Field(
        None, description="File holding the pseudonymisation key, kept apart from the data."
    )
    encrypt_at_rest: bool = Field(
        True,
        description="Encrypt both stores of a run (AES-GCM, keys derived from the "
        "pseudonymisation key). Turn off only where the disk itself is encrypted.",
    )


class OutputSettings(Strict):
    dir: Path | None = Field(None, description="Output folder; --out overrides it.")
    basemap_url: str | None = Field(
        None,
        description="Optional XYZ tile URL template for dashboard maps (closed networks omit it).",
    )


class WebSettings(Strict):
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (10.0.0.5, 10.0.0.0/24) of reverse proxies in front "
        "of the dashboard whose X-Forwarded-For header names the client for the login rate "
        "limit. Default none: the header is ignored (a client could forge it).",
    )

    @model_validator(mode="after")
    def _networks(self) -> WebSettings:
        import ipaddress

        for value in self.trusted_proxies:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network") from None
        return self


NetworkFormat = Literal["osm_pbf", "lines"]


class NetworkFile(Strict):
    path: Path = Field(
        description="Street network file: an OpenStreetMap extract (.osm.pbf, read with pyrosm) "
        "or a line layer (GeoPackage, GeoJSON, shapefile) with a road-class column."
    )
    format: NetworkFormat | None = Field(
        None, description="osm_pbf or lines; from the file name when absent (.pbf is osm_pbf)."
    )
    layer: str | None = Field(None, description="Layer name inside a GeoPackage (line layers).")
    class_column: str = Field(
        "highway",
        description="Line layers: column of the road class (OSM-style values: motorway, trunk, "
        "primary, residential, footway, rail ...).",
    )
    name_column: str | None = Field(
        None, description="Line layers: optional column of the road name or number (e.g. 'M57')."
    )
    split_crossings: bool = Field(
        False,
        description="Line layers whose lines cross without sharing end points (council GIS "
        "exports, digitised paths): split the lines where they cross, so that a crossing is a "
        "junction. Not where one line is a bridge or tunnel (bridge_column) or of a class in "
        "access.no_junction_classes. Leave false for topologically structured data (OS Open "
        "Roads, OSM), which already meets at line ends.",
    )
    bridge_column: str | None = Field(
        None,
        description="Line layers with split_crossings: optional column marking bridges and "
        "tunnels (any value but blank, no, false, 0, n); such lines join others only at their "
        "end points.",
    )

    @model_validator(mode="after")
    def _bridges_need_splitting(self) -> NetworkFile:
        if self.bridge_column is not None and not self.split_crossings:
            raise ValueError(
                "bridge_column is used only with split_crossings: true (without it, lines "
                "join only at their end points and a bridge never joins what it crosses)"
            )
        return self


class ApproximateNetworkSettings(Strict):
    barriers: Path | None = Field(
        None,
        description="Line layer (GeoPackage, GeoJSON, shapefile) of what divides places: "
        "motorways, railways, rivers. No path crosses its lines except at their crossings. "
        "Absent: no barriers.",
    )
    layer: str | None = Field(None, description="Layer name inside a barriers GeoPackage.")
    class_column: str = Field(
        "highway",
        description="Column of the barrier layer holding its class (motorway, rail, river ...), "
        "matched against barrier_classes and not_walkable_classes.",
    )
    name_column: str | None = Field(
        None, description="Optional column of the barrier's name or number (e.g. 'M57')."
    )
    crossings_at_vertices: bool = Field(
        True,
        description="Every vertex of a barrier line is a crossing (schematic links drawn "
        "junction to junction, like National Highways' network). Set false for detailed lines "
        "(rivers, railways traced from maps) and give crossings.",
    )
    crossings: Path | None = Field(
        None,
        description="Optional point layer of where barriers can be crossed on foot (bridges, "
        "underpasses, level crossings, junctions).",
    )
    crossings_layer: str | None = Field(
        None, description="Layer name inside a crossings GeoPackage."
    )
    max_edge_m: float = Field(
        1200.0,
        gt=0,
        description="Longest straight path between two neighbouring postcode centroids "
        "(metres); longer ones cross open country, not a walk anyone takes.",
    )


class AccessSettings(Strict):
    networks: list[NetworkFile] = Field(
        default_factory=list,
        description="Network files, read and joined into one network (e.g. roads and railways). "
        "May be left out when approximate_network is given.",
    )
    approximate_network: ApproximateNetworkSettings | None = Field(
        None,
        description="No street network: build an APPROXIMATE one from the postcode lookup's "
        "centroids (straight paths between neighbours) and a barrier layer, crossable only at "
        "its crossings (docs/access.md). Every access output then says it is approximate.",
    )
    approximate: bool = Field(
        False,
        description="True when the network is an approximation (not a real street network); "
        "every access output then says so.",
    )
    approximate_note: str | None = Field(
        None, description="What the approximation is, shown with every access output."
    )
    barrier_classes: list[str] = Field(
        default_factory=lambda: [
            "motorway",
            "motorway_link",
            "trunk",
            "trunk_link",
            "rail",
            "river",
            "canal",
        ],
        description="Road, rail or water classes that may cut a community in two (candidate "
        "barriers). A list given here replaces the default (motorway, motorway_link, trunk, "
        "trunk_link, rail, river, canal): to add a class, write the whole list.",
    )
    not_walkable_classes: list[str] = Field(
        default_factory=lambda: ["motorway", "motorway_link", "rail", "railway", "river", "canal"],
        description="Classes no one walks along (crossed only where another way crosses them). "
        "A list given here replaces the default (motorway, motorway_link, rail, railway, river, "
        "canal): repeat the defaults you want to keep.",
    )
    no_junction_classes: list[str] = Field(
        default_factory=lambda: ["motorway", "motorway_link", "rail", "railway", "river", "canal"],
        description="Line layers with split_crossings: classes whose lines are never split "
        "where another line crosses them (a road crossing a motorway, railway or river passes "
        "over or under it). A list given here replaces the default (motorway, motorway_link, "
        "rail, railway, river, canal).",
    )
    walking_speed_kmh: float = Field(
        4.8, gt=0, le=10, description="Walking speed (km/h); 4.8 km/h is the usual planning pace."
    )
    driving: bool = Field(
        False, description="Also compute travel times by car (needs roads in the network)."
    )
    driving_speeds_kmh: dict[str, float] = Field(
        default_factory=lambda: {
            "motorway": 96.0,
            "motorway_link": 48.0,
            "trunk": 64.0,
            "trunk_link": 40.0,
            "primary": 40.0,
            "secondary": 35.0,
            "tertiary": 30.0,
            "residential": 25.0,
            "unclassified": 25.0,
            "living_street": 10.0,
            "service": 15.0,
        },
        description="Driving speed by road class (km/h); classes not listed are not driven on. "
        "A map given here replaces the whole default: motorway 96, trunk 64, primary 40, "
        "secondary 35, tertiary 30, residential and unclassified 25, service 15, "
        "living_street 10 (links at about half).",
    )
    band_minutes: list[float] = Field(
        default_factory=lambda: [10.0, 20.0, 30.0],
        description="Upper limits of the travel-time bands in minutes; a list given here "
        "replaces the default [10, 20, 30] (bands 0-10, 10-20, 20-30 and 30+).",
    )
    use_capacity: bool = Field(
        True,
        description="Weight sites by the sites file's capacity column in the two-step floating "
        "catchment area (every site counts 1 without it).",
    )
    catchment_minutes: float = Field(
        20.0,
        gt=0,
        description="Two-step floating catchment area: walking time within which a family "
        "counts a site as within reach.",
    )
    barrier_buffer_m: float = Field(
        1500.0,
        gt=0,
        description="Small areas whose point lies within this distance of a barrier are "
        "compared across it (metres).",
    )
    max_crossings_per_km: float = Field(
        2.0,
        gt=0,
        description="A road or railway is a candidate barrier when it has at most this many "
        "walkable crossings per km.",
    )
    max_snap_m: float = Field(
        500.0,
        gt=0,
        description="Network check: a home point farther than this (metres) from the main "
        "connected piece of the walking network is far from it.",
    )
    max_share_far_from_network: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Network check: when more than this share of home points is farther than "
        "max_snap_m from the network, the run warns loudly and access findings are withheld.",
    )
    max_share_outside_main_piece: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Network check: when more than this share of the walkable network's length "
        "lies outside its largest connected piece (a network in many disconnected pieces), the "
        "run warns loudly and access findings are withheld.",
    )

    @model_validator(mode="after")
    def _some_network(self) -> AccessSettings:
        if not self.networks and self.approximate_network is None:
            raise ValueError("give networks (network files) or approximate_network")
        return self


class CensusBaselineSettings(Strict):
    path: Path = Field(
        description="CSV of census counts by small area (e.g. Census 2011 ethnic group, LSOA)."
    )
    area_column: str = Field(description="Column holding the small-area code.")
    total_column: str = Field(description="Column holding the area's total population.")
    group_columns: dict[str, list[str]] = Field(
        description="Origin group -> the census columns whose sum is the category holding "
        "the group (e.g. polish: [OtherWhite]); groups not listed are tested against the "
        "rest of the borough instead."
    )
    vintage: str = Field(description="What the counts are, e.g. 'Census 2011 ethnic group'.")


class CommunitiesSettings(Strict):
    enabled: bool = Field(True, description="Look for emerging communities (docs/communities.md).")
    use_names: bool = Field(
        True,
        description="Estimate origin from names where no recorded signal says it (an "
        "area-level estimate, corrected for the classifier's measured error).",
    )
    groups: list[str] | None = Field(
        None,
        description="Origin groups to test; default: all but british_irish and other.",
    )
    min_recent_births: int = Field(
        10, ge=1, description="Fewest recent births in a group for a finding."
    )
    min_rate_ratio: float = Field(
        2.0,
        gt=1,
        description="Smallest rise of the group's share (against earlier years "
        "and against the baseline) for a finding.",
    )
    census_baseline: CensusBaselineSettings | None = Field(
        None,
        description="Optional census counts to compare recent births with; without it each "
        "area is compared with the rest of the borough.",
    )


class Project(Strict):
    project: ProjectInfo = Field(description="Who and when.")
    geography: GeographySettings = Field(description="Areas, postcodes and boundaries.")
    population: PopulationSettings = Field(description="Official population denominators.")
    deprivation: DeprivationSettings | None = Field(None, description="Deprivation by area.")
    sites: SitesSettings | None = Field(None, description="Service sites.")
    sources: Annotated[list[SourceSettings], Field(min_length=1)] = Field(
        description="The council's exports, one entry each."
    )
    engagement: EngagementSettings = Field(
        default_factory=EngagementSettings, description="What counts as sustained engagement."
    )
    linkage: LinkageSettings = Field(default_factory=LinkageSettings, description="Record linkage.")
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, description="Privacy.")
    outputs: OutputSettings = Field(default_factory=OutputSettings, description="Outputs.")
    web: WebSettings = Field(default_factory=WebSettings, description="The web dashboard.")
    communities: CommunitiesSettings = Field(
        default_factory=CommunitiesSettings, description="Emerging communities."
    )
    access: AccessSettings | None = Field(
        None, description="Travel times to sites and barriers (street network files)."
    )

    @model_validator(mode="after")
    def _unique_sources(self) -> Project:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"two sources are named {s.name!r}: names must be unique")
            seen.add(s.name)
        return self

    def source(self, name: str) -> SourceSettings:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


# --- Loading -------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key and sequence item."""


#: Bounds on a project file's shape. A real project file has a few hundred values nested a
#: few levels deep; YAML aliases can make a few lines expand to billions of values ("billion
#: laughs") and deep nesting exhausts the parser's recursion, so both are refused, in one
#: line, before anything walks the expanded document.
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 40


def _load_with_lines(text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except RecursionError:
        raise ConfigError(
            f"the project file is nested too deeply (more than {MAX_YAML_DEPTH} levels)",
            hint="a project file needs only a few levels of settings",
        ) from None
    lines: dict[tuple[Any, ...], int] = {}
    visited = 0

    def walk(n: yaml.Node | None, path: tuple[Any, ...]) -> None:
        nonlocal visited
        if n is None:
            return
        visited += 1
        if visited > MAX_YAML_NODES:
            raise ConfigError(
                f"line {n.start_mark.line + 1}: the project file expands to more than "
                f"{MAX_YAML_NODES:,} values (YAML anchors and aliases repeated inside each "
                "other)",
                hint="write the settings out instead of nesting aliases",
            )
        if len(path) > MAX_YAML_DEPTH:
            raise ConfigError(
                f"line {n.start_mark.line + 1}: the project file is nested more than "
                f"{MAX_YAML_DEPTH} levels deep",
                hint="a project file needs only a few levels of settings",
            )
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = (
                    yaml.safe_load(yaml.serialize(k))
                    if not isinstance(k, yaml.ScalarNode)
                    else k.value
                )
                lines[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    walk(node, ())
    return yaml.load(text, Loader=_LineLoader), lines  # noqa: S506 - SafeLoader subclass


def read_project_yaml(text: str) -> Any:
    """A project file's YAML as plain data, read with :func:`load_project`'s bounds (depth,
    number of values: no alias bombs), for tools that rewrite a project file (``init``)."""
    return _load_with_lines(text)[0]


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    # pydantic reports int keys (age_columns) as ints; YAML keys may be strings or ints.
    for end in range(len(loc), -1, -1):
        prefix = loc[:end]
        for candidate in (prefix, tuple(str(p) for p in prefix)):
            if candidate in lines:
                return lines[candidate]
    return None


def _resolve_paths(obj: Any, base: Path) -> Any:
    """Make every relative ``path``/``*_path``/``key_file`` value absolute against ``base``."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if (
                isinstance(v, str)
                and isinstance(k, str)
                and (k in {"path", "key_file", "dir"} or k.endswith("_path"))
            ):
                p = Path(v).expanduser()
                out[k] = str(p if p.is_absolute() else (base / p))
            else:
                out[k] = _resolve_paths(v, base)
        return out
    if isinstance(obj, list):
        return [_resolve_paths(v, base) for v in obj]
    return obj


def parse_project(
    text: str, *, filename: str = "project.yaml", base_dir: Path | None = None
) -> Project:
    """Validate a project file's text. Raises :class:`ConfigError` naming file and line."""
    try:
        data, lines = _load_with_lines(text)
    except ConfigError as exc:
        raise ConfigError(f"{filename}, {exc.message}", hint=exc.hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(
            f"{filename}{where}: {problem}", hint="check indentation and quoting"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}: the project file must be a YAML mapping of settings")
    if base_dir is not None:
        data = _resolve_paths(data, base_dir)
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        # A misspelt key shows up twice: as unknown, and as the required key it was meant to be.
        # The unknown one is the useful message, so it goes first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        detail = err["msg"].removeprefix("Value error, ")
        # A cross-field check says which key it is about ("columns: ..."): point at that key.
        head = detail.split(":", 1)[0]
        line = _line_for((*loc, head), lines) if head.isidentifier() else _line_for(loc, lines)
        where = f"{filename}, line {line}" if line else filename
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = loc[-1]
            parent_model = _model_at(Project, loc[:-1])
            options = list(parent_model.model_fields) if parent_model else []
            msg = f"{where}: unknown setting {dotted!r}{_did_you_mean(str(key), options)}"
        elif err["type"] == "missing":
            msg = f"{where}: the setting {dotted!r} is required"
        else:
            msg = f"{where}: {dotted}: {detail}"
        more = len(exc.errors()) - 1
        raise ConfigError(
            msg,
            hint=(f"{more} more problem(s) after this one; " if more else "")
            + "see docs/settings.md",
        ) from None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that a pydantic error location points into (for suggestions)."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        for _ in range(3):  # unwrap Optional[...] / list[...] / Annotated
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                break
            ann = args[0] if args else ann
        current = ann
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def load_project(path: str | Path) -> Project:
    """Read and validate a project file; relative paths resolve against its folder."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: project file not found", hint="give the path to your project YAML")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: the project file is not UTF-8 text") from None
    return parse_project(text, filename=str(p), base_dir=p.resolve().parent)
