"""Outreach planning: for a number of outreach hours, which areas to visit first.

Each area (a small area, a postcode sector or a street: any label works) costs the round
trip from the outreach base plus, per unreached child's household, the visit and the walk to
the next household. The walk between households is the expected nearest-neighbour distance of
``n`` households spread at random over the area, 0.5 * sqrt(area / n) (Clark & Evans 1954,
Ecology 35:445), at walking pace. Areas are ranked by unreached children per hour of travel
and visit time and filled greedily into the hours available; the last area may be visited in
part. Greedy by ratio is the optimum of the fractional knapsack (Dantzig 1957, Operations
Research 5:266); with whole areas it is within one area of the optimum.

Expected registrations are visits x the costed model's yield per visit, an assumption unless
the council's own outreach outcomes supply it (``costs.Outreach.yield_source``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from everyfamily.errors import DataError
from everyfamily.planning.costs import Outreach


@dataclass(frozen=True)
class OutreachStop:
    rank: int
    area: str
    unreached: int
    visits: int
    hours: float
    cumulative_hours: float
    children_per_hour: float
    expected_registrations: float
    travel_minutes_per_visit: float


@dataclass(frozen=True)
class OutreachPlan:
    hours_available: float
    hours_used: float
    visits: int
    expected_registrations: float
    cost: float
    stops: tuple[OutreachStop, ...]
    assumption: str | None

    def travel_minutes_per_visit(self) -> dict[str, float]:
        """Per area, the travel share of each visit (for scenarios.evaluate)."""
        return {s.area: s.travel_minutes_per_visit for s in self.stops}


def plan_outreach(
    areas: pd.DataFrame,
    hours: float,
    outreach: Outreach,
    *,
    area: str = "area_code",
    unreached: str = "unreached",
    trip_minutes: str = "trip_minutes",
    area_m2: str | None = "area_m2",
) -> OutreachPlan:
    """A ranked outreach plan for ``hours`` of outreach time.

    ``areas`` has one row per area: its label, the number of unreached children (households
    to visit; one child per household, a cautious assumption), the one-way travel minutes from
    the outreach base (``trip_minutes``) and, optionally, its size in square metres for the
    walk between households (without it visits are taken to be next door)."""
    if not hours >= 0:
        raise DataError("planning: outreach hours must be 0 or more")
    for col in (area, unreached, trip_minutes):
        if col not in areas.columns:
            raise DataError(f"planning: the outreach area table has no column {col!r}")
    n = pd.to_numeric(areas[unreached], errors="coerce").fillna(0).to_numpy(dtype="float64")
    trip = pd.to_numeric(areas[trip_minutes], errors="coerce").to_numpy(dtype="float64")
    if (n < 0).any() or np.isnan(trip).any() or (trip < 0).any():
        raise DataError(
            "planning: unreached counts and trip minutes must be numbers of 0 or more",
            hint=f"check columns {unreached!r} and {trip_minutes!r}",
        )
    pace = outreach.travel_speed_kmh * 1000.0 / 60.0  # metres per minute
    if area_m2 and area_m2 in areas.columns:
        size = pd.to_numeric(areas[area_m2], errors="coerce").fillna(0).to_numpy("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            hop = np.where(n > 0, 0.5 * np.sqrt(size / np.maximum(n, 1)) / pace, 0.0)
    else:
        hop = np.zeros(len(n))
    per_visit = outreach.visit_minutes + hop
    full_minutes = 2 * trip + n * per_visit
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(full_minutes > 0, n / (full_minutes / 60.0), 0.0)
    labels = areas[area].astype("string").fillna("unknown").to_numpy(dtype=object)
    order = sorted((k for k in range(len(n)) if n[k] > 0), key=lambda k: (-rate[k], str(labels[k])))
    left = hours * 60.0
    stops: list[OutreachStop] = []
    used = 0.0
    for k in order:
        if left <= 2 * trip[k]:
            continue  # cannot even get there and back: a nearer area may still fit
        visits = int(min(n[k], math.floor((left - 2 * trip[k]) / per_visit[k] + 1e-9)))
        if visits <= 0:
            continue
        spent = 2 * trip[k] + visits * per_visit[k]
        left -= spent
        used += spent
        stops.append(
            OutreachStop(
                rank=len(stops) + 1,
                area=str(labels[k]),
                unreached=int(n[k]),
                visits=visits,
                hours=round(spent / 60.0, 3),
                cumulative_hours=round(used / 60.0, 3),
                children_per_hour=round(float(rate[k]), 3),
                expected_registrations=round(visits * outreach.registrations_per_visit, 3),
                travel_minutes_per_visit=round(float(hop[k] + 2 * trip[k] / visits), 3),
            )
        )
    visits_total = sum(s.visits for s in stops)
    assumption = (
        None
        if outreach.yield_source == "council"
        else f"a yield of {outreach.registrations_per_visit:g} registrations per visit is "
        f"{outreach.yield_source}: {outreach.yield_basis}"
    )
    return OutreachPlan(
        hours_available=float(hours),
        hours_used=round(used / 60.0, 3),
        visits=visits_total,
        expected_registrations=round(visits_total * outreach.registrations_per_visit, 3),
        cost=round(used / 60.0 * outreach.cost_per_hour, 2),
        stops=tuple(stops),
        assumption=assumption,
    )
