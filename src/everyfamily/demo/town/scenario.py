"""Write a synthetic town to a folder: project file, extracts, reference data, sites, truth.

The I/O edge around :func:`everyfamily.demo.town.geography.build_geography` (the place),
:func:`everyfamily.demo.town.stories.place_stories` (where the stories go) and the Knowsley
generator's person and event machinery (:func:`everyfamily.demo.world.simulate`, given the
town's areas, postcodes and sites). The extracts are then re-laid out per seed
(:mod:`everyfamily.demo.town.layout`). The project file uses only documented settings
(docs/settings.md); ``truth/`` is for tests and benchmarks and is never referenced by it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from everyfamily.demo import faults
from everyfamily.demo import world as w
from everyfamily.demo.namevariants import NameVariants
from everyfamily.demo.opendata_io import ETHNIC_GROUPS_2011
from everyfamily.demo.scenario import CENSUS_GROUP_COLUMNS  # the groups' census columns
from everyfamily.demo.town.geography import Geography, build_geography
from everyfamily.demo.town.layout import ROLES, Layout, SourceLayout, draw_layout
from everyfamily.demo.town.stories import Placement, TownStories, area_levels, place_stories
from everyfamily.demo.writers import write_csv, write_parquet, write_xlsx

#: The Knowsley generator's extract layouts, by role: canonical -> column, date format.
_KNOWSLEY = {
    "births": (w.BIRTHS_COLUMNS, w.BIRTHS_DATE),
    "health_visiting": (w.HV_COLUMNS, w.HV_DATE),
    "registrations": (w.REG_COLUMNS, w.REG_DATE),
    "attendances": (w.ATT_COLUMNS, w.ATT_DATE),
}
_SEX = {
    "births": w.SEX_CODES["births"],
    "health_visiting": w.SEX_CODES["health_visiting"],
    "registrations": w.SEX_CODES["registrations"],
}
#: Long census labels (the "long" census style) for the 2011 groups.
CENSUS_LABELS: dict[str, str] = {
    "WhiteBrit": "White: English/Welsh/Scottish/Northern Irish/British",
    "Irish": "White: Irish",
    "OtherWhite": "White: Other White",
    "Mixed": "Mixed/multiple ethnic groups",
    "Indian": "Asian/Asian British: Indian",
    "Pakistani": "Asian/Asian British: Pakistani",
    "Bangladeshi": "Asian/Asian British: Bangladeshi",
    "Chinese": "Asian/Asian British: Chinese",
    "OtherAsian": "Asian/Asian British: Other Asian",
    "BlkAfrican": "Black/African/Caribbean/Black British: African",
    "BlkCaribbean": "Black/African/Caribbean/Black British: Caribbean",
    "OtherBlk": "Black/African/Caribbean/Black British: Other Black",
    "Arab": "Other ethnic group: Arab",
    "Other": "Other ethnic group: Any other ethnic group",
}
NETWORK_NOTE = (
    "APPROXIMATE walking network of a SYNTHETIC town: straight paths between neighbouring "
    "postcode centroids; the barrier is crossable only at its bridges."
)


@dataclass(frozen=True)
class Town:
    """Where everything of one generated town is."""

    out_dir: Path
    project_file: Path
    truth_dir: Path
    extracts: dict[str, Path]
    seed: int
    town_name: str
    n_areas: int
    n_sites: int
    n_children: int
    layout: Layout


def _key(seed: int) -> str:
    return hashlib.sha256(f"everyfamily synthetic town demo key, seed {seed}".encode()).hexdigest()


def _fold(text: str, encoding: str) -> str:
    """Characters the encoding cannot hold, written without their accents (or '?')."""
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            try:
                base.encode(encoding)
            except UnicodeEncodeError:
                base = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i"}.get(ch, "?")
            out.append(base)
    return "".join(out)


def _relayout(df: pd.DataFrame, src: SourceLayout, sites: pd.DataFrame) -> pd.DataFrame:
    """One Knowsley-layout extract in the town source's layout (columns, dates, codes)."""
    k_cols, k_date = _KNOWSLEY[src.role]
    out = pd.DataFrame(index=df.index)
    for field, col in src.columns.items():
        values = df[k_cols[field]].astype(str)
        if field in ("date_of_birth", "event_date"):
            values = values.map(lambda t: _redate(t, k_date, src.date_format))
        elif field == "sex" and src.role in _SEX:
            recode = {v: src.sex_codes.get(k, v) for k, v in _SEX[src.role].items()}
            values = values.replace(recode)
        out[col] = values
    if src.encoding in ("cp1252", "latin-1"):
        enc = src.encoding
        out = out.apply(lambda c: c.map(lambda t: _fold(t, enc)))
    return out.reset_index(drop=True)


