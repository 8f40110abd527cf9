"""Outreach and records: the person-level pages and API (``view_outreach_list``,
``view_records``), and the purpose a user states before seeing them. Scoping, audit and
re-identification are in :mod:`.scope`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from everyfamily.web.auth import UserStore
from everyfamily.web.pages.person import RECORDS_PAGE_SIZE
from everyfamily.web.routes.common import DashDep, json_response, no_store, render, session_form
from everyfamily.web.routes.scope import (
    PURPOSE_PAGES,
    contact_lookup,
    outreach_scope,
    records_audit,
)

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


def _outreach_page(
    request: Request, dash: DashDep, area: str | None, site: str | None, page: int
) -> dict[str, Any]:
    """One page of the outreach list, scoped to the areas the user may see (the page and the
    API share it, so their scoping and re-identification cannot drift apart)."""
    allowed = outreach_scope(request, dash, area or None)
    return dash.outreach.page(
        area or None, site or None, page, allowed=allowed, contacts=contact_lookup(request)
    )


@router.get("/outreach", response_class=HTMLResponse, include_in_schema=False)
def page_outreach(
    request: Request,
    dash: DashDep,
    area: str | None = None,
    site: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    o = _outreach_page(request, dash, area, site, page)
    return no_store(render(request, "outreach.html", o=o))


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
) -> Response:
    """Children known and not registered (person-level; view_outreach_list)."""
    o = _outreach_page(request, dash, area, site, page)
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
