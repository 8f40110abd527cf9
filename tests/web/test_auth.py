"""Login protection that must survive a restart and be shared by every worker process: the
per-address and per-user-name back-offs live in the users file, not in memory.

Two :class:`SessionPolicy` objects over two :class:`UserStore` objects on the same file stand
for two worker processes (or one process before and after a restart)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from everyfamily.errors import AccessDenied
from everyfamily.web.auth import (
    ATTEMPTS_PER_WINDOW,
    BACKOFF_BASE_SECONDS,
    FORGET_SECONDS,
    MAX_FAILURES,
    USER_BACKOFF_CAP_SECONDS,
    USER_FAILURES_ANY_ADDRESS,
    SessionPolicy,
    UserStore,
    backoff_seconds,
)

PASSWORD = "correct horse battery staple"
CLIENT = "192.0.2.77"  # TEST-NET-1: documentation addresses only


def _two_workers(path: Path) -> tuple[SessionPolicy, SessionPolicy]:
    return SessionPolicy(UserStore(path)), SessionPolicy(UserStore(path))


def _fail(policy: SessionPolicy, client: str = CLIENT, user: str = "nobody") -> None:
    with pytest.raises(AccessDenied, match="login failed"):
        policy.store.login(user, "not the password", client)


def _age(path: Path, seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past (time passing, for the file)."""
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE login_throttle SET at = at - ?", (seconds,))
    con.close()


def test_backoff_doubles_after_the_free_failures_up_to_its_cap() -> None:
    assert [backoff_seconds(n, 5, 900, base=1) for n in range(4, 10)] == [0, 1, 2, 4, 8, 16]
    assert backoff_seconds(20, 5, 900, base=1) == 900  # 2**15 s, capped at 15 minutes
    assert backoff_seconds(10_000, 5, 60) == 60
    assert backoff_seconds(5, 5, 900) == BACKOFF_BASE_SECONDS == 5


def test_rate_limit_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    first, _ = _two_workers(path)
    for i in range(ATTEMPTS_PER_WINDOW):  # a new name each time: the address bucket only
        _fail(first, user=f"nobody{i}")
    del first  # the process ends
    restarted = SessionPolicy(UserStore(path))
    with pytest.raises(AccessDenied, match="too many"):
        restarted.store.login("someone", "not the password", CLIENT)
    # another address is not affected
    _fail(restarted, client="192.0.2.78")


def test_rate_limit_is_shared_between_workers(tmp_path: Path) -> None:
    a, b = _two_workers(tmp_path / "users.sqlite")
    for i in range(ATTEMPTS_PER_WINDOW):  # 5 failures through each worker: 10 in all
        _fail(a if i % 2 else b, user=f"nobody{i}")
    for worker in (a, b):
        with pytest.raises(AccessDenied, match="too many"):
            worker.store.login("someone", "not the password", CLIENT)


def test_address_backoff_doubles_then_old_failures_expire(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    a, b = _two_workers(path)
    for i in range(ATTEMPTS_PER_WINDOW - 1):
        _fail(a, user=f"nobody{i}")
    _fail(b, user="nobody9")  # the 10th failure is still answered as a failure, not refused
    with pytest.raises(AccessDenied, match="too many"):  # now a 5 s wait
        b.store.login("someone", "not the password", CLIENT)
    _age(path, BACKOFF_BASE_SECONDS + 0.5)
    _fail(a, user="nobody10")  # the wait is over: the 11th is answered (then a 10 s wait)
    _age(path, BACKOFF_BASE_SECONDS + 0.5)
    with pytest.raises(AccessDenied, match="too many"):  # 5.5 s < 10 s
        a.store.login("someone", "not the password", CLIENT)
    _age(path, BACKOFF_BASE_SECONDS)
    _fail(a, user="nobody11")
    # FORGET_SECONDS pass: every failure is forgotten, and deleted at the next failure
    _age(path, FORGET_SECONDS + 1)
    _fail(a, user="nobody12")
    con = sqlite3.connect(path)
    (left,) = con.execute("SELECT count(*) FROM login_throttle").fetchone()
    con.close()
    assert left == 3  # the one new failure, in its three buckets


def test_guessing_one_user_from_one_address_never_locks_them_out_elsewhere(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.sqlite"
    a, _ = _two_workers(path)
    a.store.add("kim", PASSWORD, "viewer")
    for _ in range(MAX_FAILURES):
        _fail(a, client="192.0.2.66", user="kim")
    # that address is slowed for kim, even with the right password
    with pytest.raises(AccessDenied, match="too many"):
        a.store.login("kim", PASSWORD, "192.0.2.66")
    # kim, from her own address, is not (and a restart changes nothing)
    restarted = SessionPolicy(UserStore(path))
    assert restarted.store.login("kim", PASSWORD, "192.0.2.99")


def test_a_guesser_on_many_addresses_is_slowed_but_not_at_the_users_own_address(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.sqlite"
    store = UserStore(path)
    store.add("kim", PASSWORD, "viewer")
    assert store.login("kim", PASSWORD, "192.0.2.99")  # kim's usual address
    for i in range(USER_FAILURES_ANY_ADDRESS):  # one guess from each of 30 addresses
        with pytest.raises(AccessDenied, match="login failed"):
            store.login("kim", "not the password", f"198.51.100.{i + 1}")
    # the 31st address must wait (the user-name bucket), for a nonexistent name too
    with pytest.raises(AccessDenied, match="too many"):
        store.login("kim", PASSWORD, "198.51.100.200")
    # kim's known address is spared it
    assert store.login("kim", PASSWORD, "192.0.2.99")
    # the wait is short: after its cap the name can be tried anywhere again
    _age(path, USER_BACKOFF_CAP_SECONDS + 1)
    assert store.login("kim", PASSWORD, "198.51.100.200")


def test_unlock_lifts_a_users_backoff(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    a, _ = _two_workers(path)
    a.store.add("kim", PASSWORD, "viewer")
    for _ in range(MAX_FAILURES):
        _fail(a, client="192.0.2.66", user="kim")
    with pytest.raises(AccessDenied, match="too many"):
        a.store.login("kim", PASSWORD, "192.0.2.66")
    a.store.unlock("kim")  # `everyfamily users unlock`
    assert a.store.login("kim", PASSWORD, "192.0.2.66")


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
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccessDenied):
            store.login("kim", "not the password", "192.0.2.9")
    with pytest.raises(AccessDenied, match="too many"):
        store.login("kim", PASSWORD, "192.0.2.9")
    assert main(["users", "unlock", str(out), "kim"]) == 0
    assert store.login("kim", PASSWORD, "192.0.2.9")
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