def _redate(text: str, src: str, dst: str) -> str:
    d = faults.parse_date(text, src)
    return faults.format_date(d, dst) if d is not None else text


def _value_maps(src: SourceLayout, sites: pd.DataFrame) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    if "sex" in src.columns and src.role in _SEX:
        maps["sex"] = {v: k for k, v in src.sex_codes.items()}
    if src.role == "health_visiting":
        maps["event_type"] = {v: k for k, v in w.HV_CONTACT_TYPES.items()}
        if "ethnicity" in src.columns:
            maps["ethnicity"] = {v: k for k, v in w.ETHNICITY_LABELS.items()}
    if src.role == "registrations":
        if "ethnicity" in src.columns:
            maps["ethnicity"] = dict(w.LOCAL_ETHNICITY_CODES)
        if "main_language" in src.columns:
            maps["main_language"] = dict(w.LANGUAGE_CODES)
        maps["site"] = {
            str(n): str(i) for i, n in zip(sites["site_id"], sites["name"], strict=True)
        }
    if src.role == "attendances":
        maps["site"] = {f"V{100 + i}": str(s) for i, s in enumerate(sites["site_id"], start=1)}
    return maps


def _write_extract(df: pd.DataFrame, src: SourceLayout, path: Path) -> None:
    if src.format == "csv":
        write_csv(df, path, encoding=str(src.encoding), delimiter=str(src.delimiter))
    elif src.format == "excel":
        write_xlsx(df, path, sheet=str(src.sheet))
    else:
        write_parquet(df, path)


def _source_block(src: SourceLayout, sites: pd.DataFrame) -> dict[str, Any]:
    block: dict[str, Any] = {
        "name": src.name,
        "role": src.role,
        "path": f"extracts/{src.file_name}",
        "format": src.format,
    }
    options: dict[str, Any] = {}
    if src.format == "csv":
        options = {"encoding": src.encoding, "delimiter": src.delimiter}
    elif src.format == "excel":
        options = {"sheet": src.sheet}
    if options:
        block["options"] = options
    block["columns"] = dict(src.columns)
    block["date_formats"] = {
        f: src.date_format for f in ("date_of_birth", "event_date") if f in src.columns
    }
    block["value_maps"] = _value_maps(src, sites)
    return block


def _gdf(geo: Geography, crs: str, code_col: str, name_col: str) -> Any:
    import geopandas as gpd

    a = geo.areas
    frame = gpd.GeoDataFrame(
        {code_col: a["lsoa"], name_col: a["name"]},
        geometry=[geo.polygons[c] for c in a["lsoa"]],
        crs="EPSG:27700",
    )
    return frame if crs == "EPSG:27700" else frame.to_crs(crs)


def _to_geojson(frame: Any, path: Path) -> None:
    precision = 2 if str(frame.crs).endswith("27700") else 7
    frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=precision)


#: Boundary file formats the town can write its small areas in (councils hold all three).
BOUNDARY_FORMATS: tuple[str, ...] = ("geojson", "gpkg", "shp")
#: GeoPackage layer name of the small areas (named in the project file).
GPKG_LAYER = "small_areas"


def _write_boundaries(frame: Any, folder: Path, fmt: str) -> dict[str, Any]:
    """The small areas as GeoJSON, GeoPackage (one named layer) or shapefile; returns the
    project's path/layer settings for them."""
    if fmt == "geojson":
        _to_geojson(frame, folder / "small_areas.geojson")
        return {"path": "reference/small_areas.geojson"}
    if fmt == "gpkg":
        frame.to_file(folder / "small_areas.gpkg", driver="GPKG", layer=GPKG_LAYER)
        return {"path": "reference/small_areas.gpkg", "layer": GPKG_LAYER}
    if fmt == "shp":
        # shapefile column names are at most 10 characters: the layout's names all fit
        frame.to_file(folder / "small_areas.shp", driver="ESRI Shapefile")
        return {"path": "reference/small_areas.shp"}
    raise ValueError(f"boundary_format must be one of {BOUNDARY_FORMATS}, got {fmt!r}")


