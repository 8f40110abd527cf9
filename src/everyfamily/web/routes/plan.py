"""Plan: scenarios side by side, the marginal curve, service overlap and the offer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.routes.common import DashDep, render

router = APIRouter()


@router.get("/plan", response_class=HTMLResponse, include_in_schema=False)
def page_plan(request: Request, dash: DashDep) -> Response:
    return render(request, "plan.html", **dash.plan.context())
