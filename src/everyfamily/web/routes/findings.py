"""Findings: the ranked findings page and its API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.pages.plain import glossary
from everyfamily.web.routes.common import DashDep, cached_json, render

router = APIRouter()


@router.get("/findings", response_class=HTMLResponse, include_in_schema=False)
def page_findings(request: Request, dash: DashDep) -> Response:
    return render(
        request, "findings.html", findings=dash.findings.cards(), table=dash.findings.table()
    )


@router.get("/glossary", response_class=HTMLResponse, include_in_schema=False)
def page_glossary(request: Request, dash: DashDep) -> Response:
    return render(request, "glossary.html", terms=glossary(dash.view))


@router.get("/api/findings", tags=["api"])
async def api_findings(dash: DashDep) -> Response:
    """Ranked findings with evidence and links to their areas."""
    return cached_json(dash, ("findings",), lambda: {"findings": dash.findings.cards()})
