"""The detector on the synthetic world itself (no ingest or linkage): quick checks of the
false-positive control across seeds and of sources without ethnicity. The detector gets only
what a council would hold (areas, dates of birth, signals, names, registration), never the
truth's origin or community columns."""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from everyfamily.communities.detect import DetectSettings, detect
from everyfamily.communities.nameorigin import load_model
from everyfamily.communities.signals import assign_groups
from everyfamily.demo import EmergingCommunity, Stories, simulate
from everyfamily.demo.opendata_io import ETHNICITY_2011, OPENDATA_DIR, load_open_data
from everyfamily.demo.scenario import CENSUS_GROUP_COLUMNS

COUNCIL_COLUMNS = [
    "person_id",
    "area_code",
    "date_of_birth",
    "registered",
    "engaged",
    "ethnicity",
    "main_language",
    "mother_country_of_birth",
]


@cache
def neighbours() -> dict[str, set[str]]:
    polys = load_open_data().polygons
    return {
        a: {b for b in polys if b != a and polys[a].buffer(1).intersects(polys[b])} for a in polys
    }


@cache
def census() -> pd.DataFrame:
    raw = pd.read_csv(OPENDATA_DIR / ETHNICITY_2011)
    out = pd.DataFrame({"area_code": raw["lsoa11cd"], "total": raw["Persons"]})
    for group, cols in CENSUS_GROUP_COLUMNS.items():
        out[group] = raw[cols].sum(axis=1)
    return out


def run(seed: int, stories: Stories, drop: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    world = simulate(seed, stories)
    kids = world.children.rename(columns={"child_id": "person_id", "lsoa": "area_code"})
    names = kids[["person_id", "first_name", "last_name"]].rename(
        columns={"first_name": "given_name", "last_name": "surname"}
    )
    kids = kids[[c for c in COUNCIL_COLUMNS if c not in drop]].assign(known=True, in_age_range=True)
    model = load_model()
    assigned = assign_groups(kids, names, model)
    result = detect(
        assigned,
        DetectSettings(reference_date=world.reference_date),
        confusion=model.confusion,
        neighbours=neighbours(),
        baseline=census(),
    )
    return world, result


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_community_planted_no_finding(seed: int) -> None:
    _, result = run(seed, Stories.none())
    assert result.findings == []
    assert result.summary["tests"] > 1000


def test_no_ethnicity_recorded_still_finds_the_community() -> None:
    world, result = run(2026, Stories(), drop=("ethnicity",))
    planted = set(world.stories["emerging_community"]["lsoas"])
    hits = [f for f in result.findings if f.group == ("origin_group", "romanian")]
    assert len(hits) == 1 and set(hits[0].areas) & planted
    assert {f.group[1] for f in result.findings} == {"romanian"}


def test_moved_and_names_only() -> None:
    stories = Stories(
        emerging_community=EmergingCommunity(origin="baltic", anchor_lsoa="E01006480")
    )
    world, result = run(5, stories, drop=("ethnicity", "main_language", "mother_country_of_birth"))
    planted = set(world.stories["emerging_community"]["lsoas"])
    assert [f.group for f in result.findings] == [("origin_group", "baltic")]
    assert len(set(result.findings[0].areas) & planted) >= 3
    assert result.findings[0].evidence["signals"] == {"name": 1.0}
