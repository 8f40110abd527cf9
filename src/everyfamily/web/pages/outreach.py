"""The outreach lists (view_outreach_list): children to contact, as households in walking
order, with the outcome of the last visit. Person-level rows are read on demand from the
analysis store (pseudonymised); names and addresses come only through a
:data:`~everyfamily.web.pages.person.ContactLookup`, which the route hands over to a role
with ``reidentify`` and which audits before it opens the identifiable store.

Lists (:data:`LISTS`):

* ``not_registered``: known to a universal service (births, health visiting) and registered
  with no centre (the measure stage's ``not_reached`` table);
* ``not_engaged``: registered with a centre but not engaged (fewer sessions in the window
  than the project's rule), per centre with the centre filter (table ``children``);
* ``hv_not_registered``: known to health visiting (``children.known_by``), registered
  nowhere;
* ``new_arrivals``: known to a universal service but with no local birth record (born
  elsewhere, moved in), registered nowhere.

Households, walking order and who comes first are :func:`everyfamily.reach.outreach.plan_visits`.
With contact details, the lookup covers the whole (scoped, filtered) list, since the order
depends on the addresses; the audit entry gives how many children were looked up.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from everyfamily.reach.outreach import plan_visits, priority_areas_from_findings
from everyfamily.web.auth import OUTREACH_OUTCOMES
from everyfamily.web.labels import group_label
from everyfamily.web.outputs import WALK_COLUMNS, read_children, read_not_reached, read_walks
from everyfamily.web.pages.person import CONTACT_TABLE_COLUMNS, ContactLookup, _Lazy
from everyfamily.web.pages.plan import outreach_plan_priorities
from everyfamily.web.tables import BadRequest, Column, Table, clean, number_or_none, one_page
from everyfamily.web.view import RunView

OUTREACH_PAGE_SIZE = 100
#: Pseudonymous plans kept for paging (the oldest goes first).
PLANS_KEPT = 16
#: Most households on one printed route sheet.
ROUTE_SHEET_MAX = 400

#: The lists: id -> (title, who is on it).
LISTS: dict[str, tuple[str, str]] = {
    "not_registered": (
        "Known to universal services, registered with no centre",
        "children the birth or health-visiting records know who are on no centre's register",
    ),
    "not_engaged": (
        "Registered but not engaged",
        "children on a centre's register who have not used it enough to count as engaged",
    ),
    "hv_not_registered": (
        "Known to health visiting, never registered",
        "children the health-visiting records know who are on no centre's register",
    ),
    "new_arrivals": (
        "Newly arrived families",
        "children known to universal services with no local birth registration (most moved "
        "here after birth) who are on no centre's register; a child whose birth record was "
        "set aside at loading (a bad date of birth) but matches by NHS number, name, "
        "postcode and sex under the linkage model is left out, and a birth record that "
        "did not link at all still shows here",
    ),
}
#: The universal roles the lists name (everyfamily.schema.KNOWN_ROLES).
HEALTH_VISITING, BIRTHS = "health_visiting", "births"
DEFAULT_LIST = "not_registered"

#: Outcomes an outreach worker records for a household (value -> label).
OUTCOMES: dict[str, str] = dict(
    zip(OUTREACH_OUTCOMES, ("Contacted", "Not at home", "Declined", "Registered"), strict=True)
)

HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column("household", "Household", "number"),
    Column("priority", "Visit first because"),
    Column("last_outcome", "Last outreach"),
)
OUTREACH_COLUMNS: tuple[Column, ...] = (
    Column("area", "Home area"),
    Column("area_code", "Area code"),
    Column("age_years", "Age"),
    Column("sex", "Sex"),
    Column("ethnicity", "Ethnic group"),
    Column("main_language", "Main language"),
    Column("mother_region_of_birth", "Mother's region of birth"),
    Column("imd_decile", "IMD decile"),
    Column("nearest_site", "Nearest centre"),
    Column("km", "Distance (km)", "km"),
)
#: With the access stage's walking network, the nearest centre is the nearest on foot.
WALK_OUTREACH_COLUMNS: tuple[Column, ...] = (
    *OUTREACH_COLUMNS[:-2],
    Column("nearest_site", "Nearest centre on foot"),
    Column("walk_min", "Minutes' walk", "number"),
    Column("km", "Walk (km)", "km"),
)
#: Columns of the outreach list in its downloads only: what a visit needs stays on the page
#: (the home area by name, age, main language, the nearest centre), the rest of the profile
#: is in the CSV and Excel files, so the list fits a desk screen (1440 px) without scrolling.
PAGE_LEAVES_OUT = frozenset(
    {"area_code", "sex", "ethnicity", "mother_region_of_birth", "imd_decile"}
)
#: On the page, a worker's list joins name parts and a detail's source and date into one
#: cell each (the name first: the plain-English column), so it fits a desk screen; the
#: downloads keep the parts.
JOINED_CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("child_name", "Child"),
    Column("parent_name", "Parent"),
    Column("details_from", "Details from"),
)
JOINED_PARTS = frozenset(
    {"first_name", "last_name", "parent_first_name", "parent_last_name"}
    | {"contact_source", "contact_as_of"}
    | {"age_years", "km"}  # the date of birth and the minutes' walk say it on the page
)


def _joined(row: Mapping[str, Any]) -> dict[str, str]:
    """The page's joined cells of one row (:data:`JOINED_CONTACT_COLUMNS`)."""

    def join(*keys: str, sep: str = " ") -> str:
        return sep.join(str(row[k]) for k in keys if row.get(k) not in (None, ""))

    return {
        "child_name": join("first_name", "last_name"),
        "parent_name": join("parent_first_name", "parent_last_name"),
        "details_from": join("contact_source", "contact_as_of", sep=", "),
    }


