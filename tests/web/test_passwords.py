"""The password hash's two published argon2id parameter sets (web/passwords.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import extract_parameters

from everyfamily.errors import ConfigError
from everyfamily.web.auth import UserStore
from everyfamily.web.passwords import HASH_ENV, password_hasher

PASSWORD = "a long enough passphrase"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("", (3, 65_536, 4)), ("rfc9106", (3, 65_536, 4)), ("owasp-minimum", (2, 19_456, 1))],
)
def test_each_profile_hashes_with_its_published_parameters(
    name: str, expected: tuple[int, int, int]
) -> None:
    params = extract_parameters(password_hasher({HASH_ENV: name}).hash(PASSWORD))
    assert (params.time_cost, params.memory_cost, params.parallelism) == expected
    assert params.type.name == "ID"


def test_an_unknown_profile_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError) as e:
        password_hasher({HASH_ENV: "fast"})
    assert "\n" not in str(e.value) and "owasp-minimum" in str(e.value.hint)


def _stored_hash(path: Path, user: str) -> str:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        (hashed,) = con.execute(
            "SELECT password_hash FROM users WHERE username = ?", (user,)
        ).fetchone()
    finally:
        con.close()
    return str(hashed)


def test_a_hash_of_the_other_set_still_logs_in_and_is_remade_with_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "users.sqlite"
    monkeypatch.setenv(HASH_ENV, "owasp-minimum")
    UserStore(path).add("kim", PASSWORD, "viewer")
    assert extract_parameters(_stored_hash(path, "kim")).memory_cost == 19_456
    monkeypatch.setenv(HASH_ENV, "rfc9106")
    store = UserStore(path)
    assert store.login("kim", PASSWORD, "192.0.2.1")
    assert extract_parameters(_stored_hash(path, "kim")).memory_cost == 65_536
    assert store.login("kim", PASSWORD, "192.0.2.1")  # and the new hash checks