def _write_reference(
    geo: Geography, lay: Layout, ref: Path, boundary_format: str = "geojson"
) -> dict[str, Any]:
    """Reference files in the layout of this seed; returns the project's geography etc."""
    import geopandas as gpd

    a = geo.areas
    boundaries = _write_boundaries(
        _gdf(geo, lay.boundaries_crs, lay.area_code_column, lay.area_name_column),
        ref,
        boundary_format,
    )
    wards = gpd.GeoDataFrame(
        {"ward_code": a["ward"], "ward_name": a["ward_name"]},
        geometry=[geo.polygons[c] for c in a["lsoa"]],
        crs="EPSG:27700",
    ).dissolve(by=["ward_code", "ward_name"], as_index=False)
    _to_geojson(wards, ref / "wards.geojson")
    outline = gpd.GeoDataFrame(
        {"code": ["TOWN"], "name": [geo.town_name]}, geometry=[geo.outline], crs="EPSG:27700"
    )
    _to_geojson(outline, ref / "outline.geojson")

    pc_col, pa_col, lat_col, lon_col = lay.postcode_columns
    pcs = pd.DataFrame(
        {
            pc_col: geo.postcodes["postcode"],
            pa_col: geo.postcodes["lsoa"],
            lat_col: geo.postcodes["lat"].map(lambda v: f"{v:.6f}"),
            lon_col: geo.postcodes["lon"].map(lambda v: f"{v:.6f}"),
        }
    )
    write_csv(pcs, ref / "postcode_centroids.csv", encoding="utf-8", line_terminator="\n")

    pop = pd.DataFrame({lay.population_area_column: a["lsoa"], "Area Name": a["name"]})
    pop["All Ages"] = a["persons"]
    for age in range(5):
        pop[lay.age_column_style.format(a=age)] = a[f"age_{age}"]
    write_csv(pop, ref / "population_0_4.csv", encoding="utf-8", line_terminator="\n")

    d_area, d_imd, d_idaci = lay.deprivation_columns
    dep = pd.DataFrame({d_area: a["lsoa"], d_imd: a["imd_decile"], d_idaci: a["idaci_decile"]})
    write_csv(dep, ref / "deprivation.csv", encoding="utf-8", line_terminator="\n")

    hier = pd.DataFrame(
        {
            "small_area": a["lsoa"],
            "WardCode": a["ward"],
            "WardName": a["ward_name"],
            "MSOACode": a["msoa"],
        }
    )
    write_csv(hier, ref / "area_lookup.csv", encoding="utf-8", line_terminator="\n")

    # Census-style tables (all ages): ethnic group counts, country of birth, language.
    persons = a["persons"].to_numpy()
    label = (lambda g: g) if lay.census_style == "short" else (lambda g: CENSUS_LABELS[g])
    eth = pd.DataFrame({"area": a["lsoa"], "Total": persons})
    counts = np.round(a[[f"eth_{g}" for g in ETHNIC_GROUPS_2011]].to_numpy() * persons[:, None])
    for j, g in enumerate(ETHNIC_GROUPS_2011):
        eth[label(g)] = counts[:, j].astype(int)
    eth["Total"] = counts.sum(axis=1).astype(int)
    write_csv(eth, ref / "census_ethnic_group.csv", encoding="utf-8", line_terminator="\n")
    outside = np.round(a["born_outside_uk"].to_numpy() * persons).astype(int)
    cob = pd.DataFrame(
        {
            "area": a["lsoa"],
            "Total": persons,
            "Born in the UK": persons - outside,
            "Born outside the UK": outside,
        }
    )
    write_csv(cob, ref / "census_country_of_birth.csv", encoding="utf-8", line_terminator="\n")
    non = np.round(a["non_english_msoa"].to_numpy() * persons).astype(int)
    lang = pd.DataFrame(
        {
            "area": a["lsoa"],
            "Main language is English": persons - non,
            "Main language is not English": non,
        }
    )
    write_csv(lang, ref / "census_main_language.csv", encoding="utf-8", line_terminator="\n")

    streets = geo.streets.rename(columns={"road_class": lay.class_column})
    _to_geojson(streets, ref / "streets_approximate.geojson")

    return {
        "geography": {
            "small_area_level": "lsoa",
            "small_areas": {
                **boundaries,
                "code_column": lay.area_code_column,
                "name_column": lay.area_name_column,
            },
            "postcode_lookup": {
                "path": "reference/postcode_centroids.csv",
                "postcode_column": pc_col,
                "area_column": pa_col,
                "latitude_column": lat_col,
                "longitude_column": lon_col,
            },
            "hierarchy": {
                "path": "reference/area_lookup.csv",
                "area_column": "small_area",
                "levels": {"ward": "WardCode", "msoa": "MSOACode"},
                "names": {"ward": "WardName"},
            },
            "boundaries": {
                "ward": {
                    "path": "reference/wards.geojson",
                    "code_column": "ward_code",
                    "name_column": "ward_name",
                },
                "borough": {"path": "reference/outline.geojson", "code_column": "code"},
            },
        },
        "population": {
            "path": "reference/population_0_4.csv",
            "area_column": lay.population_area_column,
            "age_columns": {age: lay.age_column_style.format(a=age) for age in range(5)},
            "vintage": "Synthetic town's population on the reference date (synthetic counts)",
        },
        "deprivation": {
            "path": "reference/deprivation.csv",
            "area_column": d_area,
            "imd_decile_column": d_imd,
            "idaci_decile_column": d_idaci,
            "vintage": "Synthetic deprivation deciles (IoD2019 layout)",
        },
        "communities": {
            "census_baseline": {
                "path": "reference/census_ethnic_group.csv",
                "area_column": "area",
                "total_column": "Total",
                "group_columns": {
                    g: [label(c) for c in cols] for g, cols in CENSUS_GROUP_COLUMNS.items()
                },
                "vintage": "Synthetic census ethnic group (Census 2011 groups)",
            }
        },
        "access": {
            "networks": [
                {
                    "path": "reference/streets_approximate.geojson",
                    "format": "lines",
                    "class_column": lay.class_column,
                    "name_column": "name",
                }
            ],
            "approximate": True,
            "approximate_note": NETWORK_NOTE,
        },
    }


