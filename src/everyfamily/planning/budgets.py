"""The plan's money questions, pure: what each place costs a year (one-off costs
annualised), capacity per place, the 90% check ("can we keep everyone we reach today for
90% of the cost?") and the marginal curve, every child count released as plan.py's are.

With ``planning.capacitated`` (the default) the curve's points are the capacitated optimum
at each budget: the children the best places (and, with ``planning.choose_sessions``, their
sessions) can serve within reach and within their places a week
(:func:`everyfamily.planning.sessions.best_sites_and_sessions`, each child weighing 1 and
loading the places by their expected engagement); without it, the children within reach of
the best places (optimise.marginal_curve). plan.json's ``marginal_curve_basis`` says which.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from everyfamily.config.planning import PlanningSettings, ServiceModel, Site
from everyfamily.planning import optimise as op
from everyfamily.planning.capacity import cheapest_keeping_capacitated, served_by_places
from everyfamily.planning.sessions import best_sites_and_sessions, session_places
from everyfamily.privacy.release import ReleaseRules, release_child_counts

if TYPE_CHECKING:
    from everyfamily.planning.plan import PlanData
    from everyfamily.planning.scenarios import Scenario

#: plan.json's marginal_curve_basis: what a curve point's children_within_15_min counts.
CURVE_SERVED = "served"  # within reach and within the places' capacity (capacitated optimum)
CURVE_WITHIN_REACH = "within_reach"  # within reach of an open place, capacity ignored
#: Relative gap the capacitated curve's solves stop at (at least planning.capacity_gap): a
#: point of the curve is a trend across budgets, and with sessions chosen the model is
#: slow to prove 0.1% (bench_planning: three of six budgets at 3,200 points were not
#: proved within 60 s at 0.1%); each point says the gap proved.
CURVE_GAP = 0.01


def released(
    mask_sets: Sequence[np.ndarray], keys: np.ndarray, rules: ReleaseRules
) -> list[int | None]:
    """Counts of the children in each mask, released with the sum of their record keys."""
    counts = [float(m.sum()) for m in mask_sets]
    sums = [int(keys[m].sum()) for m in mask_sets]
    values = release_child_counts(counts, sums, rules)
    return [None if not math.isfinite(v) else int(v) for v in values]


@dataclass(frozen=True)
class PlaceCosts:
    """Cost a year of a set S of places = ``constant`` + sum over S of ``per_place``: a
    place's running cost (or cost to use) and sessions, plus a venue's setup cost
    annualised, minus a site's closure cost annualised; ``constant`` is every site's
    closure cost annualised (paid when it closes, so taken back when it stays open)."""

    per_place: np.ndarray
    constant: float


def place_costs(model: ServiceModel, place_ids: Sequence[str]) -> PlaceCosts:
    """:class:`PlaceCosts` of the places, in the matrix's order."""
    years = model.one_off_years
    per, constant = [], 0.0
    for pid in place_ids:
        p = model.place(pid)
        one_off = -p.closure_cost / years if isinstance(p, Site) else p.setup_cost / years
        constant += p.closure_cost / years if isinstance(p, Site) else 0.0
        per.append(model.place_cost_per_year(pid) + one_off)
    return PlaceCosts(np.asarray(per, dtype="float64"), constant)


def capacities(
    settings: PlanningSettings,
    place_ids: Sequence[str],
    load_pt: np.ndarray,
    sessions: Mapping[str, Mapping[str, float]] | None = None,
) -> np.ndarray | None:
    """Places per week of each place (its sessions, or those of ``sessions``, x places per
    session) with ``planning.capacitated``; None without it, or when no place lists
    sessions and places (nothing to limit). A place with none listed (0 places a week) has
    an unknown capacity and is not limited: it gets room for every expected engaged child
    (docs/planning.md)."""
    if not settings.capacitated:
        return None
    listed = np.asarray([settings.place(p).capacity_per_week for p in place_ids], dtype=float)
    if not (listed > 0).any():
        return None
    caps = listed.copy()
    for j, pid in enumerate(place_ids):
        if sessions and pid in sessions:
            caps[j] = sum(sessions[pid].values()) * settings.place(pid).places_per_session
    return np.where(listed > 0, caps, max(float(load_pt.sum()), 1.0))


