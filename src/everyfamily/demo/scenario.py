"""Write the synthetic Knowsley scenario to a folder: project file, extracts, key, sites, truth.

This is the I/O edge around :func:`everyfamily.demo.world.simulate`. The folder is
self-contained (the open data it uses is copied into ``reference/``) and can be moved or
zipped. ``truth/`` is for tests and benchmarks only: the project file never points at it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from everyfamily.demo import opendata_io as od
from everyfamily.demo import world as w
from everyfamily.demo.namevariants import NameVariants
from everyfamily.demo.stories import Stories
from everyfamily.demo.writers import write_csv, write_parquet, write_xlsx

HV_SHEET = "HV Contacts"
HIERARCHY_FILE = "lsoa2011_hierarchy_knowsley.csv"


@dataclass(frozen=True)
class Scenario:
    """Where everything of one generated scenario is."""

    out_dir: Path
    project_file: Path
    truth_dir: Path
    extracts: dict[str, Path]
    key_file: Path
    sites_file: Path
    stories_file: Path
    seed: int
    stories: Stories
    n_children: int
    n_families: int


def _demo_key(seed: int) -> str:
    """A pseudonymisation key derived from the seed: reproducible, and for the DEMO ONLY."""
    text = f"everyfamily synthetic Knowsley demo key, seed {seed}"
    return hashlib.sha256(text.encode()).hexdigest()


def _clear(out: Path) -> None:
    """Remove what an earlier run wrote here (only our own files and folders)."""
    for sub in ("extracts", "truth", "reference", "secrets", "planning"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    for name in ("project.yaml", "sites.csv", "README.md"):
        if (out / name).is_file():
            (out / name).unlink()


def _copy_reference(ref: Path) -> dict[str, str]:
    """Copy the open-data files the project references; returns logical name -> relative path."""
    files = {
        "lsoa": od.LSOA_BOUNDARIES,
        "msoa": od.MSOA_BOUNDARIES,
        "ward": od.WARD_BOUNDARIES,
        "borough": od.BOROUGH_OUTLINE,
        "postcodes": od.POSTCODES,
        "population": od.POPULATION,
        "deprivation": od.DEPRIVATION,
    }
    out: dict[str, str] = {}
    for key, rel in files.items():
        target = ref / Path(rel).name
        shutil.copyfile(od.OPENDATA_DIR / rel, target)
        out[key] = f"reference/{target.name}"
    shutil.copyfile(od.OPENDATA_DIR / "PROVENANCE.md", ref / "PROVENANCE.md")
    # The hierarchy needs ward and MSOA in one table: join the two ONS lookups.
    wards = pd.read_csv(od.OPENDATA_DIR / od.WARD_LOOKUP, dtype=str)
    oa = pd.read_csv(od.OPENDATA_DIR / od.OA_LOOKUP, dtype=str)
    msoa = oa.drop_duplicates("lsoa11cd")[["lsoa11cd", "msoa11cd"]]
    hier = wards.merge(msoa, left_on="LSOA11CD", right_on="lsoa11cd", how="left")
    hier = hier[["LSOA11CD", "LSOA11NM", "WD19CD", "WD19NM", "msoa11cd", "LAD19CD", "LAD19NM"]]
    hier = hier.rename(columns={"msoa11cd": "MSOA11CD"}).sort_values("LSOA11CD")
    write_csv(hier, ref / HIERARCHY_FILE, encoding="utf-8", line_terminator="\n")
    out["hierarchy"] = f"reference/{HIERARCHY_FILE}"
    return out


def _scale_population_file(path: Path, areas: pd.DataFrame) -> None:
    """Rewrite the copied ONS population file with the scaled world's counts (``age_0``..
    ``age_4`` per LSOA; every other column as published)."""
    pop = pd.read_csv(path, dtype=str, keep_default_na=False)
    counts = areas.set_index("lsoa")
    for a in range(5):
        pop[f"age_{a}"] = pop["lsoa11_code"].map(counts[f"age_{a}"]).astype(int).astype(str)
    if "age_0_4" in pop.columns:
        under5 = counts[[f"age_{a}" for a in range(5)]].sum(axis=1)
        pop["age_0_4"] = pop["lsoa11_code"].map(under5).astype(int).astype(str)
    write_csv(pop, path, encoding="utf-8", line_terminator="\n")


def _project(ref: dict[str, str], world: w.World) -> dict[str, Any]:
    sites = world.sites
    site_by_name = {str(n): str(i) for i, n in zip(sites["site_id"], sites["name"], strict=True)}
    return {
        "project": {
            "name": "Knowsley (synthetic demo)",
            "area_name": "Knowsley",
            "reference_date": world.reference_date.isoformat(),
            "attribution": [
                *od.ATTRIBUTION,
                "Every child and family in this demo is synthetic; the sites are "
                "illustrative, placed at real primary schools.",
            ],
        },
        "geography": {
            "small_area_level": "lsoa",
            "small_areas": {
                "path": ref["lsoa"],
                "code_column": "lsoa11cd",
                "name_column": "lsoa11nm",
            },
            "postcode_lookup": {
                "path": ref["postcodes"],
                "postcode_column": "postcode",
                "area_column": "lsoa11cd_spatial",
                "latitude_column": "lat",
                "longitude_column": "lon",
            },
            "hierarchy": {
                "path": ref["hierarchy"],
                "area_column": "LSOA11CD",
                "levels": {"ward": "WD19CD", "msoa": "MSOA11CD"},
                "names": {"ward": "WD19NM"},
            },
            "boundaries": {
                "ward": {
                    "path": ref["ward"],
                    "code_column": "ward22_code",
                    "name_column": "ward22_name",
                },
                "msoa": {"path": ref["msoa"], "code_column": "msoa11cd", "name_column": "msoa11nm"},
                "borough": {"path": ref["borough"], "code_column": "lad_cd"},
            },
        },
        "population": {
            "path": ref["population"],
            "area_column": "lsoa11_code",
            "age_columns": {a: f"age_{a}" for a in range(5)},
            # The synthetic world is built so that its children on the reference date number
            # exactly these ONS mid-2020 single-year counts: for the demo they ARE the
            # population on that date, and the project says so rather than pretending a
            # 2020 estimate describes 2026 (the product warns on such a gap).
            "vintage": "Synthetic world's population on the reference date (counts taken "
            "from ONS mid-2020 small-area estimates, SAPE23DT2, LSOA 2011)",
            "as_at": world.reference_date.isoformat(),
        },
        "deprivation": {
            "path": ref["deprivation"],
            "area_column": "lsoa11cd",
            "imd_decile_column": "imd_decile",
            "idaci_decile_column": "idaci_decile",
            "vintage": "English Indices of Deprivation 2019 (MHCLG), LSOA 2011",
        },
        "sites": {
            "path": "sites.csv",
            "id_column": "site_id",
            "name_column": "name",
            "latitude_column": "lat",
            "longitude_column": "lon",
            "capacity_column": "capacity",
            "illustrative": True,
        },
        "sources": [
            {
                "name": "births",
                "role": "births",
                "path": "extracts/births_notifications.csv",
                "format": "csv",
                "options": {"encoding": "cp1252", "delimiter": ","},
                "columns": dict(w.BIRTHS_COLUMNS),
                "date_formats": {"date_of_birth": w.BIRTHS_DATE},
                "value_maps": {"sex": {v: k for k, v in w.SEX_CODES["births"].items()}},
            },
            {
                "name": "health_visiting",
                "role": "health_visiting",
                "path": "extracts/health_visiting_contacts.xlsx",
                "format": "excel",
                "options": {"sheet": HV_SHEET},
                "columns": dict(w.HV_COLUMNS),
                "date_formats": {"date_of_birth": w.HV_DATE, "event_date": w.HV_DATE},
                "value_maps": {
                    "sex": {v: k for k, v in w.SEX_CODES["health_visiting"].items()},
                    "event_type": {v: k for k, v in w.HV_CONTACT_TYPES.items()},
                    "ethnicity": {v: k for k, v in w.ETHNICITY_LABELS.items()},
                },
            },
            {
                "name": "centre_registrations",
                "role": "registrations",
                "path": "extracts/centre_registrations.csv",
                "format": "csv",
                "options": {"encoding": "utf-8-sig", "delimiter": ";"},
                "columns": dict(w.REG_COLUMNS),
                "date_formats": {"date_of_birth": w.REG_DATE, "event_date": w.REG_DATE},
                "value_maps": {
                    "sex": {v: k for k, v in w.SEX_CODES["registrations"].items()},
                    "ethnicity": dict(w.LOCAL_ETHNICITY_CODES),
                    "main_language": dict(w.LANGUAGE_CODES),
                    "site": site_by_name,
                },
            },
            {
                "name": "centre_attendances",
                "role": "attendances",
                "path": "extracts/centre_attendances.parquet",
                "format": "parquet",
                "columns": dict(w.ATT_COLUMNS),
                "date_formats": {"date_of_birth": w.ATT_DATE, "event_date": w.ATT_DATE},
                "value_maps": {"site": {v: k for k, v in w.VENUE_CODES.items()}},
            },
        ],
        "engagement": {"min_attendances": 3, "window_months": 12},
        "privacy": {"key_file": "secrets/pseudonymisation.key"},
    }


#: Census 2011 ethnic-group columns holding each origin group (communities/groups.py).
CENSUS_GROUP_COLUMNS: dict[str, list[str]] = {
    "polish": ["OtherWhite"],
    "romanian": ["OtherWhite"],
    "baltic": ["OtherWhite"],
    "other_cee": ["OtherWhite"],
    "south_asian": ["Indian", "Pakistani", "Bangladeshi", "OtherAsian"],
    "chinese": ["Chinese"],
    "arabic": ["Arab"],
    "west_african": ["BlkAfrican"],
}


def _census_baseline(ref: Path) -> dict[str, Any]:
    """Copy the Census 2011 ethnic-group table into reference/ and describe it."""
    target = ref / Path(od.ETHNICITY_2011).name
    shutil.copyfile(od.OPENDATA_DIR / od.ETHNICITY_2011, target)
    return {
        "census_baseline": {
            "path": f"reference/{target.name}",
            "area_column": "lsoa11cd",
            "total_column": "Persons",
            "group_columns": CENSUS_GROUP_COLUMNS,
            "vintage": "Census 2011 ethnic group (14 groups, from the MLID package), LSOA 2011",
        }
    }


_HEADER = """\
# everyfamily project file: SYNTHETIC Knowsley demo (generated by everyfamily.demo, seed {seed}).
# Every child and family here is synthetic. The areas, population estimates, deprivation,
# postcodes and school locations are real open data (OGL v3; see reference/PROVENANCE.md).
# The children's centre sites are illustrative, placed at real primary schools.
# secrets/pseudonymisation.key is derived from the seed: a DEMO key, never for real data.
"""

_README = """\
# Synthetic Knowsley scenario (seed {seed})

