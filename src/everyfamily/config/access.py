"""``access:``: street networks, travel times and barriers."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from everyfamily.config.base import Strict

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
