"""The demo's ``planning:`` block: illustrative costs, candidate venues and a scenario file.

Every cost here is ILLUSTRATIVE (``source: illustrative``, with its basis), made up to the
order of magnitude of published council figures, and every planning output says so. The
candidate venues are other primary schools of the open data (GIAS), spread by farthest-point
sampling from the sites. The scenario file names no site and no area: ``least_used`` and
``cut_off`` are chosen from the run's data by the planning stage (planning/scenario_file.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

#: Candidate venues offered to the optimiser (schools that are not sites today).
N_VENUES = 24
VENUES_FILE = "reference/venues.csv"
SCENARIOS_FILE = "planning/scenarios.yaml"

BASIS = (
    "illustrative figures, not any council's: a centre's building and core staff at GBP "
    "90,000 a year plus GBP 1,000 per place of capacity; a session at GBP 120 (stay and play) "
    "or GBP 150 (baby group), 48 weeks a year; a school room at GBP 15,000 a year to use; "
    "outreach at GBP 25 an hour (the order of magnitude of published council budgets); "
    "one-off costs, spread over 5 years: GBP 60,000 to close a centre (redundancy, lease "
    "exit) and GBP 10,000 to set up a school room (equipment, fitting out); the sessions "
    "timetable (days, times, ages) is made up too"
)
#: The sessions every demo site runs each week (type, day, start, ages in months): the same
#: timetable at every site, ILLUSTRATIVE. Their counts match the sites' sessions_per_week
#: (6 stay and play, 2 baby group), so the offer and the plan's costs agree.
TIMETABLE: tuple[tuple[str, str, str, int, int], ...] = (
    ("stay and play", "Monday", "09:30", 0, 59),
    ("stay and play", "Tuesday", "09:30", 0, 59),
    ("stay and play", "Wednesday", "13:30", 0, 59),
    ("stay and play", "Thursday", "09:30", 0, 59),
    ("stay and play", "Friday", "09:30", 0, 59),
    ("stay and play", "Saturday", "10:00", 12, 59),
    ("baby group", "Tuesday", "13:30", 0, 11),
    ("baby group", "Thursday", "13:30", 0, 11),
)
YIELD_BASIS = "an assumed figure for the demo, until the council records its own outreach outcomes"

SCENARIOS: dict[str, Any] = {
    "scenarios": [
        {"id": "close_least_used", "name": "Close the least-used site", "close": ["least_used"]},
        {
            "id": "optimised_today",
            "name": "Best sites and venues at today's cost",
            "optimise": {"budget_share": 1.0},
        },
        {
            "id": "optimised_90",
            "name": "Best sites and venues at 90% of today's cost",
            "optimise": {"budget_share": 0.9},
        },
        {
            "id": "outreach_cut_off",
            "name": "Outreach in the cut-off areas",
            "outreach": {"areas": "cut_off", "hours": 400},
        },
    ]
}


def _venues(sites: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Schools that are not sites, farthest-point sampled from the sites (deterministic)."""
    used = set(sites["school_urn"].astype(str))
    is_site = schools["urn"].astype(str).isin(used)
    cand = schools[~is_site].reset_index(drop=True)
    pts = cand[["x", "y"]].to_numpy(dtype="float64")
    taken = schools.loc[is_site, ["x", "y"]].to_numpy(dtype="float64")
    dx = pts[:, None, 0] - taken[None, :, 0]
    dy = pts[:, None, 1] - taken[None, :, 1]
    mind = np.min(np.hypot(dx, dy), axis=1)
    chosen: list[int] = []
    while len(chosen) < min(N_VENUES, len(cand)):
        k = int(np.argmax(mind))
        chosen.append(k)
        mind = np.minimum(mind, np.hypot(*(pts - pts[k]).T))
        mind[k] = -1.0
    out = cand.iloc[chosen]
    return pd.DataFrame(
        {
            "venue_id": [f"VEN{i + 1:02d}" for i in range(len(out))],
            "name": out["name"].astype(str).to_numpy(),
            "kind": "school",
            "latitude": out["lat"].map(lambda v: f"{v:.6f}").to_numpy(),
            "longitude": out["lon"].map(lambda v: f"{v:.6f}").to_numpy(),
            "note": "illustrative candidate venue at a primary school",
        }
    )


def sessions(site_ids: list[str]) -> list[dict[str, Any]]:
    """The demo's sessions table (:data:`TIMETABLE` at every site), ILLUSTRATIVE: the cost of
    each is its session type's (``session_types``), the ages and days are made up."""
    return [
        {
            "site": sid,
            "name": name,
            "per_week": 1.0,
            "min_age_months": lo,
            "max_age_months": hi,
            "day": day,
            "time": start,
        }
        for sid in site_ids
        for name, day, start, lo, hi in TIMETABLE
    ]


def write_planning(out: Path, sites: pd.DataFrame, schools: pd.DataFrame) -> dict[str, Any]:
    """Write the venues file and the scenario file into the scenario folder ``out``; return
    the project file's ``planning:`` block (paths relative to the project file)."""
    venues = _venues(sites, schools)
    (out / VENUES_FILE).parent.mkdir(parents=True, exist_ok=True)
    venues.to_csv(out / VENUES_FILE, index=False, lineterminator="\n")
    (out / SCENARIOS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out / SCENARIOS_FILE).write_text(
        "# The demo's scenarios (docs/planning.md). least_used and cut_off are chosen from\n"
        "# the run's data, never named here.\n" + yaml.safe_dump(SCENARIOS, sort_keys=False),
        encoding="utf-8",
    )
    site_rows = [
        {
            "id": str(s["site_id"]),
            "running_cost_per_year": float(90_000 + 1_000 * int(s["capacity"])),
            "sessions_per_week": {"stay and play": 6, "baby group": 2},
            "places_per_session": 15,
            "opening_days_per_week": 5,
            "closure_cost": 60_000.0,
        }
        for _, s in sites.iterrows()
    ]
    venue_rows = [
        {
            "id": str(v),
            "kind": "school",
            "cost_to_use_per_year": 15_000.0,
            "sessions_per_week": {"stay and play": 4},
            "places_per_session": 15,
            "opening_days_per_week": 2,
            "setup_cost": 10_000.0,
        }
        for v in venues["venue_id"]
    ]
    return {
        "currency": "GBP",
        "source": "illustrative",
        "basis": BASIS,
        "weeks_per_year": 48,
        "one_off_years": 5.0,
        "session_types": [
            {"name": "stay and play", "cost_per_session": 120.0},
            {"name": "baby group", "cost_per_session": 150.0},
        ],
        "sites": site_rows,
        "venues": venue_rows,
        "sessions": sessions([str(s) for s in sites["site_id"]]),
        "outreach": {
            "cost_per_hour": 25.0,
            "visit_minutes": 45.0,
            "registrations_per_visit": 0.3,
            "yield_source": "illustrative",
            "yield_basis": YIELD_BASIS,
        },
        "venues_file": {"path": VENUES_FILE},
        "scenarios_path": SCENARIOS_FILE,
        "outreach_plan_hours": 400.0,
    }
