"""The services stage: service overlap and the offer matched to each reach area.

Reads ``records`` and ``links`` (which service holds a record of which child, and when),
``children`` (home area, family, age, language, interpreter need), ``area_membership``
and ``reach_areas`` (the localities) and the released ``reach`` table (area names only).
Writes OUT/overlap.csv and OUT/overlap_contacts.csv (:func:`everyfamily.planning.overlap
.release_overlap`) and OUT/offer.csv (:func:`everyfamily.planning.offer.match_offer`), every
count released through the project's rules; run.json gets the mismatch lines (released
counts) under ``services``. Nothing person-level leaves the store.

Services are the roles of the sources present (a project-declared role is its own
service), so a council's early-help source appears without any change here. Contacts are
counted in the year up to the reference date. Sessions come from ``planning.sessions`` when
the project has such a block (a list of :class:`everyfamily.planning.offer.Session`);
without it the offer says "no session data".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from everyfamily.config.planning import Session
from everyfamily.planning.offer import match_offer
from everyfamily.planning.overlap import compute_overlap, release_overlap
from everyfamily.privacy.release import ReleaseRules
from everyfamily.spreadsheet_safe import neutralise_frame
from everyfamily.stage import ReportSection, Stage

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine
    from everyfamily.pipeline import RunContext

OVERLAP_FILE = "overlap.csv"
CONTACTS_FILE = "overlap_contacts.csv"
OFFER_FILE = "offer.csv"
REACH_AREA_LEVEL = "reach_area"


def _select(ctx: RunContext, table: str, fields: tuple[str, ...]) -> pd.DataFrame:
    have = set(ctx.engine.columns(table))
    q = ctx.engine.dialect.quote_ident
    cols = ", ".join(q(c) if c in have else f"NULL AS {q(c)}" for c in fields)
    frame: pd.DataFrame = ctx.engine.query(f"SELECT {cols} FROM {q(table)}").to_pandas()
    return frame


def linked_records(engine: Engine) -> pd.DataFrame:
    """person_id, service (the record's role, else its source) and event_date of every
    linked record of a child in the age range: the join and the filter run in the engine
    (written once, through ``engine.dialect.portable``), so the whole identifiable
    ``records`` and ``links`` tables are no longer pulled to be merged in pandas."""
    q = engine.dialect.quote_ident
    have = set(engine.columns("records"))
    kids = set(engine.columns("children"))
    role = f"CAST(r.{q('role')} AS VARCHAR)" if "role" in have else "CAST(NULL AS VARCHAR)"
    date = f"r.{q('event_date')}" if "event_date" in have else "CAST(NULL AS DATE)"
    in_range = f"coalesce({q('in_age_range')}, FALSE)" if "in_age_range" in kids else "FALSE"
    sql = (
        f"SELECT l.{q('person_id')} AS person_id, "
        f"coalesce({role}, CAST(r.{q('source')} AS VARCHAR)) AS service, {date} AS event_date "
        f"FROM {q('records')} AS r JOIN {q('links')} AS l "
        f"ON l.{q('source')} = r.{q('source')} AND l.{q('record_id')} = r.{q('record_id')} "
        f"WHERE l.{q('person_id')} IN (SELECT {q('person_id')} FROM {q('children')} "
        f"WHERE {in_range})"
    )
    frame: pd.DataFrame = engine.query(engine.dialect.portable(sql)).to_pandas()
    return frame


def _sessions(ctx: RunContext) -> list[Session]:
    """The sessions the project lists (``planning.sessions``; none without a planning block)."""
    planning = ctx.project.planning
    return list(planning.sessions) if planning is not None else []


def localities(
    membership: pd.DataFrame, reach_areas: pd.DataFrame, names: pd.DataFrame
) -> pd.DataFrame:
    """Every released area (level, area_code, area_name, small_area) and each centre's reach
    area as level ``reach_area``."""
    areas = membership[["level", "area_code", "small_area"]].merge(
        names, on=["level", "area_code"], how="left"
    )
    areas["area_name"] = areas["area_name"].fillna(areas["area_code"])
    reach = reach_areas.rename(columns={"site_id": "area_code", "site_name": "area_name"})
    reach = reach.assign(level=REACH_AREA_LEVEL)[["level", "area_code", "area_name", "small_area"]]
    return pd.concat([areas, reach], ignore_index=True).astype(str)


def report_lines(
    combos: pd.DataFrame,
    services: tuple[str, ...],
    mismatches: tuple[str, ...],
    has_sessions: bool,
) -> list[str]:
    """The report's lines (released counts only): the services found, how many children
    the broadest area's largest combinations hold, and the offer's mismatches."""
    names = ", ".join(s.replace("_", " ") for s in services)
    lines = [f"Services found in the linked records (the sources' roles): {names}."]
    rest = combos[combos["level"] != REACH_AREA_LEVEL]
    if not rest.empty:
        level = rest.groupby("level")["area_code"].nunique().sort_values().index[0]
        top = rest[rest["level"] == level]
        top = top[top["area_code"] == top["area_code"].iloc[0]]
        top = top.dropna(subset=["children"]).sort_values("children", ascending=False).head(3)
        for combo, n in zip(top["combination"], top["children"], strict=True):
            lines.append(
                f"{int(n):,} children in {top['area_name'].iloc[0]} are known to exactly: "
                f"{str(combo).replace('_', ' ')}."
            )
    if not has_sessions:
        lines.append(
            "No session data: the project lists no sessions (planning.sessions), so the offer "
            "table (offer.csv) shows the children of each reach area without a comparison."
        )
    lines += list(mismatches) or (["No offer mismatch met the thresholds."] if has_sessions else [])
    lines.append("Tables: overlap.csv, overlap_contacts.csv, offer.csv; chart on the Plan page.")
    return lines


def services_stage(ctx: RunContext) -> None:
    need = ("records", "links", "children", "area_membership", "reach_areas", "reach")
    missing = [t for t in need if not ctx.engine.has_table(t)]
    if missing:
        ctx.metadata["services"] = {"skipped": f"no {missing[0]} table"}
        ctx.echo(f"  services skipped: the store has no {missing[0]!r} table")
        return
    linked = linked_records(ctx.engine)
    children = _select(
        ctx,
        "children",
        (
            "person_id",
            "family_id",
            "area_code",
            "in_age_range",
            "date_of_birth",
            "month_of_birth",
            "main_language",
            "interpreter_needed",
        ),
    )
    children = children[children["in_age_range"].fillna(False).astype(bool)]
    children = children.rename(columns={"area_code": "small_area"})
    # the analysis store keeps the month of birth only: the middle of the month is within
    # half a month of the true date of birth
    mid_month = pd.to_datetime(children["month_of_birth"], errors="coerce") + pd.Timedelta(days=14)
    children["date_of_birth"] = pd.to_datetime(children["date_of_birth"], errors="coerce").fillna(
        mid_month
    )
    membership = _select(ctx, "area_membership", ("level", "area_code", "small_area"))
    reach_areas = _select(ctx, "reach_areas", ("site_id", "site_name", "small_area"))
    names = (
        ctx.engine.query("SELECT DISTINCT level, area_code, area_name FROM reach")
        .to_pandas()
        .drop_duplicates(["level", "area_code"])
    )
    rules = ReleaseRules.from_settings(ctx.project.privacy)
    ref: dt.date = ctx.project.project.reference_date
    period = (ref - dt.timedelta(days=364), ref)

    overlap = compute_overlap(
        linked,
        children,
        localities(membership, reach_areas, names),
        period,
    )
    combos, contacts = release_overlap(overlap, rules)
    neutralise_frame(combos).to_csv(ctx.out_dir / OVERLAP_FILE, index=False)
    neutralise_frame(contacts).to_csv(ctx.out_dir / CONTACTS_FILE, index=False)
    sessions = _sessions(ctx)
    offer = match_offer(children, reach_areas, sessions, rules, reference_date=ref)
    neutralise_frame(offer.table).to_csv(ctx.out_dir / OFFER_FILE, index=False)
    ctx.metadata["services"] = {
        "report": report_lines(combos, overlap.services, offer.mismatches, bool(sessions)),
        "services": list(overlap.services),
        "contact_window": [period[0].isoformat(), period[1].isoformat()],
        "sessions": len(sessions),
        "mismatches": list(offer.mismatches),
        "files": [OVERLAP_FILE, CONTACTS_FILE, OFFER_FILE],
    }
    ctx.echo(
        f"  services: {len(overlap.services)} services, "
        f"{len(offer.mismatches)} offer mismatch(es)" + ("" if sessions else " (no session data)")
    )


STAGE = Stage(
    name="services",
    zone="analysis",
    order=45,
    run=services_stage,
    reads=("records", "links", "children", "area_membership", "reach_areas", "reach"),
    sections=(ReportSection("services", "Services: overlap and offer", 65),),
)
