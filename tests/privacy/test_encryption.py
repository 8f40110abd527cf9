"""The restricted store can be encrypted securely (DuckDB 1.5.5 + httpfs/OpenSSL)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from everyfamily.errors import PrivacyError
from everyfamily.privacy.encryption import attach_store, store_key

SENTINEL = "ZQXSENTINELNAME"


def test_encrypted_store_holds_no_plaintext_and_needs_the_key(tmp_path: Path) -> None:
    key = store_key(b"k" * 32)
    assert key != store_key(b"j" * 32) and len(key) == 64
    assert store_key(b"k" * 32, "analysis") not in (key, store_key(b"j" * 32, "analysis"))
    path = tmp_path / "identifiable.duckdb"
    con = duckdb.connect()
    attach_store(con, path, "idz", key)
    con.execute(f"CREATE TABLE idz.records AS SELECT '{SENTINEL}' AS first_name FROM range(500)")
    con.execute("DETACH idz")
    con.close()
    assert SENTINEL.encode() not in path.read_bytes()
    with pytest.raises(duckdb.Error, match="without a key"):
        duckdb.connect().execute(f"ATTACH '{path}' AS idz")
    con = duckdb.connect()
    with pytest.raises(PrivacyError, match="cannot open the encrypted store with this key"):
        attach_store(con, path, "idz", store_key(b"wrong key wrong key"))
    con.close()
    con = duckdb.connect()
    attach_store(con, path, "idz", key)
    assert con.execute("SELECT count(*) FROM idz.records").fetchone() == (500,)
