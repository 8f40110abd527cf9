"""Sites: the centres page, a centre's profile, and its small-area detail
(``view_centre_detail``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.access import Permission
from everyfamily.web.routes.common import DashDep, cached_json, granted, render

router = APIRouter()


@router.get("/centres", response_class=HTMLResponse, include_in_schema=False)
def page_centres(request: Request, dash: DashDep) -> Response:
    return render(request, "centres.html", table=dash.centres.table(), sites=dash.maps.sites())


@router.get("/centres/{site}", response_class=HTMLResponse, include_in_schema=False)
def page_centre(request: Request, dash: DashDep, site: str) -> Response:
    profile = dash.centres.profile(site)
    detail = None
    if Permission.VIEW_CENTRE_DETAIL in granted(request):
        detail = dash.centres.areas_table(site)
    trend = dash.compare.centre_trend(site)
    return render(request, "centre.html", centre=profile, detail=detail, trend=trend)


@router.get("/api/centres", tags=["api"])
async def api_centres(dash: DashDep) -> Response:
    """Every centre: registrations and sustained engagement."""
    return cached_json(dash, ("centres",), dash.centres.table)


@router.get("/api/centres/{site}", tags=["api"])
async def api_centre(dash: DashDep, site: str) -> Response:
    """A centre's profile: registrations vs engagement, its reach area, who it misses."""
    return cached_json(dash, ("centre", site), lambda: dash.centres.profile(site))


@router.get("/api/centres/{site}/areas", tags=["api"])
async def api_centre_areas(dash: DashDep, site: str) -> Response:
    """A centre's figures small area by small area (permission view_centre_detail)."""
    return cached_json(dash, ("centre_areas", site), lambda: dash.centres.areas_table(site))
