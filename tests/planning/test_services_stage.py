"""The services stage on a real run (the shared Knowsley demo) and its localities."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from everyfamily.privacy.release import ReleaseRules
from everyfamily.services.stage import CONTACTS_FILE, OFFER_FILE, OVERLAP_FILE, localities
from everyfamily.web.outputs import load_outputs


def test_localities_are_the_released_areas_and_the_reach_areas() -> None:
    membership = pd.DataFrame(
        [("lsoa", "A", "A"), ("lsoa", "B", "B"), ("ward", "W", "A"), ("ward", "W", "B")],
        columns=["level", "area_code", "small_area"],
    )
    reach = pd.DataFrame([("S1", "Hub", "B")], columns=["site_id", "site_name", "small_area"])
    names = pd.DataFrame([("ward", "W", "West")], columns=["level", "area_code", "area_name"])
    loc = localities(membership, reach, names)
    assert set(map(tuple, loc.to_numpy())) == {
        ("lsoa", "A", "A", "A"),
        ("lsoa", "B", "B", "B"),
        ("ward", "W", "A", "West"),
        ("ward", "W", "B", "West"),
        ("reach_area", "S1", "B", "Hub"),
    }


def test_demo_run_writes_released_overlap_and_offer(knowsley_demo: Path) -> None:
    run = json.loads((knowsley_demo / "run.json").read_text(encoding="utf-8"))
    roles = {s.get("role") or s["name"] for s in run["settings"]["sources"]}
    assert set(run["services"]["services"]) <= roles and len(run["services"]["services"]) >= 2
    overlap = pd.read_csv(knowsley_demo / OVERLAP_FILE)
    contacts = pd.read_csv(knowsley_demo / CONTACTS_FILE)
    offer = pd.read_csv(knowsley_demo / OFFER_FILE)
    for frame in (overlap, contacts, offer):
        assert not frame.empty
        assert not frame.astype(str).apply(lambda c: c.str.contains(r"P-[0-9A-F]")).any().any()
    # every child in range is known to at least one service, so at the borough (the level
    # with one area) the combinations add up to the children in range, within the release
    # rules' error per cell
    rules = ReleaseRules.from_settings(run["settings"].get("privacy"))
    sizes = overlap[overlap["level"] != "reach_area"].groupby("level")["area_code"].nunique()
    borough = overlap[overlap["level"] == sizes.idxmin()]
    assert borough["area_code"].nunique() == 1
    engine = load_outputs(knowsley_demo).open_store("analysis")
    try:
        in_range = int(
            engine.query("SELECT count(*) AS n FROM children WHERE in_age_range").to_pandas()["n"][
                0
            ]
        )
    finally:
        engine.close()
    slack = len(borough) * max(rules.max_error, rules.suppress_at_or_below + 1)
    assert abs(borough["children"].fillna(0).sum() - in_range) <= slack
    # ages are read from the store (month of birth), in every centre's reach area
    assert set(offer["aspect"]) >= {"age", "language"}
    assert set(offer["site_id"]) == set(overlap.loc[overlap["level"] == "reach_area", "area_code"])
