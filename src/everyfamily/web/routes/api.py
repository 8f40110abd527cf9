"""The API index and meta routes: liveness, the list of endpoints, the headline figures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.access import ROUTE_PERMISSIONS
from everyfamily.web.routes.common import DashDep, cached_json, render

router = APIRouter()


@router.get("/health", include_in_schema=True, tags=["meta"])
async def health() -> dict[str, str]:
    """Liveness check (reads no data)."""
    return {"status": "ok"}


@router.get("/api", response_class=HTMLResponse, include_in_schema=False)
def page_api(request: Request) -> Response:
    schema = request.app.openapi()
    names: dict[str, str] = {}
    for route in request.app.routes:  # the first route at a path names it
        names.setdefault(str(getattr(route, "path", "")), str(getattr(route, "name", "")))
    endpoints = [
        {
            "method": m.upper(),
            "path": p,
            "summary": op.get("summary", ""),
            "description": (op.get("description") or "").split("\n")[0],
            "permission": ROUTE_PERMISSIONS.get(names.get(p) or ""),
        }
        for p, ops in schema.get("paths", {}).items()
        for m, op in ops.items()
    ]
    return render(request, "api.html", endpoints=endpoints)


@router.get("/api/overview", tags=["api"])
async def api_overview(dash: DashDep) -> Response:
    """Headline figures (borough reach, completeness) and the top findings."""
    return cached_json(dash, ("overview",), dash.overview.overview)
