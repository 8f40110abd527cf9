"""``planning:``: the costed service model and how the planning stage runs (docs/planning.md).

Every number carries where it came from: ``source: council`` (the council's own accounts or
outcomes), ``assumption`` (a documented guess, with its ``basis``) or ``illustrative`` (the
demo's made-up figures). Outputs show any figure that is not the council's as such.

Annual cost of a scenario = running costs of the open sites + cost to use the open venues +
sessions x weeks x cost per session + outreach hours x cost per hour
(:meth:`ServiceModel.cost_per_year`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, model_validator

from everyfamily.config.base import Strict
from everyfamily.errors import ConfigError

M = TypeVar("M", bound=Strict)

Source = Literal["council", "assumption", "illustrative"]


class SessionType(Strict):
    name: str = Field(min_length=1, description="Session type, e.g. 'stay and play'.")
    cost_per_session: float = Field(ge=0, description="Cost of running one session (GBP).")


class Site(Strict):
    """A site the council runs today (a children's centre or family hub)."""

    id: str = Field(min_length=1, description="Site id, as in the sites file.")
    running_cost_per_year: float = Field(ge=0, description="Building and staff cost (GBP/yr).")
    sessions_per_week: dict[str, float] = Field(
        default_factory=dict,
        description="Sessions run each week, by session type name.",
    )
    places_per_session: int = Field(ge=0, description="Children one session can take.")
    opening_days_per_week: int = Field(ge=0, le=7, description="Days open each week.")
    closure_cost: float = Field(
        0.0,
        ge=0,
        description="One-off cost of closing it (redundancy, lease break, dilapidations; "
        "GBP), annualised over planning.one_off_years in a scenario that closes it.",
    )
    max_sessions_per_week: float | None = Field(
        None,
        ge=0,
        description="Most sessions a week it could run when the optimiser chooses sessions "
        "(planning.choose_sessions); unset: the sessions it runs today.",
    )

    @property
    def capacity_per_week(self) -> float:
        """Places per week = sessions per week x places per session."""
        return sum(self.sessions_per_week.values()) * self.places_per_session


class Venue(Strict):
    """A candidate venue that is not a site today (school, library, GP surgery, community
    hall, supermarket community room: Radical Efficiency's 'new suppliers')."""

    id: str = Field(min_length=1, description="Venue id, as in the venue file.")
    kind: str = Field("venue", description="What the venue is (school, library, ...).")
    cost_to_use_per_year: float = Field(ge=0, description="Hire or partnership cost (GBP/yr).")
    sessions_per_week: dict[str, float] = Field(
        default_factory=dict, description="Sessions it would run each week, by type."
    )
    places_per_session: int = Field(ge=0, description="Children one session can take.")
    opening_days_per_week: int = Field(0, ge=0, le=7, description="Days available each week.")
    setup_cost: float = Field(
        0.0,
        ge=0,
        description="One-off cost of opening it (fitting out, equipment, set-up; GBP), "
        "annualised over planning.one_off_years in a scenario that opens it.",
    )
    max_sessions_per_week: float | None = Field(
        None,
        ge=0,
        description="Most sessions a week it could run when the optimiser chooses sessions "
        "(planning.choose_sessions); unset: the sessions listed for it.",
    )

    @property
    def capacity_per_week(self) -> float:
        return sum(self.sessions_per_week.values()) * self.places_per_session


class Outreach(Strict):
    """Outreach workers' time: what an hour costs and what a visit yields."""

    cost_per_hour: float = Field(ge=0, description="Cost of one outreach worker hour (GBP).")
    visit_minutes: float = Field(gt=0, description="Minutes spent at one household visit.")
    registrations_per_visit: float = Field(
        ge=0, le=1, description="Expected new registrations per visit (0 to 1)."
    )
    yield_source: Source = Field(
        "assumption",
        description="'council' when the yield comes from recorded outreach outcomes.",
    )
    yield_basis: str | None = Field(
        None, description="Where the yield figure comes from (required unless 'council')."
    )
    travel_speed_kmh: float = Field(
        4.8, gt=0, description="Speed between visits (walking by default)."
    )

    @model_validator(mode="after")
    def _basis_for_assumption(self) -> Outreach:
        if self.yield_source != "council" and not (self.yield_basis or "").strip():
            raise ValueError(
                "yield_basis: a yield that is not from the council's own outreach outcomes "
                "needs its basis written down (yield_basis: '...')"
            )
        return self


class ServiceModel(Strict):
    """Costs of the whole service. Annual cost of a scenario = running costs of the open
    sites + cost to use the open venues + sessions x weeks x cost per session + outreach
    hours x cost per hour."""

    currency: str = Field("GBP", description="Currency of every cost.")
    source: Source = Field(description="Where these costs come from.")
    basis: str = Field(min_length=1, description="How the figures were arrived at.")
    weeks_per_year: int = Field(48, ge=1, le=52, description="Weeks a year sessions run.")
    session_types: list[SessionType] = Field(
        min_length=1, description="Session types and their cost per session."
    )
    sites: list[Site] = Field(
        min_length=1, description="Every site today, with its running cost and sessions."
    )
    venues: list[Venue] = Field(
        default_factory=list, description="Candidate venues that are not sites today."
    )
    outreach: Outreach | None = Field(
        None, description="Outreach workers' cost per hour and yield per visit."
    )
    one_off_years: float = Field(
        5.0,
        gt=0,
        description="Years one-off costs (a venue's setup_cost, a site's closure_cost) are "
        "spread over in cost_per_year (straight line, no discounting).",
    )

    @model_validator(mode="after")
    def _references(self) -> ServiceModel:
        types = {t.name for t in self.session_types}
        if len(types) != len(self.session_types):
            raise ValueError("session_types: two session types have the same name")
        ids = [s.id for s in self.sites] + [v.id for v in self.venues]
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise ValueError(f"sites: the id {i!r} is used twice (sites and venues)")
            seen.add(i)
        places: list[tuple[str, int, Site | Venue]] = [
            *(("sites", k, s) for k, s in enumerate(self.sites)),
            *(("venues", k, v) for k, v in enumerate(self.venues)),
        ]
        for kind, k, p in places:
            for name, n in p.sessions_per_week.items():
                if name not in types:
                    raise ValueError(
                        f"{kind}: {kind}[{k}] runs an unknown session type {name!r}; "
                        f"expected one of {sorted(types)}"
                    )
                if n < 0:
                    raise ValueError(
                        f"{kind}: {kind}[{k}] has a negative number of {name!r} sessions"
                    )
        return self

    # --- derived figures -----------------------------------------------------------------

    @property
    def site_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sites)

    @property
    def venue_ids(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.venues)

    def place(self, place_id: str) -> Site | Venue:
        places: list[Site | Venue] = [*self.sites, *self.venues]
        for p in places:
            if p.id == place_id:
                return p
        raise ConfigError(
            f"planning: no site or venue has the id {place_id!r}",
            hint="add it to planning.sites or planning.venues",
        )

    def session_cost_per_year(self, sessions_per_week: Mapping[str, float]) -> float:
        """Sessions per week x weeks per year x cost per session, summed over types."""
        price = {t.name: t.cost_per_session for t in self.session_types}
        for name in sessions_per_week:
            if name not in price:
                raise ConfigError(
                    f"planning: unknown session type {name!r}",
                    hint=f"use one of {sorted(price)}",
                )
        return float(
            sum(n * price[name] for name, n in sessions_per_week.items()) * self.weeks_per_year
        )

    def place_cost_per_year(
        self, place_id: str, sessions_per_week: Mapping[str, float] | None = None
    ) -> float:
        """A site's running cost (or a venue's cost to use) plus its sessions' cost; the
        sessions it runs today unless others are given."""
        p = self.place(place_id)
        fixed = p.running_cost_per_year if isinstance(p, Site) else p.cost_to_use_per_year
        sess = p.sessions_per_week if sessions_per_week is None else sessions_per_week
        return float(fixed) + self.session_cost_per_year(sess)

    def cost_per_year(
        self,
        open_places: Iterable[str],
        *,
        sessions: Mapping[str, Mapping[str, float]] | None = None,
        outreach_hours_per_year: float = 0.0,
    ) -> float:
        """Annual cost of a service: every open site or venue with its sessions (``sessions``
        overrides a place's sessions per week) plus outreach hours x cost per hour."""
        sessions = sessions or {}
        opened = list(open_places)
        total = sum(self.place_cost_per_year(p, sessions.get(p)) for p in opened)
        total += self.one_off_per_year(opened)
        if outreach_hours_per_year > 0:
            if self.outreach is None:
                raise ConfigError(
                    "planning: outreach hours were asked for but planning.outreach is not set",
                    hint="add planning.outreach with cost_per_hour",
                )
            total += outreach_hours_per_year * self.outreach.cost_per_hour
        return float(total)

    def one_off_per_year(self, open_places: Iterable[str]) -> float:
        """One-off costs annualised (straight line over ``one_off_years``): the setup cost
        of every venue open and the closure cost of every site of today's not open."""
        opened = set(open_places)
        setup = sum(v.setup_cost for v in self.venues if v.id in opened)
        closure = sum(s.closure_cost for s in self.sites if s.id not in opened)
        return float(setup + closure) / self.one_off_years

    def session_mix(self, place_id: str, per_week: float) -> dict[str, float]:
        """``per_week`` sessions at a place in the mix of types it lists (its first
        session type when it lists none), for a chosen number of sessions."""
        listed = self.place(place_id).sessions_per_week
        total = sum(listed.values())
        if total <= 0:
            return {self.session_types[0].name: float(per_week)} if per_week else {}
        return {name: float(per_week) * n / total for name, n in listed.items() if n}

    @property
    def baseline_cost_per_year(self) -> float:
        """Today's cost: every site open with its current sessions, no extra outreach."""
        return self.cost_per_year(self.site_ids)

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Figures that are not the council's own, in words, for every output to show."""
        out: list[str] = []
        if self.source != "council":
            out.append(f"costs are {self.source}: {self.basis}")
        if self.outreach is not None and self.outreach.yield_source != "council":
            out.append(
                f"outreach yield of {self.outreach.registrations_per_visit:g} registrations per "
                f"visit is {self.outreach.yield_source}: {self.outreach.yield_basis}"
            )
        return tuple(out)


