"""A small hand-made run output folder for the dashboard tests.

Four real Knowsley LSOAs (2011 boundaries from the bundled open data) in two wards, two
centres, and counts typed by hand so every released figure can be worked out on paper:

    LSOA        name            ward            ONS  children  known  registered  engaged
    E01006508   Knowsley 004D   Cherryfield     102       100     98          80       40
    E01006506   Knowsley 004B   Cherryfield      64        60     60          20        5
    E01006419   Knowsley 019A   Halewood North   48        50     45          47       30
    E01006421   Knowsley 018A   Halewood North   33        30     30          15        9

Cherryfield children register at centre S1, Halewood North children at S2. Groups: sex
(female = half, rounded up) and broad ethnicity (white = 80%, rounded; asian = the rest).
A sentinel pseudonym sits in the person-level outreach list and must never reach a viewer.
The outreach list's three children have synthetic names in the identifiable store
(:data:`NAMES`): only an outreach worker of their area may see them. Both stores are
encrypted with :data:`FIXTURE_KEY`, written to ``secrets/pseudonymisation.key`` and named in
run.json as the pipeline records it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.reach.statistics import funnel_band, funnel_z, wilson_interval
from everyfamily.schema import REACH_COLUMNS

OPEN = Path(__file__).resolve().parents[2] / "src/everyfamily/demo/opendata/knowsley"
SENTINEL_PERSON = "P-5E471NE1C0DE"
#: The outreach list (children known and registered nowhere), the sentinel first.
NOT_REACHED = (SENTINEL_PERSON, "P-000000000002", "P-000000000003")
#: Synthetic names of the outreach list's children (identifiable zone only): shown to an
#: outreach worker of the child's area and in no other response.
NAMES: dict[str, tuple[str, str]] = {
    SENTINEL_PERSON: ("Xanthorpe", "Quillberrow"),
    "P-000000000002": ("Ygrainne", "Vostermarch"),
    "P-000000000003": ("Zebulonna", "Krystoffel"),
}
PARENT_NAMES = {
    SENTINEL_PERSON: "Orlavinde",
    "P-000000000002": "Thessaly-Brun",
    "P-000000000003": "Welgarrick",
}
#: Every identifying string of the fixture (names, parent names, addresses, postcodes).
IDENTIFYING = (
    *(n for pair in NAMES.values() for n in pair),
    *PARENT_NAMES.values(),
    "Fixture Road",
    "Moved Lane",
    "L36 0XX",
    "L36 9ZZ",
)
#: The fixture's pseudonymisation key (a test secret; the stores are encrypted with it).
FIXTURE_KEY = "fixture-key-0123456789abcdef0123456789abcdef"
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
    "Contains OS data © Crown copyright and database right 2025.",
)
BOROUGH = ("E08000011", "Knowsley")

#: code -> (name, ward code, ward name, ons, children, known, registered, engaged, site)
AREAS: dict[str, tuple[str, str, str, int, int, int, int, int, str]] = {
    "E01006508": ("Knowsley 004D", "E05010935", "Cherryfield", 102, 100, 98, 80, 40, "S1"),
    "E01006506": ("Knowsley 004B", "E05010935", "Cherryfield", 64, 60, 60, 20, 5, "S1"),
    "E01006419": ("Knowsley 019A", "E05010936", "Halewood North", 48, 50, 45, 47, 30, "S2"),
    "E01006421": ("Knowsley 018A", "E05010936", "Halewood North", 33, 30, 30, 15, 9, "S2"),
}
SITES = {"S1": "Cherryfield Family Hub", "S2": "Halewood Children's Centre"}


@dataclass(frozen=True)
class Fixture:
    out_dir: Path
    n_small_areas: int = len(AREAS)


def _split(n: int, dimension: str) -> dict[str, int]:
    if dimension == "sex":
        female = math.ceil(n / 2)
        return {"female": female, "male": n - female}
    white = round(n * 0.8)
    return {"white": white, "asian": n - white}


def _rows() -> pd.DataFrame:
    """Every level x area x dimension x group x service, with rates computed as the
    measure stage computes them."""
    base: list[dict[str, object]] = []
    groups_of_area: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for code, (name, ward, ward_name, ons, den, known, reg, eng, site) in AREAS.items():
        members = {
            "lsoa": (code, name),
            "ward": (ward, ward_name),
            "borough": BOROUGH,
            "reach_area": (site, SITES[site]),
        }
        for level, (acode, aname) in members.items():
            for service in ("any", "S1", "S2"):
                mine = service in ("any", site)
                counts = {
                    "ons_population": ons,
                    "denominator": den,
                    "known": known,
                    "registered": reg if mine else 0,
                    "engaged": eng if mine else 0,
                }
                key = (level, acode, "all", "all", service)
                cur = groups_of_area.setdefault((*key[:2], aname, service), {})
                for k, v in counts.items():
                    cur[f"all|all|{k}"] = cur.get(f"all|all|{k}", 0) + v
                for dim in ("sex", "ethnicity_broad"):
                    parts = {k: _split(v, dim) for k, v in counts.items() if k != "ons_population"}
                    for g in parts["denominator"]:
                        for k in parts:
                            cur[f"{dim}|{g}|{k}"] = cur.get(f"{dim}|{g}|{k}", 0) + parts[k][g]
    for (level, acode, aname, service), cur in groups_of_area.items():
        keys = sorted({k.rsplit("|", 1)[0] for k in cur})
        for dg in keys:
            dim, group = dg.split("|")
            base.append(
                {
                    "level": level,
                    "area_code": acode,
                    "area_name": aname,
                    "dimension": dim,
                    "group_value": group,
                    "service": service,
                    "ons_population": cur.get(f"{dg}|ons_population", np.nan)
                    if dim == "all"
                    else np.nan,
                    "denominator": cur[f"{dg}|denominator"],
                    "known": cur[f"{dg}|known"],
                    "registered": cur[f"{dg}|registered"],
                    "engaged": cur[f"{dg}|engaged"],
                }
            )
    frame = pd.DataFrame(base)
    den = frame["denominator"].to_numpy(float)
    for what in ("registered", "engaged"):
        x = frame[what].to_numpy(float)
        frame[f"{what}_rate"] = np.where(den > 0, x / np.where(den > 0, den, 1), np.nan)
        lo, hi = wilson_interval(x, den)
        frame[f"{what}_rate_lower"], frame[f"{what}_rate_upper"] = lo, hi
        frame[f"{what}_rate_ons"] = x / frame["ons_population"]
    frame["known_completeness"] = frame["known"] / frame["ons_population"]
    frame["registered_rate_smoothed"] = np.nan
    borough = frame[(frame["level"] == "borough") & (frame["dimension"] == "all")]
    target = dict(
        zip(borough["service"], borough["registered"] / borough["denominator"], strict=True)
    )
    z = funnel_z(
        frame["registered"].to_numpy(float), den, frame["service"].map(target).to_numpy(float)
    )
    frame["funnel_z"] = z
    frame["funnel_band"] = funnel_band(z)
    frame["linkage_shift_lower"] = np.nan
    frame["linkage_shift_upper"] = np.nan
    for col in REACH_COLUMNS:  # later statistics columns (issue 14): empty in this fixture
        if col not in frame:
            frame[col] = np.nan
    return frame[list(REACH_COLUMNS)]


def _findings() -> dict[str, object]:
    def finding(
        i: int,
        kind: str,
        areas: list[str],
        group: dict[str, str] | None,
        site: str | None,
        measure: str,
        observed: float,
        expected: float,
        affected: int,
        headline: str,
    ) -> dict[str, object]:
        return {
            "id": f"F-{i:012x}",
            "rank": i,
            "kind": kind,
            "areas": areas,
            "group": group,
            "site": site,
            "measure": measure,
            "observed": observed,
            "expected": expected,
            "interval": [round(observed - 0.1, 4), round(observed + 0.1, 4)],
            "children_affected": affected,
            "headline": headline,
            "evidence": {
                "test": "hand-made",
                "p_value": 0.001,
                "q_value": 0.004,
                "severity": "striking" if i == 1 else "watch",
                "score": 10.0 / i,
                "why_ranked": f"fixture rank {i}",
                "level": "lsoa",
            },
        }

    return {
        "schema_version": "1.0",
        "generated_at": "2026-04-01T09:00:00+00:00",
        "findings": [
            finding(
                1,
                "unreached_area",
                ["E01006506"],
                None,
                None,
                "registered_rate",
                0.3333,
                0.675,
                21,
                "Knowsley 004B: 60 under-fives, 21 registered (33%)",
            ),
            finding(
                2,
                "low_engagement_site",
                [],
                None,
                "S2",
                "engaged_per_registered",
                0.63,
                0.6,
                9,
                "Halewood Children's Centre keeps most of its families",
            ),
            finding(
                3,
                "unreached_group",
                [BOROUGH[0]],
                {"dimension": "ethnicity_broad", "value": "asian"},
                None,
                "registered_rate",
                0.6,
                0.7,
                9,
                "Knowsley: asian children registered less often",
            ),
        ],
    }


def _children() -> pd.DataFrame:
    """The analysis table ``children``: one row per child of AREAS (month and year of birth
    only), the first ``known``/``registered``/``engaged`` of each area being so; the three
    children of the outreach list are known and registered nowhere."""
    planted = {("E01006506", 20): NOT_REACHED[0], ("E01006506", 21): NOT_REACHED[1]}
    planted[("E01006421", 15)] = NOT_REACHED[2]
    rows = []
    for n, (code, (_name, _w, _wn, _ons, den, known, reg, eng, site)) in enumerate(AREAS.items()):
        for i in range(den):
            person = planted.get((code, i), f"P-{n + 1:02d}{i:010d}")
            rows.append(
                {
                    "person_id": person,
                    "family_id": f"F-{n + 1:02d}{i // 2:010d}",
                    "month_of_birth": pd.Timestamp(2022 + i % 4, 1 + i % 12, 1),
                    "age_years": 3 - i % 4,
                    "sex": "female" if i % 2 == 0 else "male",
                    "area_code": code,
                    "ethnicity": "white_british" if i % 5 else "asian_pakistani",
                    "ethnicity_broad": "white" if i % 5 else "asian",
                    "main_language": "English",
                    "mother_region_of_birth": "uk",
                    "known": i < known or person in NOT_REACHED,
                    "registered": i < reg and person not in NOT_REACHED,
                    "registered_sites": [site] if i < reg and person not in NOT_REACHED else [],
                    "engaged": i < eng and person not in NOT_REACHED,
                    "engaged_sites": [site] if i < eng and person not in NOT_REACHED else [],
                    "imd_decile": 1,
                    "nearest_site": site,
                }
            )
    return pd.DataFrame(rows)


def _identifiable() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The identifiable zone's ``records`` and ``links`` for the outreach list's children:
    synthetic names (:data:`NAMES`) that must reach an outreach worker of their area and no
    one else. The sentinel child has two records; the later one's address is the contact."""
    recs = []
    for n, person in enumerate(NOT_REACHED):
        first, last = NAMES[person]
        recs.append(
            {
                "source": "births",
                "record_id": f"B{n}",
                "first_name": first,
                "last_name": last,
                "date_of_birth": pd.Timestamp(2024, 1 + n, 10 + n),
                "parent_first_name": PARENT_NAMES[person],
                "parent_last_name": last,
                "address": f"{n + 1} Fixture Road",
                "postcode": "L36 0XX",
                "event_date": pd.Timestamp(2024, 1 + n, 12 + n),
            }
        )
    first, last = NAMES[SENTINEL_PERSON]
    recs.append(
        {
            "source": "health_visiting",
            "record_id": "H0",
            "first_name": first,
            "last_name": last,
            "date_of_birth": pd.Timestamp(2024, 1, 10),
            "parent_first_name": PARENT_NAMES[SENTINEL_PERSON],
            "parent_last_name": last,
            "address": "9 Moved Lane",
            "postcode": "L36 9ZZ",
            "event_date": pd.Timestamp(2025, 6, 1),
        }
    )
    records = pd.DataFrame(recs)
    links = pd.DataFrame(
        {
            "source": records["source"],
            "record_id": records["record_id"],
            "person_id": [*NOT_REACHED, SENTINEL_PERSON],
            "family_id": ["F-000000000001", "F-000000000002", "F-000000000003", "F-000000000001"],
        }
    )
    return records, links


