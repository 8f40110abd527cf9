"""Access control: one permission table, one check, deny by default, no leaks."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from everyfamily.errors import ConfigError
from everyfamily.web import create_app
from everyfamily.web.access import (
    ROLE_PERMISSIONS,
    ROUTE_PERMISSIONS,
    Permission,
    StaticPolicy,
    check_role,
    permissions_for,
)

from . import loopback
from .conftest import running
from .fixture_outputs import SENTINEL_PERSON, Fixture

RESTRICTED = ["/outreach", "/api/outreach", "/export/outreach.csv", "/export/outreach.xlsx"]
ADMIN_ONLY = ["/admin", "/api/admin/run"]


def test_every_route_declares_its_permission(fixture_outputs: Fixture) -> None:
    app = create_app(fixture_outputs.out_dir)
    names = {r.name for r in app.routes}  # API routes, the static mount, /openapi.json
    assert any(isinstance(r, APIRoute) for r in app.routes)
    assert any(isinstance(r, Mount) for r in app.routes)
    assert names - set(ROUTE_PERMISSIONS) == set()
    # and the table names no route that does not exist (a stale entry would hide a typo)
    assert set(ROUTE_PERMISSIONS) - names == set()


def test_every_route_of_every_area_router_runs_the_one_access_check(
    fixture_outputs: Fixture,
) -> None:
    """The routers of web/routes/ declare no permission of their own: each of their routes is
    served by the app with the app's access dependency, and none is left out."""
    from everyfamily.web.access import check_access
    from everyfamily.web.routes import ROUTERS

    app = create_app(fixture_outputs.out_dir)
    served = {r.name: r for r in app.routes if isinstance(r, APIRoute)}
    declared = [route.name for _area, router in ROUTERS for route in router.routes]
    assert len(declared) == len(set(declared)) and set(declared) <= set(served)
    assert len(ROUTERS) >= 9
    for name in declared:
        calls = [d.call for d in served[name].dependant.dependencies]
        assert check_access in calls, name


def test_roles() -> None:
    assert permissions_for("viewer") == {Permission.PUBLIC, Permission.VIEW_AGGREGATES}
    assert permissions_for("nobody") == frozenset()
    # admin holds every permission but re-identification, which only outreach workers hold
    assert permissions_for("admin") == set(Permission) - {Permission.REIDENTIFY}
    assert [r for r, g in ROLE_PERMISSIONS.items() if Permission.REIDENTIFY in g] == [
        "outreach_worker"
    ]
    for role, granted in ROLE_PERMISSIONS.items():
        if role != "viewer":
            assert permissions_for("viewer") < granted
    with pytest.raises(ConfigError, match="--role: unknown role 'root'"):
        check_role("root")


@pytest.mark.parametrize("path", RESTRICTED + ADMIN_ONLY + ["/api/centres/S1/areas"])
def test_viewer_is_refused_restricted_routes(viewer_url: str, path: str) -> None:
    r = loopback.get(viewer_url + path)
    assert r.status_code == 403
    assert SENTINEL_PERSON not in r.text


def test_outreach_worker_sees_the_list_but_not_the_admin_page(
    fixture_outputs: Fixture, serve
) -> None:  # type: ignore[no-untyped-def]
    url = serve(fixture_outputs.out_dir, "outreach_worker")
    assert SENTINEL_PERSON in loopback.get(url + "/outreach").text
    assert loopback.get(url + "/admin").status_code == 403
    # centre detail comes with the outreach role
    assert loopback.get(url + "/api/centres/S1/areas").status_code == 200


def test_unknown_role_is_denied_everything_but_public(fixture_outputs: Fixture) -> None:
    app = create_app(fixture_outputs.out_dir, policy=StaticPolicy("intruder"))
    with running(app) as url:
        assert loopback.get(url + "/").status_code == 403
        assert loopback.get(url + "/api/overview").status_code == 403
        assert loopback.get(url + "/health").status_code == 200


def test_undeclared_route_is_refused(fixture_outputs: Fixture) -> None:
    app = create_app(fixture_outputs.out_dir, policy=StaticPolicy("admin"))

    @app.get("/api/sneaky")
    def sneaky() -> dict[str, str]:
        return {"secret": SENTINEL_PERSON}

    with running(app) as url:
        r = loopback.get(url + "/api/sneaky")
        assert r.status_code == 403 and SENTINEL_PERSON not in r.text


def test_no_viewer_response_holds_a_person_level_value(
    viewer_url: str, fixture_outputs: Fixture
) -> None:
    """Walk every GET route a viewer may use (with real parameters) and look for the
    sentinel pseudonym and the other person ids of the outreach list."""
    paths = [
        "/",
        "/map",
        "/findings",
        "/areas/E01006506",
        "/areas/E01006421",
        "/centres",
        "/centres/S1",
        "/centres/S2",
        "/quality",
        "/api",
        "/api/overview",
        "/api/reach?level=lsoa",
        "/api/map/options",
        "/api/map/values",
        "/api/map/geometry/lsoa",
        "/api/map/sites",
        "/api/findings",
        "/api/areas",
        "/api/areas/E01006506",
        "/api/centres",
        "/api/centres/S1",
        "/api/quality",
        "/export/map.csv",
        "/export/map.geojson",
        "/export/findings.csv",
        "/export/area_groups.csv?area=E01006506",
        "/export/centre_misses.csv?site=S1",
        "/openapi.json",
    ]
    for p in paths:
        r = loopback.get(viewer_url + p)
        assert r.status_code == 200, p
        for person in (SENTINEL_PERSON, "P-000000000002", "P-000000000003"):
            assert person not in r.text, p


def test_not_found_page_does_not_echo_the_path(viewer_url: str) -> None:
    r = loopback.get(viewer_url + "/secret-<b>path</b>")
    assert r.status_code == 404
    assert "secret" not in r.text
    r2 = loopback.get(viewer_url + "/areas/NOPE123")
    assert r2.status_code == 404 and "NOPE123" not in r2.text


def test_not_an_output_folder(tmp_path: Path) -> None:
    from everyfamily.errors import InputError

    with pytest.raises(InputError, match=r"run\.json"):
        create_app(tmp_path)