class VenuesFile(Strict):
    """Where the candidate venues are: a CSV with one row per venue (its id as in
    ``planning.venues`` and its latitude and longitude, WGS84)."""

    path: Path = Field(description="CSV of candidate venues (resolved against the project).")
    id_column: str = Field("venue_id", description="Column holding the venue id.")
    latitude_column: str = Field("latitude", description="Column holding the latitude.")
    longitude_column: str = Field("longitude", description="Column holding the longitude.")


class NeedWeightsSettings(Strict):
    """Demand per child in the optimisation = base + unreached x [not registered] +
    deprived x [in the most deprived deciles] + emerging x [in an emerging community]."""

    base: float = Field(1.0, ge=0, description="Weight every child carries.")
    unreached: float = Field(1.0, ge=0, description="Extra weight of an unregistered child.")
    deprived: float = Field(
        1.0, ge=0, description="Extra weight of a child in the most deprived deciles."
    )
    deprived_deciles: int = Field(
        2, ge=1, le=10, description="IMD deciles counted as most deprived (1 to this)."
    )
    emerging: float = Field(
        1.0, ge=0, description="Extra weight of a child in an emerging community's area."
    )


class Session(Strict):
    """One session a site runs each week (``planning.sessions``), for the offer matched
    to each centre's reach area (planning/offer.py)."""

    site: str = Field(min_length=1, description="Site id, as in the sites file.")
    name: str = Field(min_length=1, description="Session type, e.g. 'baby massage'.")
    per_week: float = Field(1.0, ge=0, description="How many run each week.")
    min_age_months: int = Field(0, ge=0, description="Youngest age the session is for.")
    max_age_months: int = Field(59, ge=0, description="Oldest age the session is for.")
    languages: list[str] = Field(
        default_factory=list, description="Languages it is run in (empty: the default)."
    )
    interpreter: bool = Field(False, description="An interpreter is available.")
    day: str | None = Field(None, description="Day of the week it runs (for people; optional).")
    time: str | None = Field(None, description="Time it starts, e.g. '09:30' (optional).")