def _write_sites(geo: Geography, lay: Layout, path: Path) -> dict[str, Any]:
    c_id, c_name, c_lat, c_lon, c_cap = lay.site_columns
    s = geo.sites
    df = pd.DataFrame(
        {
            c_id: s["site_id"],
            c_name: s["name"],
            c_lat: s["lat"].map(lambda v: f"{v:.6f}"),
            c_lon: s["lon"].map(lambda v: f"{v:.6f}"),
            c_cap: s["capacity"],
        }
    )
    write_csv(df, path, encoding="utf-8", line_terminator="\n")
    return {
        "path": path.name,
        "id_column": c_id,
        "name_column": c_name,
        "latitude_column": c_lat,
        "longitude_column": c_lon,
        "capacity_column": c_cap,
        "illustrative": True,
    }


def _truth(
    geo: Geography, placement: Placement, world: w.World, stories: TownStories
) -> dict[str, Any]:
    """Ground truth of the planted stories, in product terms (areas, sites, groups)."""
    out: dict[str, Any] = {
        "world": "town",
        "seed": geo.seed,
        "town": geo.town_name,
        "reference_date": world.reference_date.isoformat(),
        "parameters": asdict(stories),
    }
    ws = world.stories
    ec = ws["emerging_community"]
    out["emerging_community"] = {"enabled": bool(ec.get("enabled"))}
    if ec.get("enabled"):
        out["emerging_community"].update(
            {
                "origin": ec["origin"],
                "areas": area_levels(geo, list(ec["lsoas"])),
                "n_families": ec["n_families"],
                "n_children": ec["n_children"],
                "registration_rate": ec["registration_rate"],
            }
        )
    uc = placement.truth.get("unreached_cluster")
    out["unreached_cluster"] = {"enabled": uc is not None, **(uc or {})}
    if uc is not None:
        kids = world.children
        m = kids["lsoa"].isin(uc["areas"]["small_area"])
        out["unreached_cluster"]["n_children"] = int(m.sum())
        out["unreached_cluster"]["registration_rate"] = float(kids.loc[m, "registered"].mean())
        out["unreached_cluster"]["registration_rate_elsewhere"] = float(
            kids.loc[~m, "registered"].mean()
        )
    b = ws["barrier"]
    out["barrier"] = {"enabled": bool(b.get("enabled"))}
    if b.get("enabled"):
        out["barrier"].update(
            {
                "line_lonlat": b["line"],
                "class": geo.barrier_class,
                "name": geo.barrier_name,
                "crossings_bng": [list(c) for c in geo.crossings],
                "far_side_areas": area_levels(geo, list(b["far_side_lsoas"])),
                "far_side_children": b["far_side_children"],
                "far_side_registration_rate": b["far_side_registration_rate"],
                "near_side_registration_rate": b["near_side_registration_rate"],
            }
        )
    out["low_engagement_site"] = dict(ws["low_engagement_site"])
    dr = ws.get("declining_reach", {"enabled": False})
    out["declining_reach"] = dict(dr)
    if dr.get("enabled"):
        out["declining_reach"]["areas"] = area_levels(geo, list(dr["lsoas"]))
    g = ws["gradients"]
    out["deprivation_gradient"] = {"enabled": bool(g.get("enabled"))}
    if g.get("enabled"):
        slope = float(g["registration_per_imd_decile"])
        out["deprivation_gradient"].update(
            {
                "registration_per_imd_decile": slope,
                "engagement_per_imd_decile": float(g["engagement_per_imd_decile"]),
                # registration falls with affluence when the slope is negative: the least
                # deprived deciles are the ones reached less
                "less_reached_deciles": [8, 9, 10] if slope < 0 else [1, 2, 3],
            }
        )
    return out


