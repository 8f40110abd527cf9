"""Data quality: the page and its API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.routes.common import DashDep, cached_json, render

router = APIRouter()


@router.get("/quality", response_class=HTMLResponse, include_in_schema=False)
def page_quality(request: Request, dash: DashDep) -> Response:
    return render(request, "quality.html", q=dash.quality_page())


@router.get("/api/quality", tags=["api"])
async def api_quality(dash: DashDep) -> Response:
    """Row reconciliation, quarantine reasons, flags and linkage quality."""
    return cached_json(dash, ("quality",), dash.quality_page)