class PlanningSettings(ServiceModel):
    """The ``planning:`` block: the costed service model (sites, venues, session types,
    outreach) and how the planning stage runs. Without it the planning stage is skipped."""

    sessions: list[Session] = Field(
        default_factory=list,
        description=(
            "Sessions each site runs a week (ages, languages, interpreter), matched against "
            "the children of its reach area; without them the offer says 'no session data'."
        ),
    )
    venues_file: VenuesFile | None = Field(
        None, description="Locations of the candidate venues (needed when venues are listed)."
    )
    need_weights: NeedWeightsSettings = Field(
        default_factory=NeedWeightsSettings, description="Demand weights for optimisation."
    )
    scenarios_path: Path | None = Field(
        None,
        description="YAML file of what-if scenarios (docs/planning.md); without it the "
        "baseline, the optimised sets and the outreach plan only.",
    )
    solver_time_limit_seconds: float = Field(
        60.0, gt=0, description="Time limit of each optimisation solve (CBC; HiGHS with capacity)."
    )
    reach_minutes: float = Field(
        15.0, gt=0, description="Walking minutes counted as within reach (gains, losses)."
    )
    walk_cap_minutes: float = Field(
        60.0, gt=0, description="Walk beyond which more minutes change nothing in the model."
    )
    curve_points: int = Field(
        6, ge=2, le=40, description="Budgets on the marginal curve (50% to 100% of today's)."
    )
    outreach_plan_hours: float = Field(
        0.0, ge=0, description="Outreach hours a year to plan (the ranked outreach plan)."
    )
    capacitated: bool = Field(
        True,
        description="Optimised sets and the 90% check respect capacity: a place takes no more "
        "expected engaged children than its places per week (sessions per week x places per "
        "session; a place listing none is not limited); false counts children within reach "
        "only.",
    )
    capacity_gap: float = Field(
        0.001,
        ge=0,
        lt=0.5,
        description="Relative optimality gap a capacitated solve stops at (HiGHS): the set "
        "found serves at least (1 - gap) x the most any set within the budget could.",
    )
    capacitated_curve: bool = Field(
        False,
        description="With capacitated on, each marginal-curve point is the capacitated optimum "
        "at that budget (children served within reach); off (the default): children within "
        "reach of the best places at each budget. Off because the capacitated points take one "
        "integer solve each (measured at Knowsley size: 15 s of CPU for 6 budgets, and under "
        "load solves stop at the time limit, so a point can depend on the machine's speed).",
    )
    choose_sessions: bool = Field(
        True,
        description="With capacitated on, optimised sets and the marginal curve also choose "
        "each open place's sessions a week (1 to its max_sessions_per_week, in the mix of "
        "types it lists; capacity = sessions x places per session), the budget paying for "
        "them; false: every open place runs the sessions it lists.",
    )

    @model_validator(mode="after")
    def _timetable_agrees(self) -> PlanningSettings:
        """A site the timetable (``sessions``) lists runs, of each costed session type, as
        many sessions a week there as its ``sessions_per_week`` says."""
        types = {t.name for t in self.session_types}
        listed: dict[tuple[str, str], float] = {}
        for x in self.sessions:
            if x.name in types:
                listed[(x.site, x.name)] = listed.get((x.site, x.name), 0.0) + x.per_week
        for site in self.sites:
            if not any(k[0] == site.id for k in listed):
                continue
            for name in sorted(types):
                got = listed.get((site.id, name), 0.0)
                want = float(site.sessions_per_week.get(name, 0.0))
                if abs(got - want) > 1e-9:
                    raise ValueError(
                        f"site {site.id!r} runs {got:g} {name!r} sessions a week in "
                        f"planning.sessions but {want:g} in its sessions_per_week; make them "
                        "agree (the costs and the offer count the same sessions)"
                    )
        return self

    @model_validator(mode="after")
    def _venue_locations(self) -> PlanningSettings:
        if self.venues and self.venues_file is None:
            raise ValueError(
                "venues_file: candidate venues are listed, so their locations are needed "
                "(venues_file: {path: venues.csv})"
            )
        return self


def validate_file_text(text: str, model: type[M], *, filename: str, hint: str) -> M:
    """Validate a YAML file of settings other than the project file (the scenario file)
    against ``model``: a one-line :class:`ConfigError` with the file, the line, the key and
    what was expected, as the project file's errors are."""
    import yaml
    from pydantic import ValidationError

    from everyfamily.config.loading import _line_for, _load_with_lines

    try:
        data, lines = _load_with_lines(text)
    except (ConfigError, yaml.YAMLError):
        raise ConfigError(
            f"{filename}: not valid YAML", hint="check indentation and quoting"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}: expected a mapping of settings", hint=hint)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        line = _line_for(loc, lines)
        where = f"{filename}, line {line}" if line else filename
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        detail = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"{where}: unknown key {dotted!r}"
        elif err["type"] == "missing":
            msg = f"{where}: the key {dotted!r} is required"
        else:
            msg = f"{where}: {dotted}: {detail}"
        raise ConfigError(msg, hint=hint) from None
