"""Users take effect without a restart: the first user added to a dashboard serving in local
single-user mode switches it to logins at once; later users can log in at once."""

from __future__ import annotations

import time
from pathlib import Path

from everyfamily.web import create_app
from everyfamily.web.access import StaticPolicy
from everyfamily.web.auth import UserStore
from security.conftest import PASSWORD, Client

from . import loopback
from .conftest import running
from .fixture_outputs import SENTINEL_PERSON, Fixture


def test_first_user_switches_local_mode_to_logins_without_a_restart(
    fixture_outputs: Fixture, tmp_path: Path
) -> None:
    path = tmp_path / "users.sqlite"
    app = create_app(fixture_outputs.out_dir, policy=StaticPolicy("analyst"), users_path=path)
    with running(app) as base:
        assert loopback.get(base + "/api/overview").status_code == 200  # local: no login
        UserStore(path)  # an empty users file changes nothing
        time.sleep(1.1)
        assert loopback.get(base + "/api/overview").status_code == 200
        UserStore(path).add("kim", PASSWORD, "outreach_worker", ("E01006506",))
        time.sleep(1.1)  # the file is looked at once a second at most
        r = loopback.get(base + "/api/outreach")
        assert r.status_code == 401 and SENTINEL_PERSON not in r.text
        c = Client(base, {})
        assert c.login("kim").status_code == 303
        assert c.state_purpose().status_code == 303
        assert c.get("/api/outreach").json()["total"] == 2  # kim's one area
        # a second user, added while serving, logs in at once
        UserStore(path).add("lee", PASSWORD, "viewer")
        assert Client(base, {}).login("lee").status_code == 303
        actions = [a["action"] for a in UserStore(path).audit_rows()]
        assert "logins_required" in actions and "outreach_list" in actions
