"""Encrypted DuckDB databases for the restricted identifiable zone (helper; see
docs/privacy.md for what is and is not wired into the pipeline yet).

DuckDB 1.5.5 encrypts a database attached with ``ENCRYPTION_KEY`` using AES-GCM. It does so
*securely* only when the httpfs extension (OpenSSL) is loaded; without it DuckDB refuses, or
(with an explicit unsafe setting) uses a fallback it calls not securely encrypted. The
``duckdb-extension-httpfs`` wheel ships the extension, loaded here by path (no network).
Temporary files spilled while the database is open are encrypted too
(``temp_file_encryption``).

The database key is derived from the pseudonymisation key with HMAC-SHA256 under a fixed
label (a one-step key derivation in the manner of HKDF-Expand, RFC 5869), so one secret kept
apart from the data serves both purposes without either key revealing the other.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from everyfamily.errors import EngineError, PrivacyError

#: Label of the derived store key (changing it changes every store key).
STORE_KEY_LABEL = b"everyfamily restricted store key v1"


def httpfs_extension_path() -> Path:
    """The httpfs extension file from the duckdb-extension-httpfs wheel."""
    import duckdb

    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise EngineError(
            "the duckdb-extension-httpfs package is not installed",
            hint="it is needed for securely encrypted stores; run scripts/bootstrap",
        ) from None
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not path.is_file():
        raise EngineError(
            f"{path}: no httpfs extension for duckdb {duckdb.__version__}",
            hint="install duckdb-extension-httpfs of the same version as duckdb",
        )
    return path


def store_key(pseudonym_key: bytes) -> str:
    """The hex key of the restricted store, derived from the pseudonymisation key."""
    if not pseudonym_key:
        raise PrivacyError("an empty key was given", hint="see privacy.load_key")
    return hmac.new(pseudonym_key, STORE_KEY_LABEL, hashlib.sha256).hexdigest()


def attach_encrypted(con: Any, path: Path, alias: str, key: str) -> None:
    """Attach ``path`` as ``alias``, encrypted with ``key`` (created when absent). Loads
    httpfs first so the encryption is the OpenSSL-backed one; never logs the key."""
    if not alias.isidentifier():
        raise ValueError("alias must be an identifier")
    con.execute(f"LOAD '{httpfs_extension_path()}'")
    con.execute("SET temp_file_encryption = true")
    # ATTACH options cannot be bound parameters; the key is hex from store_key (no quotes)
    if not all(c in "0123456789abcdef" for c in key):
        raise PrivacyError("the store key must be hex", hint="derive it with store_key()")
    con.execute(f"ATTACH '{path}' AS {alias} (ENCRYPTION_KEY '{key}')")