def _membership() -> pd.DataFrame:
    """area_membership: every level's areas and the small areas in them."""
    rows = []
    for code, a in AREAS.items():
        for level, area in (
            ("lsoa", code),
            ("ward", a[1]),
            ("borough", BOROUGH[0]),
            ("reach_area", a[8]),
        ):
            rows.append({"level": level, "area_code": area, "small_area": code})
    return pd.DataFrame(rows)


def _not_reached() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": list(NOT_REACHED),
            "area_code": ["E01006506", "E01006506", "E01006421"],
            "area_name": ["Knowsley 004B", "Knowsley 004B", "Knowsley 018A"],
            "age_years": [1, 3, 0],
            "sex": ["female", "male", "female"],
            "ethnicity": ["white_british", "asian_pakistani", "white_other"],
            "ethnicity_broad": ["white", "asian", "white"],
            "main_language": ["English", "Urdu", "Polish"],
            "mother_region_of_birth": ["uk", "south_asia", "eu8"],
            "imd_decile": [1, 1, 2],
            "idaci_decile": [1, 2, 2],
            "nearest_site": ["S1", "S1", "S2"],
            "nearest_site_distance_m": [512.4, 730.0, 1204.9],
        }
    )


def _write_stores(out_dir: Path, key_file: Path, membership: bool) -> None:
    """The run's two encrypted stores, written as the pipeline writes them."""
    from everyfamily.config import PrivacySettings
    from everyfamily.stores import ANALYSIS, IDENTIFIABLE, open_stores

    analysis = {
        "reach_areas": pd.DataFrame(
            [(a[8], SITES[a[8]], code) for code, a in AREAS.items()],
            columns=["site_id", "site_name", "small_area"],
        ),
        "linkage_quality_by_group": pd.DataFrame(
            [
                ("ethnicity_broad", "white", 192, 0.99, 0.98),
                ("ethnicity_broad", "asian", 48, 0.97, 0.85),
            ],
            columns=["dimension", "group_value", "n_children", "precision", "recall"],
        ),
        "not_reached": _not_reached(),
        "children": _children(),
    }
    if membership:
        analysis["area_membership"] = _membership()
    records, links = _identifiable()
    engine = open_stores(out_dir, PrivacySettings(key_file=key_file), read_only=False)
    try:
        with engine.zone(ANALYSIS):
            for name, frame in analysis.items():
                engine.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))
        with engine.zone(IDENTIFIABLE):
            for name, frame in (("records", records), ("links", links)):
                engine.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))
    finally:
        engine.close()


