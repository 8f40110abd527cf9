"""Login protection that must survive a restart and be shared by every worker process: the
per-address rate limit and the per-user lock-out live in the users file, not in memory.

Two :class:`SessionPolicy` objects over two :class:`UserStore` objects on the same file stand
for two worker processes (or one process before and after a restart)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from everyfamily.errors import AccessDenied
from everyfamily.web.auth import (
    ATTEMPTS_PER_WINDOW,
    MAX_FAILURES,
    WINDOW_SECONDS,
    SessionPolicy,
    UserStore,
)

PASSWORD = "correct horse battery staple"
CLIENT = "192.0.2.77"  # TEST-NET-1: documentation addresses only


def _two_workers(path: Path) -> tuple[SessionPolicy, SessionPolicy]:
    return SessionPolicy(UserStore(path)), SessionPolicy(UserStore(path))


def _fail(policy: SessionPolicy, client: str = CLIENT, user: str = "nobody") -> None:
    with pytest.raises(AccessDenied, match="login failed"):
        policy.store.login(user, "not the password", client)


def test_rate_limit_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    first, _ = _two_workers(path)
    for _ in range(ATTEMPTS_PER_WINDOW):
        _fail(first)
    del first  # the process ends
    restarted = SessionPolicy(UserStore(path))
    with pytest.raises(AccessDenied, match="too many"):
        restarted.store.login("nobody", "not the password", CLIENT)
    # another address is not affected
    _fail(restarted, client="192.0.2.78")


def test_rate_limit_is_shared_between_workers(tmp_path: Path) -> None:
    a, b = _two_workers(tmp_path / "users.sqlite")
    for i in range(ATTEMPTS_PER_WINDOW):  # 5 failures through each worker: 10 in all
        _fail(a if i % 2 else b)
    for worker in (a, b):
        with pytest.raises(AccessDenied, match="too many"):
            worker.store.login("nobody", "not the password", CLIENT)


def test_nine_failures_are_still_allowed_and_old_ones_expire(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    a, b = _two_workers(path)
    for _ in range(ATTEMPTS_PER_WINDOW - 1):
        _fail(a)
    _fail(b)  # the 10th failure is still answered as a failure, not refused
    with pytest.raises(AccessDenied, match="too many"):
        b.store.login("nobody", "not the password", CLIENT)
    # the window passes: age every recorded failure by one window
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE login_failures SET at = at - ?", (WINDOW_SECONDS + 1,))
    con.close()
    _fail(a)  # answered again (and the aged rows are forgotten)
    con = sqlite3.connect(path)
    (left,) = con.execute("SELECT count(*) FROM login_failures").fetchone()
    con.close()
    assert left == 1


def test_lockout_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    a, _ = _two_workers(path)
    a.store.add("kim", PASSWORD, "viewer")
    for i in range(MAX_FAILURES):  # from different addresses: the rate limit plays no part
        _fail(a, client=f"192.0.2.{i + 1}", user="kim")
    restarted = SessionPolicy(UserStore(path))
    # locked: the right password fails with the same message as any failure (a distinct
    # "locked" message would tell an attacker the user name exists)
    with pytest.raises(AccessDenied, match="login failed"):
        restarted.store.login("kim", PASSWORD, "192.0.2.99")
    con = sqlite3.connect(path)
    (locked_until,) = con.execute(
        "SELECT locked_until FROM users WHERE username = 'kim'"
    ).fetchone()
    con.close()
    assert locked_until > time.time()
    restarted.store.unlock("kim")  # `everyfamily users unlock`: the user is back at once
    assert restarted.store.login("kim", PASSWORD, "192.0.2.99")


def test_client_address_is_not_stored_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    a, _ = _two_workers(path)
    _fail(a)
    assert CLIENT.encode() not in path.read_bytes()


def test_failed_logins_never_put_the_typed_name_in_the_audit_actor(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    store.add("kim", PASSWORD, "viewer")
    for user in ("<script>evil</script>", "kim"):
        with pytest.raises(AccessDenied, match="login failed"):
            store.login(user, "not the password", "192.0.2.1")
    failed = [r for r in store.audit_rows() if r["action"] == "login_failed"]
    assert [r["user"] for r in failed] == ["-", "-"]
    assert all(str(r["detail"]).startswith("anonymous:") for r in failed)
    assert not any("<script>" in str(r["detail"]) for r in store.audit_rows())


def test_reset_password_ends_sessions_lifts_locks_and_refuses_blank(tmp_path: Path) -> None:
    from everyfamily.errors import ConfigError

    store = UserStore(tmp_path / "users.sqlite")
    store.add("kim", PASSWORD, "viewer")
    token = store.login("kim", PASSWORD, "192.0.2.1")
    assert store.session(token) is not None
    new = "a new long passphrase here"
    store.reset_password("kim", new)
    assert store.session(token) is None
    with pytest.raises(AccessDenied):
        store.login("kim", PASSWORD, "192.0.2.2")
    assert store.login("kim", new, "192.0.2.3")
    for blank in ("", " " * 40, "\t" * 20):
        with pytest.raises(ConfigError, match="not spaces"):
            store.reset_password("kim", blank)
        with pytest.raises(ConfigError, match="not spaces"):
            store.add("lee", blank, "viewer")
    assert [a["action"] for a in store.audit_rows()][:1] == ["login"]


def test_users_unlock_and_reset_password_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from everyfamily.cli import main

    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", str(out), "kim", "--role", "viewer", "--password-stdin"]) == 0
    store = UserStore(out / "users.sqlite")
    for i in range(MAX_FAILURES):
        with pytest.raises(AccessDenied):
            store.login("kim", "not the password", f"192.0.2.{i + 1}")
    assert main(["users", "unlock", str(out), "kim"]) == 0
    assert store.login("kim", PASSWORD, "192.0.2.50")
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    assert main(["users", "reset-password", str(out), "kim", "--password-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("another long passphrase\n"))
    assert main(["users", "reset-password", str(out), "kim", "--password-stdin"]) == 0
    assert store.login("kim", "another long passphrase", "192.0.2.51")
    actions = [a["action"] for a in store.audit_rows()]
    assert "user_unlocked" in actions and "password_reset" in actions


def test_users_areas_are_checked_against_the_run_by_code_or_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from everyfamily.cli import main

    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["users", "add", str(out), "amy", "--role", "outreach_worker", "--password-stdin"]
    assert main([*args, "--areas", "W1"]) == 2  # no run yet to check against
    assert "no finished run (reach.csv)" in capsys.readouterr().err
    (out / "reach.csv").write_text(
        "level,area_code,area_name,dimension\n"
        "ward,W1,Page Moss,all\nward,W2,Stockbridge,all\n"
        "lsoa,E01000001,Knowsley 001A,all\nmsoa,M1,Stockbridge,all\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main([*args, "--areas", "page moss, E01000001"]) == 0
    assert UserStore(out / "users.sqlite").get("amy").areas == ("W1", "E01000001")
    assert main(["users", "set-areas", str(out), "amy", "Page Mos"]) == 2
    assert "no area 'Page Mos' in this run (did you mean 'Page Moss'?)" in capsys.readouterr().err
    assert main(["users", "set-areas", str(out), "amy", "Stockbridge"]) == 2
    assert "'Stockbridge' names 2 areas (M1, W2)" in capsys.readouterr().err
    assert main(["users", "set-areas", str(out), "amy", "W2"]) == 0
    assert UserStore(out / "users.sqlite").get("amy").areas == ("W2",)
