"""The dashboard over the real Knowsley demo run (generated once per session)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from . import loopback

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_viewer(demo_outputs: Path, serve: Callable[[Path, str], str]) -> str:
    return serve(demo_outputs, "viewer")


def test_overview_matches_the_run_headline(demo_outputs: Path, demo_viewer: str) -> None:
    run = json.loads((demo_outputs / "run.json").read_text(encoding="utf-8"))
    head = run["reach"]
    b = loopback.get(demo_viewer + "/api/overview").json()["borough"]
    # run.json holds the borough row as released (cell key, the default): the dashboard
    # shows the same numbers, not rounded again
    assert run["settings"]["privacy"]["release_method"] == "cell_key"
    for key in ("denominator", "known", "registered", "engaged"):
        assert b[key] == head[key], key
    # the rate comes from the protected counts (issue 7)
    shown = head["registered"] / head["denominator"]
    assert b["registered_rate"] == pytest.approx(round(shown, 4), abs=1e-4)


def test_map_covers_every_small_area(demo_viewer: str) -> None:
    geo = loopback.get(demo_viewer + "/api/map/geometry/lsoa").json()
    values = loopback.get(demo_viewer + "/api/map/values").json()
    codes = {f["properties"]["area_code"] for f in geo["features"]}
    assert len(codes) == 98
    assert set(values["areas"]) == codes
    shown = sum(c["areas"] for c in values["classes"]) + values["no_data"]["areas"]
    assert shown == 98


def test_every_profile_and_finding_link_resolves(demo_viewer: str) -> None:
    with httpx.Client(base_url=demo_viewer, timeout=30) as client:
        areas = client.get("/api/areas").json()["areas"]
        for a in areas:
            assert client.get(a["url"]).status_code == 200, a["code"]
        for s in client.get("/api/map/sites").json()["sites"]:
            assert client.get(s["url"]).status_code == 200, s["site_id"]
        for f in client.get("/api/findings").json()["findings"]:
            assert client.get(f["links"]["map"]).status_code == 200, f["id"]
            for a in f["links"]["areas"]:
                assert client.get(a["url"]).status_code == 200


def test_outreach_list_is_complete_for_outreach_staff_and_hidden_from_viewers(
    demo_outputs: Path, demo_viewer: str, serve: Callable[[Path, str], str]
) -> None:
    from everyfamily.stores import open_run_stores

    engine = open_run_stores(demo_outputs)  # the analysis store, read-only, with the run's key
    try:
        listed = engine.query("SELECT person_id, area_code FROM not_reached").to_pandas()
    finally:
        engine.close()
    assert not (demo_outputs / "restricted/not_reached.csv").exists()  # no plain extract
    staff = serve(demo_outputs, "outreach_worker")
    assert loopback.get(staff + "/api/outreach").json()["total"] == len(listed)
    sample = set(listed["person_id"].head(50))
    for path in (
        "/",
        "/map",
        "/findings",
        "/centres/KN01",
        "/quality",
        "/api/overview",
        "/api/findings",
        f"/api/areas/{listed['area_code'].iloc[0]}",
        "/export/findings.csv",
    ):
        text = loopback.get(demo_viewer + path).text
        assert not any(p in text for p in sample), path
