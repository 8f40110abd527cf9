"""Compare: small areas against similar places, the borough against other councils."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.web.routes.common import DashDep, render

router = APIRouter()


@router.get("/compare", response_class=HTMLResponse, include_in_schema=False)
def page_compare(request: Request, dash: DashDep) -> Response:
    return render(request, "compare.html", **dash.compare.context())
