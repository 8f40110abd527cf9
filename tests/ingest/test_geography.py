"""The geography loaders on the bundled Knowsley open data, and point-in-polygon placing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from everyfamily.config import GeographySettings
from everyfamily.errors import InputError
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
