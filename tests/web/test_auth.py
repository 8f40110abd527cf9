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
    with pytest.raises(AccessDenied, match="locked"):
        restarted.store.login("kim", PASSWORD, "192.0.2.99")
    con = sqlite3.connect(path)
    (locked_until,) = con.execute(
        "SELECT locked_until FROM users WHERE username = 'kim'"
    ).fetchone()
    con.close()
    assert locked_until > time.time()


def test_client_address_is_not_stored_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    a, _ = _two_workers(path)
    _fail(a)
    assert CLIENT.encode() not in path.read_bytes()
