"""The second world: a randomised town that the product handles with its own settings only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import shapely

from everyfamily.demo.evaluate import STORY_KINDS, evaluate_run, rank_stories
from everyfamily.demo.town import Town, TownStories, build_geography, generate_town
from everyfamily.demo.town.layout import draw_layout
from everyfamily.ingest.rules import POSTCODE_RE

SEED = 7
N_AREAS = 40


@pytest.fixture(scope="session")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    return generate_town(tmp_path_factory.mktemp("town") / "t", seed=SEED, n_areas=N_AREAS)


@pytest.fixture(scope="session")
def town_run(town: Town) -> Path:
    """One validated and finished run of the town, shared by every test that needs it."""
    from everyfamily.cli import main

    assert main(["validate", str(town.project_file)]) == 0
    out = town.out_dir / "out"
    assert main(["run", str(town.project_file), "--out", str(out)]) == 0
    return out


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _story(t: Town) -> dict:
    return json.loads((t.truth_dir / "stories.json").read_text(encoding="utf-8"))


# --- geography (pure) --------------------------------------------------------------------------


def test_geography_is_a_partition_with_postcodes_inside_their_areas() -> None:
    geo = build_geography(3, n_areas=45)
    assert len(geo.areas) == 45 == len(geo.polygons)
    # the cells tile the outline: no gaps, no overlaps
    total = sum(p.area for p in geo.polygons.values())
    assert total == pytest.approx(geo.outline.area, rel=1e-9)
    assert shapely.union_all(list(geo.polygons.values())).area == pytest.approx(total, rel=1e-9)
    # British National Grid metres inside England, areas of urban-LSOA size
    assert 380_000 < geo.outline.centroid.x < 520_000 and 200_000 < geo.outline.centroid.y < 400_000
    assert 0.1e6 < total / 45 < 1.0e6
    pc = geo.postcodes
    assert pc["postcode"].is_unique
    assert all(POSTCODE_RE.fullmatch(p) for p in pc["postcode"])
    assert pc["postcode"].str.match(r"Z[^E]").all()  # no real postcode area
    inside = [
        geo.polygons[a].covers(shapely.Point(x, y))
        for a, x, y in zip(pc["lsoa"], pc["x"], pc["y"], strict=True)
    ]
    assert all(inside)
    assert set(pc["lsoa"]) == set(geo.areas["lsoa"])
    assert sorted(geo.areas["imd_decile"].unique()) == list(range(1, 11))


def test_barrier_cuts_off_areas_without_sites_and_is_crossed_only_at_bridges() -> None:
    geo = build_geography(4, n_areas=40)
    assert 8 <= len(geo.sites) <= 15
    assert geo.barrier.intersects(geo.outline)
    cut = set(geo.cut_off_areas)
    assert 0.2 * 40 <= len(cut) <= 0.4 * 40
    assert not set(geo.sites["lsoa"]) & cut
    # deprivation is ranked on each side separately: the barrier is no deprivation contrast
    far = geo.areas["lsoa"].isin(cut)
    assert geo.areas.loc[far, "imd_decile"].mean() == pytest.approx(
        geo.areas.loc[~far, "imd_decile"].mean(), abs=0.6
    )
    streets = geo.streets
    walk = streets[streets["road_class"] != geo.barrier_class]
    crossing = walk[walk.intersects(geo.barrier)]
    assert set(crossing["bridge"]) == {"yes"}
    assert len(crossing) == len(geo.crossings)
    assert 2 <= len(geo.crossings) <= 3
    assert (streets["road_class"] == geo.barrier_class).sum() == 1


def test_town_size_is_drawn_from_40_to_80_areas_by_default() -> None:
    sizes = {seed: len(build_geography(seed).areas) for seed in (2, 4)}
    assert sizes == {2: 79, 4: 43}  # the seed's draw from 40..80
    with pytest.raises(ValueError, match="n_areas"):
        build_geography(1, n_areas=5)


def test_other_seeds_make_other_towns() -> None:
    a, b = build_geography(11, 40), build_geography(12, 40)
    assert a.outline.centroid.distance(b.outline.centroid) > 1000
    assert set(a.areas["lsoa"]) != set(b.areas["lsoa"]) or a.town_name != b.town_name


# --- layouts --------------------------------------------------------------------------------


def test_layouts_vary_across_seeds() -> None:
    fields = {
        "births": ("record_id", "nhs_number", "date_of_birth", "ethnicity"),
        "health_visiting": ("record_id", "nhs_number", "ethnicity", "event_date"),
        "registrations": ("record_id", "nhs_number", "ethnicity", "site"),
        "attendances": ("record_id", "nhs_number", "site"),
    }
    lays = [draw_layout(s, fields) for s in range(1, 21)]
    srcs = [s for lay in lays for s in lay.sources]
    assert {s.format for s in srcs} == {"csv", "excel", "parquet"}
    assert len({s.encoding for s in srcs if s.format == "csv"}) >= 3
    assert len({s.delimiter for s in srcs if s.format == "csv"}) >= 3
    assert len({s.date_format for s in srcs}) >= 5
    assert len({s.columns["record_id"] for s in srcs}) >= 4
    no_eth = [lay for lay in lays if lay.no_ethnicity]
    assert 0 < len(no_eth) < len(lays)
    for lay in no_eth:  # no ethnicity anywhere
        assert all("ethnicity" not in s.columns for s in lay.sources)
    assert any("nhs_number" in s.dropped for s in srcs)
    assert all("csv" in {s.format for s in lay.sources} for lay in lays)


# --- the generated town --------------------------------------------------------------------------


def test_same_seed_same_bytes(town: Town, tmp_path: Path) -> None:
    again = generate_town(tmp_path / "again", seed=SEED, n_areas=N_AREAS)
    ours = {k: v for k, v in _hashes(town.out_dir).items() if not k.startswith("out/")}
    assert _hashes(again.out_dir) == ours


def test_project_uses_product_settings_only_and_never_the_truth(town: Town) -> None:
    from everyfamily.config import load_project

    project = load_project(town.project_file)  # strict: unknown keys are refused
    text = town.project_file.read_text(encoding="utf-8")
    assert "truth" not in text and "demo" not in text.split("\n", 3)[-1]
    assert len(project.sources) == 4
    assert project.access is not None and project.access.approximate


def test_extracts_are_in_the_declared_layouts(town: Town) -> None:
    from everyfamily.config import load_project

    project = load_project(town.project_file)
    for src, lay in zip(project.sources, town.layout.sources, strict=True):
        path = Path(str(src.path))
        if lay.format == "csv":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == (lay.encoding == "utf-8-sig")
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, sep=lay.delimiter, encoding=lay.encoding
            )
        elif lay.format == "excel":
            df = pd.read_excel(path, sheet_name=lay.sheet, dtype=str).fillna("")
        else:
            df = pd.read_parquet(path)
        assert list(df.columns) == list(lay.columns.values())
        for field in lay.dropped:
            assert field not in src.columns
        # dates in the declared format (planted faults aside)
        fmt = lay.date_format
        dob = pd.to_datetime(df[lay.columns["date_of_birth"]], format=fmt, errors="coerce")
        assert dob.notna().mean() > 0.97, (lay.role, fmt)
        if "sex" in lay.columns:
            assert set(df[lay.columns["sex"]]) <= set(lay.sex_codes.values()) | {""}


def test_stories_are_where_the_truth_says(town: Town) -> None:
    truth = _story(town)
    kids = pd.read_csv(town.truth_dir / "children.csv", dtype=str, keep_default_na=False)
    reg = kids["registered"] == "True"
    uc, ec, b = truth["unreached_cluster"], truth["emerging_community"], truth["barrier"]
    in_uc = kids["lsoa"].isin(uc["areas"]["small_area"])
    storyless = ~kids["lsoa"].isin(
        uc["areas"]["small_area"] + ec["areas"]["small_area"] + b["far_side_areas"]["small_area"]
    )
    # planted factor 0.4 on registration: the cluster is reached far less than areas that no
    # story touches (0.4 before the deprivation and age gradients and sampling noise)
    assert reg[in_uc].mean() < 0.7 * reg[storyless].mean()
    comm = kids["community"] == "True"
    assert comm.sum() == ec["n_children"] > 30
    assert set(kids.loc[comm, "lsoa"]) <= set(ec["areas"]["small_area"])
    assert (kids.loc[comm, "origin"] == ec["origin"]).all()
    assert b["far_side_registration_rate"] < 0.7 * b["near_side_registration_rate"]
    sites = pd.read_csv(town.out_dir / "sites.csv", dtype=str)
    les = truth["low_engagement_site"]
    assert les["site_id"] in set(sites.iloc[:, 0])
    per_site = les["attendances_per_registered_child"]
    assert min(per_site, key=per_site.get) == les["site_id"]
    # stories do not share areas
    sets = [set(uc["areas"]["small_area"]), set(ec["areas"]["small_area"]),
            set(b["far_side_areas"]["small_area"])]  # fmt: skip
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])


def test_null_town_plants_nothing(tmp_path: Path) -> None:
    t = generate_town(tmp_path / "null", seed=SEED, stories=TownStories.none(), n_areas=20)
    truth = _story(t)
    assert not any(truth[k]["enabled"] for k in
                   ("unreached_cluster", "emerging_community", "barrier", "low_engagement_site",
                    "deprivation_gradient"))  # fmt: skip
    kids = pd.read_csv(t.truth_dir / "children.csv", dtype=str)
    assert (kids["community"] == "False").all() and (kids["barrier"] == "False").all()
    assert rank_stories([], truth) and not any(r.planted for r in rank_stories([], truth))


# --- the evaluator (hand-made findings) ---------------------------------------------------------


def _f(rank: int, kind: str, areas=(), group=None, site=None, severity="striking", merged=()):
    return {
        "id": f"F{rank}",
        "rank": rank,
        "kind": kind,
        "areas": list(areas),
        "group": {"dimension": group[0], "value": group[1]} if group else None,
        "site": site,
        "evidence": {
            "severity": severity,
            "merged": [{"group": {"dimension": d, "value": v}} for d, v in merged],
        },
    }


def test_rank_stories_matches_by_area_site_and_own_group() -> None:
    truth = {
        "unreached_cluster": {
            "enabled": True, "areas": {"small_area": ["A1", "A2"], "ward": ["W1"]}
        },
        "emerging_community": {
            "enabled": True, "origin": "polish", "areas": {"small_area": ["A7"], "ward": ["W3"]}
        },
        "barrier": {"enabled": True, "far_side_areas": {"small_area": ["A9"], "ward": ["W4"]}},
        "low_engagement_site": {"enabled": True, "site_id": "S3"},
        "deprivation_gradient": {"enabled": True, "less_reached_deciles": [8, 9, 10]},
    }  # fmt: skip
    findings = [
        # a deprivation finding carrying a merged Polish group: not the community
        _f(
            1, "unreached_group", ["T"], ("imd_quintile", "3"), merged=[("main_language", "polish")]
        ),
        _f(2, "low_engagement_site", site="S2"),
        _f(3, "unreached_area", ["W1"]),  # ward holding the cluster
        _f(4, "access_barrier", ["A8", "A9"]),
        _f(5, "unreached_group", ["T"], ("imd_quintile", "5")),
        _f(6, "emerging_community", ["A7"], ("origin_group", "polish")),
        _f(7, "low_engagement_site", site="S3", severity="watch"),
    ]
    got = {r.story: (r.rank, r.severity) for r in rank_stories(findings, truth)}
    assert got == {
        "unreached_cluster": (3, "striking"),
        "emerging_community": (6, "striking"),
        "barrier": (4, "striking"),
        "low_engagement_site": (7, "watch"),
        "deprivation_gradient": (5, "striking"),
    }
    found = {r.story: r.found(5) for r in rank_stories(findings, truth)}
    assert found == {
        "unreached_cluster": True,
        "emerging_community": False,  # rank 6
        "barrier": True,
        "low_engagement_site": False,  # only a watch finding
        "deprivation_gradient": True,
    }


# --- the product on the town ----------------------------------------------------------------------


@pytest.mark.slow
def test_validate_and_run_succeed_on_the_town(town: Town, town_run: Path) -> None:
    run = json.loads((town_run / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "complete"
    # every source loads nearly all its rows, in whatever layout this seed drew: only the
    # planted faults (~1% of rows) are quarantined
    truth = pd.read_csv(town.truth_dir / "records.csv", dtype=str)
    rows = truth.groupby("source").size()
    for lay in town.layout.sources:
        quarantined = sum(run["ingest"]["sources"][lay.name]["quarantine_reasons"].values())
        assert 0 < quarantined <= 0.02 * rows[lay.role], lay.name
    ev = evaluate_run(town_run, town.truth_dir)
    assert [s["story"] for s in ev["stories"]] == list(STORY_KINDS)
    assert ev["n_findings"] >= 1
    print(json.dumps(ev, indent=1))


@pytest.mark.slow
def test_access_reads_the_whole_street_layer(town: Town, town_run: Path) -> None:
    """The product reads the town's street layer: one node per home point, one barrier."""
    run = json.loads((town_run / "run.json").read_text(encoding="utf-8"))
    pcs = pd.read_csv(town.out_dir / "reference" / "postcode_centroids.csv", dtype=str)
    # sites stand at postcode centroids, so the walking nodes are exactly the postcodes
    assert run["access"]["network"]["walking_nodes"] == len(pcs)
    assert run["access"]["barriers"]["lines"] == 1
    assert run["access"]["barriers"]["candidates"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["gpkg", "shp"])
