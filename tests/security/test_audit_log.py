"""The audit log under a flood of failed logins, over real HTTP (issue 15): anonymous noise
never takes an actor's name and never pushes real entries out of the admin's view, and the
log can be paged and filtered by action, user and date."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from everyfamily.web.auth import LOGIN_CSRF_COOKIE, UserStore

from .conftest import Client

FLOOD = 1000
#: A name an attacker would like to see in the log (never an actor, never shown by default).
FORGED = "ceo.smith"


def _flood(base: str) -> None:
    """FLOOD failed logins with attacker-chosen names, over one kept-alive connection."""
    c = Client(base, {})
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert m and LOGIN_CSRF_COOKIE in c.cookies
    with httpx.Client(base_url=base, headers=c._headers()) as http:
        for i in range(FLOOD):
            r = http.post(
                "/login", data={"csrf": m.group(1), "username": f"{FORGED}{i}", "password": "x"}
            )
            assert r.status_code == 401


def test_a_flood_of_failed_logins_does_not_push_real_entries_out_of_view(
    secured: tuple[str, UserStore, Path], client: Callable[[], Client]
) -> None:
    store = secured[1]
    analyst, admin = client(), client()
    assert analyst.login("analyst").status_code == 303
    assert analyst.state_purpose().status_code == 303
    assert analyst.get("/api/outreach").status_code == 200
    assert admin.login("admin").status_code == 303
    before = len(store.audit_rows(limit=100_000))
    _flood(secured[0])
    everything = store.audit_rows(limit=100_000)
    assert len(everything) == before + FLOOD
    # every flood entry is anonymous: the typed name is never the actor
    assert {r["user"] for r in everything[:FLOOD]} == {"-"}
    assert not any(str(r["user"]).startswith(FORGED) for r in everything)

    # the default view: real entries only, the noise counted, not shown
    r = admin.get("/api/admin/audit")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["anonymous_hidden"] >= FLOOD
    assert body["total"] == before - sum(1 for x in everything[FLOOD:] if x["user"] == "-")
    assert all(row["user"] != "-" for row in body["audit"])
    seen = {(row["user"], row["action"]) for row in body["audit"]}
    assert {("analyst", "login"), ("analyst", "outreach_list"), ("admin", "login")} <= seen
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "outreach_list" in page.text
    assert FORGED not in page.text
    assert f"{body['anonymous_hidden']} anonymous entries" in page.text

    # with the noise: paged, every entry reachable
    r = admin.get("/api/admin/audit", anonymous="1", limit="100")
    noisy = r.json()
    assert noisy["total"] == len(everything) and noisy["pages"] == -(-len(everything) // 100)
    last = admin.get("/api/admin/audit", anonymous="1", limit="100", page=str(noisy["pages"]))
    assert last.json()["audit"][-1]["id"] == everything[-1]["id"]  # the oldest entry
    html = admin.get("/admin/audit", anonymous="1", page="2")
    assert html.status_code == 200 and "page 2 of" in html.text and "anonymous" in html.text

    # filters: action, user, date range (UTC days, inclusive)
    rows = admin.get("/api/admin/audit", action="outreach_list", anonymous="1").json()["audit"]
    assert [x["user"] for x in rows] == ["analyst"]
    rows = admin.get("/api/admin/audit", user="analyst").json()["audit"]
    assert rows and {x["user"] for x in rows} == {"analyst"}
    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    in_range = admin.get("/api/admin/audit", **{"from": str(today), "to": str(today)})
    assert in_range.json()["total"] == body["total"]
    before_range = admin.get("/api/admin/audit", to=str(today - day), anonymous="1")
    assert before_range.json()["total"] == 0
    bad = admin.get("/api/admin/audit", **{"from": "31/12/2026"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["detail"]
    # only an admin reads it
    assert analyst.get("/api/admin/audit").status_code == 403
