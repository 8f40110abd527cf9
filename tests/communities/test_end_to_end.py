"""End to end: the whole pipeline on the synthetic Knowsley scenario finds the planted
community, finds it again when it is moved to another place and origin, finds none when none
is planted, and still finds it when the sources hold names only. The report and the
dashboard (over real HTTP) show the layer and the findings.

Four pipeline runs: the default one is the demo run and the storyless one is shared with
tests/findings (tests/conftest.py ``knowsley_world``); the names-only one is a quarter-size run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from everyfamily.config import load_project
from everyfamily.demo import Scenario, Stories
from everyfamily.pipeline import run_pipeline
from everyfamily.web import create_app
from everyfamily.web.access import StaticPolicy
from web.conftest import running  # the one loopback test server (tests/web/conftest.py)

SIGNAL_FIELDS = ("ethnicity", "main_language", "mother_country_of_birth")


#: The stages the names-only run needs: communities makes the candidates, find ranks them
#: (it reads the trend tests, so trends too); access, services, since, planning and the
#: report make nothing this test reads.
NAMES_ONLY_STAGES = ("ingest", "link", "measure", "communities", "trends", "find")


def _run(project_file: Path, out: Path) -> dict[str, Any]:
    run_pipeline(
        load_project(project_file),
        out_dir=out,
        echo=lambda _m: None,
        seed=1,
        stages=NAMES_ONLY_STAGES,
    )
    return json.loads((out / "findings.json").read_text("utf-8"))


def _emerging(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == "emerging_community"]


def _planted(s: Scenario) -> set[str]:
    stories = json.loads(s.stories_file.read_text("utf-8"))
    return set(stories["emerging_community"]["lsoas"])


@pytest.fixture(scope="module")
def default_run(knowsley_demo: Path) -> Path:
    return knowsley_demo  # the demo run of the default scenario, shared (tests/conftest.py)


def test_planted_community_found(default_run: Path, knowsley_scenario: Scenario) -> None:
    found = _emerging(json.loads((default_run / "findings.json").read_text("utf-8")))
    assert len(found) == 1
    f = found[0]
    assert f["group"] == {"dimension": "origin_group", "value": "romanian"}
    planted = _planted(knowsley_scenario)
    assert len(set(f["areas"]) & planted) >= 3 and len(f["areas"]) <= 6
    assert f["evidence"]["severity"] == "striking"
    assert "Romanian" in f["headline"] and "rose from" in f["headline"]
    # counts in the evidence are released (the cell key method: 0 or above 7, never 1-7)
    births = [p["births"] for p in f["evidence"]["births_by_period"]]
    assert all(b is None or b == 0 or b > 7 for b in births) and any(b for b in births)
    run = json.loads((default_run / "run.json").read_text("utf-8"))
    assert run["communities"]["findings"] == 1 and run["communities"]["baseline"] == "census"


def test_layer_file_is_released_aggregates(default_run: Path) -> None:
    layer = json.loads((default_run / "communities.json").read_text("utf-8"))
    assert [c["group"] for c in layer["communities"]] == ["romanian"]
    text = (default_run / "communities.json").read_text("utf-8")
    assert "person_id" not in text and "P-" not in text
    # cell key (the default): released counts of exactly those children, never 1-7
    by_signal = layer["signals"]["under_fives_by_signal"].values()
    assert all(v is not None and (v == 0 or v > 7) for v in by_signal)


def test_report_shows_the_communities(default_run: Path) -> None:
    html = (default_run / "report.html").read_text("utf-8")
    assert 'id="communities"' in html and "Emerging communities" in html
    assert "emerging community: Romanian" in html


def test_dashboard_shows_layer_and_findings(default_run: Path, knowsley_scenario: Scenario) -> None:
    app = create_app(default_run, policy=StaticPolicy("viewer"))
    with running(app) as base:
        findings = httpx.get(base + "/api/findings", timeout=60).json()["findings"]
        assert [f["kind"] for f in findings].count("emerging_community") == 1
        options = httpx.get(base + "/api/map/options", timeout=60).json()
        assert "communities_emerging" in [o["key"] for o in options["overlays"]]
        geo = httpx.get(base + "/api/map/overlay/communities_emerging", timeout=60).json()
        codes = {f["properties"]["area_code"] for f in geo["features"]}
        assert len(codes & _planted(knowsley_scenario)) >= 3
        assert all("Romanian" in f["properties"]["headline"] for f in geo["features"])
        page = httpx.get(base + "/map", timeout=60).text
        assert "emerging community" in page
        listing = httpx.get(base + "/findings", timeout=60).text
        assert "Romanian-origin" in listing


@pytest.mark.xdist_group("knowsley-stories-moved")
def test_moved_community_found(knowsley_world: Any, knowsley_moved_stories: Stories) -> None:
    # the world with every story moved (tests/conftest.py), shared with tests/findings and
    # tests/access: a Polish community anchored away from the planted one
    out = knowsley_world(seed=2026, stories=knowsley_moved_stories)
    found = _emerging(json.loads((out / "findings.json").read_text("utf-8")))
    assert [f["group"]["value"] for f in found] == ["polish"]
    truth = json.loads((out / "scenario" / "truth" / "stories.json").read_text("utf-8"))
    assert len(set(found[0]["areas"]) & set(truth["emerging_community"]["lsoas"])) >= 3


@pytest.mark.xdist_group("knowsley-no-stories-12")
def test_none_planted_none_found(knowsley_world: Any) -> None:
    # the storyless world of tests/findings/test_stories.py (any seed shows the fact)
    out = knowsley_world(seed=12, stories=Stories.none())
    assert _emerging(json.loads((out / "findings.json").read_text("utf-8"))) == []


def test_names_only_still_found(
    knowsley_small_scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No source maps ethnicity, language or mother's country of birth: names carry it.
    On the quarter-size world (tests/conftest.py): the planted community keeps its size, and
    what is tested is which signal finds it, not the power of the full world."""
    scenario = knowsley_small_scenario
    doc = yaml.safe_load(scenario.project_file.read_text("utf-8"))
    for source in doc["sources"]:
        for field in SIGNAL_FIELDS:
            source["columns"].pop(field, None)
            source.get("value_maps", {}).pop(field, None)
    # A copy of the scenario folder, so the shared session scenario stays untouched.
    folder = tmp_path_factory.mktemp("names-only-scenario") / "scenario"
    shutil.copytree(scenario.project_file.parent, folder)
    variant = folder / "project_names_only.yaml"
    variant.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "utf-8")
    out = tmp_path_factory.mktemp("names-only")
    found = _emerging(_run(variant, out))
    assert [f["group"]["value"] for f in found] == ["romanian"]
    assert len(set(found[0]["areas"]) & _planted(scenario)) >= 3
    assert found[0]["evidence"]["signals"] == {"name": 1.0}
    run = json.loads((out / "run.json").read_text("utf-8"))
    assert set(run["communities"]["under_fives_by_signal"]) <= {"name", "none"}
