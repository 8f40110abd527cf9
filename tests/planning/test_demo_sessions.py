"""The demo's illustrative sessions timetable: the offer counts real sessions (no "no
session data"), and the timetable agrees with the sites' costed sessions per week."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd


def test_demo_offer_counts_the_timetable(knowsley_demo: Path) -> None:
    offer = pd.read_csv(knowsley_demo / "offer.csv")
    assert not offer["mismatch"].fillna("").str.contains("no session data").any()
    ages = offer[offer["aspect"] == "age"].set_index(["site_id", "group"])["sessions_per_week"]
    # per site a week: 5 weekday stay-and-play sessions (0-59 months), a Saturday one for
    # 12-59 months and 2 baby groups (0-11 months): 7 open to babies, 6 to every other age
    for (_site, group), n in ages.items():
        assert n == (7 if group == "under 1" else 6), group


def test_demo_timetable_matches_the_costed_sessions(knowsley_demo: Path) -> None:
    run = json.loads((knowsley_demo / "run.json").read_text(encoding="utf-8"))
    p = run["settings"]["planning"]
    listed: Counter[tuple[str, str]] = Counter()
    for s in p["sessions"]:
        listed[(s["site"], s["name"])] += int(s["per_week"])
    for site in p["sites"]:
        for name, n in site["sessions_per_week"].items():
            assert listed[(site["id"], name)] == n
    assert all(s.get("day") and s.get("time") for s in p["sessions"])
    assert p["source"] == "illustrative" and "timetable" in p["basis"]