def with_room(
    minutes: np.ndarray,
    place_ids: Sequence[str],
    load_pt: np.ndarray,
    caps: np.ndarray | None,
    places: Sequence[str],
    r: float,
) -> int | None:
    """Expected engaged children within ``r`` minutes of the open ``places`` who fit in
    their places per week (capacity.served_by_places with the load as demand); a model
    sum for the whole borough, as expected_engaged; None without capacity."""
    if caps is None:
        return None
    idx = np.array([list(place_ids).index(p) for p in places], dtype=int)
    return round(served_by_places(minutes, load_pt, load_pt, caps, idx, r))


@dataclass(frozen=True)
class CapacityCheck:
    """What the 90% check needs for capacity: places per week per place, load per home
    point and the solver's gap."""

    caps: np.ndarray
    load: np.ndarray
    gap: float


def keep_check(
    data: PlanData,
    children_pt: np.ndarray,
    costs: PlaceCosts,
    in0: np.ndarray,
    base: Scenario,
    base_cost: float,
    reach: float,
    limit: float,
    keys: np.ndarray,
    point: np.ndarray,
    rules: ReleaseRules,
    capacity: CapacityCheck | None = None,
) -> dict[str, Any]:
    """The issue's test: the cheapest set keeping at least as many children within reach as
    today, and whether it costs no more than 90% of today's cost; or why none exists. With
    ``capacity`` the set must also keep at least as many expected engaged children with a
    place as today's sites
    (capacity.cheapest_keeping_capacitated)."""
    budget = 0.9 * base_cost
    baseline_within = int(in0.sum())
    if capacity is None:
        out = op.cheapest_keeping(
            data.minutes,
            children_pt,
            data.place_ids,
            costs.per_place,
            float(baseline_within),
            budget - costs.constant,
            radius=reach,
            time_limit_s=limit,
        )
        choice, found = out.choice, out.found
        places = list(choice.open_places) if choice else []
        cost = (choice.cost_per_year or 0.0) + costs.constant if choice else None
        why_none = out.reason
    else:
        caps, load_pt = capacity.caps, capacity.load
        sites = np.array([data.place_ids.index(p) for p in base.open_places], dtype=int)
        today = served_by_places(data.minutes, load_pt, load_pt, caps, sites, reach)
        sol = cheapest_keeping_capacitated(
            data.minutes,
            children_pt,
            load_pt,
            caps,
            costs.per_place,
            float(baseline_within),
            today,
            radius=reach,
            time_limit_s=limit,
            gap=capacity.gap,
        )
        places = [] if sol is None else [data.place_ids[j] for j in sol.open_idx]
        cost = None if sol is None else float(costs.per_place[sol.open_idx].sum()) + costs.constant
        found = cost is not None and cost <= budget + 1e-6
        why_none = (
            "even with every site and venue open, fewer children are within reach or fewer "
            "expected engaged children have a place than today"
        )
    res: dict[str, Any] = {
        "budget": round(budget, 2),
        "found": found,
        "reason": why_none if cost is None else None,
        "sites_open": places,
        "cost_per_year": None if cost is None else round(cost, 2),
    }
    if capacity is not None:
        res["expected_engaged_with_room"] = (
            None
            if cost is None
            else with_room(
                data.minutes, data.place_ids, capacity.load, capacity.caps, places, reach
            )
        )
    if cost is not None:
        idx = [data.place_ids.index(p) for p in places]
        covered = (data.minutes[point][:, idx] <= reach).any(axis=1)
        (shown,) = released([covered], keys, rules)
        res["children_within_15_min"] = shown
        res["reason"] = (
            f"{len(idx)} places keep at least as many children within {reach:g} minutes"
            + (" and expected engaged children with a place" if capacity is not None else "")
            + f" as today for {cost:,.0f} a year"
            + (
                f", within 90% of today's cost ({budget:,.0f})"
                if found
                else f", more than 90% of today's cost ({budget:,.0f})"
            )
        )
    return res


