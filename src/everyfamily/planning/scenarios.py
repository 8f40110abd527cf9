"""What-if scenarios, evaluated child by child on the walking-time matrix.

A scenario is a set of open places (sites and candidate venues), their sessions and outreach
hours by area. For each scenario :func:`evaluate` gives the children within 10/15/20 minutes'
walk of an open place (overall, by group and by deprivation), expected registered and engaged
children with 95% intervals, the cost per year and per child engaged, and who gains and who
loses 15-minute access against the baseline (by area and group).

Expected registration comes from the access model the product already fits
(``access.measures.expected_reach``: a binomial GLM with ``log(1 + walking minutes)``). Each
child's fitted probability at today's walk is moved along that model's walking-time
coefficient to the scenario's walk:

    logit p1 = logit p0 + beta * (log(1 + w1) - log(1 + w0))

which assumes the cross-sectional association is causal (parents' choices are not known;
docs/planning.md). Engagement is registration times the observed share of registered
children who engaged in the child's area (the whole borough's share where an area has
fewer than ``MIN_AREA_REGISTERED`` registered children). Intervals are normal
approximations: the Bernoulli variance of the sum, sum p(1 - p), plus the coefficient's
uncertainty by the delta method, (sum dp/dbeta)^2 * se(beta)^2 (Casella & Berger 2002,
Statistical Inference, 5.5.4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from everyfamily.errors import DataError
from everyfamily.planning.costs import ServiceModel

Kind = Literal["baseline", "what_if", "optimised"]

#: Bands of walking minutes reported for every scenario.
BANDS: tuple[int, ...] = (10, 15, 20)
#: The band gains and losses are counted at (the issue's "within 15 minutes' walk").
REACH_MINUTES = 15.0
#: An area's own engaged-given-registered share is used when it has at least this many
#: registered children; below it the borough's share (a share of a handful is noise).
MIN_AREA_REGISTERED = 20
#: z for a two-sided 95% interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class WalkEffect:
    """The access model's fitted effect of walking time: ``coef`` on ``log(1 + minutes)``
    in the log-odds of registration, its standard error, and the walk (minutes) beyond which
    further minutes are taken to make no difference (also used for a child with no open
    place reachable at all)."""

    coef: float
    se: float
    cap_minutes: float = 60.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.coef) and math.isfinite(self.se) and self.se >= 0):
            raise DataError("planning: the walking-time effect needs a finite coef and se >= 0")
        if not self.cap_minutes > 0:
            raise DataError("planning: the walking-time cap must be more than 0 minutes")


@dataclass(frozen=True)
class ChildColumns:
    """Which columns of the child frame hold what (any names work)."""

    area: str = "area_code"
    groups: tuple[str, ...] = ("ethnicity_broad", "main_language")
    deprivation: str | None = "imd_decile"
    registered: str = "registered"
    engaged: str = "engaged"
    p_registered: str = "expected_registered"


@dataclass(frozen=True)
class PlanningInputs:
    """Children (rows) x places (columns) walking minutes, with the child attributes.
    Build with :func:`planning_inputs` (which checks shapes and values)."""

    minutes: np.ndarray
    place_ids: tuple[str, ...]
    children: pd.DataFrame
    columns: ChildColumns
    engaged_share: np.ndarray  # per child: P(engaged | registered) in the child's area


def planning_inputs(
    minutes: np.ndarray,
    place_ids: Sequence[str],
    children: pd.DataFrame,
    columns: ChildColumns | None = None,
) -> PlanningInputs:
    """Check the matrix against the child frame and work out each child's engaged share."""
    cols = columns or ChildColumns()
    m = np.asarray(minutes, dtype="float64")
    ids = tuple(str(p) for p in place_ids)
    if m.ndim != 2 or m.shape != (len(children), len(ids)):
        raise DataError(
            f"planning: the walking-time matrix is {m.shape}, expected "
            f"{len(children)} children x {len(ids)} places",
            hint="build it from the same children and places, in the same order",
        )
    if len(set(ids)) != len(ids):
        raise DataError("planning: two places in the matrix have the same id")
    if np.isnan(m).any() or (m < 0).any():
        raise DataError(
            "planning: the walking-time matrix has missing or negative minutes",
            hint="use inf for a place a child cannot reach",
        )
    needed = [cols.area, cols.registered, cols.engaged, cols.p_registered, *cols.groups]
    if cols.deprivation:
        needed.append(cols.deprivation)
    missing = [c for c in needed if c not in children.columns]
    if missing:
        raise DataError(
            f"planning: the child table has no column {missing[0]!r}",
            hint="name the columns with ChildColumns",
        )
    p = pd.to_numeric(children[cols.p_registered], errors="coerce").to_numpy(dtype="float64")
    if not np.all(np.isfinite(p) & (p >= 0) & (p <= 1)):
        raise DataError(
            f"planning: column {cols.p_registered!r} must hold probabilities from 0 to 1",
            hint="pass the access model's fitted probabilities (ReachModel.expected)",
        )
    kids = children.reset_index(drop=True)
    reg = kids[cols.registered].astype(bool).to_numpy()
    eng = kids[cols.engaged].astype(bool).to_numpy() & reg
    overall = eng.sum() / reg.sum() if reg.sum() else 0.0
    area = kids[cols.area].astype("string").fillna("")
    by_reg = pd.Series(reg).groupby(area.to_numpy()).sum()
    by_eng = pd.Series(eng).groupby(area.to_numpy()).sum()
    share = (by_eng / by_reg.where(by_reg >= MIN_AREA_REGISTERED)).fillna(overall)
    return PlanningInputs(
        minutes=m,
        place_ids=ids,
        children=kids,
        columns=cols,
        engaged_share=area.map(share).to_numpy(dtype="float64"),
    )


