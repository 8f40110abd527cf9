"""Plan: scenarios side by side, the marginal curve, service overlap and the offer; and a
plan of one's own run from the page (``run_plan``: web/plan_runs.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from everyfamily.errors import AccessDenied, ConfigError
from everyfamily.web.auth import UserStore, csrf_matches
from everyfamily.web.pages.plan import PlanPage
from everyfamily.web.plan_runs import PlanJob, PlanRunner, parse_request
from everyfamily.web.routes.common import (
    FORM_LIMIT,
    DashDep,
    json_response,
    no_store,
    render,
    session_of,
)

router = APIRouter()


def _user(request: Request) -> str | None:
    """The logged-in user's name; None in local single-user mode."""
    session = session_of(request)
    return session.user.username if session else None


def _csrf(request: Request) -> str:
    """The plan form's CSRF token: the session's with logins; in local mode one derived from
    the app's secret (the page is same-origin only, so another site cannot read it)."""
    session = session_of(request)
    if session is not None:
        return session.csrf
    secret: bytes = request.app.state.csrf_secret
    return hmac.new(secret, b"plan_run", hashlib.sha256).hexdigest()


def _audit(request: Request, action: str, detail: str) -> None:
    users: UserStore | None = request.app.state.users
    user = _user(request)
    if users is not None and user is not None:
        users.audit(user, action, detail)


def _page(
    request: Request, dash: DashDep, *, mine: bool, status: int = 200, message: str = ""
) -> Response:
    runner: PlanRunner = request.app.state.plan_runner
    user = _user(request)
    job: PlanJob | None = runner.job(user) if mine else None
    page = PlanPage(dash.view, runner.plan_dir(user) / "plan.json") if mine else dash.plan
    ctx: dict[str, Any] = page.context()
    if mine and (job is None or job.state != "done"):
        ctx["has_plan"] = False
    choices = dash.plan.run_choices()
    resp = render(
        request,
        "plan.html",
        status_code=status,
        **ctx,
        mine=mine,
        job=job,
        choices=choices,
        plan_csrf=_csrf(request),
        form_message=message,
        refresh=job is not None and job.state in ("queued", "running"),
    )
    return no_store(resp) if mine else resp


@router.get("/plan", response_class=HTMLResponse, include_in_schema=False)
def page_plan(request: Request, dash: DashDep) -> Response:
    return _page(request, dash, mine=False)


@router.get("/plan/mine", response_class=HTMLResponse, include_in_schema=False)
def page_plan_mine(request: Request, dash: DashDep) -> Response:
    """The user's own plan, made from the page: its progress, then the plan itself."""
    return _page(request, dash, mine=True)


def _values(body: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if len(body) > FORM_LIMIT:
        return out
    for k, v in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        out.setdefault(k, []).append(v)
    return out


def _describe(values: Mapping[str, Sequence[str]]) -> str:
    """What was asked, for the audit log (place ids and a budget: no personal data)."""
    kind = (values.get("kind") or [""])[-1]
    if kind == "optimise":
        return f"optimise: budget {(values.get('budget') or [''])[-1]}"[:200]
    close = ",".join(values.get("close") or ())
    open_ = ",".join(values.get("open") or ())
    return f"what_if: close [{close}] open [{open_}]"[:200]


@router.post("/plan/run", include_in_schema=False)
async def plan_run(request: Request, dash: DashDep) -> Response:
    """Start the user's plan (CSRF-checked, audited); then their page shows its progress."""
    values = _values(await request.body())
    if not csrf_matches(_csrf(request), (values.get("csrf") or [""])[-1]):
        raise AccessDenied("the form has expired", hint="reload the page")
    runner: PlanRunner = request.app.state.plan_runner
    sites, venues = runner.choices()
    try:
        req = parse_request(values, sites, venues)
        runner.start(_user(request), req)
    except ConfigError as exc:
        _audit(request, "plan_run_refused", _describe(values))
        return _page(request, dash, mine=True, status=400, message=exc.one_line())
    _audit(request, "plan_run", _describe(values))
    return RedirectResponse("/plan/mine", status_code=303)


@router.get("/api/plan/run", include_in_schema=False)
def api_plan_run(request: Request) -> Response:
    """The state of the user's plan from the page (queued, running and its step, done,
    failed with a one-line reason); ``{"state": "none"}`` before the first."""
    runner: PlanRunner = request.app.state.plan_runner
    job = runner.job(_user(request))
    return json_response(job.to_json() if job else {"state": "none"}, private=True)
