"""Areas and groups: an area's profile page, the areas index and the released reach rows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.routes.common import DashDep, cached_json, render

router = APIRouter()


@router.get("/areas/{code}", response_class=HTMLResponse, include_in_schema=False)
def page_area(request: Request, dash: DashDep, code: str, service: str = "any") -> Response:
    profile = dash.areas.profile(code, service)
    trend = dash.compare.area_view(profile["level"], code)
    return render(request, "area.html", area=profile, trend=trend)


@router.get("/api/reach", tags=["api"])
def api_reach(
    dash: DashDep,
    level: str = "borough",
    area: str | None = None,
    dimension: str | None = None,
    service: str = "any",
    limit: Annotated[int, Query(ge=1, le=50000)] = 5000,
) -> Response:
    """Rows of the released reach table (docs/measures.md) for one level and service."""
    return cached_json(
        dash,
        ("reach", level, area, dimension, service, limit),
        lambda: {"rows": dash.areas.reach_rows(level, area, dimension, service, limit)},
    )


@router.get("/api/areas", tags=["api"])
async def api_areas(dash: DashDep) -> Response:
    """Every area of every level, with its profile link."""
    return cached_json(dash, ("areas",), lambda: {"areas": dash.areas.index()})


@router.get("/api/areas/{code}", tags=["api"])
async def api_area(dash: DashDep, code: str, service: str = "any") -> Response:
    """An area's profile: population, deprivation, reach by group, nearest sites."""
    return cached_json(dash, ("area", code, service), lambda: dash.areas.profile(code, service))
