"""The geography loaders on the bundled Knowsley open data, and point-in-polygon placing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from everyfamily.config import AreaHierarchy, AreaLayer, AreaNames, GeographySettings
from everyfamily.errors import ConfigError, InputError
from everyfamily.population import geography

from .conftest import AREAS, LOOKUP, OPENDATA


def _settings(**over: object) -> GeographySettings:
    data: dict[str, object] = {
        "small_areas": {"path": str(AREAS), "code_column": "lsoa11cd", "name_column": "lsoa11nm"},
        "postcode_lookup": {"path": str(LOOKUP), "area_column": "lsoa11cd_spatial"},
        "hierarchy": {
            "path": str(OPENDATA / "lookups/lsoa2011_to_ward2019_knowsley.csv"),
            "area_column": "LSOA11CD",
            "levels": {"ward": "WD19CD"},
            "names": {"ward": "WD19NM"},
        },
    }
    data.update(over)
    return GeographySettings.model_validate(data)


def test_small_areas() -> None:
    areas = geography.load_small_areas(_settings())
    assert list(areas.columns) == ["area_code", "area_name", "geometry"]
    assert len(areas) == 98  # Knowsley's 2011 LSOAs (PROVENANCE.md)
    assert areas.crs.to_epsg() == 4326
    assert areas.set_index("area_code").loc["E01006412", "area_name"] == "Knowsley 006A"


def test_postcode_lookup() -> None:
    lk = geography.load_postcode_lookup(_settings())
    assert list(lk.columns) == ["postcode", "area_code", "latitude", "longitude"]
    row = lk.set_index("postcode").loc["L36 9YA"]
    assert row["area_code"] == "E01006481"
    assert row["latitude"] == pytest.approx(53.41132)
    assert lk["postcode"].is_unique


def test_hierarchy() -> None:
    h = geography.load_hierarchy(_settings())
    assert list(h.columns) == ["area_code", "ward", "ward_name"]
    assert len(h) == 98
    assert h.set_index("area_code").loc["E01006412"].tolist() == ["E05010946", "Stockbridge"]


def test_place_points_agrees_with_lookup() -> None:
    areas = geography.load_small_areas(_settings())
    lk = geography.load_postcode_lookup(_settings()).iloc[::97]
    placed = geography.place_points(lk["latitude"], lk["longitude"], areas)
    agree = np.mean(placed == lk["area_code"].to_numpy())
    assert agree > 0.95  # generalised boundaries: a few centroids sit over an edge
    out = geography.place_points([51.5, np.nan], [-0.12, 0.0], areas)  # London; missing
    assert out.tolist() == [None, None]


def test_missing_column_is_named(tmp_path: Path) -> None:
    s = _settings(postcode_lookup={"path": str(LOOKUP), "area_column": "lsoa99"})
    with pytest.raises(InputError, match="has no column 'lsoa99'; columns are: postcode"):
        geography.load_postcode_lookup(s)


def test_missing_file(tmp_path: Path) -> None:
    s = _settings(small_areas={"path": str(tmp_path / "no.geojson"), "code_column": "x"})
    with pytest.raises(InputError, match="small-area boundary file not found"):
        geography.load_small_areas(s)


# --- a hand-made town: four squares, levels under any name -------------------------------
#
#   neighbourhood  locality (name)   district (no name column)
#   N1             L1 Northwood      D1
#   N2             L1 Northwood      D1
#   N3             L2 Riverside      D1
#   N4             L2 Riverside      D2
#
# District D1 holds two Northwood squares and one Riverside square, so its built name is
# "Northwood (D1)"; D2 is "Riverside (D2)". Squares are 0.01 degrees, side by side.
TOWN = {
    "N1": ("L1", "Northwood", "D1"),
    "N2": ("L1", "Northwood", "D1"),
    "N3": ("L2", "Riverside", "D1"),
    "N4": ("L2", "Riverside", "D2"),
}


def _town_frame() -> object:
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(
        {
            "NBH_CODE": list(TOWN),
            "LOC_ID": [v[0] for v in TOWN.values()],
            "LOC_NAME": [v[1] for v in TOWN.values()],
            "DIST": [v[2] for v in TOWN.values()],
        },
        geometry=[box(-1.0 + 0.01 * i, 52.0, -0.99 + 0.01 * i, 52.01) for i in range(4)],
        crs="EPSG:4326",
    )


def _town(tmp_path: Path, suffix: str = ".geojson", **small: object) -> GeographySettings:
    frame = _town_frame()
    path = tmp_path / f"town{suffix}"
    driver = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}[suffix]
    frame.to_file(path, driver=driver)  # type: ignore[attr-defined]
    (tmp_path / "pc.csv").write_text("pcd,nbh\nAB1 2CD,N1\n", encoding="utf-8")
    return GeographySettings.model_validate(
        {
            "small_area_level": "neighbourhood",
            "small_areas": {"path": str(path), "code_column": "NBH_CODE", **small},
            "postcode_lookup": {
                "path": str(tmp_path / "pc.csv"),
                "postcode_column": "pcd",
                "area_column": "nbh",
                "latitude_column": None,
                "longitude_column": None,
            },
        }
    )


def test_hierarchy_from_the_boundary_files_own_columns(tmp_path: Path) -> None:
    s = _town(
        tmp_path,
        levels={"locality": "LOC_ID", "district": "DIST"},
        level_names={"locality": "LOC_NAME"},
    )
    h = geography.load_hierarchy(s).set_index("area_code")
    assert list(h.columns) == ["locality", "district", "locality_name", "district_name"]
    assert h.loc["N3"].tolist() == ["L2", "D1", "Riverside", "Northwood (D1)"]
    assert h.loc["N4"].tolist() == ["L2", "D2", "Riverside", "Riverside (D2)"]
    # no name column for the small areas: named after their locality, with their own code
    areas = geography.load_small_areas(s).set_index("area_code")
    assert areas.loc["N2", "area_name"] == "Northwood (N2)"
    assert areas.loc["N4", "area_name"] == "Riverside (N4)"


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_hierarchy_file_may_be_a_boundary_file(tmp_path: Path, suffix: str) -> None:
    s = _town(tmp_path, suffix)
    s = s.model_copy(
        update={
            "hierarchy": AreaHierarchy(
                path=tmp_path / f"town{suffix}",
                area_column="NBH_CODE",
                levels={"locality": "LOC_ID"},
                names={"locality": "LOC_NAME"},
            )
        }
    )
    h = geography.load_hierarchy(s).set_index("area_code")
    assert h["locality_name"].to_dict() == {c: v[1] for c, v in TOWN.items()}


def test_a_level_named_twice_is_a_config_error(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text("nbh,loc\nN1,L1\n", encoding="utf-8")
    s = _town(tmp_path, levels={"locality": "LOC_ID"})
    s = s.model_copy(
        update={"hierarchy": AreaHierarchy(path=csv, area_column="nbh", levels={"locality": "loc"})}
    )
    with pytest.raises(ConfigError, match="level 'locality' is read from both"):
        geography.load_hierarchy(s)


def test_a_name_column_without_a_code_column_is_a_config_error(tmp_path: Path) -> None:
    s = _town(tmp_path, level_names={"locality": "LOC_NAME"})
    with pytest.raises(ConfigError, match="level 'locality' has a name column but no code"):
        geography.load_hierarchy(s)


def test_geojson_where_a_csv_is_expected_is_one_line(tmp_path: Path) -> None:
    from everyfamily.config import DeprivationSettings
    from everyfamily.population.attributes import load_deprivation

    s = _town(tmp_path)
    geojson = tmp_path / "town.geojson"
    bad = s.model_copy(
        update={"postcode_lookup": s.postcode_lookup.model_copy(update={"path": geojson})}
    )
    with pytest.raises(InputError) as err:
        geography.load_postcode_lookup(bad)
    assert str(err.value).count("\n") == 0
    assert "is a GeoJSON file, but geography.postcode_lookup.path expects a CSV" in str(err.value)
    dep = DeprivationSettings.model_validate(
        {"path": str(geojson), "area_column": "NBH_CODE", "vintage": "test"}
    )
    with pytest.raises(InputError, match=r"is a GeoJSON file, but deprivation\.path expects a CSV"):
        load_deprivation(dep)


@pytest.mark.filterwarnings("ignore:The filename extension")
def test_file_kind_reads_first_bytes_not_names(tmp_path: Path) -> None:
    from everyfamily.population.tables import file_kind

    frame = _town_frame()
    frame.to_file(tmp_path / "a.csv", driver="GPKG")  # type: ignore[attr-defined]
    frame.to_file(tmp_path / "b.txt", driver="GeoJSON")  # type: ignore[attr-defined]
    (tmp_path / "c.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "d.geojson").write_text("code,name\nN1,x\n", encoding="utf-8")
    kinds = [file_kind(tmp_path / n) for n in ("a.csv", "b.txt", "c.json", "d.geojson")]
    assert kinds == ["GeoPackage", "GeoJSON", "JSON", "CSV"]


def test_check_geography_describes_every_level(tmp_path: Path) -> None:
    s = _town(
        tmp_path,
        levels={"locality": "LOC_ID", "district": "DIST"},
        level_names={"locality": "LOC_NAME"},
    )
    lines = geography.check_geography(s)
    assert lines == [
        "geography: 4 small areas (neighbourhood), 100% named; "
        "postcode lookup: 1 postcodes, 100% in these small areas",
        "geography: level locality: 2 areas over 4 of 4 small areas; names from the file",
        "geography: level district: 2 areas over 4 of 4 small areas; "
        "names built from another level",
    ]


def test_names_lookup_by_code_wins_and_the_rest_fall_back(tmp_path: Path) -> None:
    # e.g. the House of Commons Library MSOA names file: one name per code
    (tmp_path / "names.csv").write_text(
        "code,hcl_name\nD2,Riverside Fields\nZ9,Elsewhere\n", encoding="utf-8"
    )
    (tmp_path / "nbh.csv").write_text("nb,name\nN1,Old Town\nN2,\n", encoding="utf-8")
    s = _town(
        tmp_path,
        levels={"locality": "LOC_ID", "district": "DIST"},
        level_names={"locality": "LOC_NAME"},
    )
    s = s.model_copy(
        update={
            "area_names": {
                "district": AreaNames(
                    path=tmp_path / "names.csv", code_column="code", name_column="hcl_name"
                ),
                "neighbourhood": AreaNames(
                    path=tmp_path / "nbh.csv", code_column="nb", name_column="name"
                ),
            }
        }
    )
    h = geography.load_hierarchy(s).set_index("area_code")
    assert h["district_name"].to_dict() == {
        "N1": "Northwood (D1)",  # D1 is not in the lookup: built
        "N2": "Northwood (D1)",
        "N3": "Northwood (D1)",
        "N4": "Riverside Fields",
    }
    areas = geography.load_small_areas(s).set_index("area_code")["area_name"].to_dict()
    assert areas == {
        "N1": "Old Town",
        "N2": "Northwood (N2)",  # blank in the lookup
        "N3": "Riverside (N3)",
        "N4": "Riverside (N4)",
    }
    bad = s.model_copy(
        update={
            "area_names": {
                "ward": AreaNames(
                    path=tmp_path / "names.csv", code_column="code", name_column="hcl_name"
                )
            }
        }
    )
    with pytest.raises(ConfigError, match="level 'ward' is not a level of the hierarchy"):
        geography.load_hierarchy(bad)


def test_levels_belong_to_the_small_area_layer() -> None:
    from pydantic import ValidationError

    base: dict[str, object] = {
        "small_areas": {"path": "a.geojson", "code_column": "c", "levels": {"lsoa": "x"}},
        "postcode_lookup": {"path": "b.csv", "area_column": "x"},
    }
    with pytest.raises(ValidationError, match="'lsoa' is the small-area level itself"):
        GeographySettings.model_validate(base)
    base["small_areas"] = {"path": "a.geojson", "code_column": "c"}
    base["boundaries"] = {"ward": {"path": "w.gpkg", "code_column": "c", "levels": {"x": "y"}}}
    with pytest.raises(ValidationError, match="levels and level_names belong to small_areas"):
        GeographySettings.model_validate(base)


def test_an_unnamed_council_level_gets_no_built_name(tmp_path: Path) -> None:
    s = _town(
        tmp_path,
        levels={"locality": "LOC_ID", "lad": "DIST"},
        level_names={"locality": "LOC_NAME"},
    )
    h = geography.load_hierarchy(s)
    assert list(h.columns) == ["area_code", "locality", "lad", "locality_name"]


def test_place_names_come_from_the_first_listed_level(tmp_path: Path) -> None:
    s = _town(
        tmp_path,
        levels={"lad": "DIST", "locality": "LOC_ID"},
        level_names={"lad": "LOC_NAME", "locality": "LOC_NAME"},
    )
    # the council level is skipped even when listed first
    assert geography.place_names(geography.load_hierarchy(s)) == {c: v[1] for c, v in TOWN.items()}


def test_numeric_codes_match_between_boundaries_and_hierarchy(tmp_path: Path) -> None:
    frame = _town_frame()
    frame["NUM"] = [101.0, 102.0, None, 104.0]  # a gap makes the column floats
    frame = frame.iloc[[0, 1, 3]]
    frame.to_file(tmp_path / "num.geojson", driver="GeoJSON")  # type: ignore[attr-defined]
    s = _town(tmp_path).model_copy(
        update={
            "small_areas": AreaLayer(
                path=tmp_path / "num.geojson",
                code_column="NUM",
                levels={"locality": "LOC_ID"},
                level_names={"locality": "LOC_NAME"},
            )
        }
    )
    assert geography.load_small_areas(s)["area_code"].tolist() == ["101", "102", "104"]
    assert geography.load_hierarchy(s)["area_code"].tolist() == ["101", "102", "104"]