def build_fixture(out_dir: Path, *, membership: bool = False) -> Fixture:
    """Write the fixture output folder (reach.csv, reach.gpkg, findings.json, run.json, a
    key file, and the two encrypted stores: analysis ``everyfamily.duckdb`` and identifiable
    ``restricted/identifiable.duckdb``) into ``out_dir``. ``membership`` adds the table
    area_membership (wards of LSOAs ...): the dashboard then releases along those relations
    too, so the hand-worked figures above hold only without it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key_file = out_dir / "secrets" / "pseudonymisation.key"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_text(FIXTURE_KEY, encoding="utf-8")
    reach = _rows()
    reach.to_csv(out_dir / "reach.csv", index=False)

    lsoa = gpd.read_file(OPEN / "boundaries/knowsley_lsoa2011_bgc.geojson")
    lsoa = lsoa[lsoa["lsoa11cd"].isin(AREAS)].rename(columns={"lsoa11cd": "area_code"})
    lsoa["ward"] = lsoa["area_code"].map(lambda c: AREAS[c][1])
    lsoa["site"] = lsoa["area_code"].map(lambda c: AREAS[c][8])
    lsoa["borough"] = BOROUGH[0]
    gpkg = out_dir / "reach.gpkg"
    for level, col in (
        ("lsoa", "area_code"),
        ("ward", "ward"),
        ("borough", "borough"),
        ("reach_area", "site"),
    ):
        shapes = lsoa[[col, "geometry"]].dissolve(by=col, as_index=False)
        shapes = shapes.rename(columns={col: "area_code"})
        rows = reach[(reach["level"] == level) & (reach["dimension"] == "all")]
        layer = gpd.GeoDataFrame(
            rows.merge(shapes, on="area_code"), geometry="geometry", crs="EPSG:4326"
        )
        layer.to_file(gpkg, layer=level, driver="GPKG")

    inputs = out_dir / "inputs"
    inputs.mkdir(exist_ok=True)
    points = lsoa.set_index("area_code").geometry.representative_point()
    s1, s2 = points["E01006508"], points["E01006419"]
    (inputs / "sites.csv").write_text(
        "site_id,name,lat,lon\n"
        f"S1,{SITES['S1']},{s1.y:.6f},{s1.x:.6f}\nS2,{SITES['S2']},{s2.y:.6f},{s2.x:.6f}\n",
        encoding="utf-8",
    )
    (out_dir / "findings.json").write_text(json.dumps(_findings(), indent=1), encoding="utf-8")
    run = {
        "everyfamily_run": 1,
        "project": "Fixture borough",
        "reference_date": "2026-03-31",
        "data_vintages": {"population": "ONS mid-2020 (fixture)"},
        "settings": {
            "project": {
                "name": "Fixture borough",
                "area_name": "Knowsley",
                "reference_date": "2026-03-31",
                "attribution": list(ATTRIBUTION),
            },
            "geography": {"small_area_level": "lsoa"},
            "sites": {
                "path": str(inputs / "sites.csv"),
                "id_column": "site_id",
                "name_column": "name",
                "latitude_column": "lat",
                "longitude_column": "lon",
                "reach_areas_column": None,
                "capacity_column": None,
                "illustrative": True,
            },
            "privacy": {
                "suppress_at_or_below": 7,
                "rounding": "midpoint6",
                "key_file": str(key_file),
            },
            "outputs": {"dir": None, "basemap_url": None},
        },
        "reconciliation": {
            "births": {
                "status": "loaded",
                "rows_read": 250,
                "rows_loaded": 240,
                "rows_quarantined": 10,
                "reconciles": True,
            },
            "registrations": {
                "status": "loaded",
                "rows_read": 170,
                "rows_loaded": 167,
                "rows_quarantined": 3,
                "reconciles": True,
            },
        },
        "ingest": {
            "sources": {
                "births": {
                    "quarantine_reasons": {"invalid_date_of_birth": 10},
                    "quality_flags": {"postcode_invalid": 12},
                },
                "registrations": {
                    "quarantine_reasons": {"missing_identity": 3},
                    "quality_flags": {},
                },
            }
        },
        "linkage": {
            "n_records": 420,
            "n_persons": 240,
            "n_families": 180,
            "n_pairs_scored": 900,
            "n_unlinkable_identities": 0,
            "model_source": "trained",
        },
        "reach": {
            "borough": BOROUGH[0],
            "children_without_area": 0,
            "unlinked_records": 0,
            "population_vintage": "ONS mid-2020 (fixture)",
        },
    }
    (out_dir / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")

    _write_stores(out_dir, key_file, membership)
    write_plan_files(out_dir)
    return Fixture(out_dir)


#: The Plan page's files, written by hand in the contract of issue 17 section 3 (plan.json)
#: and of the services stage (overlap.csv, overlap_contacts.csv, offer.csv; released counts).
PLAN_DOC = {
    "schema_version": 1,
    "generated_at": "2026-04-01T09:00:00+00:00",
    "baseline_id": "baseline",
    "scenarios": [
        {
            "id": "baseline",
            "name": "Today",
            "kind": "baseline",
            "sites_open": ["S1", "S2"],
            "cost_per_year": 420000,
            "children_within_15_min": 183,
            "expected_registered": 150.4,
            "expected_registered_interval": [138.2, 162.6],
            "expected_engaged": 81.0,
            "cost_per_child_engaged": 5185.2,
            "gains": [],
            "losses": [],
        },
        {
            "id": "close_s2",
            "name": "Close Halewood",
            "kind": "what_if",
            "sites_open": ["S1"],
            "cost_per_year": 260000,
            "children_within_15_min": 111,
            "expected_registered": 121.0,
            "expected_registered_interval": [110.0, 132.0],
            "expected_engaged": 63.0,
            "cost_per_child_engaged": 4127.0,
            "gains": [],
            "losses": [
                {"dimension": "area", "value": "E01006419", "children": 72},
                {"dimension": "ethnicity", "value": "White British", "children": 40},
            ],
        },
    ],
    "marginal_curve": [
        {"budget": 200000, "children_within_15_min": 90},
        {"budget": 260000, "children_within_15_min": 111},
        {"budget": 420000, "children_within_15_min": 183},
    ],
    "outreach_plan": [],
}
PLAN_OVERLAP = (
    "level,area_code,area_name,combination,n_services,children,families\n"
    "borough,E08000011,Knowsley,births + health_visiting,2,93,75\n"
    "borough,E08000011,Knowsley,births + health_visiting + registrations,3,141,117\n"
    "borough,E08000011,Knowsley,registrations,1,,\n"
    "reach_area,S1,Cherryfield Family Hub,births + health_visiting,2,45,39\n"
)
PLAN_CONTACTS = (
    "level,area_code,area_name,service,children,contacts_per_child_per_year\n"
    "borough,E08000011,Knowsley,health_visiting,231,4.2\n"
    "borough,E08000011,Knowsley,registrations,147,1.0\n"
)
PLAN_OFFER = (
    "site_id,site_name,aspect,group,children,share,sessions_per_week,mismatch\n"
    "S1,Cherryfield Family Hub,age,under 1,39,0.3,0,"
    "Cherryfield Family Hub: 39 children aged under 1 (30% of its reach area) and no session "
    "for children aged under 1.\n"
    "S2,Halewood Children's Centre,age,under 1,21,0.2,,no session data\n"
)


def write_plan_files(out_dir: Path) -> None:
    """plan/plan.json and the services stage's three CSVs (see the constants above)."""
    (out_dir / "plan").mkdir(exist_ok=True)
    (out_dir / "plan" / "plan.json").write_text(json.dumps(PLAN_DOC), encoding="utf-8")
    (out_dir / "overlap.csv").write_text(PLAN_OVERLAP, encoding="utf-8")
    (out_dir / "overlap_contacts.csv").write_text(PLAN_CONTACTS, encoding="utf-8")
    (out_dir / "offer.csv").write_text(PLAN_OFFER, encoding="utf-8")
