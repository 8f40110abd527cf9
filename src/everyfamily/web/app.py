"""The FastAPI app: the routers of :mod:`everyfamily.web.routes` over one run's outputs.

Every route's name is its key in :data:`everyfamily.web.access.ROUTE_PERMISSIONS`; the one
dependency :func:`everyfamily.web.access.check_access` runs before each of them. Pages are
server-rendered Jinja2 templates with a little JavaScript (the map); every asset is served
from ``static/`` (Leaflet is vendored by scripts/vendor-assets), so the dashboard works on a
closed network. The JSON API is described at ``/openapi.json`` and listed at ``/api``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from everyfamily import __version__
from everyfamily.errors import AccessDenied, EveryfamilyError
from everyfamily.web.access import AccessPolicy, StaticPolicy, check_access
from everyfamily.web.auth import ANONYMOUS, SessionPolicy, UserStore, parse_proxies
from everyfamily.web.local_mode import UntilUsersExist
from everyfamily.web.outputs import load_outputs
from everyfamily.web.plan_runs import PlanRunner
from everyfamily.web.routes import ROUTERS
from everyfamily.web.routes.common import render, session_of, wants_json
from everyfamily.web.routes.scope import PURPOSE_PAGES, PurposeNeeded
from everyfamily.web.service import Dashboard
from everyfamily.web.tables import BadRequest, NotFound

HERE = Path(__file__).parent

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
    users_path: Path | None = None,
) -> FastAPI:
    """The dashboard over one run's output folder. With ``users`` (a users store) login is
    required and roles come from the logged-in user; otherwise ``policy`` maps a request to
    a role (default: every request is a ``viewer``, who sees released aggregates only).
    ``environ``: where a key named by ``privacy.key_env`` is looked up (None: os.environ);
    a key that cannot be loaded stops here with a one-line :class:`PrivacyError`.
    ``trusted_proxies``: addresses or networks whose ``X-Forwarded-For`` names the client
    (None: the run's ``web.trusted_proxies`` setting; by default none is trusted).
    ``users_path``: in local mode (no ``users``), the users file whose first user switches
    the app to logins at once (:class:`everyfamily.web.local_mode.UntilUsersExist`)."""
    dashboard = Dashboard(load_outputs(Path(out_dir), environ))
    view = dashboard.view
    app = FastAPI(
        title="everyfamily dashboard",
        version=__version__,
        description="Reach of early-years services over one everyfamily run. Counts are "
        "released through disclosure control. " + view.rule_text,
        dependencies=[Depends(check_access)],
        docs_url=None,  # Swagger UI loads from a CDN; the API is listed at /api instead
        redoc_url=None,
    )
    app.state.dashboard = dashboard
    app.state.users = users
    # plans run from the Plan page (web/plan_runs.py): one runner per app
    app.state.plan_runner = PlanRunner(Path(out_dir), dashboard.outputs.run, environ)
    if trusted_proxies is None:
        web_settings = dashboard.outputs.settings.get("web") or {}
        trusted_proxies = tuple(web_settings.get("trusted_proxies") or ())
    app.state.trusted_proxies = parse_proxies(trusted_proxies)
    # signs the login form's CSRF cookie (local mode has no login: a throwaway key will do)
    app.state.csrf_secret = users.install_secret() if users is not None else os.urandom(32)
    app.state.policy = SessionPolicy(users) if users is not None else (policy or StaticPolicy())
    if users is None and users_path is not None:
        # local mode until someone adds the first user: then logins, without a restart
        app.state.policy = UntilUsersExist(app.state.policy, Path(users_path), app.state)
    app.add_middleware(SecurityHeaders, csp=_csp(view.basemap_url))
    _error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _routes(app)
    return app


def _routes(app: FastAPI) -> None:
    """Every route of the routers of :mod:`everyfamily.web.routes`, in order, added to the
    app itself: each route then carries the app's access dependency, and ``app.routes`` stays
    one flat list of named routes that the route table can be checked against (FastAPI's
    ``include_router`` now nests a router as one unnamed entry)."""
    for area, router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"the {area} router holds a route of another kind: {route!r}")
            app.add_api_route(
                route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                name=route.name,
                response_class=route.response_class,
                include_in_schema=route.include_in_schema,
                tags=list(route.tags),
                summary=route.summary,
                description=route.description,
                status_code=route.status_code,
                responses=route.responses,
                deprecated=route.deprecated,
                operation_id=route.operation_id,
            )


def _error(request: Request, status: int, heading: str, message: str) -> Response:
    """An error as JSON (API, exports) or as a page."""
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", status_code=status, heading=heading, message=message)


def _not_found(request: Request) -> Response:
    # The same answer for an unknown route, area, centre or table: nothing is echoed.
    if wants_json(request):
        return JSONResponse({"detail": "not found"}, status_code=404)
    return render(request, "error.html", status_code=404, heading="Not found",
                  message="There is nothing at this address.")  # fmt: skip


def _error_handlers(app: FastAPI) -> None:
    """How each failure reads: JSON for the API and exports, a page otherwise."""

    @app.exception_handler(PurposeNeeded)
    async def _purpose(request: Request, exc: PurposeNeeded) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"detail": "state a purpose first (POST /outreach/purpose)"}, status_code=403
            )
        session = session_of(request)
        back = request.url.path if request.url.path in PURPOSE_PAGES else PURPOSE_PAGES[0]
        return render(request, "purpose.html", csrf=session.csrf if session else "", message="",
                      back=back)  # fmt: skip

    @app.exception_handler(EveryfamilyError)
    async def _store_failed(request: Request, exc: EveryfamilyError) -> Response:
        # A store that cannot be read during a request (a key moved, a file locked). The
        # message names files only, but it is an operator's business: say nothing more.
        message = "the restricted data cannot be read now: ask the dashboard's administrator"
        return _error(request, 503, "Not available", message)

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> Response:
        if getattr(request.state, "role", None) == ANONYMOUS and request.method == "GET":
            if wants_json(request):
                return JSONResponse({"detail": "log in first"}, status_code=401)
            return RedirectResponse("/login", status_code=303)
        return _error(request, 403, "Not allowed", exc.one_line())

    @app.exception_handler(NotFound)
    async def _missing(request: Request, exc: NotFound) -> Response:
        return _not_found(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request)
        return _error(request, exc.status_code, "Error", str(exc.detail))

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Response:
        return _error(request, 400, "Cannot show that", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return JSONResponse({"detail": f"invalid parameter: {where}"}, status_code=400)
