"""End to end on the synthetic Knowsley scenario: generate -> ingest -> link -> reach -> find.

The findings engine must find the planted stories, find them again when the scenario moves
them (another anchor area and origin, another site), and report nothing striking when every
story is switched off (false-positive control, across seeds). The truth (truth/stories.json)
is read only here, never by the pipeline.

Each world is a shared run (tests/conftest.py ``knowsley_world``): the planted one is the demo
run; a broken import in the package fails these tests, it never skips them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from everyfamily.demo.evaluate import check_stories, community_groups, striking
from everyfamily.demo.evaluate import groups_in as _groups_in

pytestmark = pytest.mark.slow


def run_scenario(
    knowsley_world: Any, *, seed: int, stories: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The shared pipeline run of this world: (findings, truth stories)."""
    out = knowsley_world(seed=seed, stories=stories)
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    truth_file = out / "scenario" / "truth" / "stories.json"
    return doc["findings"], json.loads(truth_file.read_text(encoding="utf-8"))


def assert_community_found(findings: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    (check,) = [c for c in check_stories(findings, truth) if c.story == "emerging_community"]
    ec = truth["emerging_community"]
    assert check.found, f"the {ec['origin']} community in {sorted(ec['lsoas'])} was not found"


def assert_site_found(findings: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    site = truth["low_engagement_site"]["site_id"]
    hits = [f for f in striking(findings) if f["kind"] == "low_engagement_site"]
    assert [f["site"] for f in hits] == [site]


def assert_barrier_found(findings: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    (check,) = [c for c in check_stories(findings, truth) if c.story == "barrier"]
    assert check.found, "no unreached area on the far side of the barrier"


@pytest.fixture(scope="module")
def planted(
    knowsley_world: Any, knowsley_demo: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    # the demo run (asking for knowsley_demo puts these tests in its xdist group)
    return run_scenario(knowsley_world, seed=2026, stories=None)


def test_planted_emerging_community_is_found(planted: Any) -> None:
    assert_community_found(*planted)


def test_planted_low_engagement_site_is_found(planted: Any) -> None:
    assert_site_found(*planted)


def test_far_side_of_the_barrier_is_found(planted: Any) -> None:
    assert_barrier_found(*planted)


@pytest.mark.xdist_group("knowsley-stories-moved")
def test_stories_are_found_again_when_moved(
    knowsley_world: Any, knowsley_moved_stories: Any
) -> None:
    # the world with every story moved (tests/conftest.py), shared with tests/access and
    # tests/communities: the community to another anchor and origin, the site to another
    moved = knowsley_moved_stories
    anchor = moved.emerging_community.anchor_lsoa
    findings, truth = run_scenario(knowsley_world, seed=2026, stories=moved)
    assert truth["emerging_community"]["anchor_lsoa"] == anchor
    assert_community_found(findings, truth)
    assert_site_found(findings, truth)
    # and the old community's areas are no longer raised for it
    old_groups = community_groups("romanian") - community_groups("polish")
    assert not [
        f
        for f in striking(findings)
        if f["kind"] == "unreached_group" and old_groups & _groups_in(f)
    ]


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(11, marks=pytest.mark.xdist_group("knowsley-no-stories-11")),
        pytest.param(12, marks=pytest.mark.xdist_group("knowsley-no-stories-12")),
    ],
)
def test_nothing_striking_when_every_story_is_off(seed: int, knowsley_world: Any) -> None:
    from everyfamily.demo.stories import Stories

    findings, _truth = run_scenario(knowsley_world, seed=seed, stories=Stories.none())
    assert [f["headline"] for f in striking(findings)] == []
