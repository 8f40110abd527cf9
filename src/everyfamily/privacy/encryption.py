"""Encrypted DuckDB databases: the keys and the secure attach of a run's two stores
(``everyfamily.stores`` says which store holds what; docs/privacy.md).

DuckDB 1.5.5 encrypts a database attached with ``ENCRYPTION_KEY`` using AES-GCM. It does so
*securely* only when the httpfs extension (OpenSSL) is loaded; without it DuckDB refuses, or
(with an explicit unsafe setting) uses a fallback it calls not securely encrypted. The
``duckdb-extension-httpfs`` wheel ships the extension, loaded here by path (no network).
Temporary files spilled while the database is open are encrypted too
(``temp_file_encryption``).

Each store's key is derived from the pseudonymisation key with HMAC-SHA256 under a label
naming the store (a one-step key derivation in the manner of HKDF-Expand, RFC 5869), so one
secret kept apart from the data serves every purpose without any derived key revealing the
pseudonymisation key or another store's key.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from everyfamily.errors import EngineError, PrivacyError

#: Label of the derived store keys (changing it changes every store key).
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


def store_key(pseudonym_key: bytes, store: str = "identifiable") -> str:
    """The hex key of one store (``identifiable`` or ``analysis``), derived from the
    pseudonymisation key; different stores get unrelated keys."""
    if not pseudonym_key:
        raise PrivacyError("an empty key was given", hint="see privacy.load_key")
    label = STORE_KEY_LABEL if store == "identifiable" else STORE_KEY_LABEL + b" " + store.encode()
    return hmac.new(pseudonym_key, label, hashlib.sha256).hexdigest()


def attach_store(
    con: Any, path: Path, alias: str, key: str | None, *, read_only: bool = False
) -> None:
    """Attach ``path`` as ``alias`` (created when absent): encrypted with ``key`` (hex, from
    :func:`store_key`), or plain when ``key`` is None (``privacy.encrypt_at_rest: false``).
    For encryption httpfs is loaded first, so it is the OpenSSL-backed one. The key is never
    logged; a wrong key, or a store written the other way, is a one-line
    :class:`PrivacyError`."""
    import duckdb

    if not alias.isidentifier():
        raise ValueError("alias must be an identifier")
    options = ["READ_ONLY"] if read_only else []
    if key is not None:
        con.execute(f"LOAD '{httpfs_extension_path()}'")
        con.execute("SET temp_file_encryption = true")
        # ATTACH options cannot be bound parameters; the key is hex (no quotes possible)
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise PrivacyError("the store key must be hex", hint="derive it with store_key()")
        options.insert(0, f"ENCRYPTION_KEY '{key}'")
    clause = f" ({', '.join(options)})" if options else ""
    try:
        con.execute(f"ATTACH '{_sql_path(path)}' AS {alias}{clause}")
    except duckdb.Error as exc:
        # DuckDB's message can quote the statement (and so the key): never pass it on.
        raise _attach_error(exc, path, encrypted=key is not None) from None


def _attach_error(exc: Exception, path: Path, *, encrypted: bool) -> Exception:
    """The one-line error for a failed ATTACH, told from DuckDB's message."""
    text = str(exc).lower()
    if encrypted and "is not encrypted" in text:
        return PrivacyError(
            f"{path}: the store was written without encryption",
            hint="set privacy.encrypt_at_rest to false for this output folder, or write "
            "the run into a new folder",
        )
    if encrypted and ("key" in text or "encrypt" in text or "decrypt" in text):
        return PrivacyError(
            f"{path}: cannot open the encrypted store with this key",
            hint="use the pseudonymisation key of the run that wrote it "
            "(privacy.key_file or privacy.key_env)",
        )
    if not encrypted and ("encrypt" in text or "key" in text):
        return PrivacyError(
            f"{path}: the store is encrypted",
            hint="set privacy.encrypt_at_rest to true and give the run's key",
        )
    return EngineError(
        f"{path}: cannot open the store ({type(exc).__name__})",
        hint="is another everyfamily process writing it?",
    )


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal body (ATTACH takes no bound parameters)."""
    return str(path).replace("'", "''")
