"""``geography:``: small areas, boundaries, the postcode lookup, the hierarchy."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from everyfamily.config.base import Strict


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
