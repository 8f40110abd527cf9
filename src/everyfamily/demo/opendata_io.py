"""Reading the real Knowsley open data bundled in ``demo/opendata/knowsley`` (OGL v3).

Only aggregate public data is read here (areas, counts, postcode centroids, school points);
see ``opendata/knowsley/PROVENANCE.md`` for every file's source. Coordinates are projected to
British National Grid (EPSG:27700, metres) with pyproj so distances are in metres.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import LineString, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

OPENDATA_DIR = Path(__file__).parent / "opendata" / "knowsley"

#: Files the generated project references (copied into the scenario's reference/ folder).
LSOA_BOUNDARIES = "boundaries/knowsley_lsoa2011_bgc.geojson"
MSOA_BOUNDARIES = "boundaries/knowsley_msoa2011_bgc.geojson"
WARD_BOUNDARIES = "boundaries/knowsley_wards2022_bsc.geojson"
BOROUGH_OUTLINE = "boundaries/knowsley_lad_outline_from_lsoa2011.geojson"
POSTCODES = "postcodes/knowsley_postcode_centroids_nspl_may2025.csv"
POPULATION = "population/mid2020_population_single_year_of_age_lsoa2011_knowsley.csv"
DEPRIVATION = "deprivation/iod2019_summary_imd_idaci_lsoa2011_knowsley.csv"
WARD_LOOKUP = "lookups/lsoa2011_to_ward2019_knowsley.csv"
OA_LOOKUP = "lookups/oa2011_lsoa2011_msoa2011_knowsley.csv"
LSOA11_TO_21 = "lookups/lsoa2011_to_lsoa2021_knowsley.csv"
ETHNICITY_2011 = "census/census2011_ethnic_group_lsoa2011_knowsley.csv"
BIRTHPLACE_2021 = "census/census2021_ts004_country_of_birth_uk_vs_outside_lsoa2021_knowsley.csv"
LANGUAGE_2021 = "census/census2021_ts029_main_language_english_proficiency_msoa2021_knowsley.csv"
SCHOOLS = "schools/knowsley_schools_gias_open_20250524.csv"
ROADS = "roads/knowsley_srn_motorway_links_schematic_hatris.geojson"

#: Census 2011 ethnic groups (MLID 14-group columns) in file order.
ETHNIC_GROUPS_2011: tuple[str, ...] = (
    "WhiteBrit",
    "Irish",
    "OtherWhite",
    "Mixed",
    "Indian",
    "Pakistani",
    "Bangladeshi",
    "Chinese",
    "OtherAsian",
    "BlkAfrican",
    "BlkCaribbean",
    "OtherBlk",
    "Arab",
    "Other",
)

#: Attribution lines (from PROVENANCE.md) for every open-data file the scenario uses.
ATTRIBUTION: tuple[str, ...] = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2011-2025.",
    "Contains Royal Mail data © Royal Mail copyright and database right 2025 "
    "(ONS National Statistics Postcode Lookup, May 2025).",
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: MHCLG, English Indices of Deprivation 2019.",
    "Census 2011 aggregate data: Office for National Statistics; National Records of Scotland; "
    "Northern Ireland Statistics and Research Agency (2016), UK Data Service, "
    "DOI: 10.5257/census/aggregate-2011-1 (OGL v3).",
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Source: Department for Education, Get Information About Schools (May 2025).",
    "Contains public sector information from National Highways (HATRIS links) licensed under "
    "the Open Government Licence v3.0; network graph from Strain, Wilson & Littleworth (2023).",
)

#: The M57 link references from J1 to J7, one direction (the other repeats each section).
M57_LINKS: tuple[str, ...] = ("LM656", "LM658", "LM660", "LM662", "LM664", "LM666")


@lru_cache(maxsize=1)
def _to_bng() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat (WGS84) to British National Grid metres."""
    x, y = _to_bng().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def line_to_bng(coords: tuple[tuple[float, float], ...]) -> LineString:
    """A lon/lat line as a LineString in metres (EPSG:27700)."""
    return transform(lambda x, y, z=None: _to_bng().transform(x, y), LineString(coords))


@dataclass(frozen=True)
class OpenData:
    """The aggregate inputs the generator needs, one row per LSOA 2011 unless said otherwise."""

    areas: pd.DataFrame  # lsoa, name, msoa, ward, ward_name, imd_decile, idaci_decile, age_0..4,
    # eth_* shares, born_outside_uk, non_english_msoa, x, y
    postcodes: pd.DataFrame  # postcode, lat, lon, lsoa, x, y
    schools: pd.DataFrame  # primary schools: urn, name, lat, lon, lsoa, ward, pupils, x, y
    polygons: dict[str, BaseGeometry]  # LSOA code -> polygon in EPSG:27700
    m57: tuple[tuple[float, float], ...]  # lon/lat vertices J1..J7