@dataclass(frozen=True)
class Scenario:
    """A service option: the places open, sessions per week where they differ from the
    costed model's, and outreach hours a year by area."""

    id: str
    name: str
    kind: Kind
    open_places: tuple[str, ...]
    sessions: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    outreach_hours: Mapping[str, float] = field(default_factory=dict)

    def closing(self, place: str, *, id: str, name: str) -> Scenario:
        """This scenario with one place closed."""
        return Scenario(
            id, name, "what_if", tuple(p for p in self.open_places if p != place), self.sessions
        )

    def opening(self, place: str, *, id: str, name: str) -> Scenario:
        """This scenario with one more place open."""
        return Scenario(id, name, "what_if", (*self.open_places, place), self.sessions)

    def moving(self, old: str, new: str, *, id: str, name: str) -> Scenario:
        """Close ``old`` and open ``new`` (a move)."""
        opened = (*(p for p in self.open_places if p != old), new)
        return Scenario(id, name, "what_if", opened, self.sessions)


def baseline_scenario(costs: ServiceModel) -> Scenario:
    """Today's service: every site open with its sessions, no extra outreach."""
    return Scenario("baseline", "Today's service", "baseline", costs.site_ids)


@dataclass(frozen=True)
class Coverage:
    """Children of one group within each band of walking minutes of an open place."""

    dimension: str  # 'all', a group column or the deprivation column
    value: str
    children: int
    within: Mapping[int, int]


@dataclass(frozen=True)
class Change:
    """Children of one area or group who gain (or lose) 15-minute access."""

    dimension: str  # 'area' or a group column
    value: str
    children: int


@dataclass(frozen=True)
class PlaceLoad:
    """An open place: expected engaged children whose nearest open place it is, and its
    places per week (capacity). Whether an engaged child needs one place a week is the
    council's to judge; both figures are shown, neither is enforced."""

    place: str
    expected_engaged_nearest: float
    capacity_per_week: float


@dataclass(frozen=True)
class ScenarioResult:
    id: str
    name: str
    kind: Kind
    open_places: tuple[str, ...]
    cost_per_year: float
    children: int
    within: Mapping[int, int]
    coverage: tuple[Coverage, ...]
    expected_registered: float
    expected_registered_interval: tuple[float, float]
    expected_engaged: float
    expected_engaged_interval: tuple[float, float]
    cost_per_child_engaged: float | None
    outreach_registrations: float
    gains: tuple[Change, ...]
    losses: tuple[Change, ...]
    loads: tuple[PlaceLoad, ...]
    assumptions: tuple[str, ...]

    @property
    def children_within_15_min(self) -> int | None:
        return self.within.get(15)


