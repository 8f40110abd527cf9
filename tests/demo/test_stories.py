"""The planted stories are where stories.json says, vanish when switched off, move when moved."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from everyfamily.demo import (
    Barrier,
    EmergingCommunity,
    LowEngagementSite,
    Scenario,
    Stories,
)

# A north-south line through Whiston, east of the M57 (splits 8 LSOAs from their nearest site).
SOUTH_LINE = ((-2.79, 53.44), (-2.80, 53.39))


def _kids(s: Scenario) -> pd.DataFrame:
    df = pd.read_csv(s.truth_dir / "children.csv", dtype=str, keep_default_na=False)
    for col in ("registered", "engaged", "community", "barrier", "moved", "born_abroad"):
        df[col] = df[col] == "True"
    df["attendances"] = df["attendances"].astype(int)
    return df


def _story(s: Scenario) -> dict:
    return json.loads(s.stories_file.read_text(encoding="utf-8"))


def _per_site(kids: pd.DataFrame) -> pd.Series:
    reg = kids[kids["registered"]]
    return reg.groupby("registered_site")["attendances"].mean()


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Every story moved: another anchor and origin, another line, another site."""
    from everyfamily.demo import generate_scenario

    stories = Stories(
        emerging_community=EmergingCommunity(origin="polish", anchor_lsoa="E01006420"),
        barrier=Barrier(line=SOUTH_LINE, max_distance_km=1.5),
        low_engagement_site=LowEngagementSite(site_id="KN07"),
    )
    return generate_scenario(tmp_path_factory.mktemp("moved") / "s", stories=stories)


