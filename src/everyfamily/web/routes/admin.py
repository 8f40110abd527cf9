"""Run details and the audit log (permission ``admin``)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from everyfamily.errors import ConfigError
from everyfamily.web.audit import AuditFilter, AuditPage
from everyfamily.web.auth import UserStore
from everyfamily.web.pages.run_summary import run_summary
from everyfamily.web.routes.common import DashDep, json_response, no_store, render
from everyfamily.web.tables import BadRequest

router = APIRouter()

#: Audit entries per page (the admin view; the API takes ``limit`` up to 500).
AUDIT_PAGE_SIZE = 100


def _audit_page(request: Request, page_no: int, size: int) -> tuple[AuditFilter, AuditPage]:
    """The filter of an audit request and its page (a bad filter is a 400, not a 503)."""
    try:
        where = AuditFilter.parse(dict(request.query_params))
    except ConfigError as exc:
        raise BadRequest(exc.one_line()) from None
    users: UserStore | None = request.app.state.users
    if users is None:  # local single-user mode keeps no audit log
        return where, AuditPage((), 0, 1, 1, 0, ())
    return where, users.audit_page(where, page_no, size)


@router.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
def page_audit(request: Request, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    where, found = _audit_page(request, page, AUDIT_PAGE_SIZE)
    return no_store(render(request, "audit.html", audit=found, where=where, query=where.query()))


@router.get("/api/admin/audit", tags=["restricted"])
def api_admin_audit(
    request: Request,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = AUDIT_PAGE_SIZE,
) -> Response:
    """The audit log, newest first, a page at a time (admin; read-only: nothing can change
    it). Filters: ``action``, ``user``, ``from`` and ``to`` (YYYY-MM-DD, UTC, inclusive);
    anonymous entries (failed logins, actor ``-``) only with ``anonymous=1``."""
    where, found = _audit_page(request, page, limit)
    return json_response(
        {
            "audit": list(found.rows),
            "page": found.page,
            "pages": found.pages,
            "total": found.total,
            "anonymous_hidden": found.anonymous_hidden,
            "filter": where.query(),
        },
        private=True,
    )


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def page_admin(request: Request, dash: DashDep) -> Response:
    run = dash.admin_run()
    return render(
        request,
        "admin.html",
        run=run,
        summary=run_summary(run),
        run_text=json.dumps(run, indent=2, default=str),
    )


@router.get("/api/admin/run", tags=["restricted"])
def api_admin_run(dash: DashDep) -> Response:
    """The run's metadata (run.json), including settings and file locations (admin)."""
    return json_response(dash.admin_run(), private=True)