#: Last outcome per child: person_id -> (outcome, date, user).
Outcomes = Mapping[str, tuple[str, str, str]]


@dataclass(frozen=True)
class ListRequest:
    """One request for an outreach list, as the page, the route sheet, the export and the
    API all take it: which list (``kind``, one of :data:`LISTS`), the area and centre
    filters, the small areas the user may see (``allowed``; None: every area), the
    re-identifying lookup for a user allowed it (``contacts``; None: pseudonymous) and the
    last outreach outcome of each child (``outcomes``; users store, None in local mode)."""

    kind: str = DEFAULT_LIST
    area: str | None = None
    site: str | None = None
    allowed: frozenset[str] | None = None
    contacts: ContactLookup | None = None
    outcomes: Outcomes | None = None

    @property
    def plan_key(self) -> tuple[Any, ...]:
        """What a pseudonymous plan depends on (the key it is kept under for paging)."""
        return (self.kind, self.area, self.site, self.allowed)


class OutreachList:
    """The outreach lists of one run."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self._not_reached = _Lazy(read_not_reached, view.outputs)
        self._children = _Lazy(read_children, view.outputs)
        self._walks = _Lazy(read_walks, view.outputs)
        self._plans: dict[tuple[Any, ...], pd.DataFrame] = {}
        self._lock = threading.Lock()
        found = view.outputs.findings.get("findings") or []
        self.priority_areas = priority_areas_from_findings(
            [f for f in found if isinstance(f, Mapping)]
        )
        # the run's ranked outreach plan (issue 17: "a ranked plan that feeds the outreach
        # list"): its areas' households come first too, with the plan's rank as the reason
        for code, why in outreach_plan_priorities(view.outputs.out_dir).items():
            self.priority_areas[code] = (*self.priority_areas.get(code, ()), *why)

    # --- which children --------------------------------------------------------------------

    def frame(self, kind: str, allowed: frozenset[str] | None) -> pd.DataFrame:
        """The children of list ``kind`` in the ``allowed`` small areas (None: all), with
        family_id for the households."""
        if kind not in LISTS:
            raise BadRequest(f"list: one of {', '.join(LISTS)}")
        children = self._children.get()
        if kind == "not_registered":
            frame = self._not_reached.get()
            fam = children[["person_id", "family_id"]].astype({"person_id": str})
            frame = frame.merge(fam, on="person_id", how="left")
        else:
            c = children
            if kind == "not_engaged":
                sel = _true(c.get("registered")) & ~_true(c.get("engaged"))
            else:
                roles = [set(_sites(v)) for v in c.get("known_by", pd.Series([[]] * len(c)))]
                if kind == "hv_not_registered":
                    known = [HEALTH_VISITING in r for r in roles]
                else:
                    # a birth row in quarantine (reach/arrivals.py: the linkage model's
                    # evidence) is a local birth, not an arrival
                    held = _true(c.get("birth_record_quarantined", pd.Series(False, c.index)))
                    known = [
                        bool(r) and BIRTHS not in r and not h
                        for r, h in zip(roles, held, strict=True)
                    ]
                sel = pd.Series(known, index=c.index) & ~_true(c.get("registered"))
            if "in_age_range" in c.columns:
                sel &= _true(c["in_age_range"])
            frame = c[sel].copy()
            frame["area_name"] = [self.view.area_name(str(a)) for a in frame["area_code"]]
        frame = frame.astype({"person_id": str, "area_code": str})
        walks = self._walks.get()
        if not walks.empty:
            frame = frame.drop(columns=[c for c in WALK_COLUMNS[1:] if c in frame.columns])
            frame = frame.merge(walks, on="person_id", how="left")
        frame["age_years"] = pd.to_numeric(frame["age_years"], errors="coerce").astype("Int64")
        if allowed is not None:
            frame = frame[frame["area_code"].isin(allowed)]
        return frame.reset_index(drop=True)

    def _filter(self, frame: pd.DataFrame, kind: str, area: str | None, site: str | None) -> Any:
        sel = frame
        if area:
            sel = sel[sel["area_code"].isin(self.view.expand_areas([area]))]
        if site:
            if kind == "not_engaged":
                sel = sel[[site in _sites(v) for v in sel.get("registered_sites", [])]]
            else:
                near = "nearest_site_walk" if self.walking else "nearest_site"
                sel = sel[sel.get(near, pd.Series(dtype=str)).astype(str) == site]
        return sel

    def plan(self, req: ListRequest) -> pd.DataFrame:
        """The (scoped, filtered) list in households and walking order, with contact
        details when ``req.contacts`` is given. Without them the plan is pseudonymous and
        kept (a few, for paging); with them it is made per request and never kept."""
        key, contacts = req.plan_key, req.contacts
        if contacts is None:
            with self._lock:
                kept = self._plans.get(key)
            if kept is not None:
                return kept
        frame = self._filter(self.frame(req.kind, req.allowed), req.kind, req.area, req.site)
        if contacts is None:
            planned = plan_visits(frame, self.priority_areas)
            with self._lock:
                if len(self._plans) >= PLANS_KEPT:
                    self._plans.pop(next(iter(self._plans)))
                self._plans[key] = planned
            return planned
        if not frame.empty:
            ids = [str(p) for p in frame["person_id"]]
            details = contacts(ids, sorted(set(frame["area_code"])))
            keep = ["person_id", *(c.key for c in CONTACT_TABLE_COLUMNS)]
            have = [c for c in keep if c in details.columns]
            frame = frame.merge(
                details[have].astype({"person_id": str}), on="person_id", how="left"
            )
        return plan_visits(frame, self.priority_areas)

    # --- pages -----------------------------------------------------------------------------

    def page(
        self, req: ListRequest, page: int = 1, page_size: int = OUTREACH_PAGE_SIZE
    ) -> dict[str, Any]:
        """One page of a list (see :class:`ListRequest`)."""
        kind, area, site, allowed = req.kind, req.area, req.site, req.allowed
        contacts = req.contacts
        planned = self.plan(req)
        chunk, total, page, pages = one_page(planned, page, page_size)
        scoped = self.frame(kind, allowed)
        areas = sorted(
            {(str(c), self.view.area_name(str(c))) for c in scoped["area_code"]},
            key=lambda t: t[1],
        )
        with_address = _households_with_address(planned) if contacts is not None else None
        first: list[Any] = (
            list(planned.loc[planned["priority"] != "", "household"]) if total else []
        )
        return {
            "table": self._table(chunk, req),
            "total": total,
            "households": int(planned["household"].nunique()) if total else 0,
            "households_with_address": with_address,
            "priority_households": len(set(first)),
            "page": page,
            "pages": pages,
            "area": area,
            "site": site,
            "list": kind,
            "list_title": LISTS[kind][0],
            "list_who": LISTS[kind][1],
            "lists": [{"id": k, "title": t} for k, (t, _who) in LISTS.items()],
            "scoped": allowed is not None,
            "assigned_areas": len(allowed) if allowed is not None else None,
            "reidentified": contacts is not None,
            "area_choices": [{"code": c, "name": n} for c, n in areas],
            "site_choices": [
                {"code": s, "name": self.view.site_name(s)} for s in self.view.services[1:]
            ],
            "outcome_choices": [{"code": k, "name": v} for k, v in OUTCOMES.items()],
        }

    def route_sheet(self, req: ListRequest) -> dict[str, Any]:
        """Households of one area in walking order, one block each (the printable sheet)."""
        planned = self.plan(req)
        blocks: list[dict[str, Any]] = []
        for number, members in planned.groupby("household", sort=True):
            if len(blocks) >= ROUTE_SHEET_MAX:
                break
            first = members.iloc[0]
            blocks.append(
                {
                    "household": int(str(number)),
                    "priority": str(first["priority"]),
                    "address": _text(first.get("address")),
                    "postcode": _text(first.get("postcode")),
                    "contact_source": _words(first.get("contact_source")),
                    "contact_as_of": _text(first.get("contact_as_of")),
                    "newer_postcode_from": _words(first.get("newer_postcode_from")),
                    "parent": " ".join(
                        _text(first.get(c)) for c in ("parent_first_name", "parent_last_name")
                    ).strip(),
                    "area": self.view.area_name(str(first["area_code"])),
                    "person_ids": ",".join(str(p) for p in members["person_id"]),
                    "last_outcome": _outcome_text(members["person_id"], req.outcomes),
                    "children": [
                        {
                            "person_id": str(r["person_id"]),
                            "name": " ".join(
                                _text(r.get(c)) for c in ("first_name", "last_name")
                            ).strip(),
                            "age_years": clean(r.get("age_years")),
                            "date_of_birth": _text(r.get("date_of_birth")),
                        }
                        for r in members.to_dict("records")
                    ],
                }
            )
        return {
            "blocks": blocks,
            "households": int(planned["household"].nunique()) if len(planned) else 0,
            "shown": len(blocks),
            "children": len(planned),
            "area": req.area,
            "area_name": self.view.area_name(req.area) if req.area else "all your areas",
            "site": req.site,
            "list": req.kind,
            "list_title": LISTS[req.kind][0],
            "reidentified": req.contacts is not None,
            "outcome_choices": [{"code": k, "name": v} for k, v in OUTCOMES.items()],
        }

    def export(self, req: ListRequest) -> Table:
        """The whole (scoped, filtered) list as one table, in walking order."""
        return self._table(self.plan(req), req)

    def ids(self, kind: str, allowed: frozenset[str] | None) -> frozenset[str]:
        """Every child id of a list within the allowed areas (to check an outcome's ids)."""
        return frozenset(self.frame(kind, allowed)["person_id"].astype(str))

    def registered_now(self, person_ids: frozenset[str]) -> int:
        """How many of these children this run finds on a centre's register."""
        c = self._children.get()
        sel = c["person_id"].astype(str).isin(person_ids) & _true(c.get("registered"))
        return int(sel.sum())

    # --- rows ------------------------------------------------------------------------------

    @property
    def walking(self) -> bool:
        """Does the run have each child's walk to the nearest centre (access stage)?"""
        return not self._walks.get().empty

    def _row(self, rec: Mapping[Any, Any]) -> dict[str, Any]:
        if self.walking:
            walk_m = clean(number_or_none(rec.get("walk_m")))
            walk_min = clean(number_or_none(rec.get("walk_min")))
            site = str(rec.get("nearest_site_walk") or "")
            extra: dict[str, Any] = {
                "walk_min": None if walk_min is None else round(float(walk_min)),
            }
        else:
            walk_m = clean(number_or_none(rec.get("nearest_site_distance_m")))
            site = str(rec.get("nearest_site") or "")
            extra = {}
        dist = walk_m
        eth = str(rec.get("ethnicity") or "")
        if eth == "white_british":
            ethnicity = "White British"
        else:
            ethnicity = group_label("ethnicity", eth) if eth else ""
        return {
            "person_id": rec.get("person_id"),
            "household": clean(rec.get("household")),
            "priority": rec.get("priority") or "",
            "area": rec.get("area_name") or rec.get("area_code"),
            "area_code": rec.get("area_code"),
            "age_years": clean(rec.get("age_years")),
            "sex": rec.get("sex"),
            "ethnicity": ethnicity,
            "main_language": rec.get("main_language"),
            "mother_region_of_birth": group_label(
                "mother_region_of_birth", str(rec.get("mother_region_of_birth") or "unknown")
            ),
            "imd_decile": clean(rec.get("imd_decile")),
            "nearest_site": self.view.site_name(site) if site else "",
            "km": None if dist is None else round(float(dist) / 1000, 2),
            **extra,
        }

    def _table(self, frame: pd.DataFrame, req: ListRequest) -> Table:
        kind, area, site, contacts = req.kind, req.area, req.site, req.contacts
        rows = []
        for rec in frame.to_dict("records"):
            row = self._row(rec)
            row["last_outcome"] = _outcome_text([rec.get("person_id")], req.outcomes)
            if contacts is not None:
                row.update({c.key: _text(rec.get(c.key)) for c in CONTACT_TABLE_COLUMNS})
                for key in ("contact_source", "newer_postcode_from"):
                    row[key] = _words(row[key])
                row.update(_joined(row))
            rows.append(row)
        params = {k: v for k, v in (("list", kind), ("area", area), ("site", site)) if v}
        columns = (
            *(JOINED_CONTACT_COLUMNS[:1] if contacts is not None else ()),
            Column("person_id", "Child id (pseudonymous)"),
            *HOUSEHOLD_COLUMNS,
            *(JOINED_CONTACT_COLUMNS[1:] if contacts is not None else ()),
            *(CONTACT_TABLE_COLUMNS if contacts is not None else ()),
            *(WALK_OUTREACH_COLUMNS if self.walking else OUTREACH_COLUMNS),
        )
        note = (
            "Identifiable and restricted: names and contact details for outreach by you "
            "only, in your assigned areas; this opening is in the audit log. The address is "
            "the most recent one any linked record holds (its source and date are shown); "
            "'Newer postcode in' names a later record with another postcode: check the "
            "address before you visit."
            if contacts is not None
            else "Person-level and restricted: for outreach by authorised staff only. The id "
            "is the linkage pseudonym; look the child up in the source systems."
        )
        return Table(
            "outreach",
            LISTS[kind][0],
            columns,
            tuple(rows),
            export=urlencode(params),
            download_only=PAGE_LEAVES_OUT | (JOINED_PARTS if contacts is not None else frozenset()),
            page_only=frozenset(c.key for c in JOINED_CONTACT_COLUMNS),
            note=note + " Households are siblings with the same parent and address, in walking "
            "order (postcode, street, house number); babies and households in areas with an "
            "emerging community or cut off by a barrier come first. "
            + (
                "The nearest centre is the nearest on foot over the street network the run "
                "was given (the access stage's, as the barrier findings use), at the project's "
                "walking speed."
                if self.walking
                else "Distance is in a straight line to the nearest centre (the run has no "
                "walking network)."
            ),
        )


def _true(values: Any) -> pd.Series:
    """A yes/no column read as text or booleans ('true', 'True', True, '1')."""
    if values is None:
        return pd.Series(dtype=bool)
    s = pd.Series(values)
    return s.astype(str).str.strip().str.lower().isin({"true", "1", "yes"})


def _sites(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in list(value)]


def _text(v: Any) -> str:
    v = clean(v)
    return "" if v is None else str(v)


def _words(v: Any) -> str:
    """A source's name as words ('health_visiting' -> 'health visiting'), as people read it."""
    return _text(v).replace("_", " ")


def _outcome_text(person_ids: Any, outcomes: Outcomes | None) -> str:
    """The latest outcome among these children: "Registered, 2026-04-02"."""
    if not outcomes:
        return ""
    found = [outcomes[str(p)] for p in person_ids if str(p) in outcomes]
    if not found:
        return ""
    outcome, at, _user = max(found, key=lambda t: t[1])
    return f"{OUTCOMES.get(outcome, outcome)}, {at[:10]}"


def _households_with_address(planned: pd.DataFrame) -> int:
    """Households with an address on at least one of their children's contact details."""
    if planned.empty or "address" not in planned.columns:
        return 0
    has = planned["address"].fillna("").astype(str).str.strip() != ""
    return int(planned.loc[has, "household"].nunique())