@dataclass(frozen=True)
class CurveInputs:
    """Per home point: children (each weighs 1) and capacity's load (expected engaged
    children); the places' costs; the capacities (None: capacity not modelled)."""

    children: np.ndarray
    load: np.ndarray
    costs: PlaceCosts
    caps: np.ndarray | None


def curve(
    data: PlanData,
    inputs: CurveInputs,
    base_cost: float,
    settings: PlanningSettings,
    keys: np.ndarray,
    point: np.ndarray,
    rules: ReleaseRules,
) -> tuple[str, tuple[dict[str, Any], ...]]:
    """(basis, points): the children within reach at budgets from 50% to 100% of today's
    cost, the best places solved afresh for each. With capacity (``inputs.caps``) each
    point is the capacitated optimum (places and, with ``planning.choose_sessions``, their
    sessions): the children served within reach and the places' capacity, released with
    the record keys of the children within reach of the places chosen (a model figure: a
    child is served in part where a place is full)."""
    grid = np.linspace(0.5 * base_cost, base_cost, settings.curve_points)
    budgets = [round(float(b), 2) for b in grid]
    reach = settings.reach_minutes
    limit = settings.solver_time_limit_seconds
    counts: list[float] = []
    masks: list[np.ndarray] = []
    kept: list[float] = []
    gaps: list[float | None] = []
    if inputs.caps is None:
        pts = op.marginal_curve(
            data.minutes,
            inputs.children,
            data.place_ids,
            inputs.costs.per_place,
            [b - inputs.costs.constant for b in budgets],
            radius=reach,
            time_limit_s=limit,
        )
        for c in pts:
            idx = [data.place_ids.index(p) for p in c.open_places]
            masks.append(_within(data.minutes[point], idx, reach))
            counts.append(float(masks[-1].sum()))
            kept.append(c.budget + inputs.costs.constant)
        basis = CURVE_WITHIN_REACH
    else:
        unlimited = max(float(inputs.load.sum()), 1.0)
        places = session_places(
            settings, data.place_ids, unlimited, choose=settings.choose_sessions
        )
        fixed = np.zeros(len(data.place_ids), dtype=bool)
        for b in budgets:
            if b < places.constant:
                continue
            sol = best_sites_and_sessions(
                data.minutes,
                inputs.children,
                inputs.load,
                places,
                b,
                radius=reach,
                fixed=fixed,
                time_limit_s=limit,
                gap=max(settings.capacity_gap, CURVE_GAP),
                cheapest=False,
            )
            mask = _within(data.minutes[point], sol.open_idx.tolist(), reach)
            if counts and sol.served < counts[-1]:
                # within the gap a larger budget can come out lower: the set found for the
                # smaller budget is affordable here too, so the curve keeps it
                mask, served = masks[-1], counts[-1]
            else:
                served = float(round(sol.served))
            masks.append(mask)
            counts.append(served)
            kept.append(b)
            gaps.append(round(sol.gap, 4) if sol.proven and sol.gap is not None else None)
        basis = CURVE_SERVED
    sums = [int(keys[m].sum()) for m in masks]
    values = release_child_counts(counts, sums, rules)
    shown = [None if not math.isfinite(v) else int(v) for v in values]
    points: list[dict[str, Any]] = [
        {"budget": b, "children_within_15_min": n} for b, n in zip(kept, shown, strict=True)
    ]
    for p, g in zip(points, gaps, strict=False):  # capacitated: the gap proved (None: not)
        p["gap"] = g
    for prev, cur in itertools.pairwise(points):  # "newly within reach per GBP 10k"
        na, nb = prev["children_within_15_min"], cur["children_within_15_min"]
        step = (cur["budget"] - prev["budget"]) / 10_000.0
        ok = na is not None and nb is not None and step > 0
        cur["per_10k"] = round((nb - na) / step, 2) if ok else None
    return basis, tuple(points)


def _within(child_minutes: np.ndarray, idx: Sequence[int], reach: float) -> np.ndarray:
    """Children within ``reach`` minutes of one of the places ``idx``."""
    if not len(idx):
        return np.zeros(child_minutes.shape[0], dtype=bool)
    return np.asarray((child_minutes[:, list(idx)] <= reach).any(axis=1), dtype=bool)