def test_pipeline_runs_on_geopackage_or_shapefile_boundaries(fmt: str, tmp_path: Path) -> None:
    """The town's small areas as a GeoPackage layer or a shapefile: the product reads them
    with the project file only, every area is measured, and the planted cluster is found.
    A quarter of the children (the reader does not depend on the size of the town; the
    planted cluster keeps its own size). Every stage that reads the boundaries (measure,
    access, trends, find, report; the cluster is an area finding); not communities,
    services or since, which read no boundary file, nor planning, which reads them through
    the access stage's loader."""
    from everyfamily.demo.town.run import run_town

    stages = ("ingest", "link", "measure", "access", "trends", "find", "report")
    run = run_town(
        tmp_path / fmt, 3, n_areas=N_AREAS, boundary_format=fmt, scale=0.25, stages=stages
    )
    small = run.town.project_file.read_text(encoding="utf-8")
    assert f"small_areas.{fmt}" in small
    reach = pd.read_csv(run.out_dir / "reach.csv", dtype=str)
    level = reach[(reach["level"] == "lsoa") & (reach["dimension"] == "all")]
    assert level["area_code"].nunique() == N_AREAS
    ranks = {s["story"]: s for s in run.evaluation["stories"]}
    assert ranks["unreached_cluster"]["found"], ranks["unreached_cluster"]