Generated by `everyfamily.demo.generate_scenario`. Nothing here is about a real person.

- `project.yaml`: the everyfamily project file (run `everyfamily run project.yaml`).
- `extracts/`: four council exports, each in its own system's format:
  births notifications (CSV, Windows-1252, dd/mm/yyyy), health visiting contacts (Excel,
  sheet "{sheet}", dates as text dd-Mon-yyyy), children's centre registrations (CSV, UTF-8 with
  BOM, ';'-separated, ISO dates, local codes), centre attendances (Parquet, yyyymmdd).
- `reference/`: the real open data the project uses (OGL v3, see PROVENANCE.md).
- `sites.csv`: 12 ILLUSTRATIVE children's centre sites at real primary-school locations.
- `secrets/pseudonymisation.key`: a DEMO key derived from the seed. Never use it for real data.
- `truth/`: the ground truth, for tests and benchmarks only (the project does not read it):
  `children.csv`, `records.csv` (every extract row with its child, planted errors and
  expected ingest outcome), `families.csv` and `stories.json` (the planted stories).
"""


def generate_scenario(
    out_dir: Path,
    seed: int = 2026,
    stories: Stories | None = None,
    scale: float = 1.0,
    name_variants: NameVariants | None = None,
    months_earlier: int | None = None,
) -> Scenario:
    """Generate the synthetic Knowsley scenario into ``out_dir`` (overwriting an earlier one).

    ``scale`` (0.1 to 1): the share of the ONS children to simulate in every area and age
    (:func:`everyfamily.demo.world.scale_ages`); the population file the project reads is
    scaled alike, so completeness stays as at full size. 1 (the default) is the full world,
    unchanged. Planted stories keep their own sizes, so they stand out more in a smaller
    world. ``name_variants``: names corrupted as real systems do (demo.namevariants; None,
    the default, changes nothing). ``months_earlier``: one extract of a monthly series
    (demo.monthly.cut_world: the same world cut that many month ends back, with planted
    departures; None, the default, is the world as it was)."""
    stories = stories if stories is not None else Stories()
    scale = w.check_scale(scale)
    data = od.load_open_data()
    if scale != 1.0:
        data = replace(data, areas=w.scale_ages(data.areas, scale))
    world = w.simulate(seed, stories, data=data, name_variants=name_variants)
    if months_earlier is not None:
        from everyfamily.demo.monthly import cut_world

        world = cut_world(world, months_earlier)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    for sub in ("extracts", "truth", "reference", "secrets", "planning"):
        (out / sub).mkdir()
    ref = _copy_reference(out / "reference")
    if scale != 1.0:
        _scale_population_file(out / ref["population"], data.areas)

    ex = world.extracts
    paths = {
        "births": out / "extracts" / "births_notifications.csv",
        "health_visiting": out / "extracts" / "health_visiting_contacts.xlsx",
        "registrations": out / "extracts" / "centre_registrations.csv",
        "attendances": out / "extracts" / "centre_attendances.parquet",
    }
    write_csv(ex["births"], paths["births"], encoding="cp1252")
    write_xlsx(ex["health_visiting"], paths["health_visiting"], sheet=HV_SHEET)
    write_csv(ex["registrations"], paths["registrations"], encoding="utf-8-sig", delimiter=";")
    write_parquet(ex["attendances"], paths["attendances"])

    sites = world.sites.copy()
    sites["lat"] = sites["lat"].map(lambda v: f"{v:.6f}")
    sites["lon"] = sites["lon"].map(lambda v: f"{v:.6f}")
    sites["note"] = "illustrative site at a primary school; not a real children's centre"
    sites_file = out / "sites.csv"
    write_csv(
        sites[["site_id", "name", "lat", "lon", "capacity", "school_urn", "note"]],
        sites_file,
        encoding="utf-8",
        line_terminator="\n",
    )

    key_file = out / "secrets" / "pseudonymisation.key"
    # a secret, even a demo one: readable by its owner only (0600) from the moment it exists
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(key_file, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(_demo_key(seed) + "\n")

    project = _project(ref, world)
    # The approximate walking network (demo/network.py): the access stage reads it like a
    # council's own street network, and every access output says it is approximate.
    from everyfamily.demo import network as demo_network

    demo_network.write_network(
        out / "reference" / demo_network.FILE_NAME, world.sites[["lat", "lon"]], stories
    )
    project["access"] = demo_network.access_block(f"reference/{demo_network.FILE_NAME}")
    # Census 2011 ethnic group by LSOA: the emerging-communities baseline (docs/communities.md).
    project["communities"] = _census_baseline(out / "reference")
    # Illustrative costs, candidate venues and the demo's scenarios (demo/planning.py).
    from everyfamily.demo.planning import write_planning

    project["planning"] = write_planning(out, world.sites, data.schools)
    # An illustrative benchmark file (made-up rates for England and neighbours).
    from everyfamily.demo.benchmark import write_benchmark

    project["trends"] = write_benchmark(out / "reference")
    project_file = out / "project.yaml"
    project_file.write_text(
        _HEADER.format(seed=seed)
        + yaml.safe_dump(project, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    (out / "README.md").write_text(_README.format(seed=seed, sheet=HV_SHEET), encoding="utf-8")

    truth = out / "truth"
    write_csv(world.children, truth / "children.csv", encoding="utf-8", line_terminator="\n")
    write_csv(world.families, truth / "families.csv", encoding="utf-8", line_terminator="\n")
    write_csv(world.records_truth, truth / "records.csv", encoding="utf-8", line_terminator="\n")
    story_doc = {"parameters": asdict(stories), **world.stories}
    stories_file = truth / "stories.json"
    stories_file.write_text(
        json.dumps(story_doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return Scenario(
        out_dir=out,
        project_file=project_file,
        truth_dir=truth,
        extracts=paths,
        key_file=key_file,
        sites_file=sites_file,
        stories_file=stories_file,
        seed=seed,
        stories=stories,
        n_children=len(world.children),
        n_families=len(world.families),
    )
