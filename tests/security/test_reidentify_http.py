"""Re-identification and the record-level view over real HTTP.

Names and contact details come from the identifiable store only for an outreach worker,
only for the children of their assigned areas, and only after an audit entry (count, areas,
purpose; never a name) is written. Every other role sees pseudonyms at most: the fixture's
synthetic names (``IDENTIFYING``) appear in no response of theirs on any route. Analysts (and
admins) read pseudonymised records, audited; viewers are refused."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from everyfamily.web import create_app
from everyfamily.web.auth import UserStore
from web import loopback
from web.conftest import running
from web.fixture_outputs import IDENTIFYING, NAMES, PARENT_NAMES, SENTINEL_PERSON, build_fixture

from .conftest import ASSIGNED, OTHER_AREA, PASSWORD, Client
from .test_access_http import ALL_PATHS

#: The one child of the outreach worker's assigned area (E01006421) and their name.
MINE = "P-000000000003"
MY_FIRST, MY_LAST = NAMES[MINE]
#: The identifying strings of the other two children (names, parents, addresses).
OTHERS = (
    *(n for p, pair in NAMES.items() if p != MINE for n in pair),
    *(n for p, n in PARENT_NAMES.items() if p != MINE),
    "1 Fixture Road",
    "2 Fixture Road",
    "Moved Lane",
    "L36 9ZZ",
)
PURPOSE = "home visits, Halewood, week 12"
OUTREACH = ("/outreach", "/api/outreach", "/export/outreach.csv", "/export/outreach.xlsx")


def _text(r: httpx.Response) -> str:
    """A response body as text, xlsx included (its strings sit in a zip: look inside)."""
    if r.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return r.text


def _no_name(r: httpx.Response, names: tuple[str, ...], where: str) -> None:
    body = _text(r)
    for name in names:
        assert name not in body, f"an identifying value reached {where}"


def test_outreach_worker_sees_names_of_assigned_areas_only_audited_first(
    client: Callable[[], Client], secured: tuple[str, UserStore, Path]
) -> None:
    c = client()
    c.login("outreach_worker")
    c.state_purpose(PURPOSE)
    before = len(secured[1].audit_rows())
    o = c.get("/api/outreach").json()
    assert o["reidentified"] is True
    (row,) = o["table"]["rows"]
    # the planted record of the assigned child, and only it
    assert (row["person_id"], row["first_name"], row["last_name"]) == (MINE, MY_FIRST, MY_LAST)
    assert (row["address"], row["postcode"], row["date_of_birth"]) == (
        "3 Fixture Road",
        "L36 0XX",
        "2024-03-12",
    )
    assert row["parent_first_name"] == "Welgarrick" and row["contact_source"] == "births"
    new = secured[1].audit_rows()[: len(secured[1].audit_rows()) - before]
    reid = [a for a in new if a["action"] == "reidentify"]
    assert len(reid) == 1 and reid[0]["user"] == "outreach_worker"
    assert reid[0]["purpose"] == PURPOSE
    assert "of 1 children" in reid[0]["detail"] and ASSIGNED in reid[0]["detail"]
    for path in OUTREACH:
        r = c.get(path)
        assert r.status_code == 200, path
        assert MY_FIRST in _text(r) and "Fixture Road" in _text(r), path
        _no_name(r, OTHERS, f"outreach_worker {path}")
    # no audit entry ever holds a name, an address or a postcode
    for a in secured[1].audit_rows():
        for value in a.values():
            assert not any(s in str(value) for s in IDENTIFYING)


def test_idor_on_another_area_gets_no_name(
    client: Callable[[], Client], secured: tuple[str, UserStore, Path]
) -> None:
    c = client()
    c.login("outreach_worker")
    c.state_purpose()
    before = sum(a["action"] == "reidentify" for a in secured[1].audit_rows())
    for path in OUTREACH:
        r = c.get(path, area=OTHER_AREA)
        assert r.status_code == 403, path
        _no_name(r, IDENTIFYING, f"IDOR {path}")
        assert SENTINEL_PERSON not in r.text
    # refused before any look-up: no re-identification was recorded
    assert sum(a["action"] == "reidentify" for a in secured[1].audit_rows()) == before


@pytest.mark.parametrize("role", ["viewer", "centre_manager", "analyst", "admin"])
def test_no_other_role_ever_sees_a_name(role: str, client: Callable[[], Client]) -> None:
    c = client()
    c.login(role)
    c.state_purpose()  # refused (403) for roles without the outreach list: harmless
    for name, path in {**ALL_PATHS, "xlsx": "/export/outreach.xlsx"}.items():
        _no_name(c.get(path), IDENTIFYING, f"{role} {name}")
    for path in OUTREACH:
        _no_name(c.get(path, area=ASSIGNED), IDENTIFYING, f"{role} {path}")


def test_outreach_worker_sees_no_other_name_on_any_route(client: Callable[[], Client]) -> None:
    c = client()
    c.login("outreach_worker")
    c.state_purpose()
    for name, path in ALL_PATHS.items():
        _no_name(c.get(path), OTHERS, f"outreach_worker {name}")


def test_analyst_record_view_is_paged_pseudonymised_and_audited(
    client: Callable[[], Client], secured: tuple[str, UserStore, Path]
) -> None:
    c = client()
    c.login("analyst")
    # a purpose first; the form returns to the records page
    assert c.get("/api/records").status_code == 403
    page = c.get("/records")
    assert page.status_code == 200 and 'name="back" value="/records"' in page.text
    r = c.post(
        "/outreach/purpose", {"csrf": c.csrf(), "purpose": "funnel analysis Q1", "back": "/records"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/records"
    first = c.get("/api/records").json()
    # 240 children in the fixture, 200 a page at most
    assert (first["total"], first["page"], first["pages"], len(first["table"]["rows"])) == (
        240,
        1,
        2,
        200,
    )
    assert len(c.get("/api/records", page="2").json()["table"]["rows"]) == 40
    assert c.get("/api/records", limit="500").status_code == 400  # the server's limit
    mine = c.get("/api/records", area=ASSIGNED, limit="50").json()
    assert mine["total"] == 30 and {x["area_code"] for x in mine["table"]["rows"]} == {ASSIGNED}
    keys = {col["key"] for col in mine["table"]["columns"]}
    assert not keys & {"first_name", "last_name", "date_of_birth", "address", "postcode"}
    assert all(len(x["month_of_birth"]) == 7 for x in mine["table"]["rows"])  # YYYY-MM
    child = next(x for x in mine["table"]["rows"] if x["person_id"] == MINE)
    assert (child["known"], child["registered"], child["engaged"]) == ("yes", "no", "no")
    html = c.get("/records", area=ASSIGNED)
    assert html.status_code == 200 and MINE in html.text
    _no_name(html, IDENTIFYING, "analyst /records")
    assert c.get("/api/records", area="NOPE").status_code == 404
    views = [a for a in secured[1].audit_rows() if a["action"] == "records_view"]
    assert any(
        a["user"] == "analyst"
        and f"area={ASSIGNED}" in a["detail"]
        and a["purpose"] == "funnel analysis Q1"
        for a in views
    )


def test_purpose_form_returns_only_to_its_own_pages(client: Callable[[], Client]) -> None:
    c = client()
    c.login("analyst")
    r = c.post(
        "/outreach/purpose",
        {"csrf": c.csrf(), "purpose": "x" * 10, "back": "https://evil.example/"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/outreach"


@pytest.mark.parametrize("role", ["viewer", "centre_manager", "outreach_worker"])
def test_record_view_is_refused_without_view_records(
    role: str, client: Callable[[], Client]
) -> None:
    c = client()
    c.login(role)
    c.state_purpose()
    for path in ("/records", "/api/records"):
        r = c.get(path)
        assert r.status_code == 403 and SENTINEL_PERSON not in r.text, (role, path)


def test_no_audit_entry_means_no_names(tmp_path: Path) -> None:
    """The audit entry is written before the identifiable store is opened: when the audit
    log refuses the entry, the request fails and no name leaves the server."""
    out = build_fixture(tmp_path / "out").out_dir
    store = UserStore.for_output(out)
    store.add("ow", PASSWORD, "outreach_worker", (ASSIGNED,))
    con = sqlite3.connect(out / "users.sqlite")
    with con:
        con.execute(
            "CREATE TRIGGER refuse_reid BEFORE INSERT ON audit WHEN NEW.action = 'reidentify' "
            "BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"
        )
    con.close()
    with running(create_app(out, users=store)) as base:
        c = Client(base, {})
        c.login("ow")
        c.state_purpose()
        for path in OUTREACH:
            r = c.get(path)
            assert r.status_code >= 500, path
            _no_name(r, IDENTIFYING, f"failed audit {path}")


def test_local_single_user_mode_never_reidentifies(tmp_path: Path) -> None:
    """Without a users store there is no audit log, so not even an outreach worker gets
    names: the pseudonymised list only."""
    from everyfamily.web.access import StaticPolicy

    out = build_fixture(tmp_path / "out").out_dir
    with running(create_app(out, policy=StaticPolicy("outreach_worker"))) as base:
        for path in OUTREACH:
            r = loopback.get(base + path)
            assert r.status_code == 200 and MINE in _text(r), path
            _no_name(r, IDENTIFYING, f"local mode {path}")


def test_a_ward_assignment_covers_its_small_areas(tmp_path: Path) -> None:
    """With the run's area membership, an outreach worker assigned a ward gets the names of
    that ward's children, and an analyst can filter records by the ward."""
    out = build_fixture(tmp_path / "out", membership=True).out_dir
    store = UserStore.for_output(out)
    store.add("ow", PASSWORD, "outreach_worker", ("E05010936",))  # Halewood North
    store.add("an", PASSWORD, "analyst")
    with running(create_app(out, users=store)) as base:
        c = Client(base, {})
        c.login("ow")
        c.state_purpose()
        rows = c.get("/api/outreach").json()["table"]["rows"]
        assert [(r["person_id"], r["first_name"]) for r in rows] == [(MINE, MY_FIRST)]
        assert c.get("/api/outreach", area=OTHER_AREA).status_code == 403
        a = Client(base, {})
        a.login("an")
        a.state_purpose()
        ward = a.get("/api/records", area="E05010936").json()
        assert ward["total"] == 50 + 30  # Knowsley 019A and 018A
        assert {r["area_code"] for r in ward["table"]["rows"]} == {"E01006419", "E01006421"}
