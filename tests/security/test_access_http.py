"""Logins, roles and the audit log over real HTTP: the role x route matrix, IDOR, session
fixation, CSRF, privilege escalation, lock-out, and the append-only audit log."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from everyfamily.web.access import ROLE_PERMISSIONS, ROUTE_PERMISSIONS, Permission
from everyfamily.web.auth import SESSION_COOKIE, UserStore
from web import loopback
from web.fixture_outputs import SENTINEL_PERSON

from .conftest import ASSIGNED, OTHER_AREA, PASSWORD, ROLES, Client, set_cookies

#: One concrete request per route (GET), by route name.
PATHS: dict[str, str] = {
    "health": "/health",
    "openapi": "/openapi.json",
    "page_overview": "/",
    "page_map": "/map",
    "page_findings": "/findings",
    "page_area": "/areas/E01006508",
    "page_centres": "/centres",
    "page_centre": "/centres/S1",
    "page_quality": "/quality",
    "page_outreach": "/outreach",
    "page_plan": "/plan",
    "page_records": "/records",
    "page_admin": "/admin",
    "page_audit": "/admin/audit",
    "page_api": "/api",
    "api_overview": "/api/overview",
    "api_reach": "/api/reach",
    "api_map_options": "/api/map/options",
    "api_map_geometry": "/api/map/geometry/lsoa",
    "api_map_values": "/api/map/values",
    "api_map_sites": "/api/map/sites",
    "api_findings": "/api/findings",
    "api_areas": "/api/areas",
    "api_area": "/api/areas/E01006508",
    "api_centres": "/api/centres",
    "api_centre": "/api/centres/S1",
    "api_centre_areas": "/api/centres/S1/areas",
    "api_quality": "/api/quality",
    "api_outreach": "/api/outreach",
    "api_records": "/api/records",
    "api_admin_run": "/api/admin/run",
    "api_admin_audit": "/api/admin/audit",
    "export_table": "/export/completeness.csv",
    "export_centre_areas": "/export/centres/S1/areas.csv",
    "export_map": "/export/map.csv",
    "export_outreach": "/export/outreach.csv",
    "page_login": "/login",
}
POST_ONLY = {
    "login_submit",
    "logout",
    "outreach_purpose",
    "outreach_outcome",
    "plan_run",
    "static",
}
#: Sample values for path parameters of routes other helpers add later.
SAMPLE = {"level": "lsoa", "code": "E01006508", "site": "S1", "fmt": "csv", "table_id": "x"}


def _all_paths() -> dict[str, str]:
    """PATHS, plus a filled-in path for every GET route of the app not listed there."""
    import re

    from fastapi import FastAPI

    from everyfamily.web.app import _routes
    from web.fixture_outputs import build_fixture  # noqa: F401  (same fixture as the app)

    probe = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    _routes(probe)
    out = dict(PATHS)
    for r in probe.routes:
        name, path = getattr(r, "name", ""), getattr(r, "path", "")
        if (
            name in out
            or name not in ROUTE_PERMISSIONS
            or name in POST_ONLY
            or "GET" not in (getattr(r, "methods", None) or ())
        ):
            continue
        out[name] = re.sub(r"{(\w+)}", lambda m: SAMPLE.get(m.group(1), "x"), path)
    return out


ALL_PATHS = _all_paths()


def test_every_get_route_is_in_the_matrix() -> None:
    assert set(ROUTE_PERMISSIONS) - POST_ONLY <= set(ALL_PATHS)


@pytest.mark.parametrize("role", ROLES)
def test_role_by_route_matrix(role: str, client: Callable[[], Client]) -> None:
    c = client()
    assert c.login(role).status_code == 303
    granted = ROLE_PERMISSIONS[role]
    if Permission.VIEW_OUTREACH_LIST in granted:
        assert c.state_purpose().status_code == 303
    for name, path in ALL_PATHS.items():
        needed = ROUTE_PERMISSIONS[name]
        r = c.get(path)
        if needed is Permission.PUBLIC or needed in granted:
            # listed routes answer 200; routes added later may answer 4xx to sample values
            ok = r.status_code == 200 if name in PATHS else r.status_code in (200, 400, 404)
            assert ok, (role, name, r.status_code)
        else:
            assert r.status_code == 403, (role, name, r.status_code)
        if r.status_code != 200 or Permission.VIEW_OUTREACH_LIST not in granted:
            assert SENTINEL_PERSON not in r.text


def test_anonymous_sees_only_public_routes(client: Callable[[], Client]) -> None:
    c = client()
    for name, path in ALL_PATHS.items():
        r = loopback.get(c.base + path, follow_redirects=False)
        if ROUTE_PERMISSIONS[name] is Permission.PUBLIC:
            assert r.status_code == 200, name
        elif path.startswith(("/api/", "/export/")):
            assert r.status_code == 401, name
        else:
            assert r.status_code == 303 and r.headers["location"] == "/login", name
        assert SENTINEL_PERSON not in r.text


def test_session_cookie_is_secure_httponly_strict_and_fixation_fails(
    client: Callable[[], Client],
) -> None:
    c = client()
    planted = "attacker-chosen-session-id"
    c.cookies[SESSION_COOKIE] = planted
    r = c.login("viewer")
    cookie = set_cookies(r)[SESSION_COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"].lower() == "strict"
    assert c.session and c.session != planted and len(c.session) >= 40
    # the planted id is worth nothing, before or after the victim logs in
    r = loopback.get(c.base + "/api/overview", headers={"cookie": f"{SESSION_COOKIE}={planted}"})
    assert r.status_code == 401
    # and each login mints a new id
    first = c.session
    c.login("viewer")
    assert c.session != first
    r = loopback.get(c.base + "/api/overview", headers={"cookie": f"{SESSION_COOKIE}={first}"})
    assert r.status_code == 401


def test_csrf_is_required_on_every_post(client: Callable[[], Client]) -> None:
    c = client()
    # login without the pre-login cookie's token
    r = loopback.post(c.base + "/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 403 and SESSION_COOKIE not in set_cookies(r)
    c.login("outreach_worker")
    # logout and purpose without / with a wrong token are refused; the session lives on
    assert c.post("/logout", {}).status_code == 403
    assert c.post("/logout", {"csrf": "forged"}).status_code == 403
    assert c.post("/outreach/purpose", {"csrf": "forged", "purpose": "x" * 20}).status_code == 403
    assert c.get("/api/overview").status_code == 200
    assert c.get("/api/outreach").status_code == 403  # no purpose was recorded
    # with the token it works
    assert c.post("/logout", {"csrf": c.csrf()}).status_code == 303
    assert c.get("/api/overview").status_code == 401


def test_outreach_needs_a_purpose_and_is_audited(
    client: Callable[[], Client], secured: tuple[str, UserStore, Path]
) -> None:
    c = client()
    c.login("analyst")
    page = c.get("/outreach")
    assert page.status_code == 200 and "Purpose" in page.text and SENTINEL_PERSON not in page.text
    assert c.get("/api/outreach").status_code == 403
    assert c.state_purpose("home visits, Halewood, week 12").status_code == 303
    rows = c.get("/api/outreach").json()["table"]["rows"]
    assert {r["person_id"] for r in rows} == {SENTINEL_PERSON, "P-000000000002", "P-000000000003"}
    audit = secured[1].audit_rows()
    mine = [a for a in audit if a["user"] == "analyst" and a["action"] == "outreach_list"]
    assert mine and mine[0]["purpose"] == "home visits, Halewood, week 12"


def test_outreach_worker_sees_only_assigned_areas_idor_fails(
    client: Callable[[], Client], secured: tuple[str, UserStore, Path]
) -> None:
    c = client()
    c.login("outreach_worker")
    c.state_purpose()
    rows = c.get("/api/outreach").json()["table"]["rows"]
    assert {r["area_code"] for r in rows} == {ASSIGNED}
    assert SENTINEL_PERSON not in c.get("/api/outreach").text  # the sentinel lives elsewhere
    for path in ("/api/outreach", "/outreach", "/export/outreach.csv"):
        r = c.get(path, area=OTHER_AREA)
        assert r.status_code == 403 and SENTINEL_PERSON not in r.text, path
    csv = c.get("/export/outreach.csv").text
    assert "P-000000000003" in csv and SENTINEL_PERSON not in csv
    denied = [a for a in secured[1].audit_rows() if a["action"] == "outreach_denied"]
    assert denied and denied[0]["user"] == "outreach_worker"


def test_privilege_escalation_fails(client: Callable[[], Client]) -> None:
    c = client()
    c.login("viewer")
    for path in ("/api/admin/audit", "/api/admin/run", "/admin", "/api/outreach"):
        assert c.get(path).status_code == 403, path
    # no route changes users, roles or the audit log: the app's only writes are these three
    from everyfamily.web import create_app  # noqa: F401  (documenting where routes come from)

    # a forged role cookie or header does nothing
    r = loopback.get(
        c.base + "/api/admin/audit",
        headers={"cookie": f"{SESSION_COOKIE}={c.session}; role=admin", "x-role": "admin"},
    )
    assert r.status_code == 403
    for method in ("PUT", "DELETE", "PATCH"):
        r = loopback.request(method, c.base + "/api/admin/audit")
        assert r.status_code in (401, 403, 405)


def test_only_five_routes_change_state(secured: tuple[str, UserStore, Path]) -> None:
    from everyfamily.web import create_app

    app = create_app(secured[2], users=secured[1])
    writes = {
        getattr(r, "name", "")
        for r in app.routes
        if set(getattr(r, "methods", set()) or set()) - {"GET", "HEAD"}
    }
    # the fourth: an outreach worker records the outcome of a visit (CSRF-checked, scoped);
    # the fifth: a manager or analyst runs a plan into their own folder (CSRF-checked, audited)
    assert writes == {"login_submit", "logout", "outreach_purpose", "outreach_outcome", "plan_run"}


def test_lockout_after_failures(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    store.add("kim", PASSWORD, "viewer")
    from everyfamily.errors import AccessDenied

    for _ in range(5):
        with pytest.raises(AccessDenied, match="login failed"):
            store.login("kim", "wrong password!!", "10.0.0.1")
    # that address is slowed for kim, even with the right password ...
    with pytest.raises(AccessDenied, match="too many"):
        store.login("kim", PASSWORD, "10.0.0.1")
    # ... but a wrong guesser never locks kim out from elsewhere
    assert store.login("kim", PASSWORD, "10.0.0.2")
    actions = [a["action"] for a in store.audit_rows()]
    assert actions.count("login_failed") == 5 and actions.count("login_rate_limited") == 1


def test_rate_limit_per_client(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    from everyfamily.errors import AccessDenied

    for i in range(10):
        with pytest.raises(AccessDenied, match="login failed"):
            store.login(f"nobody{i}", "x", "10.0.0.9")
    with pytest.raises(AccessDenied, match="too many"):
        store.login("someone", "x", "10.0.0.9")


def test_audit_log_is_append_only(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    store.audit("kim", "outreach_list", "area=X", "visits")
    con = sqlite3.connect(tmp_path / "users.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit SET purpose = 'edited'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit")
    con.close()
    assert store.audit_rows()[0]["purpose"] == "visits"


def test_passwords_are_argon2id_and_never_stored(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    store.add("kim", PASSWORD, "viewer")
    raw = (tmp_path / "users.sqlite").read_bytes()
    assert PASSWORD.encode() not in raw and b"$argon2id$" in raw
    token = store.login("kim", PASSWORD, "c")
    assert token.encode() not in (tmp_path / "users.sqlite").read_bytes()
