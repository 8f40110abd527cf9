"""What every router shares: the page renderer (templates, navigation), the dashboard
dependency, JSON and export responses, and the session and form helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from everyfamily import __version__
from everyfamily.errors import AccessDenied
from everyfamily.population.levels import level_label
from everyfamily.report.words import when_words
from everyfamily.web import exports
from everyfamily.web.access import ROUTE_PERMISSIONS, Permission
from everyfamily.web.auth import Session, SessionPolicy, csrf_matches
from everyfamily.web.labels import BANDS, dimension_label, group_label
from everyfamily.web.pages.plain import shown_columns
from everyfamily.web.service import Dashboard
from everyfamily.web.tables import NotFound, Table, format_value

HERE = Path(__file__).resolve().parents[1]
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(
    fmt=format_value,
    dimension_label=dimension_label,
    group_label=group_label,
    level_label=level_label,
    bands=BANDS,
    version=__version__,
    shown_columns=shown_columns,
    when_words=when_words,
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Largest urlencoded form body read (bytes); a bigger one reads as empty.
FORM_LIMIT = 10_000

#: Navigation: (route name, label, path). A link shows only when the role may follow it.
NAV: tuple[tuple[str, str, str], ...] = (
    ("page_overview", "Overview", "/"),
    ("page_map", "Map", "/map"),
    ("page_findings", "Findings", "/findings"),
    ("page_centres", "Centres", "/centres"),
    ("page_quality", "Data quality", "/quality"),
    ("page_plan", "Plan", "/plan"),
    ("page_outreach", "Outreach list", "/outreach"),
    ("page_records", "Records", "/records"),
    ("page_api", "API", "/api"),
    ("page_admin", "Run details", "/admin"),
    ("page_audit", "Audit log", "/admin/audit"),
)


async def _dash(request: Request) -> Dashboard:
    dash: Dashboard = request.app.state.dashboard
    return dash


DashDep = Annotated[Dashboard, Depends(_dash)]


def granted(request: Request) -> frozenset[Permission]:
    """The permissions of the request's role (set by the access check)."""
    perms: frozenset[Permission] = getattr(request.state, "permissions", frozenset())
    return perms


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/export/", "/openapi")) or path == "/health"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A server-rendered page: the template with navigation for the role and the run view."""
    dash: Dashboard = request.app.state.dashboard
    allowed = granted(request)
    nav = [
        {
            "label": label,
            "href": href,
            "current": request.url.path == href
            or (href not in ("/", "/admin") and request.url.path.startswith(href + "/")),
        }
        for name, label, href in NAV
        if ROUTE_PERMISSIONS.get(name) in allowed
    ]
    session = session_of(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "dash": dash.view,
            "nav": nav,
            "can": {p.value: (p in allowed) for p in Permission},
            "role": getattr(request.state, "role", ""),
            "user": session.user.username if session else None,
            "csrf": session.csrf if session else None,
            **context,
        },
        status_code=status_code,
    )


def no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


def session_of(request: Request) -> Session | None:
    """The logged-in session (None in local single-user mode or before login)."""
    policy = request.app.state.policy
    if isinstance(policy, SessionPolicy):
        return policy.session_for(request)
    return None


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (small; no multipart), last value of each field."""
    body = await request.body()
    if len(body) > FORM_LIMIT:
        return {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def session_form(request: Request) -> tuple[Session, dict[str, str]]:
    """The session and form of a state-changing request, refused unless the form carries the
    session's CSRF token (the one check every logged-in POST passes)."""
    session = session_of(request)
    form = await read_form(request)
    if session is None or not csrf_matches(session.csrf, form.get("csrf")):
        raise AccessDenied("the form has expired", hint="reload the page")
    return session, form


def set_cookie(resp: Response, name: str, value: str, max_age: int) -> None:
    resp.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


def _table_json(table: Table) -> dict[str, Any]:
    table = table.for_download()
    return {
        "id": table.id,
        "title": table.title,
        "note": table.note,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
        "rows": table.records(),
    }


def jsonable(obj: Any) -> Any:
    """A page service's answer as JSON can hold it (tables as dicts, no inline SVG)."""
    if isinstance(obj, Table):
        return _table_json(obj)
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items() if not k.endswith("_svg")}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def json_response(obj: Any, *, private: bool = False) -> Response:
    body = json.dumps(jsonable(obj), separators=(",", ":")).encode("utf-8")
    resp = Response(body, media_type="application/json")
    return no_store(resp) if private else resp


def cached_json(dash: Dashboard, key: tuple[Any, ...], produce: Any) -> Response:
    """An aggregate answer, serialised once per distinct request (outputs never change)."""
    body: bytes = dash.memo(
        ("json", *key),
        lambda: json.dumps(jsonable(produce()), separators=(",", ":")).encode("utf-8"),
    )
    return Response(body, media_type="application/json")


def geojson(body: bytes) -> Response:
    """A GeoJSON layer the browser may keep for an hour (boundaries, overlays)."""
    resp = Response(body, media_type="application/geo+json")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


def export(request: Request, table: Table, fmt: str, *, private: bool = False) -> Response:
    """A table as a CSV or Excel download (Excel names the release rule and the sources)."""
    view = request.app.state.dashboard.view
    if fmt == "csv":
        body, media = exports.table_csv(table), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        about = [
            view.rule_text,
            *view.attribution,
            f"{view.title}, reference date {view.reference_date}",
        ]
        body, media = exports.table_xlsx(table, about=about), XLSX
    else:
        raise NotFound(fmt)
    resp = Response(body, media_type=media)
    resp.headers["Content-Disposition"] = f'attachment; filename="{table.id}.{fmt}"'
    return no_store(resp) if private else resp
