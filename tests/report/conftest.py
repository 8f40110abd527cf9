"""A small real project on the Knowsley open-data boundaries, with a store holding a reach
table (98 LSOAs, one planted low area), a children table and records carrying sentinel
person-level values that must never reach the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.config import Project, load_project
from everyfamily.engines.duckdb_engine import DuckDBEngine
from everyfamily.pipeline import RunContext
from findings.reach_tables import Area, null_areas, reach_table

OPEN = Path(__file__).resolve().parents[2] / "src/everyfamily/demo/opendata/knowsley"
SENTINEL_NAME = "Zebedee-Quixotica"
SENTINEL_NHS = "9434765919"
SENTINEL_POSTCODE = "L36 9ZZ"
SENTINEL_DOB = dt.date(2022, 2, 22)
LOW_AREA = "E01006412"  # Knowsley 006A, Stockbridge
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
    "Contains OS data © Crown copyright and database right 2025.",
)


def write_project(folder: Path, *, illustrative: bool = True) -> Project:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sites.csv").write_text(
        "site_id,name,lat,lon\nS01,Stockbridge Centre,53.4400,-2.8650\n"
        "S02,Huyton Centre,53.4100,-2.8400\n",
        encoding="utf-8",
    )
    ages = "\n".join(f"    {a}: age_{a}" for a in range(5))
    attribution = "\n".join(f'    - "{line}"' for line in ATTRIBUTION)
    (folder / "project.yaml").write_text(
        f"""
project:
  name: Knowsley test
  area_name: Knowsley
  reference_date: 2024-03-31
  attribution:
{attribution}
geography:
  small_areas:
    path: {OPEN}/boundaries/knowsley_lsoa2011_bgc.geojson
    code_column: lsoa11cd
    name_column: lsoa11nm
  postcode_lookup:
    path: {OPEN}/postcodes/knowsley_postcode_centroids_nspl_may2025.csv
    area_column: lsoa11cd_spatial
  hierarchy:
    path: {OPEN}/lookups/lsoa2011_to_ward2019_knowsley.csv
    area_column: LSOA11CD
    levels:
      ward: WD19CD
    names:
      ward: WD19NM
population:
  path: {OPEN}/population/mid2020_population_single_year_of_age_lsoa2011_knowsley.csv
  area_column: lsoa11_code
  age_columns:
{ages}
  vintage: ONS mid-2020 (SAPE23DT2)
sites:
  path: sites.csv
  illustrative: {str(illustrative).lower()}
sources:
  - name: births
    role: births
    path: births.csv
    columns:
      record_id: id
      date_of_birth: dob
      first_name: forename
      last_name: surname
""",
        encoding="utf-8",
    )
    return load_project(folder / "project.yaml")


def lsoa_codes() -> list[tuple[str, str]]:
    import geopandas as gpd

    g = gpd.read_file(OPEN / "boundaries/knowsley_lsoa2011_bgc.geojson")
    return list(zip(g["lsoa11cd"].astype(str), g["lsoa11nm"].astype(str), strict=True))


def knowsley_reach(seed: int = 7) -> pd.DataFrame:
    codes = lsoa_codes()
    drawn = null_areas(len(codes), rate=0.64, seed=seed)
    areas = []
    for (code, name), a in zip(codes, drawn, strict=True):
        reg = int(a.known * 0.2) if code == LOW_AREA else a.registered
        areas.append(Area(code, a.known, reg, min(a.engaged or 0, reg), a.ons, name))
    return reach_table(areas)


@pytest.fixture
def report_ctx(tmp_path: Path) -> Iterator[RunContext]:
    project = write_project(tmp_path / "project")
    out = tmp_path / "out"
    out.mkdir()
    engine = DuckDBEngine(out / "store.duckdb")
    reach = knowsley_reach()
    engine.write_table("reach", pa.Table.from_pandas(reach, preserve_index=False))
    children = pd.DataFrame(
        {
            "person_id": ["P-SENTINEL01", "P-0000000002"],
            "area_code": [LOW_AREA, LOW_AREA],
            "in_age_range": [True, True],
            "known": [True, True],
            "registered": [False, True],
            "ethnicity": ["white_british", "white_british"],
            "main_language": [SENTINEL_NAME, "English"],
        }
    )
    engine.write_table("children", pa.Table.from_pandas(children, preserve_index=False))
    records = pd.DataFrame(
        {
            "source": ["births"],
            "record_id": ["B1"],
            "first_name": [SENTINEL_NAME],
            "last_name": [SENTINEL_NAME],
            "nhs_number": [SENTINEL_NHS],
            "postcode": [SENTINEL_POSTCODE],
            "date_of_birth": [SENTINEL_DOB],
        }
    )
    engine.write_table("records", pa.Table.from_pandas(records, preserve_index=False))
    quarantine = pd.DataFrame(
        {
            "source": ["births", "births"],
            "row_number": [3, 9],
            "record_id": ["B3", "B9"],
            "batch_id": ["x", "x"],
            "reasons": [["missing_date_of_birth"], ["missing_identity"]],
            "raw": [f'{{"forename": "{SENTINEL_NAME}"}}', f'{{"postcode": "{SENTINEL_POSTCODE}"}}'],
        }
    )
    engine.write_table("quarantine", pa.Table.from_pandas(quarantine, preserve_index=False))
    messages: list[str] = []
    ctx = RunContext(project=project, out_dir=out, engine=engine, echo=messages.append)
    ctx.metadata["reconciliation"] = {"births": {"rows_read": 120, "loaded": 118, "quarantined": 2}}
    ctx.metadata["linkage"] = {"pairwise_f1": 0.981, "clusters": 3050}
    try:
        yield ctx
    finally:
        engine.close()
