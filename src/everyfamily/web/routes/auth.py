"""Login and logout (a users store: ``everyfamily users add``; local mode has none)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from everyfamily.errors import AccessDenied
from everyfamily.web.auth import (
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    UserStore,
    client_address,
    login_csrf_pair,
    login_csrf_valid,
)
from everyfamily.web.routes.common import no_store, read_form, render, session_form, set_cookie

router = APIRouter()


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def page_login(request: Request) -> Response:
    token, cookie = login_csrf_pair(request.app.state.csrf_secret)
    resp = render(request, "login.html", csrf=token, message="")
    set_cookie(resp, LOGIN_CSRF_COOKIE, cookie, LOGIN_CSRF_SECONDS)
    return no_store(resp)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_submit(request: Request) -> Response:
    users: UserStore | None = request.app.state.users
    if users is None:
        raise AccessDenied("logins are off", hint="this dashboard runs in local mode")
    form = await read_form(request)
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
        return render(request, "login.html", status_code=401, csrf=form.get("csrf", ""),
                    message=exc.one_line())  # fmt: skip
    resp = RedirectResponse("/", status_code=303)
    set_cookie(resp, SESSION_COOKIE, token, SESSION_SECONDS)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return resp


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    session, _form_data = await session_form(request)
    users: UserStore = request.app.state.users
    users.logout(session.token)
    users.audit(session.user.username, "logout", "")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