_HEADER = """\
# everyfamily project file: SYNTHETIC town "{town}" (everyfamily.demo.town, seed {seed}).
# Nothing here is a real place or person: areas, postcodes (area {pc}), population,
# deprivation, sites and streets are all generated. The key in secrets/ is a DEMO key.
"""


def generate_town(
    out_dir: Path,
    seed: int = 1,
    stories: TownStories | None = None,
    n_areas: int | None = None,
    scale: float = 1.0,
    boundary_format: str = "geojson",
    name_variants: NameVariants | None = None,
) -> Town:
    """Generate the synthetic town of ``seed`` into ``out_dir`` (overwriting an earlier one).

    ``n_areas`` fixes the number of small areas (default: drawn from 40-80 by the seed).
    ``scale`` (0.1 to 1) keeps that share of each area's children (and of its population
    file: :func:`everyfamily.demo.world.scale_ages`); 1, the default, changes nothing.
    ``boundary_format``: the small areas' boundary file, one of :data:`BOUNDARY_FORMATS`.
    ``name_variants``: names corrupted as real systems do (demo.namevariants; None, the
    default, changes nothing).
    """
    if boundary_format not in BOUNDARY_FORMATS:
        raise ValueError(f"boundary_format must be one of {BOUNDARY_FORMATS}")
    stories = stories if stories is not None else TownStories()
    geo = build_geography(seed, n_areas)
    if w.check_scale(scale) != 1.0:
        geo = replace(geo, areas=w.scale_ages(geo.areas, scale))
    placement = place_stories(geo, stories, seed)
    world = w.simulate(
        seed,
        placement.stories,
        data=geo.open_data(),
        sites=geo.sites,
        area_registration_factor=placement.area_registration_factor,
        name_variants=name_variants,
    )
    fields = {role: tuple(_KNOWSLEY[role][0]) for role in ROLES}
    lay = draw_layout(seed, fields)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("extracts", "truth", "reference", "secrets"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
        (out / sub).mkdir()
    for name in ("project.yaml", "sites.csv"):
        if (out / name).is_file():
            (out / name).unlink()

    paths: dict[str, Path] = {}
    sources = []
    for src in lay.sources:
        path = out / "extracts" / src.file_name
        _write_extract(_relayout(world.extracts[src.role], src, geo.sites), src, path)
        paths[src.role] = path
        sources.append(_source_block(src, geo.sites))

    ref = _write_reference(geo, lay, out / "reference", boundary_format)
    sites_block = _write_sites(geo, lay, out / "sites.csv")
    key_file = out / "secrets" / "pseudonymisation.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(key_file, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(_key(seed) + "\n")

    project: dict[str, Any] = {
        "project": {
            "name": f"{geo.town_name} (synthetic town)",
            "area_name": geo.town_name,
            "reference_date": world.reference_date.isoformat(),
            "attribution": ["Every place, child and family in this project is synthetic."],
        },
        "geography": ref["geography"],
        "population": {**ref["population"], "as_at": world.reference_date.isoformat()},
        "deprivation": ref["deprivation"],
        "sites": sites_block,
        "sources": sources,
        "engagement": {"min_attendances": 3, "window_months": 12},
        "privacy": {"key_file": "secrets/pseudonymisation.key"},
        "communities": ref["communities"],
        "access": ref["access"],
    }
    project_file = out / "project.yaml"
    project_file.write_text(
        _HEADER.format(town=geo.town_name, seed=seed, pc=str(geo.postcodes["postcode"].iat[0])[:2])
        + yaml.safe_dump(project, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )

    truth = out / "truth"
    write_csv(world.children, truth / "children.csv", encoding="utf-8", line_terminator="\n")
    write_csv(world.families, truth / "families.csv", encoding="utf-8", line_terminator="\n")
    write_csv(world.records_truth, truth / "records.csv", encoding="utf-8", line_terminator="\n")
    doc = _truth(geo, placement, world, stories)
    doc["layout"] = asdict(lay)
    (truth / "stories.json").write_text(
        json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return Town(
        out_dir=out,
        project_file=project_file,
        truth_dir=truth,
        extracts=paths,
        seed=seed,
        town_name=geo.town_name,
        n_areas=len(geo.areas),
        n_sites=len(geo.sites),
        n_children=len(world.children),
        layout=lay,
    )
