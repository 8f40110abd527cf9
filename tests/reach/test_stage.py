"""The measure stage end to end on a tiny project: real files, a real DuckDB store."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pytest
from shapely.geometry import box

from everyfamily.config import parse_project
from everyfamily.engines import open_engine
from everyfamily.errors import ConfigError, DataError, InputError
from everyfamily.pipeline import RunContext
from everyfamily.population.attributes import load_deprivation, load_sites
from everyfamily.population.denominators import check_ages, load_population
from everyfamily.privacy.release import ReleaseRules
from everyfamily.reach.stage import reach_stage

from .fixtures import REFERENCE_DATE, records_and_links


def write_project(tmp: Path, *, sites_csv: str | None = None) -> Path:
    # Two 0.01-degree squares side by side near Huyton: A1 west, A2 east.
    areas = gpd.GeoDataFrame(
        {"code": ["A1", "A2"], "name": ["Area one", "Area two"]},
        geometry=[box(-2.87, 53.40, -2.86, 53.41), box(-2.86, 53.40, -2.85, 53.41)],
        crs="EPSG:4326",
    )
    areas.to_file(tmp / "areas.geojson", driver="GeoJSON")
    (tmp / "postcodes.csv").write_text("pcd,lsoa,lat,lon\nL36 1AA,A1,53.405,-2.865\n")
    (tmp / "hierarchy.csv").write_text(
        "lsoa,ward,ward_nm,msoa,lad,lad_nm\n"
        "A1,W1,Ward one,M1,E08,Testborough\nA2,W2,Ward two,M1,E08,Testborough\n"
    )
    (tmp / "population.csv").write_text("lsoa,a0,a1,a2,a3,a4\nA1,2,2,2,2,2\nA2,1,1,1,1,1\n")
    (tmp / "iod.csv").write_text("lsoa,imd,idaci\nA1,1,2\nA2,7,10\n")
    (tmp / "sites.csv").write_text(
        sites_csv
        or "site_id,name,lat,lon\nS1,Centre one,53.405,-2.8655\nS2,Centre two,53.405,-2.8545\n"
    )
    (tmp / "births.csv").write_text("id,dob,first,last\n")
    text = textwrap.dedent(f"""
        project: {{name: Test, reference_date: {REFERENCE_DATE.isoformat()}}}
        geography:
          small_areas: {{path: areas.geojson, code_column: code, name_column: name}}
          postcode_lookup: {{path: postcodes.csv, postcode_column: pcd, area_column: lsoa}}
          hierarchy:
            path: hierarchy.csv
            area_column: lsoa
            levels: {{ward: ward, msoa: msoa, lad: lad}}
            names: {{ward: ward_nm, lad: lad_nm}}
        population:
          path: population.csv
          area_column: lsoa
          age_columns: {{0: a0, 1: a1, 2: a2, 3: a3, 4: a4}}
          vintage: test
        deprivation: {{path: iod.csv, area_column: lsoa, imd_decile_column: imd,
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


def make_ctx(tmp: Path, project_file: Path, *, with_links: bool = True) -> RunContext:
    project = parse_project(project_file.read_text(), base_dir=project_file.parent)
    engine = open_engine("duckdb", path=tmp / "store.duckdb")
    records, links = records_and_links()
    engine.write_table("records", pa.Table.from_pandas(records, preserve_index=False))
    if with_links:
        engine.write_table("links", pa.Table.from_pandas(links, preserve_index=False))
    lines: list[str] = []
    ctx = RunContext(project=project, out_dir=tmp / "out", engine=engine, echo=lines.append)
    ctx.metadata["lines"] = lines
    return ctx


def test_stage_writes_tables_and_files(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, write_project(tmp_path))
    try:
        reach_stage(ctx)
        reach = ctx.engine.query("SELECT * FROM reach").to_pandas()
        children = ctx.engine.query("SELECT * FROM children").to_pandas()
        nr = ctx.engine.query("SELECT * FROM not_reached").to_pandas()
        cell_keys = ctx.engine.query("SELECT * FROM reach_cell_keys").to_pandas()
    finally:
        ctx.engine.close()
    out = tmp_path / "out"
    b = reach[
        (reach["level"] == "borough") & (reach["dimension"] == "all") & (reach["service"] == "any")
    ]
    assert b["area_code"].tolist() == ["E08"] and b["area_name"].tolist() == ["Testborough"]
    assert (b[["denominator", "known", "registered", "engaged"]].to_numpy() == [[6, 5, 3, 1]]).all()
    assert b["ons_population"].tolist() == [15.0]
    # deprivation joined from the home area: A1 (P1, P2, P3) is IMD decile 1 = quintile 1
    imd1 = reach[
        (reach["level"] == "borough")
        & (reach["dimension"] == "imd_quintile")
        & (reach["service"] == "any")
    ].set_index("group_value")
    assert imd1.loc["1", "denominator"] == 3 and imd1.loc["4", "denominator"] == 3
    assert imd1.loc["1", "registered"] == 2
    idaci = reach[
        (reach["level"] == "borough")
        & (reach["dimension"] == "idaci_decile")
        & (reach["service"] == "any")
    ].set_index("group_value")
    assert idaci.loc["10", "denominator"] == 3
    # reach areas by nearest site: A1 -> S1, A2 -> S2
    ra = reach[
        (reach["level"] == "reach_area")
        & (reach["dimension"] == "all")
        & (reach["service"] == "any")
    ]
    assert dict(zip(ra["area_code"], ra["denominator"], strict=True)) == {"S1": 3, "S2": 3}
    assert len(children) == 7

    csv = pd.read_csv(out / "reach.csv")
    assert len(csv) == len(reach)
    layers = gpd.list_layers(out / "reach.gpkg")["name"].tolist()
    assert sorted(layers) == ["borough", "lsoa", "msoa", "reach_area", "ward"]
    boro = gpd.read_file(out / "reach.gpkg", layer="borough")
    assert boro.crs.to_epsg() == 4326 and len(boro) == 3  # any, S1, S2
    assert boro.geometry.iloc[0].area == pytest.approx(0.0002, rel=1e-6)  # both squares dissolved
    assert nr["person_id"].tolist() == ["P3", "P4", "P5"]
    # person-level tables stay in the store: no file of them in the output folder
    assert not list(out.rglob("*not_reached*")) and not list(out.rglob("children*"))

    meta = ctx.metadata["reach"]
    # run.json holds the RELEASED borough counts. The default method is the cell key method:
    # 6, 5, 3 and 1 are all 7 or fewer, so each is released as 0 or 8, as the ptable says for
    # its cell key (a numerator capped at the released denominator)
    assert meta["released"] is True
    assert meta["disclosure"] == {
        "suppress_at_or_below": 7,
        "rounding": "midpoint6",
        "release_method": "cell_key",
    }
    ck = cell_keys[
        (cell_keys["level"] == "borough")
        & (cell_keys["dimension"] == "all")
        & (cell_keys["service"] == "any")
    ].iloc[0]
    ptable = ReleaseRules().ptable()
    want = {
        c: int(ptable.perturb([n], [ck[f"ck_{c}"]])[0])
        for c, n in zip(
            ("denominator", "known", "registered", "engaged"), (6, 5, 3, 1), strict=True
        )
    }
    for c in ("known", "registered", "engaged"):
        want[c] = min(want[c], want["denominator"])
    assert {c: meta[c] for c in want} == want
    assert set(want.values()) <= {0, 8}  # counts of 1-7 never appear
    assert meta["children_outside_age_range"] is None  # 1 child: not a table count, suppressed
    json.dumps(meta)  # run.json-ready
    summary = "\n".join(ctx.metadata["lines"])
    assert f"children in range {want['denominator']:,}" in summary
    assert "P1" not in summary and "2022-05-01" not in summary  # no person-level values


def test_reach_areas_from_sites_file(tmp_path: Path) -> None:
    sites = (
        "site_id,name,lat,lon,areas\nS1,Centre one,53.405,-2.8655,A1;A2\n"
        "S2,Centre two,53.405,-2.8545,\n"
    )
    project_file = write_project(tmp_path, sites_csv=sites)
    text = project_file.read_text().replace(
        "sites: {path: sites.csv}", "sites: {path: sites.csv, reach_areas_column: areas}"
    )
    project_file.write_text(text)
    ctx = make_ctx(tmp_path, project_file)
    try:
        reach_stage(ctx)
        ra = ctx.engine.query("SELECT * FROM reach_areas").to_pandas()
    finally:
        ctx.engine.close()
    # S1 lists both areas; S2 lists none and every area is taken, so S2 has no reach area
    assert sorted(zip(ra["site_id"], ra["small_area"], strict=True)) == [("S1", "A1"), ("S1", "A2")]
    assert ctx.metadata["reach"]["reach_areas_from"] == "sites file"


def test_stage_without_links_is_skipped(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, write_project(tmp_path), with_links=False)
    try:
        reach_stage(ctx)
        assert not ctx.engine.has_table("reach")
    finally:
        ctx.engine.close()
    assert ctx.metadata["reach"] == {"skipped": "no links table"}


def test_stage_without_records_is_a_data_error(tmp_path: Path) -> None:
    project_file = write_project(tmp_path)
    project = parse_project(project_file.read_text(), base_dir=tmp_path)
    engine = open_engine("duckdb")
    ctx = RunContext(project=project, out_dir=tmp_path / "o", engine=engine, echo=print)
    with pytest.raises(DataError, match="no 'records' table"):
        reach_stage(ctx)
    engine.close()


def test_input_errors_are_one_line_with_row_and_column(tmp_path: Path) -> None:
    project = parse_project(write_project(tmp_path).read_text(), base_dir=tmp_path)
    (tmp_path / "population.csv").write_text("lsoa,a0,a1,a2,a3,a4\nA1,2,2,2,2,2\nA2,1,x,1,1,1\n")
    with pytest.raises(InputError) as err:
        load_population(project)
    assert "row 2, column 'a1'" in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "iod.csv").write_text("lsoa,imd,idaci\nA1,11,2\n")
    with pytest.raises(InputError, match="row 1, column 'imd': expected a decile"):
        load_deprivation(project.deprivation)
    (tmp_path / "sites.csv").write_text("site_id,name,lat,lon\nS1,a,53.4,-2.8\nS1,b,53.4,-2.8\n")
    with pytest.raises(InputError, match="row 2, column 'site_id'"):
        load_sites(project.sites)
    with pytest.raises(ConfigError, match="no column for age 5"):
        check_ages(project, 0, 5)


def test_deprivation_quintiles() -> None:
    from everyfamily.population.attributes import quintile_of_decile

    q = quintile_of_decile(pd.Series([1, 2, 3, 9, 10, None], dtype="Int64"))
    assert q.tolist()[:5] == [1, 1, 2, 5, 5] and pd.isna(q.iloc[5])
