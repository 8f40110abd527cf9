"""Keyed pseudonyms: HMAC-SHA256 of record identifiers under a secret key.

NHS practice (and DOMAIN.md) is to pseudonymise identifiers with a keyed hash whose key is held
apart from the analysis store: without the key, nobody holding the store can recompute a
pseudonym from a known identifier (a plain hash of a 10-digit NHS number can be reversed by
trying all of them). HMAC is defined in RFC 2104; SHA-256 in FIPS 180-4.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from everyfamily.errors import PrivacyError

if TYPE_CHECKING:
    from everyfamily.config import PrivacySettings

#: A key shorter than this is refused: HMAC keys should be at least as long as the hash
#: output's security level (RFC 2104 section 3 recommends no less than the output length
#: L; 16 bytes gives a 128-bit security level and is what we require at minimum).
MIN_KEY_BYTES = 16

#: Hex characters of the digest kept in an id. 12 hex = 48 bits: among a million ids the
#: chance of any collision is about n^2 / 2^49 = 0.2%; callers that mint many ids resolve the
#: rare collision deterministically (see everyfamily.linkage.stable_ids).
ID_HEX_CHARS = 12

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in the parts we hash


def load_key(settings: PrivacySettings, environ: Mapping[str, str] | None = None) -> bytes:
    """The pseudonymisation key from ``settings.key_file`` or the variable named by ``key_env``.

    The key file wins when both are given. Raises :class:`PrivacyError` when neither holds a
    key long enough; the message names where it looked, never the key.
    """
    env = os.environ if environ is None else environ
    if settings.key_file is not None:
        path = settings.key_file
        try:
            key = path.read_bytes().strip()
        except OSError:
            raise PrivacyError(
                f"{path}: the pseudonymisation key file cannot be read",
                hint="check privacy.key_file in the project file, or remove it and set "
                f"the environment variable {settings.key_env}",
            ) from None
        where = str(path)
    else:
        value = env.get(settings.key_env, "")
        key = value.strip().encode("utf-8")
        where = f"environment variable {settings.key_env}"
        if not key:
            raise PrivacyError(
                f"no pseudonymisation key: {where} is not set and privacy.key_file is not given",
                hint=f"set {settings.key_env} to a secret of at least {MIN_KEY_BYTES} characters "
                '(e.g. the output of `python -c "import secrets; print(secrets.token_hex(32))"`)'
                " or point privacy.key_file at a file holding one, kept apart from the data",
            )
    if len(key) < MIN_KEY_BYTES:
        raise PrivacyError(
            f"{where}: the pseudonymisation key is shorter than {MIN_KEY_BYTES} bytes",
            hint="use a longer random secret, e.g. 64 hex characters",
        )
    if not looks_like_a_key(key):
        # e.g. key_file pointing at the project file, a data extract or a word repeated:
        # said without showing any of the file
        raise PrivacyError(
            f"{where}: this does not look like a secret key (one line of at most "
            f"{MAX_KEY_BYTES} characters, no spaces, at least {MIN_DISTINCT_KEY_CHARS} "
            "different characters)",
            hint='make one with `python -c "import secrets; print(secrets.token_hex(32))"`',
        )
    return key


#: What a key looks like: one token of printable characters, not a document, with enough
#: different characters that it is not a word or a repeated pattern.
MAX_KEY_BYTES = 1024
MIN_DISTINCT_KEY_CHARS = 10


def looks_like_a_key(key: bytes) -> bool:
    """True for one line of at most MAX_KEY_BYTES printable non-space characters with at least
    MIN_DISTINCT_KEY_CHARS different characters (a hex or base64 secret passes easily)."""
    if len(key) > MAX_KEY_BYTES or any(c <= 0x20 or c == 0x7F for c in key):
        return False
    return len(set(key)) >= MIN_DISTINCT_KEY_CHARS


def pseudonym(key: bytes, *parts: str, prefix: str) -> str:
    """``PREFIX-XXXXXXXXXXXX``: the first hex digits of HMAC-SHA256(key, parts joined).

    Deterministic for a given key and parts, so a re-run mints the same id; parts are joined
    with a separator that cannot occur in them, so ("ab", "c") and ("a", "bc") differ.
    """
    if not key:
        raise PrivacyError("an empty pseudonymisation key was given", hint="see load_key")
    message = _SEPARATOR.join(parts).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:ID_HEX_CHARS].upper()}"


def pseudonym_maker(key: bytes, prefix: str) -> Callable[..., str]:
    """:func:`pseudonym` under one key for many ids (the same values): the key's HMAC state
    is made once and copied per id (RFC 2104's inner and outer keyed hashes), which halves
    the cost of minting hundreds of thousands of ids on a first run."""
    if not key:
        raise PrivacyError("an empty pseudonymisation key was given", hint="see load_key")
    base = hmac.new(key, digestmod=hashlib.sha256)

    def make(*parts: str) -> str:
        h = base.copy()
        h.update(_SEPARATOR.join(parts).encode("utf-8"))
        return f"{prefix}-{h.hexdigest()[:ID_HEX_CHARS].upper()}"

    return make
