"""Linkage equally good for every community, in both synthetic worlds (issue 21).

Each world is generated small with the demo's name corruption on (``demo.namevariants``:
Windows-1252 exports, mojibake, Romanian cedilla, swapped names, one part of a double
surname, the other parent's surname), ingested, and linked by today's model. The truth says
which records carry which planted corruption; every origin group and movers must keep their
cross-source recall (bench/bench_linkage_fairness.py measures the full-size worlds against
the old comparisons).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from everyfamily.config import LinkageSettings, load_project
from everyfamily.demo.namevariants import NameVariants
from everyfamily.engines import open_engine
from everyfamily.linkage.quality import cross_source_quality
from everyfamily.linkage.stage import link_records

SETTINGS = LinkageSettings(name_variants=True)
NAME_ERRORS = (
    "name_cp1252_export",
    "name_mojibake",
    "name_cedilla",
    "names_swapped",
    "surname_one_part",
    "surname_other_parent",
)


def _link_world(project_file: Path, truth_dir: Path, folder: Path) -> dict[str, Any]:
    from everyfamily.ingest.stage import STAGE as INGEST
    from everyfamily.pipeline import RunContext

    project = load_project(project_file)
    roles = {s.role: s.name for s in project.sources}
    folder.mkdir(parents=True, exist_ok=True)
    with closing(open_engine("duckdb", path=folder / "store.duckdb")) as engine:
        ctx = RunContext(project=project, out_dir=folder, engine=engine, echo=lambda _m: None)
        INGEST.run(ctx)
        link_records(engine, SETTINGS, key=b"k" * 32, out_dir=folder, run="t", seed=3)
        links = engine.query("SELECT source, record_id, person_id FROM links").to_pandas()
    truth = pd.read_csv(truth_dir / "records.csv", dtype=str)
    truth = truth[truth["expected_quarantine"].isna()].copy()
    truth["source"] = truth["source"].map(lambda s: roles.get(s, s))
    children = pd.read_csv(truth_dir / "children.csv", dtype=str)
    return {"links": links, "truth": truth, "children": children}


def _check(world: dict[str, Any]) -> None:
    truth, links, children = world["truth"], world["links"], world["children"]
    errors = truth["errors"].fillna("")
    planted = {e: int(errors.str.contains(e).sum()) for e in NAME_ERRORS}
    # the corruption is there: every kind the world's names allow was planted
    assert sum(planted.values()) >= 50, planted
    # the children whose records carry a planted name corruption are linked across sources
    hit = truth.loc[errors.str.contains("|".join(NAME_ERRORS)), "child_id"].unique()
    sub = truth[truth["child_id"].isin(hit)]
    q = cross_source_quality(links, sub[["source", "record_id", "child_id"]])
    assert q.overall.recall >= 0.97, q.overall
    # and every origin group with enough children, and movers, keep their recall
    groups = children[["child_id", "origin", "moved"]]
    full = cross_source_quality(links, truth[["source", "record_id", "child_id"]], groups)
    assert full.overall.precision >= 0.995
    for (dim, g), (n, found, true) in full.by_group.items():
        if n >= 20 and true:
            assert found / true >= 0.97, (dim, g, n, found, true)


@pytest.mark.slow
def test_town_with_mangled_names_links_every_group(tmp_path: Path) -> None:
    from everyfamily.demo.town import generate_town

    town = generate_town(tmp_path / "town", seed=4, scale=0.3, name_variants=NameVariants())
    _check(_link_world(town.project_file, town.truth_dir, tmp_path / "out"))


@pytest.mark.slow
def test_demo_with_mangled_names_links_every_group(tmp_path: Path) -> None:
    from everyfamily.demo.scenario import generate_scenario
    from everyfamily.demo.stories import Stories

    # no stories: at a quarter size no area is big enough to host the emerging community
    sc = generate_scenario(
        tmp_path / "demo", seed=7, scale=0.25, stories=Stories.none(), name_variants=NameVariants()
    )
    _check(_link_world(sc.project_file, sc.truth_dir, tmp_path / "out"))


def test_name_variants_off_leaves_the_world_unchanged(tmp_path: Path) -> None:
    """Behind a setting: without ``name_variants`` the demo's extracts are byte for byte
    what they were (the corruption draws from its own generator)."""
    from everyfamily.demo import world as w
    from everyfamily.demo.stories import Stories

    data = w.load_open_data()
    small = w.scale_ages(data.areas, 0.25)
    from dataclasses import replace

    d = replace(data, areas=small)
    none = Stories.none()
    plain = w.simulate(5, none, data=d)
    off = w.simulate(5, none, data=d, name_variants=None)
    on = w.simulate(5, none, data=d, name_variants=NameVariants())
    for role in plain.extracts:
        pd.testing.assert_frame_equal(plain.extracts[role], off.extracts[role])
    # on: the same people and events, only names differ
    assert len(on.extracts["registrations"]) == len(plain.extracts["registrations"])
    assert (on.records_truth["record_id"] == plain.records_truth["record_id"]).all()
    assert on.records_truth["errors"].str.contains("|".join(NAME_ERRORS)).any()