@pytest.fixture(scope="module")
def storyless(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    from everyfamily.demo import generate_scenario

    return generate_scenario(tmp_path_factory.mktemp("none") / "s", stories=Stories.none())


def test_emerging_community_is_where_stories_json_says(knowsley_scenario: Scenario) -> None:
    story = _story(knowsley_scenario)["emerging_community"]
    kids = _kids(knowsley_scenario)
    areas = story["lsoas"]
    assert len(areas) == 4 and story["origin"] == "romanian"
    comm = kids[kids["community"]]
    assert set(comm["lsoa"]) <= set(areas) and len(comm) == story["n_children"] > 40
    assert (comm["origin"] == "romanian").all()
    assert (comm["mother_country_of_birth"] == "Romania").all()
    assert set(comm["ethnicity"]) <= {"white_other", "white_roma"}
    assert (comm["main_language"] == "Romanian").mean() > 0.8
    # the community's LSOAs hold most Romanian-origin children, at a far higher share
    romanian = kids["origin"] == "romanian"
    in_areas = kids["lsoa"].isin(areas)
    assert (romanian & in_areas).sum() > 0.5 * romanian.sum()
    assert romanian[in_areas].mean() > 10 * romanian[~in_areas].mean()
    # barely registered
    assert comm["registered"].mean() < 0.3 * kids.loc[~kids["community"], "registered"].mean()
    # recent arrivals: births concentrated in recent years, some born abroad
    recent = pd.to_datetime(comm["date_of_birth"]) >= pd.Timestamp("2023-01-01")
    everyone = pd.to_datetime(kids["date_of_birth"]) >= pd.Timestamp("2023-01-01")
    assert recent.mean() > everyone.mean() + 0.15
    assert comm["born_abroad"].any()


def test_community_children_replace_others_not_add(
    knowsley_scenario: Scenario, storyless: Scenario
) -> None:
    a, b = _kids(knowsley_scenario), _kids(storyless)
    assert a.groupby("lsoa").size().equals(b.groupby("lsoa").size())
    assert not b["community"].any() and "lsoas" not in _story(storyless)["emerging_community"]


def test_barrier_far_side_registers_less(knowsley_scenario: Scenario) -> None:
    story = _story(knowsley_scenario)["barrier"]
    kids = _kids(knowsley_scenario)
    far, near = story["far_side_lsoas"], story["near_side_lsoas"]
    assert far and near and not set(far) & set(near)
    assert set(kids.loc[kids["barrier"], "lsoa"]) == set(far)
    rate_far = kids[kids["lsoa"].isin(far)]["registered"].mean()
    rate_near = kids[kids["lsoa"].isin(near)]["registered"].mean()
    assert rate_far < 0.7 * rate_near
    assert story["far_side_children"] == int(kids["lsoa"].isin(far).sum())


def test_low_engagement_site_sees_children_seldom(knowsley_scenario: Scenario) -> None:
    story = _story(knowsley_scenario)["low_engagement_site"]
    kids = _kids(knowsley_scenario)
    site = story["site_id"]
    per = _per_site(kids)
    others = per.drop(site)
    assert per[site] < 0.4 * others.min()
    # it still registers families normally
    n_reg = kids[kids["registered"]].groupby("registered_site").size()
    assert n_reg[site] >= 0.5 * n_reg.drop(site).median()
    assert story["registered_children"] == int(n_reg[site])


def test_gradients_registration_falls_with_affluence(knowsley_scenario: Scenario) -> None:
    from everyfamily.demo.opendata_io import load_open_data

    kids = _kids(knowsley_scenario)
    kids = kids[~kids["community"] & ~kids["barrier"]]
    imd = load_open_data().areas.set_index("lsoa")["imd_decile"]
    kids["imd"] = kids["lsoa"].map(imd)
    most = kids[kids["imd"] == 1]["registered"].mean()
    least = kids[kids["imd"] >= 5]["registered"].mean()
    assert most > least


def test_stories_none_removes_every_story(knowsley_scenario: Scenario, storyless: Scenario) -> None:
    story = _story(storyless)
    assert not any(
        story[k]["enabled"]
        for k in ("emerging_community", "barrier", "low_engagement_site", "gradients")
    )
    kids = _kids(storyless)
    assert not kids["barrier"].any()
    default = _story(knowsley_scenario)
    # the community LSOAs now register like everyone else
    areas = default["emerging_community"]["lsoas"]
    assert kids[kids["lsoa"].isin(areas)]["registered"].mean() > 0.6
    assert (kids["origin"] == "romanian").sum() < 0.5 * (
        _kids(knowsley_scenario)["origin"] == "romanian"
    ).sum()
    # the far side of the M57 registers like the near side
    far = default["barrier"]["far_side_lsoas"]
    near = default["barrier"]["near_side_lsoas"]
    r_far = kids[kids["lsoa"].isin(far)]["registered"].mean()
    r_near = kids[kids["lsoa"].isin(near)]["registered"].mean()
    assert r_far > 0.8 * r_near
    # no site stands out
    per = _per_site(kids)
    assert per.min() > 0.6 * per.median()


def test_moving_the_stories_moves_them(knowsley_scenario: Scenario, moved: Scenario) -> None:
    story = _story(moved)
    kids = _kids(moved)
    ec = story["emerging_community"]
    assert ec["anchor_lsoa"] == "E01006420" and ec["origin"] == "polish"
    comm = kids[kids["community"]]
    assert set(comm["lsoa"]) <= set(ec["lsoas"]) and (comm["origin"] == "polish").all()
    assert (comm["mother_country_of_birth"] == "Poland").all()
    default_areas = _story(knowsley_scenario)["emerging_community"]["lsoas"]
    assert not set(ec["lsoas"]) & set(default_areas)
    assert comm["registered"].mean() < 0.3 * kids.loc[~kids["community"], "registered"].mean()

    b = story["barrier"]
    assert b["line"] == [list(p) for p in SOUTH_LINE]
    assert b["far_side_lsoas"] != _story(knowsley_scenario)["barrier"]["far_side_lsoas"]
    assert b["far_side_lsoas"]
    r_far = kids[kids["lsoa"].isin(b["far_side_lsoas"])]["registered"].mean()
    r_near = kids[kids["lsoa"].isin(b["near_side_lsoas"])]["registered"].mean()
    assert r_far < 0.7 * r_near

    assert story["low_engagement_site"]["site_id"] == "KN07"
    per = _per_site(kids)
    assert per["KN07"] < 0.4 * per.drop("KN07").min()
    default_site = _story(knowsley_scenario)["low_engagement_site"]["site_id"]
    assert default_site != "KN07" and per[default_site] > 0.6 * per.median()


def test_story_parameters_are_validated() -> None:
    from everyfamily.demo import simulate

    with pytest.raises(ValueError, match="origin"):
        Stories(emerging_community=EmergingCommunity(origin="martian")).validate()
    with pytest.raises(ValueError, match="line"):
        Stories(barrier=Barrier(line=((0.0, 0.0),))).validate()
    with pytest.raises(ValueError, match="anchor_lsoa"):
        simulate(1, replace(Stories(), emerging_community=EmergingCommunity(anchor_lsoa="E0")))
