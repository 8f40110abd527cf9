"""Outreach and records: the person-level pages and API (``view_outreach_list``,
``view_records``), the purpose a user states before seeing them, the printable route sheet
and the outcome of a visit. Scoping, audit and
re-identification are in :mod:`.scope`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from everyfamily.errors import AccessDenied
from everyfamily.web.auth import OUTREACH_OUTCOMES, UserStore
from everyfamily.web.pages.outreach import DEFAULT_LIST, LISTS
from everyfamily.web.pages.person import RECORDS_PAGE_SIZE
from everyfamily.web.routes.common import DashDep, json_response, no_store, render, session_form
from everyfamily.web.routes.scope import (
    PURPOSE_PAGES,
    list_request,
    outreach_scope,
    records_audit,
)
from everyfamily.web.tables import BadRequest

router = APIRouter()
#: Fewest characters of a stated purpose.
PURPOSE_MIN_CHARS = 5


@router.post("/outreach/purpose", include_in_schema=False)
async def outreach_purpose(request: Request) -> Response:
    session, form = await session_form(request)
    purpose = " ".join(form.get("purpose", "").split())
    back = form.get("back", "")
    back = back if back in PURPOSE_PAGES else PURPOSE_PAGES[0]
    if len(purpose) < PURPOSE_MIN_CHARS:
        return render(request, "purpose.html", status_code=400, csrf=session.csrf, back=back,
                      message="Say what the data is for (at least 5 characters).")  # fmt: skip
    users: UserStore = request.app.state.users
    users.set_purpose(session.token, purpose)
    users.audit(session.user.username, "purpose_stated", "", purpose)
    return RedirectResponse(back, status_code=303)


ListParam = Annotated[str, Query(alias="list", description="Which list: " + ", ".join(LISTS))]


def _outreach_page(
    request: Request, dash: DashDep, area: str | None, site: str | None, page: int, kind: str
) -> dict[str, Any]:
    """One page of an outreach list, scoped to the areas the user may see (the page and the
    API share it, so their scoping and re-identification cannot drift apart)."""
    req = list_request(request, dash, area, site, kind)
    outcomes = req.outcomes
    o = dash.outreach.page(req, page)
    o["empty_reason"] = _empty_reason(o, area, site)
    marked = frozenset(p for p, (out, _at, _u) in (outcomes or {}).items() if out == "registered")
    o["marked_registered"] = len(marked)
    o["registered_after_outreach"] = dash.outreach.registered_now(marked) if marked else 0
    return o


def _empty_reason(o: dict[str, Any], area: str | None, site: str | None) -> str:
    """Why a list is empty, for the page to say whom to ask: no_areas, filter, none, ''."""
    if o["total"]:
        return ""
    if o["scoped"] and not o["assigned_areas"]:
        return "no_areas"
    return "filter" if (area or site) else "none"


@router.get("/outreach", response_class=HTMLResponse, include_in_schema=False)
def page_outreach(
    request: Request,
    dash: DashDep,
    area: str | None = None,
    site: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    kind: ListParam = DEFAULT_LIST,
) -> Response:
    o = _outreach_page(request, dash, area, site, page, kind)
    return no_store(render(request, "outreach.html", o=o))


@router.get("/outreach/route", response_class=HTMLResponse, include_in_schema=False)
def page_outreach_route(
    request: Request,
    dash: DashDep,
    area: str | None = None,
    site: str | None = None,
    kind: ListParam = DEFAULT_LIST,
) -> Response:
    """The printable route sheet of one area: one block per household, in walking order."""
    sheet = dash.outreach.route_sheet(list_request(request, dash, area, site, kind))
    return no_store(render(request, "outreach_route.html", s=sheet))


@router.post("/outreach/outcome", include_in_schema=False)
async def outreach_outcome(request: Request, dash: DashDep) -> Response:
    """Record what a visit to a household found (CSRF-checked, audited; pseudonyms only, in
    the users store, never in a released output). Only children of the user's own lists."""
    session, form = await session_form(request)
    users: UserStore | None = request.app.state.users
    if users is None:
        raise AccessDenied("outcomes need logins", hint="add users with 'everyfamily users add'")
    if not session.purpose:
        raise AccessDenied("state a purpose first", hint="open the outreach list")
    kind = form.get("list", DEFAULT_LIST)
    outcome = form.get("outcome", "")
    if outcome not in OUTREACH_OUTCOMES:
        raise BadRequest(f"outcome: one of {', '.join(OUTREACH_OUTCOMES)}")
    ids = {p.strip() for p in form.get("person_ids", "").split(",") if p.strip()}
    allowed = outreach_scope(request, dash, None)
    if not ids or not ids <= dash.outreach.ids(kind, allowed):
        users.audit(session.user.username, "outcome_denied", "children outside your lists",
                    session.purpose)  # fmt: skip
        raise AccessDenied("those children are not on your outreach list")
    users.record_outcome(session.user.username, ids, outcome, session.purpose)
    back = form.get("back", "")
    back = back if back.startswith("/outreach") and "//" not in back else "/outreach"
    return RedirectResponse(back, status_code=303)


@router.get("/records", response_class=HTMLResponse, include_in_schema=False)
def page_records(
    request: Request,
    dash: DashDep,
    area: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    records_audit(request, area or None, page)
    return no_store(render(request, "records.html", r=dash.records.page(area or None, page)))


@router.get("/api/outreach", tags=["restricted"])
def api_outreach(
    request: Request,
    dash: DashDep,
    area: str | None = None,
    site: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    kind: ListParam = DEFAULT_LIST,
) -> Response:
    """An outreach list, in households and walking order (person-level; view_outreach_list):
    by default children known and not registered; ``list=not_engaged`` for children
    registered but not engaged."""
    o = _outreach_page(request, dash, area, site, page, kind)
    return json_response(o, private=True)


@router.get("/api/records", tags=["restricted"])
def api_records(
    request: Request,
    dash: DashDep,
    area: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=RECORDS_PAGE_SIZE)] = RECORDS_PAGE_SIZE,
) -> Response:
    """Pseudonymised record-level rows of every child, a page at a time (no names; month
    and year of birth only; view_records). Each request is audited."""
    records_audit(request, area or None, page)
    r = dash.records.page(area or None, page, limit)
    return json_response({k: v for k, v in r.items() if k != "area_choices"}, private=True)
