"""Encrypted stores: the keys of a run's two stores (``everyfamily.stores`` says which store
holds what; docs/privacy.md). The attach itself is the engine's
(``everyfamily.engines.duckdb_engine.attach_store``; an engine declares in its capabilities
whether it encrypts at rest).

DuckDB 1.5.5 encrypts a database attached with ``ENCRYPTION_KEY`` using AES-GCM. It does so
*securely* only when the httpfs extension (OpenSSL) is loaded; without it DuckDB refuses, or
(with an explicit unsafe setting) uses a fallback it calls not securely encrypted. The
``duckdb-extension-httpfs`` wheel ships the extension, loaded by path (no network).
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

from everyfamily.errors import PrivacyError

#: Label of the derived store keys (changing it changes every store key).
STORE_KEY_LABEL = b"everyfamily restricted store key v1"


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
    """Attach ``path`` as ``alias``, encrypted with ``key`` (hex; None: plain): DuckDB's
    attach, kept in the engine (:func:`everyfamily.engines.duckdb_engine.attach_store`)."""
    from everyfamily.engines.duckdb_engine import attach_store as attach

    attach(con, path, alias, key, read_only=read_only)
