"""The FastAPI app: routes (pages, JSON API, exports) that call the service layer only.

Every route's name is its key in :data:`everyfamily.web.access.ROUTE_PERMISSIONS`; the one
dependency :func:`everyfamily.web.access.check_access` runs before each of them. Pages are
server-rendered Jinja2 templates with a little JavaScript (the map); every asset is served
from ``static/`` (Leaflet is vendored by scripts/vendor-assets), so the dashboard works on a
closed network. The JSON API is described at ``/openapi.json`` and listed at ``/api``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from everyfamily import __version__
from everyfamily.errors import AccessDenied, ConfigError, EveryfamilyError
from everyfamily.web import exports
from everyfamily.web.access import (
    ROUTE_PERMISSIONS,
    AccessPolicy,
    Permission,
    StaticPolicy,
    check_access,
)
from everyfamily.web.auth import (
    ANONYMOUS,
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    AuditFilter,
    AuditPage,
    Session,
    SessionPolicy,
    UserStore,
    client_address,
    csrf_matches,
    login_csrf_pair,
    login_csrf_valid,
    parse_proxies,
)
from everyfamily.web.labels import BANDS, dimension_label, group_label, level_label
from everyfamily.web.outputs import load_outputs, read_contact_details
from everyfamily.web.service import (
    RECORDS_PAGE_SIZE,
    BadRequest,
    ContactLookup,
    Dashboard,
    NotFound,
    Table,
    format_value,
)

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(
    fmt=format_value,
    dimension_label=dimension_label,
    group_label=group_label,
    level_label=level_label,
    bands=BANDS,
    version=__version__,
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Navigation: (route name, label, path). A link shows only when the role may follow it.
NAV: tuple[tuple[str, str, str], ...] = (
    ("page_overview", "Overview", "/"),
    ("page_map", "Map", "/map"),
    ("page_findings", "Findings", "/findings"),
    ("page_centres", "Centres", "/centres"),
    ("page_quality", "Data quality", "/quality"),
    ("page_outreach", "Outreach list", "/outreach"),
    ("page_records", "Records", "/records"),
    ("page_api", "API", "/api"),
    ("page_admin", "Run details", "/admin"),
)


async def _dash(request: Request) -> Dashboard:
    dash: Dashboard = request.app.state.dashboard
    return dash


DashDep = Annotated[Dashboard, Depends(_dash)]


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/export/", "/openapi")) or path == "/health"


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    dash: Dashboard = request.app.state.dashboard
    granted: frozenset[Permission] = getattr(request.state, "permissions", frozenset())
    nav = [
        {
            "label": label,
            "href": href,
            "current": request.url.path == href
            or (href != "/" and request.url.path.startswith(href + "/")),
        }
        for name, label, href in NAV
        if ROUTE_PERMISSIONS.get(name) in granted
    ]
    can = {p.value: (p in granted) for p in Permission}
    session = _session(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "dash": dash,
            "nav": nav,
            "can": can,
            "role": getattr(request.state, "role", ""),
            "user": session.user.username if session else None,
            "csrf": session.csrf if session else None,
            **context,
        },
        status_code=status_code,
    )


def _session(request: Request) -> Session | None:
    """The logged-in session (None in local single-user mode or before login)."""
    policy = request.app.state.policy
    if isinstance(policy, SessionPolicy):
        return policy.session_for(request)
    return None


async def _session_form(request: Request) -> tuple[Session, dict[str, str]]:
    """The session and form of a state-changing request, refused unless the form carries the
    session's CSRF token (the one check every logged-in POST passes)."""
    session = _session(request)
    form = await _form(request)
    if session is None or not csrf_matches(session.csrf, form.get("csrf")):
        raise AccessDenied("the form has expired", hint="reload the page")
    return session, form


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (small; no multipart), last value of each field."""
    from urllib.parse import parse_qsl

    body = await request.body()
    if len(body) > 10_000:
        return {}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _set_cookie(resp: Response, name: str, value: str, max_age: int) -> None:
    resp.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


class PurposeNeeded(Exception):
    """Person-level data asked for before a purpose was stated in this session."""


#: Pages the purpose form may return to once a purpose is stated (never a free URL).
PURPOSE_PAGES = ("/outreach", "/records")
#: Most area codes one audit entry of a re-identification names (then "and N more").
AUDIT_AREAS = 50


def _stated_purpose(request: Request) -> tuple[UserStore, Session] | None:
    """The users store and session of a logged-in request that has stated a purpose; None
    in local single-user mode (no users store: no login, no audit)."""
    users: UserStore | None = request.app.state.users
    if users is None:
        return None
    session = _session(request)
    if session is None:
        raise AccessDenied("log in first")
    if not session.purpose:
        raise PurposeNeeded
    return users, session


def _contact_lookup(request: Request) -> ContactLookup | None:
    """Re-identification for this request, or None: only for a logged-in user whose role
    holds ``reidentify`` (never in local single-user mode, which keeps no audit log). The
    lookup writes the audit entry (who, how many children, which areas, the purpose; never
    a name) and only then opens the identifiable store, read-only, for this call alone."""
    granted: frozenset[Permission] = getattr(request.state, "permissions", frozenset())
    stated = _stated_purpose(request)
    if stated is None or Permission.REIDENTIFY not in granted:
        return None
    users, session = stated
    dash: Dashboard = request.app.state.dashboard
    path = request.url.path

    def look_up(person_ids: list[str], areas: list[str]) -> Any:
        shown = ",".join(areas[:AUDIT_AREAS])
        more = f" and {len(areas) - AUDIT_AREAS} more" if len(areas) > AUDIT_AREAS else ""
        users.audit(
            session.user.username,
            "reidentify",
            f"{path}: names and contact details of {len(person_ids)} children "
            f"in areas {shown}{more}",
            session.purpose,
        )
        return read_contact_details(dash.outputs, person_ids)

    return look_up


def _records_audit(request: Request, area: str | None, page: int) -> None:
    """Audit an opening of the record-level view (who, which filter, the purpose)."""
    stated = _stated_purpose(request)
    if stated is not None:
        users, session = stated
        users.audit(
            session.user.username,
            "records_view",
            f"{request.url.path} area={area or 'all'} page={page}",
            session.purpose,
        )


def _outreach_scope(request: Request, dash: Dashboard, area: str | None) -> frozenset[str] | None:
    """Who may see which part of the outreach list, audited. None: every area (local
    single-user mode, analysts, admins); otherwise the small areas assigned to the user.
    Asking for an area outside them is refused and audited (no IDOR)."""
    stated = _stated_purpose(request)
    if stated is None:
        return None
    users, session = stated
    allowed = None
    if session.user.role == "outreach_worker":
        allowed = dash.expand_areas(session.user.areas)
        if area and area not in allowed:
            users.audit(session.user.username, "outreach_denied", "an unassigned area",
                        session.purpose)  # fmt: skip
            raise AccessDenied("that area is not assigned to you")
    users.audit(
        session.user.username,
        "outreach_list",
        f"{request.url.path} area={area or 'all assigned'}",
        session.purpose,
    )
    return allowed


#: Audit entries per page (the admin view; the API takes ``limit`` up to 500).
AUDIT_PAGE_SIZE = 100


def _audit_page(request: Request, page: int, size: int) -> tuple[AuditFilter, AuditPage]:
    """The filter of an audit request and its page (a bad filter is a 400, not a 503)."""
    try:
        where = AuditFilter.parse(dict(request.query_params))
    except ConfigError as exc:
        raise BadRequest(exc.one_line()) from None
    users: UserStore | None = request.app.state.users
    if users is None:  # local single-user mode keeps no audit log
        return where, AuditPage((), 0, 1, 1, 0, ())
    return where, users.audit_page(where, page, size)


def _table_json(table: Table) -> dict[str, Any]:
    return {
        "id": table.id,
        "title": table.title,
        "note": table.note,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in table.columns],
        "rows": table.records(),
    }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Table):
        return _table_json(obj)
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items() if not k.endswith("_svg")}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def _json(obj: Any, *, private: bool = False) -> Response:
    body = json.dumps(_jsonable(obj), separators=(",", ":")).encode("utf-8")
    resp = Response(body, media_type="application/json")
    if private:
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _cached_json(dash: Dashboard, key: tuple[Any, ...], produce: Any) -> Response:
    """An aggregate answer, serialised once per distinct request (outputs never change)."""
    body: bytes = dash.memo(
        ("json", *key),
        lambda: json.dumps(_jsonable(produce()), separators=(",", ":")).encode("utf-8"),
    )
    return Response(body, media_type="application/json")


#: How uvicorn serves the dashboard (`everyfamily serve`, and the tests' real servers):
#: no access log (URLs can name areas a user looked at), no software banner, and
#: X-Forwarded-For not trusted by uvicorn (a client could otherwise claim any address and slip
#: past the login rate limit): the login reads it only from ``web.trusted_proxies``).
SERVER_OPTIONS: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    "server_header": False,
    "proxy_headers": False,
}


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every response (cheaper than
    Starlette's BaseHTTPMiddleware, which wraps each request in extra tasks)."""

    def __init__(self, app: Any, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            # HTTPS-only once a proxy serves it over TLS (browsers ignore it over plain HTTP)
            (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                # No server banner, and nothing cached unless the route said otherwise: pages
                # and exports can hold person-level or admin data (routes that may be cached,
                # such as the map layers and static files, set their own Cache-Control).
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                if not any(k.lower() == b"cache-control" for k, _v in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*headers, *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _export(request: Request, table: Table, fmt: str, *, private: bool = False) -> Response:
    dash: Dashboard = request.app.state.dashboard
    if fmt == "csv":
        body, media = exports.table_csv(table), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        about = [
            dash.release.rule_text,
            *dash.attribution,
            f"{dash.title}, reference date {dash.reference_date}",
        ]
        body, media = exports.table_xlsx(table, about=about), XLSX
    else:
        raise NotFound(fmt)
    resp = Response(body, media_type=media)
    resp.headers["Content-Disposition"] = f'attachment; filename="{table.id}.{fmt}"'
    if private:
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _csp(basemap_url: str | None) -> str:
    img = "'self' data:"
    if basemap_url:
        parsed = urlparse(basemap_url.replace("{s}", "a"))
        if parsed.scheme in ("http", "https") and parsed.netloc:
            host = parsed.netloc.split(".", 1)[1] if basemap_url.count("{s}") else parsed.netloc
            img += f" {parsed.scheme}://{'*.' + host if '{s}' in basemap_url else host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def create_app(
    out_dir: Path,
    *,
    policy: AccessPolicy | None = None,
    users: UserStore | None = None,
    environ: Mapping[str, str] | None = None,
    trusted_proxies: tuple[str, ...] | None = None,
) -> FastAPI:
    """The dashboard over one run's output folder. With ``users`` (a users store) login is
    required and roles come from the logged-in user; otherwise ``policy`` maps a request to
    a role (default: every request is a ``viewer``, who sees released aggregates only).
    ``environ``: where a key named by ``privacy.key_env`` is looked up (None: os.environ);
    a key that cannot be loaded stops here with a one-line :class:`PrivacyError`.
    ``trusted_proxies``: addresses or networks whose ``X-Forwarded-For`` names the client
    (None: the run's ``web.trusted_proxies`` setting; by default none is trusted)."""
    dashboard = Dashboard(load_outputs(Path(out_dir), environ))
    app = FastAPI(
        title="everyfamily dashboard",
        version=__version__,
        description="Reach of early-years services over one everyfamily run. Counts are "
        "released through disclosure control. " + dashboard.release.rule_text,
        dependencies=[Depends(check_access)],
        docs_url=None,  # Swagger UI loads from a CDN; the API is listed at /api instead
        redoc_url=None,
    )
    app.state.dashboard = dashboard
    app.state.users = users
    if trusted_proxies is None:
        web_settings = dashboard.outputs.settings.get("web") or {}
        trusted_proxies = tuple(web_settings.get("trusted_proxies") or ())
    app.state.trusted_proxies = parse_proxies(trusted_proxies)
    # signs the login form's CSRF cookie (local mode has no login: a throwaway key will do)
    app.state.csrf_secret = users.install_secret() if users is not None else os.urandom(32)
    app.state.policy = SessionPolicy(users) if users is not None else (policy or StaticPolicy())
    app.add_middleware(SecurityHeaders, csp=_csp(dashboard.basemap_url))

    @app.exception_handler(PurposeNeeded)
    async def _purpose(request: Request, exc: PurposeNeeded) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "state a purpose first (POST /outreach/purpose)"}, status_code=403
            )
        session = _session(request)
        back = request.url.path if request.url.path in PURPOSE_PAGES else PURPOSE_PAGES[0]
        return _page(
            request, "purpose.html", csrf=session.csrf if session else "", message="", back=back
        )

    @app.exception_handler(EveryfamilyError)
    async def _store_failed(request: Request, exc: EveryfamilyError) -> Response:
        # A store that cannot be read during a request (a key moved, a file locked). The
        # message names files only, but it is an operator's business: say nothing more.
        message = "the restricted data cannot be read now: ask the dashboard's administrator"
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=503)
        return _page(
            request, "error.html", status_code=503, heading="Not available", message=message
        )

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> Response:
        if getattr(request.state, "role", None) == ANONYMOUS and request.method == "GET":
            if _wants_json(request):
                return JSONResponse({"detail": "log in first"}, status_code=401)
            return RedirectResponse("/login", status_code=303)
        if _wants_json(request):
            return JSONResponse({"detail": exc.one_line()}, status_code=403)
        return _page(
            request, "error.html", status_code=403, heading="Not allowed", message=exc.one_line()
        )

    @app.exception_handler(NotFound)
    async def _missing(request: Request, exc: NotFound) -> Response:
        return _not_found(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request)
        if _wants_json(request):
            return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)
        return _page(
            request,
            "error.html",
            status_code=exc.status_code,
            heading="Error",
            message=str(exc.detail),
        )

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return _page(
            request, "error.html", status_code=400, heading="Cannot show that", message=str(exc)
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return JSONResponse({"detail": f"invalid parameter: {where}"}, status_code=400)

    def _not_found(request: Request) -> Response:
        # The same answer for an unknown route, area, centre or table: nothing is echoed.
        if _wants_json(request):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return _page(
            request,
            "error.html",
            status_code=404,
            heading="Not found",
            message="There is nothing at this address.",
        )

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _routes(app)
    return app


def _routes(app: FastAPI) -> None:
    # --- infrastructure ----------------------------------------------------------------------
    @app.get("/health", include_in_schema=True, tags=["meta"])
    async def health() -> dict[str, str]:
        """Liveness check (reads no data)."""
        return {"status": "ok"}

    # --- login, logout, audit -----------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def page_login(request: Request) -> Response:
        token, cookie = login_csrf_pair(request.app.state.csrf_secret)
        resp = _page(request, "login.html", csrf=token, message="")
        _set_cookie(resp, LOGIN_CSRF_COOKIE, cookie, LOGIN_CSRF_SECONDS)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_submit(request: Request) -> Response:
        users: UserStore | None = request.app.state.users
        if users is None:
            raise AccessDenied("logins are off", hint="this dashboard runs in local mode")
        form = await _form(request)
        secret = request.app.state.csrf_secret
        if not login_csrf_valid(secret, request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf")):
            raise AccessDenied("the form has expired", hint="reload the login page")
        peer = request.client.host if request.client else "-"
        client = client_address(
            peer, request.headers.get("x-forwarded-for"), request.app.state.trusted_proxies
        )
        # any session cookie the browser brought is dropped: a new one is minted (fixation)
        users.logout(request.cookies.get(SESSION_COOKIE))
        try:
            token = users.login(form.get("username", ""), form.get("password", ""), client)
        except AccessDenied as exc:
            resp = _page(request, "login.html", status_code=401, csrf=form.get("csrf", ""),
                         message=exc.one_line())  # fmt: skip
            return resp
        resp = RedirectResponse("/", status_code=303)
        _set_cookie(resp, SESSION_COOKIE, token, SESSION_SECONDS)
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return resp

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session, _form_data = await _session_form(request)
        users: UserStore = request.app.state.users
        users.logout(session.token)
        users.audit(session.user.username, "logout", "")
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.post("/outreach/purpose", include_in_schema=False)
    async def outreach_purpose(request: Request) -> Response:
        session, form = await _session_form(request)
        purpose = " ".join(form.get("purpose", "").split())
        back = form.get("back", "")
        back = back if back in PURPOSE_PAGES else PURPOSE_PAGES[0]
        if len(purpose) < 5:
            return _page(request, "purpose.html", status_code=400, csrf=session.csrf, back=back,
                         message="Say what the data is for (at least 5 characters).")  # fmt: skip
        users: UserStore = request.app.state.users
        users.set_purpose(session.token, purpose)
        users.audit(session.user.username, "purpose_stated", "", purpose)
        return RedirectResponse(back, status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
    def page_audit(request: Request, page: Annotated[int, Query(ge=1)] = 1) -> Response:
        where, found = _audit_page(request, page, AUDIT_PAGE_SIZE)
        resp = _page(request, "audit.html", audit=found, where=where, query=where.query())
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.get("/api/admin/audit", tags=["restricted"])
    def api_admin_audit(
        request: Request,
        page: Annotated[int, Query(ge=1)] = 1,
        limit: Annotated[int, Query(ge=1, le=500)] = AUDIT_PAGE_SIZE,
    ) -> Response:
        """The audit log, newest first, a page at a time (admin; read-only: nothing can change
        it). Filters: ``action``, ``user``, ``from`` and ``to`` (YYYY-MM-DD, UTC, inclusive);
        anonymous entries (failed logins, actor ``-``) only with ``anonymous=1``."""
        where, found = _audit_page(request, page, limit)
        return _json(
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

    # --- pages -------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page_overview(request: Request, dash: DashDep) -> Response:
        return _page(request, "overview.html", ov=dash.overview())

    @app.get("/map", response_class=HTMLResponse, include_in_schema=False)
    def page_map(request: Request, dash: DashDep) -> Response:
        params = dict(request.query_params)
        level, measure, dimension, group, service = dash.map_params(params)
        table = dash.map_table(level, measure, dimension, group, service)
        highlight = [c for c in (params.get("highlight") or "").split(",") if c][:200]
        return _page(
            request,
            "map.html",
            options=dash.map_options(),
            table=table,
            values=dash.map_values(level, measure, dimension, group, service),
            sel={
                "level": level,
                "measure": measure,
                "dimension": dimension,
                "group": group,
                "service": service,
            },
            highlight=highlight,
        )

    @app.get("/findings", response_class=HTMLResponse, include_in_schema=False)
    def page_findings(request: Request, dash: DashDep) -> Response:
        return _page(
            request, "findings.html", findings=dash.findings_list(), table=dash.findings_table()
        )

    @app.get("/areas/{code}", response_class=HTMLResponse, include_in_schema=False)
    def page_area(request: Request, dash: DashDep, code: str, service: str = "any") -> Response:
        return _page(request, "area.html", area=dash.area_profile(code, service))

    @app.get("/centres", response_class=HTMLResponse, include_in_schema=False)
    def page_centres(request: Request, dash: DashDep) -> Response:
        return _page(request, "centres.html", table=dash.centres_table(), sites=dash.map_sites())

    @app.get("/centres/{site}", response_class=HTMLResponse, include_in_schema=False)
    def page_centre(request: Request, dash: DashDep, site: str) -> Response:
        profile = dash.centre_profile(site)
        detail = None
        if Permission.VIEW_CENTRE_DETAIL in getattr(request.state, "permissions", ()):
            detail = dash.centre_areas_table(site)
        return _page(request, "centre.html", centre=profile, detail=detail)

    @app.get("/quality", response_class=HTMLResponse, include_in_schema=False)
    def page_quality(request: Request, dash: DashDep) -> Response:
        return _page(request, "quality.html", q=dash.quality())

    @app.get("/outreach", response_class=HTMLResponse, include_in_schema=False)
    def page_outreach(
        request: Request,
        dash: DashDep,
        area: str | None = None,
        site: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
    ) -> Response:
        allowed = _outreach_scope(request, dash, area or None)
        o = dash.outreach(
            area or None, site or None, page, allowed=allowed, contacts=_contact_lookup(request)
        )
        resp = _page(request, "outreach.html", o=o)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.get("/records", response_class=HTMLResponse, include_in_schema=False)
    def page_records(
        request: Request,
        dash: DashDep,
        area: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
    ) -> Response:
        _records_audit(request, area or None, page)
        resp = _page(request, "records.html", r=dash.records(area or None, page))
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.get("/admin", response_class=HTMLResponse, include_in_schema=False)
    def page_admin(request: Request, dash: DashDep) -> Response:
        run = dash.admin_run()
        return _page(
            request, "admin.html", run=run, run_text=json.dumps(run, indent=2, default=str)
        )

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def page_api(request: Request) -> Response:
        schema = request.app.openapi()
        endpoints = [
            {
                "method": m.upper(),
                "path": p,
                "summary": op.get("summary", ""),
                "description": (op.get("description") or "").split("\n")[0],
                "permission": ROUTE_PERMISSIONS.get(_route_name(app, p) or ""),
            }
            for p, ops in schema.get("paths", {}).items()
            for m, op in ops.items()
        ]
        return _page(request, "api.html", endpoints=endpoints)

    # --- JSON API ----------------------------------------------------------------------------
    @app.get("/api/overview", tags=["api"])
    async def api_overview(dash: DashDep) -> Response:
        """Headline figures (borough reach, completeness) and the top findings."""
        return _cached_json(dash, ("overview",), dash.overview)

    @app.get("/api/reach", tags=["api"])
    def api_reach(
        dash: DashDep,
        level: str = "borough",
        area: str | None = None,
        dimension: str | None = None,
        service: str = "any",
        limit: Annotated[int, Query(ge=1, le=50000)] = 5000,
    ) -> Response:
        """Rows of the released reach table (docs/measures.md) for one level and service."""
        return _cached_json(
            dash,
            ("reach", level, area, dimension, service, limit),
            lambda: {"rows": dash.reach_rows(level, area, dimension, service, limit)},
        )

    @app.get("/api/map/options", tags=["map"])
    async def api_map_options(dash: DashDep) -> Response:
        """Levels, measures, groups and services the map can show."""
        return _cached_json(dash, ("map_options",), dash.map_options)

    @app.get("/api/map/geometry/{level}", tags=["map"])
    async def api_map_geometry(dash: DashDep, level: str) -> Response:
        """Boundaries of one area level as GeoJSON (EPSG:4326)."""
        resp = Response(dash.map_geometry(level), media_type="application/geo+json")
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp

    @app.get("/api/map/values", tags=["map"])
    def api_map_values(
        dash: DashDep,
        level: str | None = None,
        measure: str = "registered_rate",
        dimension: str = "all",
        group: str = "all",
        service: str = "any",
    ) -> Response:
        """Each area's released value, its colour class, and the legend with the number of
        children behind each colour."""
        lv = level or dash.small_level  # the project's small-area level, whatever its name
        return _cached_json(
            dash,
            ("map_values", lv, measure, dimension, group, service),
            lambda: dash.map_values(lv, measure, dimension, group, service),
        )

    @app.get("/api/map/overlay/{name}", tags=["map"])
    async def api_map_overlay(dash: DashDep, name: str) -> Response:
        """An overlay layer (travel-time bands, barrier lines, areas cut off) as GeoJSON."""
        resp = Response(dash.map_overlay(name), media_type="application/geo+json")
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp

    @app.get("/api/map/sites", tags=["map"])
    async def api_map_sites(dash: DashDep) -> Response:
        """Centre sites with their locations (and whether they are illustrative)."""
        return _cached_json(dash, ("map_sites",), dash.map_sites)

    @app.get("/api/findings", tags=["api"])
    async def api_findings(dash: DashDep) -> Response:
        """Ranked findings with evidence and links to their areas."""
        return _cached_json(dash, ("findings",), lambda: {"findings": dash.findings_list()})

    @app.get("/api/areas", tags=["api"])
    async def api_areas(dash: DashDep) -> Response:
        """Every area of every level, with its profile link."""
        return _cached_json(dash, ("areas",), lambda: {"areas": dash.areas_index()})

    @app.get("/api/areas/{code}", tags=["api"])
    async def api_area(dash: DashDep, code: str, service: str = "any") -> Response:
        """An area's profile: population, deprivation, reach by group, nearest sites."""
        return _cached_json(dash, ("area", code, service), lambda: dash.area_profile(code, service))

    @app.get("/api/centres", tags=["api"])
    async def api_centres(dash: DashDep) -> Response:
        """Every centre: registrations and sustained engagement."""
        return _cached_json(dash, ("centres",), dash.centres_table)

    @app.get("/api/centres/{site}", tags=["api"])
    async def api_centre(dash: DashDep, site: str) -> Response:
        """A centre's profile: registrations vs engagement, its reach area, who it misses."""
        return _cached_json(dash, ("centre", site), lambda: dash.centre_profile(site))

    @app.get("/api/centres/{site}/areas", tags=["api"])
    async def api_centre_areas(dash: DashDep, site: str) -> Response:
        """A centre's figures small area by small area (permission view_centre_detail)."""
        return _cached_json(dash, ("centre_areas", site), lambda: dash.centre_areas_table(site))

    @app.get("/api/quality", tags=["api"])
    async def api_quality(dash: DashDep) -> Response:
        """Row reconciliation, quarantine reasons, flags and linkage quality."""
        return _cached_json(dash, ("quality",), dash.quality)

    @app.get("/api/outreach", tags=["restricted"])
    def api_outreach(
        request: Request,
        dash: DashDep,
        area: str | None = None,
        site: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
    ) -> Response:
        """Children known and not registered (person-level; view_outreach_list)."""
        allowed = _outreach_scope(request, dash, area or None)
        o = dash.outreach(
            area or None, site or None, page, allowed=allowed, contacts=_contact_lookup(request)
        )
        return _json(o, private=True)

    @app.get("/api/records", tags=["restricted"])
    def api_records(
        request: Request,
        dash: DashDep,
        area: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        limit: Annotated[int, Query(ge=1, le=RECORDS_PAGE_SIZE)] = RECORDS_PAGE_SIZE,
    ) -> Response:
        """Pseudonymised record-level rows of every child, a page at a time (no names; month
        and year of birth only; view_records). Each request is audited."""
        _records_audit(request, area or None, page)
        r = dash.records(area or None, page, limit)
        return _json({k: v for k, v in r.items() if k != "area_choices"}, private=True)

    @app.get("/api/admin/run", tags=["restricted"])
    def api_admin_run(dash: DashDep) -> Response:
        """The run's metadata (run.json), including settings and file locations (admin)."""
        return _json(dash.admin_run(), private=True)

    # --- exports (specific routes before the generic one) -----------------------------------
    @app.get("/export/map.{fmt}", tags=["export"])
    def export_map(request: Request, dash: DashDep, fmt: str) -> Response:
        """The map's values: GeoJSON or GeoPackage with boundaries, or CSV/Excel."""
        params = dash.map_params(dict(request.query_params))
        if fmt in ("csv", "xlsx"):
            return _export(request, dash.map_table(*params), fmt)
        if fmt not in ("geojson", "gpkg"):
            raise NotFound(fmt)
        frame = dash.map_frame(*params)
        if fmt == "geojson":
            body, media = exports.map_geojson(frame), "application/geo+json"
        else:
            body, media = exports.map_gpkg(frame, layer=params[0]), "application/geopackage+sqlite3"
        resp = Response(body, media_type=media)
        resp.headers["Content-Disposition"] = f'attachment; filename="map-{params[0]}.{fmt}"'
        return resp

    @app.get("/export/outreach.{fmt}", tags=["export"])
    def export_outreach(
        request: Request, dash: DashDep, fmt: str, area: str | None = None, site: str | None = None
    ) -> Response:
        """The outreach list (person-level; view_outreach_list)."""
        allowed = _outreach_scope(request, dash, area or None)
        table = dash.outreach_export(
            area or None, site or None, allowed=allowed, contacts=_contact_lookup(request)
        )
        return _export(request, table, fmt, private=True)

    @app.get("/export/centres/{site}/areas.{fmt}", tags=["export"])
    def export_centre_areas(request: Request, dash: DashDep, site: str, fmt: str) -> Response:
        """A centre's small-area table (view_centre_detail)."""
        return _export(request, dash.centre_areas_table(site), fmt)

    @app.get("/export/{table_id}.{fmt}", tags=["export"])
    def export_table(request: Request, dash: DashDep, table_id: str, fmt: str) -> Response:
        """Any aggregate table shown on a page, as CSV or Excel."""
        return _export(request, dash.table(table_id, dict(request.query_params)), fmt)


def _route_name(app: FastAPI, path: str) -> str | None:
    for route in app.routes:
        if getattr(route, "path", None) == path:
            return str(getattr(route, "name", "")) or None
    return None
