"""A whole plan, pure: the scenarios of a scenario file evaluated, the optimised sets, the
marginal curve and the outreach plan, every child count released (privacy/release.py).

:func:`make_plan` takes what the planning stage loaded (:class:`PlanData`: children, their
home points, the walking minutes from every home point to every site and candidate venue)
and returns a :class:`Plan` whose :meth:`Plan.to_json` is plan.json's contract
(docs/plan.schema.json). The model is scenarios.py's (docs/planning.md); the optimisation is
optimise.py's budgeted MCLP (Church & ReVelle 1974) on home points (children at one postcode
point share a row of the matrix: one weighted demand point each).

Release: a count of children (within 15 minutes, gains and losses by area and group, the
marginal curve, unreached children by outreach area) is a set of children that is no cell of
the reach table, so it takes :func:`everyfamily.privacy.release.release_child_counts` with the
sum of those children's record keys, exactly as barrier and community counts do. Expected
registered and engaged children are model sums, not counts of any child: shown to the whole
child and only for the whole borough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.config.planning import PlanningSettings
from everyfamily.errors import ConfigError
from everyfamily.planning import optimise as op
from everyfamily.planning.budgets import (
    CapacityCheck,
    CurveInputs,
    PlaceCosts,
    capacities,
    curve,
    keep_check,
    place_costs,
    released,
    with_room,
)
from everyfamily.planning.capacity import served_by_places
from everyfamily.planning.outreach import OutreachPlan, plan_outreach
from everyfamily.planning.scenario_file import (
    CUT_OFF,
    LEAST_USED,
    ScenarioFile,
    ScenarioSpec,
)
from everyfamily.planning.scenarios import (
    BANDS,
    ChildColumns,
    PlanningInputs,
    Scenario,
    ScenarioResult,
    WalkEffect,
    baseline_scenario,
    evaluate,
    nearest_minutes,
    planning_inputs,
)
from everyfamily.planning.sessions import best_sites_and_sessions, session_places
from everyfamily.privacy.release import ReleaseRules, release_child_counts

SCHEMA_VERSION = "1.0"
#: Group columns gains and losses are counted by (when the child table has them).
GROUPS = ("ethnicity_broad", "main_language")


@dataclass(frozen=True)
class PlanData:
    """What the planning stage loaded. ``children``: one row per child with ``person_id``,
    ``area_code``, ``registered``, ``engaged``, ``expected_registered`` (the access model's
    fitted probability), ``point`` (index of the child's home point) and the group and
    deprivation columns; ``minutes``: home points x places walking minutes (inf: no way);
    ``place_ids``: the places' ids (sites first, then venues); ``cut_off_areas``: small areas
    of the access stage's barrier findings; ``area_m2``: each small area's size."""

    children: pd.DataFrame
    minutes: np.ndarray
    place_ids: tuple[str, ...]
    effect: WalkEffect
    cut_off_areas: tuple[str, ...] = ()
    area_m2: Mapping[str, float] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Plan:
    """A plan and its released figures (plan.json: :meth:`to_json`)."""

    baseline_id: str
    results: tuple[ScenarioResult, ...]
    scenarios: tuple[dict[str, Any], ...]
    marginal_curve: tuple[dict[str, Any], ...]
    marginal_curve_basis: str
    outreach_plan: tuple[dict[str, Any], ...]
    keep_check: dict[str, Any]
    assumptions: tuple[str, ...]
    illustrative: bool
    note: str | None
    generated_at: str
    within: Mapping[str, np.ndarray]  # scenario id -> per-child within reach (for layers)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "baseline_id": self.baseline_id,
            "scenarios": list(self.scenarios),
            "marginal_curve": list(self.marginal_curve),
            "marginal_curve_basis": self.marginal_curve_basis,
            "outreach_plan": list(self.outreach_plan),
            "keep_check": self.keep_check,
            "illustrative": self.illustrative,
            "assumptions": list(self.assumptions),
            "note": self.note,
        }


# --- release ----------------------------------------------------------------------------


def _changes(
    moved: np.ndarray, kids: pd.DataFrame, keys: np.ndarray, rules: ReleaseRules
) -> list[dict[str, Any]]:
    """Children who gain (or lose) reach, by area and by group, released; a count released
    as 0 or withheld is left out (it says nothing a reader can use)."""
    out: list[dict[str, Any]] = []
    if not moved.any():
        return out
    dims = [("area", "area_code"), *((g, g) for g in GROUPS if g in kids.columns)]
    for dim, col in dims:
        labels = kids[col].astype("string").fillna("unknown").to_numpy(dtype=object)
        values = sorted({str(v) for v in labels[moved]})
        masks = [moved & (labels == v) for v in values]
        shown = released(masks, keys, rules)
        rows = [
            {"dimension": dim, "value": v, "children": n}
            for v, n in zip(values, shown, strict=True)
            if n
        ]
        out += sorted(rows, key=lambda r: (-r["children"], r["value"]))
    return out


# --- scenarios from the file ---------------------------------------------------------------


def least_used_site(kids: pd.DataFrame, walk_site: np.ndarray, sites: Sequence[str]) -> str:
    """The site with the fewest registered children nearest to it on foot (ties: the first
    listed): 'least used', chosen from the data."""
    reg = kids["registered"].astype(bool).to_numpy()
    counts = {s: int((reg & (walk_site == s)).sum()) for s in sites}
    return min(sites, key=lambda s: (counts[s], list(sites).index(s)))


def _scenario(
    spec: ScenarioSpec,
    base: Scenario,
    settings: PlanningSettings,
    least_used: str,
    cut_off: Sequence[str],
) -> Scenario:
    """A what-if scenario from its spec (selectors resolved)."""
    known = set(settings.site_ids) | set(settings.venue_ids)

    def resolve(ids: Sequence[str], key: str) -> list[str]:
        out = [least_used if i == LEAST_USED else i for i in ids]
        bad = [i for i in out if i not in known]
        if bad:
            raise ConfigError(
                f"scenario {spec.id!r}: {key}: {bad[0]!r} is no site or venue of planning:",
                hint=f"use a site or venue id, or {LEAST_USED!r}",
            )
        return out

    closed = set(resolve(spec.close, "close"))
    opened = resolve(spec.open, "open")
    if spec.move is not None:
        frm, to = resolve([spec.move.from_, spec.move.to], "move")
        closed.add(frm)
        opened.append(to)
    places = [p for p in base.open_places if p not in closed]
    places += [p for p in opened if p not in places]
    hours: dict[str, float] = {}
    if spec.outreach is not None:
        areas = list(cut_off) if spec.outreach.areas == CUT_OFF else list(spec.outreach.areas)
        # no cut-off area found: the scenario stays, with no hours (its note says why)
        hours = {a: spec.outreach.hours / len(areas) for a in areas}
    for p in spec.sessions:
        if p not in places:
            raise ConfigError(
                f"scenario {spec.id!r}: sessions: {p!r} is not open in this scenario",
                hint="open it, or change sessions only at open places",
            )
    return Scenario(spec.id, spec.name, "what_if", tuple(places), spec.sessions, hours)


# --- the plan ---------------------------------------------------------------------------


def _demand(kids: pd.DataFrame, settings: PlanningSettings) -> np.ndarray:
    w = settings.need_weights
    unreached = ~kids["registered"].astype(bool).to_numpy()
    if "imd_decile" in kids.columns:
        imd = pd.to_numeric(kids["imd_decile"], errors="coerce").to_numpy(dtype="float64")
        deprived = np.nan_to_num(imd, nan=99.0) <= w.deprived_deciles
    else:
        deprived = np.zeros(len(kids), dtype=bool)
    emerging = kids["emerging"].astype(bool).to_numpy() if "emerging" in kids.columns else None
    weights = op.NeedWeights(w.base, w.unreached, w.deprived, w.emerging)
    return op.need_demand(unreached, deprived, emerging, weights)


def _point_demand(
    kids: pd.DataFrame, settings: PlanningSettings, inputs: PlanningInputs, n_pts: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per home point: children (for "children within reach"), need-weighted demand and
    capacity's load (each child's expected engagement today: registered x engaged share)."""
    point = kids["point"].to_numpy(dtype=int)
    children_pt = np.bincount(point, minlength=n_pts).astype("float64")
    need_pt = np.bincount(point, weights=_demand(kids, settings), minlength=n_pts)
    p_reg = pd.to_numeric(kids["expected_registered"], errors="coerce").fillna(0.0)
    load_pt = np.bincount(
        point, weights=p_reg.to_numpy(dtype="float64") * inputs.engaged_share, minlength=n_pts
    )
    return children_pt, need_pt, load_pt


def make_plan(
    data: PlanData,
    settings: PlanningSettings,
    scenarios: ScenarioFile | None,
    rules: ReleaseRules,
    *,
    now: datetime | None = None,
) -> Plan:
    """Evaluate the baseline, every scenario of the file (what-if and optimised), the
    marginal curve and the outreach plan; release every child count (module docstring)."""
    from everyfamily.privacy.cellkey import child_record_keys

    kids = data.children.reset_index(drop=True)
    point = kids["point"].to_numpy(dtype=int)
    child_minutes = data.minutes[point]
    cols = ChildColumns(
        groups=tuple(g for g in GROUPS if g in kids.columns),
        deprivation="imd_decile" if "imd_decile" in kids.columns else None,
    )
    inputs = planning_inputs(child_minutes, data.place_ids, kids, cols)
    keys = child_record_keys(kids["person_id"]).to_numpy(dtype="int64")
    base = baseline_scenario(settings)
    reach = settings.reach_minutes
    sites = settings.site_ids
    walk_sites = inputs.minutes[:, [data.place_ids.index(s) for s in sites]]
    nearest = np.asarray(sites, dtype=object)[np.argmin(walk_sites, axis=1)]
    least = least_used_site(kids, nearest, sites)
    base_cost = settings.baseline_cost_per_year
    costs = place_costs(settings, data.place_ids)
    limit = settings.solver_time_limit_seconds

    children_pt, need_pt, load_pt = _point_demand(kids, settings, inputs, data.minutes.shape[0])
    chosen, notes = _chosen_scenarios(
        scenarios, base, settings, data, least, (need_pt, load_pt), costs, base_cost
    )

    # outreach plan (ranked areas): unreached children per hour of travel and visit time
    outreach: OutreachPlan | None = None
    travel: dict[str, float] = {}
    if settings.outreach is not None:
        hours = settings.outreach_plan_hours or sum(sum(s.outreach_hours.values()) for s in chosen)
        if hours > 0:
            outreach = plan_outreach(
                _outreach_areas(kids, inputs, base, data.area_m2),
                hours,
                settings.outreach,
            )
            travel = outreach.travel_minutes_per_visit()

    results = _evaluated(chosen, inputs, settings, data.effect, base, travel)
    walk0 = nearest_minutes(inputs, base.open_places)
    in0 = walk0 <= reach
    within: dict[str, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    caps = capacities(settings, data.place_ids, load_pt)
    for s, r in zip(chosen, results, strict=True):
        walk1 = nearest_minutes(inputs, s.open_places)
        in1 = walk1 <= reach
        within[s.id] = in1
        rows.append(_scenario_json(s, r, in0, in1, kids, keys, rules, notes.get(s.id)))
        rows[-1]["within_bands"] = _bands(kids, cols, walk1, keys, rules)
        if caps is not None:
            rows[-1].update(_room(data, (children_pt, load_pt), s, settings, in1, keys, rules))

    check = None if caps is None else CapacityCheck(caps, load_pt, settings.capacity_gap)
    keep = keep_check(
        data, children_pt, costs, in0, base, base_cost, reach, limit, keys, point, rules, check
    )
    inputs_c = CurveInputs(
        children_pt, load_pt, costs, caps if settings.capacitated_curve else None
    )
    basis, points = curve(data, inputs_c, base_cost, settings, keys, point, rules)
    assumptions = [*results[0].assumptions, _capacity_assumption(caps is not None)]
    if data.note:
        assumptions.append(data.note)
    return Plan(
        baseline_id=base.id,
        results=results,
        scenarios=tuple(rows),
        marginal_curve=points,
        marginal_curve_basis=basis,
        outreach_plan=_outreach_json(outreach, kids, keys, rules),
        keep_check=keep,
        assumptions=tuple(assumptions),
        illustrative=settings.source == "illustrative",
        note=data.note,
        generated_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        within=within,
    )


def _evaluated(
    chosen: Sequence[Scenario],
    inputs: PlanningInputs,
    settings: PlanningSettings,
    effect: WalkEffect,
    base: Scenario,
    travel: Mapping[str, float],
) -> tuple[ScenarioResult, ...]:
    """Every scenario evaluated against the baseline (scenarios.evaluate)."""
    return tuple(
        evaluate(
            s,
            inputs,
            settings,
            effect,
            baseline=base,
            reach_minutes=settings.reach_minutes,
            travel_minutes_per_visit=travel,
        )
        for s in chosen
    )


def _bands(
    kids: pd.DataFrame,
    cols: ChildColumns,
    walk: np.ndarray,
    keys: np.ndarray,
    rules: ReleaseRules,
) -> list[dict[str, Any]]:
    """Children within 10, 15 and 20 minutes' walk of an open place, for everyone, by
    group and by deprivation decile (issue 17, section 2), each count released."""
    dims: list[tuple[str, np.ndarray]] = [("all", np.full(len(walk), "all", dtype=object))]
    names = [*cols.groups, *([cols.deprivation] if cols.deprivation else [])]
    for g in names:
        dims.append((g, kids[g].astype("string").fillna("unknown").to_numpy(dtype=object)))
    out: list[dict[str, Any]] = []
    for dim, labels in dims:
        for value in sorted({str(v) for v in labels}):
            sel = labels == value
            masks = [sel, *(sel & (walk <= b) for b in BANDS)]
            shown = released(masks, keys, rules)
            row: dict[str, Any] = {"dimension": dim, "value": value, "children": shown[0]}
            row.update({f"within_{b}_min": n for b, n in zip(BANDS, shown[1:], strict=True)})
            out.append(row)
    return out


def _capacity_assumption(capacitated: bool) -> str:
    """What the plan assumes of parents, transport and capacity (docs/planning.md)."""
    if not capacitated:
        return (
            "parents' choices and transport other than walking are not modelled; capacity "
            "limits are not modelled (planning.capacitated is off, or no place lists its "
            "sessions and places): children within reach are counted whether or not the "
            "places have room (docs/planning.md)"
        )
    return (
        "parents' choices and transport other than walking are not modelled; capacity: "
        "optimised sets are chosen so no place takes more expected engaged children than its "
        "places per week, every option shows the expected engaged children who fit "
        "(expected_engaged_with_room) and the children within 15 minutes the places have "
        "room for (children_served_within_15_min), the 90% check keeps as many of them as "
        "today, and the marginal curve's points are the capacitated optimum at each budget "
        "(children served within 15 minutes); children_within_15_min counts every child "
        "within reach of an open place, room or not (docs/planning.md)"
    )


def _room(
    data: PlanData,
    per_point: tuple[np.ndarray, np.ndarray],
    s: Scenario,
    settings: PlanningSettings,
    in1: np.ndarray,
    keys: np.ndarray,
    rules: ReleaseRules,
) -> dict[str, Any]:
    """A scenario's figures under capacity (its own sessions where it changes them): the
    expected engaged children who fit (a model sum), and the children within reach that
    its places have room for (capacity.served_by_places, each child weighing 1 and loading
    the places by its expected engagement), released with the record keys of the children
    within reach (a model figure, as the capacitated curve's points)."""
    children_pt, load_pt = per_point
    reach = settings.reach_minutes
    caps = capacities(settings, data.place_ids, load_pt, s.sessions)
    if caps is None:
        return {}
    idx = np.array([data.place_ids.index(p) for p in s.open_places], dtype=int)
    served = served_by_places(data.minutes, children_pt, load_pt, caps, idx, reach)
    counts = release_child_counts([float(round(served))], [int(keys[in1].sum())], rules)
    out: dict[str, Any] = {
        "expected_engaged_with_room": with_room(
            data.minutes, data.place_ids, load_pt, caps, s.open_places, reach
        ),
        "children_served_within_15_min": int(counts[0]) if np.isfinite(counts[0]) else None,
    }
    if s.sessions:
        out["sessions_per_week"] = {
            p: round(float(sum(v.values())), 2) for p, v in sorted(s.sessions.items())
        }
    return out


def _chosen_scenarios(
    scenarios: ScenarioFile | None,
    base: Scenario,
    settings: PlanningSettings,
    data: PlanData,
    least: str,
    demand: tuple[np.ndarray, np.ndarray],
    costs: PlaceCosts,
    base_cost: float,
) -> tuple[list[Scenario], dict[str, str]]:
    """The baseline, then each scenario of the file: what-if ones as written (the
    least-used site and the cut-off areas filled in from the data), optimised ones solved
    for their budget on need-weighted demand (``demand``: need-weighted demand and expected
    engaged children per home point; with ``planning.capacitated`` no place takes more
    expected engaged children than its places per week); with a note for each."""
    need_pt, load_pt = demand
    caps = capacities(settings, data.place_ids, load_pt)
    reach = settings.reach_minutes
    sites = settings.site_ids
    limit = settings.solver_time_limit_seconds
    chosen: list[Scenario] = [base]
    notes: dict[str, str] = {}
    for spec in scenarios.scenarios if scenarios else ():
        if spec.optimise is None:
            what = _scenario(spec, base, settings, least, data.cut_off_areas)
            chosen.append(what)
            if spec.outreach is not None and not what.outreach_hours:
                notes[spec.id] = (
                    "outreach in the cut-off areas: the access stage found no barrier cutting "
                    "an area off, so no hours were placed"
                )
            elif LEAST_USED in spec.close:
                notes[spec.id] = (
                    f"the least-used site (fewest registered children nearest): {least}"
                )
            continue
        o = spec.optimise
        budget = o.budget if o.budget is not None else base_cost * float(o.budget_share or 1)
        if caps is not None and settings.choose_sessions:
            fixed = sites if o.keep_sites else ()
            chosen.append(_with_sessions(spec.id, spec.name, data, demand, settings, budget, fixed))
            notes[spec.id] = _optimised_note(budget, None, True) + (
                ", each place's sessions a week chosen too"
            )
            continue
        choice = op.best_for_budget(
            data.minutes,
            need_pt,
            data.place_ids,
            costs.per_place,
            budget - costs.constant,
            radius=reach,
            fixed=sites if o.keep_sites else (),
            time_limit_s=limit,
            capacities=caps,
            load=load_pt if caps is not None else None,
            gap=settings.capacity_gap,
        )
        notes[spec.id] = _optimised_note(budget, choice, caps is not None)
        chosen.append(Scenario(spec.id, spec.name, "optimised", choice.open_places))

    return chosen, notes


def _optimised_note(budget: float, choice: op.SiteChoice | None, capacitated: bool) -> str:
    """What an optimised scenario is: its budget, need weights, capacity and how close to
    the best possible the solver proved it."""
    text = f"best sites for a budget of {budget:,.0f} a year, children weighted by need"
    if capacitated:
        text += ", no place over its places per week"
        if choice and choice.proven_optimal and choice.optimality_gap is not None:
            text += f" (within {100 * choice.optimality_gap:.2f}% of the best possible)"
    if choice is not None and not choice.proven_optimal:
        text += " (best found before the time limit)"
    return text


def _with_sessions(
    sid: str,
    name: str,
    data: PlanData,
    demand: tuple[np.ndarray, np.ndarray],
    settings: PlanningSettings,
    budget: float,
    fixed: Sequence[str],
) -> Scenario:
    """An optimised scenario choosing places and their sessions a week for ``budget``
    (sessions.best_sites_and_sessions on need-weighted demand, capacity's load the expected
    engaged children); the chosen sessions in each place's mix of types."""
    need_pt, load_pt = demand
    places = session_places(settings, data.place_ids, max(float(load_pt.sum()), 1.0))
    plan = best_sites_and_sessions(
        data.minutes,
        need_pt,
        load_pt,
        places,
        budget,
        radius=settings.reach_minutes,
        fixed=np.isin(np.asarray(data.place_ids, dtype=object), list(fixed)),
        time_limit_s=settings.solver_time_limit_seconds,
        gap=settings.capacity_gap,
    )
    open_ = tuple(data.place_ids[j] for j in plan.open_idx)
    sessions = {
        data.place_ids[j]: settings.session_mix(data.place_ids[j], float(plan.sessions[j]))
        for j in plan.open_idx
        if places.max_sessions[j] > 0
    }
    return Scenario(sid, name, "optimised", open_, sessions)


def _scenario_json(
    s: Scenario,
    r: ScenarioResult,
    in0: np.ndarray,
    in1: np.ndarray,
    kids: pd.DataFrame,
    keys: np.ndarray,
    rules: ReleaseRules,
    note: str | None,
) -> dict[str, Any]:
    (shown,) = released([in1], keys, rules)
    lo, hi = r.expected_registered_interval
    elo, ehi = r.expected_engaged_interval
    return {
        "id": s.id,
        "name": s.name,
        "kind": s.kind,
        "sites_open": list(r.open_places),
        "cost_per_year": round(r.cost_per_year, 2),
        "children_within_15_min": shown,
        "expected_registered": round(r.expected_registered),
        "expected_registered_interval": [round(lo), round(hi)],
        "expected_engaged": round(r.expected_engaged),
        "expected_engaged_interval": [round(elo), round(ehi)],
        "cost_per_child_engaged": r.cost_per_child_engaged,
        "outreach_hours": round(float(sum(s.outreach_hours.values())), 1),
        "outreach_registrations": round(r.outreach_registrations, 1),
        "gains": _changes(in1 & ~in0, kids, keys, rules),
        "losses": _changes(in0 & ~in1, kids, keys, rules),
        "note": note,
    }


def _outreach_areas(
    kids: pd.DataFrame,
    inputs: PlanningInputs,
    base: Scenario,
    area_m2: Mapping[str, float],
) -> pd.DataFrame:
    """Per small area: unregistered children, the median walk from their homes to the
    nearest open site (the outreach trip, one way, at the outreach speed) and its size."""
    walk = nearest_minutes(inputs, base.open_places)
    frame = pd.DataFrame(
        {
            "area_code": kids["area_code"].astype("string").fillna("unknown"),
            "unreached": ~kids["registered"].astype(bool),
            "walk": np.where(np.isfinite(walk), walk, np.nan),
        }
    )
    g = frame.groupby("area_code", sort=True)
    out = pd.DataFrame(
        {
            "area_code": g.size().index.astype(str),
            "unreached": g["unreached"].sum().to_numpy(dtype=int),
            "trip_minutes": g["walk"].median().fillna(g["walk"].median().max()).to_numpy(),
        }
    )
    out["trip_minutes"] = out["trip_minutes"].fillna(0.0)
    out["area_m2"] = out["area_code"].map(dict(area_m2)).fillna(0.0)
    return out


def _five(hours: float) -> float:
    """Hours to the nearest 5: an area's exact hours follow from its households visited
    (visit minutes x households + the trip), so they are shown no finer than the released
    count of its unreached children."""
    return float(5 * round(hours / 5))


def _outreach_json(
    plan: OutreachPlan | None, kids: pd.DataFrame, keys: np.ndarray, rules: ReleaseRules
) -> tuple[dict[str, Any], ...]:
    """The ranked outreach plan; the unreached children of each area released."""
    if plan is None:
        return ()
    area = kids["area_code"].astype("string").fillna("unknown").to_numpy(dtype=object)
    unreached = ~kids["registered"].astype(bool).to_numpy()
    masks = [np.asarray(unreached & (area == s.area), dtype=bool) for s in plan.stops]
    shown = released(masks, keys, rules)
    return tuple(
        {
            "rank": s.rank,
            "area": s.area,
            "unreached": n,
            "hours": _five(s.hours),
            "cumulative_hours": _five(s.cumulative_hours),
            "expected_registrations": round(s.expected_registrations, 1),
        }
        for s, n in zip(plan.stops, shown, strict=True)
    )