def nearest_minutes(inputs: PlanningInputs, open_places: Sequence[str]) -> np.ndarray:
    """Each child's walk (minutes) to the nearest open place; inf when none is open or
    reachable."""
    idx = _indices(inputs, open_places)
    if not idx:
        return np.full(inputs.minutes.shape[0], np.inf)
    return np.asarray(inputs.minutes[:, idx].min(axis=1), dtype="float64")


def _indices(inputs: PlanningInputs, places: Sequence[str]) -> list[int]:
    where = {p: i for i, p in enumerate(inputs.place_ids)}
    unknown = [p for p in places if p not in where]
    if unknown:
        raise DataError(
            f"planning: place {unknown[0]!r} is not a column of the walking-time matrix",
            hint="add it to the sites or venues the matrix was built from",
        )
    return sorted({where[p] for p in places})


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)))


def _expit(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def shifted_probabilities(
    p0: np.ndarray, walk0: np.ndarray, walk1: np.ndarray, effect: WalkEffect
) -> tuple[np.ndarray, np.ndarray]:
    """Each child's registration probability at a new walk, and its derivative in the
    coefficient (for the delta method). ``p0`` is the fitted probability at ``walk0``;
    walks are capped at ``effect.cap_minutes`` (inf included)."""
    cap = effect.cap_minutes
    d = np.log1p(np.minimum(walk1, cap)) - np.log1p(np.minimum(walk0, cap))
    p1 = _expit(_logit(p0) + effect.coef * d)
    # where nothing moved the probability is p0 exactly (no round trip through the logit)
    p1 = np.where(d == 0, p0, p1)
    return p1, p1 * (1 - p1) * d


def _interval(mean: float, var: float) -> tuple[float, float]:
    half = Z95 * math.sqrt(max(var, 0.0))
    return (max(mean - half, 0.0), mean + half)


def _labels(values: pd.Series) -> np.ndarray:
    return values.astype("string").fillna("unknown").to_numpy(dtype=object)


def _coverage(
    inputs: PlanningInputs, walk: np.ndarray, bands: Sequence[int]
) -> tuple[Coverage, ...]:
    cols = inputs.columns
    dims: list[tuple[str, np.ndarray]] = [("all", np.full(len(walk), "all", dtype=object))]
    dims += [(g, _labels(inputs.children[g])) for g in cols.groups]
    if cols.deprivation:
        dims.append((cols.deprivation, _labels(inputs.children[cols.deprivation])))
    out: list[Coverage] = []
    for dim, labels in dims:
        for value in sorted(set(labels.tolist())):
            sel = labels == value
            w = walk[sel]
            out.append(
                Coverage(dim, str(value), int(sel.sum()), {b: int((w <= b).sum()) for b in bands})
            )
    return tuple(out)


def _changes(inputs: PlanningInputs, moved: np.ndarray) -> tuple[Change, ...]:
    if not moved.any():
        return ()
    cols = inputs.columns
    out: list[Change] = []
    for dim, col in (("area", cols.area), *((g, g) for g in cols.groups)):
        labels = _labels(inputs.children[col])[moved]
        values, counts = np.unique(labels.astype(str), return_counts=True)
        order = np.lexsort((values, -counts))
        out += [Change(dim, str(values[k]), int(counts[k])) for k in order]
    return tuple(out)


def outreach_registrations(
    inputs: PlanningInputs,
    p_registered: np.ndarray,
    hours: Mapping[str, float],
    costs: ServiceModel,
    travel_minutes_per_visit: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Extra expected registrations per child from outreach hours in their area: visits =
    hours x 60 / (visit minutes + travel minutes per visit), times the yield per visit,
    capped at the area's expected unregistered children and spread over them in proportion
    to each child's chance of being unregistered. An assumption unless the yield is the
    council's own (``costs.outreach.yield_source``)."""
    extra = np.zeros(len(p_registered))
    if not hours:
        return extra
    if costs.outreach is None:
        raise DataError(
            "planning: a scenario has outreach hours but the costed model has no outreach",
            hint="add planning.outreach (cost per hour, visit minutes, yield)",
        )
    o = costs.outreach
    travel = travel_minutes_per_visit or {}
    area = _labels(inputs.children[inputs.columns.area])
    unreg = 1.0 - p_registered
    for a, h in hours.items():
        if h < 0:
            raise DataError(f"planning: outreach hours for area {a!r} are negative")
        sel = area == a
        room = float(unreg[sel].sum())
        if room <= 0 or h == 0:
            continue
        visits = h * 60.0 / (o.visit_minutes + float(travel.get(a, 0.0)))
        gained = min(visits * o.registrations_per_visit, room)
        extra[sel] = unreg[sel] * (gained / room)
    return extra


def evaluate(
    scenario: Scenario,
    inputs: PlanningInputs,
    costs: ServiceModel,
    effect: WalkEffect,
    *,
    baseline: Scenario,
    bands: Sequence[int] = BANDS,
    reach_minutes: float = REACH_MINUTES,
    travel_minutes_per_visit: Mapping[str, float] | None = None,
) -> ScenarioResult:
    """Evaluate one scenario against the baseline (see the module docstring for the model).
    The children's fitted probabilities are taken to describe the baseline service."""
    walk0 = nearest_minutes(inputs, baseline.open_places)
    walk1 = nearest_minutes(inputs, scenario.open_places)
    p0 = inputs.children[inputs.columns.p_registered].to_numpy(dtype="float64")
    p1, dp = shifted_probabilities(p0, walk0, walk1, effect)
    extra = outreach_registrations(
        inputs, p1, scenario.outreach_hours, costs, travel_minutes_per_visit
    )
    reg = p1 + extra
    q = inputs.engaged_share
    eng = reg * q
    reg_sum, eng_sum = float(reg.sum()), float(eng.sum())
    se2 = effect.se**2
    reg_var = float((p1 * (1 - p1)).sum()) + float(dp.sum()) ** 2 * se2
    eng_var = float((p1 * q * (1 - p1 * q)).sum()) + float((dp * q).sum()) ** 2 * se2
    hours = float(sum(scenario.outreach_hours.values()))
    cost = costs.cost_per_year(
        scenario.open_places, sessions=scenario.sessions, outreach_hours_per_year=hours
    )
    in0, in1 = walk0 <= reach_minutes, walk1 <= reach_minutes
    idx = _indices(inputs, scenario.open_places)
    loads: list[PlaceLoad] = []
    if idx:
        sub = inputs.minutes[:, idx]
        nearest = np.argmin(sub, axis=1)
        reachable = np.isfinite(sub.min(axis=1))
        for k, j in enumerate(idx):
            pid = inputs.place_ids[j]
            mine = (nearest == k) & reachable
            place = costs.place(pid)
            sess = scenario.sessions.get(pid, place.sessions_per_week)
            loads.append(
                PlaceLoad(
                    pid,
                    round(float(eng[mine].sum()), 2),
                    float(sum(sess.values()) * place.places_per_session),
                )
            )
    assumptions = list(costs.assumptions)
    assumptions.append(
        "walking time is taken to change registration as the access model's coefficient "
        "says (an association, not a measured effect of moving a site)"
    )
    return ScenarioResult(
        id=scenario.id,
        name=scenario.name,
        kind=scenario.kind,
        open_places=tuple(scenario.open_places),
        cost_per_year=round(cost, 2),
        children=len(walk1),
        within={int(b): int((walk1 <= b).sum()) for b in bands},
        coverage=_coverage(inputs, walk1, bands),
        expected_registered=round(reg_sum, 2),
        expected_registered_interval=_interval(reg_sum, reg_var),
        expected_engaged=round(eng_sum, 2),
        expected_engaged_interval=_interval(eng_sum, eng_var),
        cost_per_child_engaged=round(cost / eng_sum, 2) if eng_sum > 0 else None,
        outreach_registrations=round(float(extra.sum()), 2),
        gains=_changes(inputs, in1 & ~in0),
        losses=_changes(inputs, in0 & ~in1),
        loads=tuple(loads),
        assumptions=tuple(assumptions),
    )
