"""Any level names, end to end: a town whose small areas are 'neighbourhood's, grouped into
'locality's read from the boundary file's own columns and 'district's from a GeoPackage,
runs through the real measure stage and is served by the real dashboard.

The town (two 0.01-degree squares side by side; the boundary file has no name column for
the small areas, and the district file no name column at all):

    neighbourhood  locality (name)   district   council (lad)
    A1             L1 Northwood      D1         E08 Testborough
    A2             L2 Riverside      D1         E08 Testborough

So the small areas are named after their locality: "Northwood (A1)", "Riverside (A2)";
district D1 holds one square of each locality (a tie, broken alphabetically): "Northwood
(D1)". Records and links are the reach tests' hand-made children (tests/reach/fixtures.py).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import pyarrow as pa
import pytest
from shapely.geometry import box

from everyfamily.config import parse_project
from everyfamily.engines import open_engine
from everyfamily.pipeline import RunContext
from everyfamily.reach.stage import reach_stage
from reach.fixtures import REFERENCE_DATE, records_and_links


def _write_town(tmp: Path) -> Path:
    squares = [box(-2.87, 53.40, -2.86, 53.41), box(-2.86, 53.40, -2.85, 53.41)]
    gpd.GeoDataFrame(
        {
            "NB": ["A1", "A2"],
            "LOC": ["L1", "L2"],
            "LOC_NM": ["Northwood", "Riverside"],
            "LAD": ["E08", "E08"],
            "LAD_NM": ["Testborough", "Testborough"],
        },
        geometry=squares,
        crs="EPSG:4326",
    ).to_file(tmp / "town.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(
        {"NBH": ["A1", "A2"], "DIST": ["D1", "D1"]}, geometry=squares, crs="EPSG:4326"
    ).to_file(tmp / "districts.gpkg", driver="GPKG")
    (tmp / "postcodes.csv").write_text("pcd,nbh,lat,lon\nAB1 2CD,A1,53.405,-2.865\n")
    (tmp / "population.csv").write_text("nbh,a0,a1,a2,a3,a4\nA1,2,2,2,2,2\nA2,1,1,1,1,1\n")
    (tmp / "iod.csv").write_text("nbh,imd,idaci\nA1,1,2\nA2,7,10\n")
    (tmp / "sites.csv").write_text(
        "site_id,name,lat,lon\nS1,Centre one,53.405,-2.8655\nS2,Centre two,53.405,-2.8545\n"
    )
    (tmp / "births.csv").write_text("id,dob,first,last\n1,2024-01-02,Ann,Lee\n")
    text = textwrap.dedent(f"""
        project: {{name: Testborough, reference_date: {REFERENCE_DATE.isoformat()}}}
        geography:
          small_area_level: neighbourhood
          small_areas:
            path: town.geojson
            code_column: NB
            levels: {{locality: LOC, lad: LAD}}
            level_names: {{locality: LOC_NM, lad: LAD_NM}}
          hierarchy: {{path: districts.gpkg, area_column: NBH, levels: {{district: DIST}}}}
          level_labels: {{district: Districts of the town}}
          postcode_lookup: {{path: postcodes.csv, postcode_column: pcd, area_column: nbh}}
        population:
          path: population.csv
          area_column: nbh
          age_columns: {{0: a0, 1: a1, 2: a2, 3: a3, 4: a4}}
          vintage: test
        deprivation: {{path: iod.csv, area_column: nbh, imd_decile_column: imd,
                      idaci_decile_column: idaci, vintage: test}}
        sites: {{path: sites.csv}}
        sources:
          - name: births
            role: births
            path: births.csv
            columns: {{record_id: id, date_of_birth: dob, first_name: first, last_name: last}}
    """)
    (tmp / "project.yaml").write_text(text)
    return tmp / "project.yaml"


@pytest.fixture(scope="module")
def town_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The measure stage's output folder for the town, with the run.json a run writes."""
    tmp = tmp_path_factory.mktemp("town")
    project_file = _write_town(tmp)
    project = parse_project(project_file.read_text(), base_dir=tmp)
    engine = open_engine("duckdb", path=tmp / "store.duckdb")
    records, links = records_and_links()
    engine.write_table("records", pa.Table.from_pandas(records, preserve_index=False))
    engine.write_table("links", pa.Table.from_pandas(links, preserve_index=False))
    out = tmp / "out"
    ctx = RunContext(project=project, out_dir=out, engine=engine, echo=lambda _line: None)
    try:
        reach_stage(ctx)
    finally:
        engine.close()
    run = {
        "everyfamily_run": 1,
        "project": "Testborough",
        "reference_date": REFERENCE_DATE.isoformat(),
        "settings": json.loads(project.model_dump_json()),
        "reach": ctx.metadata["reach"],
    }
    (out / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return out


def test_the_release_holds_every_level_with_names(town_out: Path) -> None:
    layers = sorted(gpd.list_layers(town_out / "reach.gpkg")["name"])
    assert layers == ["borough", "district", "locality", "neighbourhood", "reach_area"]
    small = gpd.read_file(town_out / "reach.gpkg", layer="neighbourhood")
    assert dict(zip(small["area_code"], small["area_name"], strict=True)) == {
        "A1": "Northwood (A1)",
        "A2": "Riverside (A2)",
    }
    district = gpd.read_file(town_out / "reach.gpkg", layer="district")
    assert set(district["area_name"]) == {"Northwood (D1)"}
    # D1 is both squares dissolved: 2 x 0.01 x 0.01 square degrees
    assert district.geometry.iloc[0].area == pytest.approx(0.0002, rel=1e-6)
    boro = gpd.read_file(town_out / "reach.gpkg", layer="borough")
    assert set(boro["area_name"]) == {"Testborough"}


def test_dashboard_map_and_area_pages_for_any_level(
    town_out: Path, serve: Callable[[Path, str], str]
) -> None:
    url = serve(town_out, "viewer")
    opts = httpx.get(url + "/api/map/options", timeout=30).json()
    assert [(lv["key"], lv["label"]) for lv in opts["levels"]] == [
        ("neighbourhood", "Neighbourhoods"),
        ("locality", "Localities"),
        ("district", "Districts of the town"),
        ("reach_area", "Centre reach areas"),
    ]
    assert opts["small_level"] == "neighbourhood"
    assert opts["outlines"] == ["locality", "borough"]

    geo = httpx.get(url + "/api/map/geometry/locality", timeout=30).json()
    names = {f["properties"]["area_code"]: f["properties"]["area_name"] for f in geo["features"]}
    assert names == {"L1": "Northwood", "L2": "Riverside"}

    # the map's values default to the project's small-area level, whatever it is called
    values = httpx.get(url + "/api/map/values", timeout=30)
    assert values.status_code == 200 and set(values.json()["areas"]) == {"A1", "A2"}
    by_level = httpx.get(url + "/api/map/values", params={"level": "district"}, timeout=30)
    assert set(by_level.json()["areas"]) == {"D1"}

    page = httpx.get(url + "/map", params={"level": "locality"}, timeout=30)
    assert page.status_code == 200
    assert "Thin lines: localities; thick line: borough." in page.text

    area = httpx.get(url + "/areas/A1", timeout=30)
    assert area.status_code == 200
    assert "Northwood (A1)" in area.text and "Neighbourhoods" in area.text
    district = httpx.get(url + "/api/areas/D1", timeout=30).json()
    assert (district["name"], district["level"]) == ("Northwood (D1)", "district")
    assert district["level_label"] == "Districts of the town"


def test_browser_draws_the_town_map(
    town_out: Path, serve: Callable[[Path, str], str], page: Any
) -> None:
    """In Chromium: the map opens on the neighbourhoods, with the localities and the borough
    outlined, and switching to districts draws the one dissolved district."""
    url = serve(town_out, "viewer")
    page.goto(url + "/map", wait_until="networkidle")
    page.wait_for_selector("#map[data-ready='true']", timeout=20000)
    assert page.locator("path.ef-area").count() == 2
    assert page.locator("path.ef-outline").count() == 3  # 2 localities + 1 borough
    page.goto(url + "/map?level=district", wait_until="networkidle")
    page.wait_for_selector("#map[data-ready='true']", timeout=20000)
    assert page.locator("path.ef-area").count() == 1
    assert page.errors == []


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("postcode_lookup", "geography.postcode_lookup.path expects a CSV"),
        ("population", "population.path expects a CSV"),
        ("deprivation", "deprivation.path expects a CSV"),
    ],
)
def test_validate_names_a_geojson_given_for_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, expected: str
) -> None:
    """A boundary file named where a CSV is expected stops ``validate`` with exit 2 and one
    line naming the file, what it is and the setting (not "internal error (ParserError)")."""
    import yaml

    from everyfamily.cli import main

    project_file = _write_town(tmp_path)
    doc = yaml.safe_load(project_file.read_text())
    block = doc["geography"][setting] if setting == "postcode_lookup" else doc[setting]
    block["path"] = "town.geojson"
    project_file.write_text(yaml.safe_dump(doc))
    code = main(["validate", str(project_file)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "town.geojson: the " in err and "is a GeoJSON file, but " + expected in err


def test_validate_describes_the_town(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from everyfamily.cli import main

    code = main(["validate", str(_write_town(tmp_path))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "geography: 2 small areas (neighbourhood), 100% named;" in out
    assert "geography: level locality: 2 areas over 2 of 2 small areas; names from the file" in out
    assert (
        "geography: level district: 1 areas over 2 of 2 small areas; "
        "names built from another level" in out
    )