def _read(rel: str) -> pd.DataFrame:
    return pd.read_csv(OPENDATA_DIR / rel, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def load_open_data() -> OpenData:
    """Read and join the bundle (cached: the files never change within a process)."""
    pop = _read(POPULATION)
    areas = pd.DataFrame({"lsoa": pop["lsoa11_code"], "name": pop["lsoa11_name"]})
    for a in range(5):
        areas[f"age_{a}"] = pop[f"age_{a}"].astype(int).to_numpy()

    wards = _read(WARD_LOOKUP).set_index("LSOA11CD")
    areas["ward"] = areas["lsoa"].map(wards["WD19CD"])
    areas["ward_name"] = areas["lsoa"].map(wards["WD19NM"])
    oa = _read(OA_LOOKUP).drop_duplicates("lsoa11cd").set_index("lsoa11cd")
    areas["msoa"] = areas["lsoa"].map(oa["msoa11cd"])

    dep = _read(DEPRIVATION).set_index("lsoa11cd")
    areas["imd_decile"] = areas["lsoa"].map(dep["imd_decile"]).astype(int)
    areas["idaci_decile"] = areas["lsoa"].map(dep["idaci_decile"]).astype(int)

    eth = _read(ETHNICITY_2011).set_index("lsoa11cd")
    counts = eth[list(ETHNIC_GROUPS_2011)].astype(float)
    shares = counts.div(counts.sum(axis=1), axis=0)
    for g in ETHNIC_GROUPS_2011:
        areas[f"eth_{g}"] = areas["lsoa"].map(shares[g]).to_numpy()

    # Census 2021 country of birth is on LSOA 2021: the two split LSOAs take their parts' sum.
    cob = _read(BIRTHPLACE_2021)
    cob["outside"] = cob["Born outside the UK"].astype(float)
    cob["total"] = cob["Total"].astype(float)
    l1121 = _read(LSOA11_TO_21)[["lsoa11_code", "lsoa21_code"]]
    cob = cob.merge(l1121, left_on="lsoa21cd", right_on="lsoa21_code")
    agg = cob.groupby("lsoa11_code")[["outside", "total"]].sum()
    areas["born_outside_uk"] = areas["lsoa"].map(agg["outside"] / agg["total"]).to_numpy()

    lang = _read(LANGUAGE_2021).set_index("msoa21_code")
    eng = lang["Main language is English (English or Welsh in Wales)"].astype(float)
    non = lang["Main language is not English (English or Welsh in Wales)"].astype(float)
    areas["non_english_msoa"] = areas["msoa"].map(non / (eng + non)).to_numpy()

    gj = json.loads((OPENDATA_DIR / LSOA_BOUNDARIES).read_text(encoding="utf-8"))
    polygons: dict[str, BaseGeometry] = {}
    for feat in gj["features"]:
        geom = transform(lambda x, y, z=None: _to_bng().transform(x, y), shape(feat["geometry"]))
        polygons[feat["properties"]["lsoa11cd"]] = geom

    pc = _read(POSTCODES)
    outward = pc["postcode"].str.split(" ").str[0]
    # Large-user and non-geographic codes (L1 city-centre users, L70 PO boxes) are not homes.
    pc = pc[~outward.isin(["L1", "L70"])].copy()
    pc = pd.DataFrame(
        {
            "postcode": pc["postcode"].to_numpy(),
            "lat": pc["lat"].astype(float).to_numpy(),
            "lon": pc["lon"].astype(float).to_numpy(),
            "lsoa": pc["lsoa11cd_spatial"].to_numpy(),
        }
    )
    pc = pc[pc["lsoa"].isin(set(areas["lsoa"]))].sort_values("postcode").reset_index(drop=True)
    pc["x"], pc["y"] = to_bng(pc["lon"].to_numpy(), pc["lat"].to_numpy())

    # Each LSOA's point: the mean of its postcode centroids (closer to where people live
    # than the polygon centroid).
    centre = pc.groupby("lsoa")[["x", "y"]].mean()
    areas["x"] = areas["lsoa"].map(centre["x"]).to_numpy()
    areas["y"] = areas["lsoa"].map(centre["y"]).to_numpy()

    sch = _read(SCHOOLS)
    sch = sch[(sch["is_primary_phase"] == "True") & (sch["lsoa11cd_spatial"] != "")]
    schools = (
        pd.DataFrame(
            {
                "urn": sch["urn"].to_numpy(),
                "name": sch["establishment_name"].to_numpy(),
                "lat": sch["lat"].astype(float).to_numpy(),
                "lon": sch["lon"].astype(float).to_numpy(),
                "lsoa": sch["lsoa11cd_spatial"].to_numpy(),
                "ward": sch["ward19nm_spatial"].to_numpy(),
                "pupils": pd.to_numeric(sch["number_of_pupils"], errors="coerce")
                .fillna(200)
                .to_numpy(),
            }
        )
        .sort_values("urn")
        .reset_index(drop=True)
    )
    schools["x"], schools["y"] = to_bng(schools["lon"].to_numpy(), schools["lat"].to_numpy())

    roads = json.loads((OPENDATA_DIR / ROADS).read_text(encoding="utf-8"))
    links = {f["properties"]["LinkRef"]: f["geometry"]["coordinates"] for f in roads["features"]}
    m57: list[tuple[float, float]] = [tuple(links[M57_LINKS[0]][0])]
    for ref in M57_LINKS:
        m57.append(tuple(links[ref][-1]))
    return OpenData(areas=areas, postcodes=pc, schools=schools, polygons=polygons, m57=tuple(m57))
