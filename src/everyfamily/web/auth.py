"""Users, logins, sessions and the audit log of the dashboard.

One small SQLite file (default ``OUT/users.sqlite``, outside the analysis store) holds:

* ``users``: name, argon2id hash (web/passwords.py: RFC 9106 or OWASP's minimum), role,
  assigned areas, disabled flag (its old ``failed``/``locked_until`` columns are no longer
  used: see below);
* ``sessions``: the SHA-256 of each session token (a stolen copy of the file gives no
  usable cookie), its user, its CSRF token and its expiry;
* ``outreach_outcomes``: what an outreach visit to a household found (contacted, not at
  home, declined, registered), per child pseudonym, appended and never released: the next
  run's list shows the last one, and the outreach page counts the children marked registered
  that the run finds on a register (:meth:`UserStore.record_outcome`);
* ``audit``: append-only (who, what, when, purpose). SQLite triggers refuse every UPDATE and
  DELETE of it, and the app has no route that writes it except by appending.

Sessions: a new random token (``secrets.token_urlsafe``, 256 bits) on every login, and the
cookie a browser presented before is discarded, so a session id planted before login
(session fixation) never becomes a logged-in session. Cookies are ``Secure``, ``HttpOnly``
and ``SameSite=Strict``. Every state-changing request (POST) carries a CSRF token checked
against the session (or, for the login form itself, against a pre-login cookie signed with
the install's secret: the signed double-submit pattern, OWASP CSRF Prevention Cheat Sheet).

Login attempts (OWASP Authentication Cheat Sheet, "Login Throttling"): failures are counted
in three buckets, each with its own exponential back-off (a wait of 5 s, 10 s, 20 s ... after
the bucket's free failures, up to a cap), never one shared global bucket:

* the client address (:data:`ATTEMPTS_PER_WINDOW` free failures, wait up to
  :data:`LOCKOUT_SECONDS`): one noisy address slows itself down;
* the user name typed from that address (:data:`MAX_FAILURES` free, up to
  :data:`LOCKOUT_SECONDS`): guessing one user's password from one address is slowed without
  locking that user out from any other address;
* the user name from every address (:data:`USER_FAILURES_ANY_ADDRESS` free, wait at most
  :data:`USER_BACKOFF_CAP_SECONDS`): slows a guesser spread over many addresses, and is skipped
  for an address the user has logged in from before (within :data:`KNOWN_ADDRESS_DAYS`), so
  such an attacker cannot keep the user out from their usual place.

A failure older than :data:`FORGET_SECONDS` no longer counts and is deleted at the next
failed login. Buckets live in the users file (``login_throttle``), so a restart does not
reset them and every worker process shares them; addresses and typed names are kept only
as SHA-256 (pseudonyms, not anonymous: an IPv4 hash can be brute-forced). The client
address is the TCP peer unless that peer is a configured trusted proxy
(:func:`client_address`), so a forged ``X-Forwarded-For`` cannot reset a bucket. Nothing
here logs a password, a hash or a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from everyfamily.errors import AccessDenied, ConfigError
from everyfamily.web.audit import AuditFilter, AuditPage
from everyfamily.web.passwords import password_hasher

USERS_FILE = "users.sqlite"
SESSION_COOKIE = "ef_session"
LOGIN_CSRF_COOKIE = "ef_login_csrf"
#: Free failed logins of one user name from one address before its back-off starts.
MAX_FAILURES = 5
#: Longest wait of the per-address and per-user-and-address back-offs.
LOCKOUT_SECONDS = 15 * 60
#: Free failed logins of one client address before its back-off starts.
ATTEMPTS_PER_WINDOW = 10
#: Free failed logins of one user name from all addresses together, and its longest wait
#: (short: it can touch the real user, who is spared it from an address known for them).
USER_FAILURES_ANY_ADDRESS = 30
USER_BACKOFF_CAP_SECONDS = 60
#: The first wait once a bucket's free failures are used up; it doubles with each failure.
BACKOFF_BASE_SECONDS = 5
#: A failure counts for this long (then it is forgotten and deleted).
FORGET_SECONDS = LOCKOUT_SECONDS
#: Kept for callers of the old per-window limit: failures count for FORGET_SECONDS now.
WINDOW_SECONDS = FORGET_SECONDS
#: An address a user logged in from counts as theirs for this many days.
KNOWN_ADDRESS_DAYS = 30
#: A session lasts this long (a working day), then the user logs in again.
SESSION_SECONDS = 8 * 60 * 60
MIN_PASSWORD_CHARS = 12
#: The roles a user can hold (web.access.ROLE_PERMISSIONS gives what each may see).
ROLES = ("viewer", "centre_manager", "outreach_worker", "analyst", "admin")
ANONYMOUS = "anonymous"
#: What an outreach worker may record for a visited household.
OUTREACH_OUTCOMES = ("contacted", "not_home", "declined", "registered")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    areas TEXT NOT NULL DEFAULT '[]',
    disabled INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username),
    csrf TEXT NOT NULL,
    expires REAL NOT NULL,
    purpose TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    purpose TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS login_throttle (
    key_sha256 TEXT NOT NULL,
    user_sha256 TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_throttle_key ON login_throttle (key_sha256, at);
CREATE TABLE IF NOT EXISTS login_known (
    key_sha256 TEXT PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS install (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS outreach_outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    person_id TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outreach_outcomes_person ON outreach_outcomes (person_id, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    areas: tuple[str, ...]
    disabled: bool


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    token: str
    purpose: str = ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: Trusted proxy networks (:func:`parse_proxies`).
Proxies = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def backoff_seconds(
    failures: int, free: int, cap: float, base: float = BACKOFF_BASE_SECONDS
) -> float:
    """Wait before the next attempt after ``failures`` recent failures: none for the first
    ``free``, then ``base``, 2 x ``base``, 4 x ``base`` ... doubling per failure, never more
    than ``cap`` (exponential back-off, OWASP Authentication Cheat Sheet)."""
    if failures < free:
        return 0.0
    return float(min(cap, base * 2.0 ** min(failures - free, 32)))


def parse_proxies(
    values: Iterable[str],
) -> Proxies:
    """Trusted proxy addresses or networks (``10.0.0.1``, ``10.0.0.0/8``, ``::1``)."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"web.trusted_proxies: {value!r} is not an IP address or network",
                hint="e.g. 10.0.0.5 or 10.0.0.0/24",
            ) from None
    return tuple(out)


def _is_trusted(address: str, proxies: Proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(
    peer: str,
    forwarded_for: str | None,
    proxies: Proxies = (),
) -> str:
    """The client address a login is counted against.

    The TCP peer, unless the peer is one of ``proxies``: then ``X-Forwarded-For`` is read
    from the right, skipping trusted proxies, and the first address that is not one is the
    client (entries further left were written by the client and may be forged; the
    "rightmost untrusted" rule of RFC 7239's security considerations). With no trusted
    proxies (the default) the header is ignored.
    """
    if not proxies or not _is_trusted(peer, proxies) or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: count the proxy itself
    return hops[0] if hops else peer


def check_username(name: str) -> str:
    if not (1 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise ConfigError("user name: use 1-64 letters, digits or . _ - @", hint="e.g. j.smith")
    return name


def check_role_name(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"--role: unknown role {role!r}", hint="use one of " + ", ".join(ROLES))
    return role


def _check_password(password: str) -> None:
    """Refuse blank, whitespace-only and short passwords (one line, never the password)."""
    if len(password.strip()) < MIN_PASSWORD_CHARS:
        raise ConfigError(
            f"password: at least {MIN_PASSWORD_CHARS} characters that are not spaces",
            hint="use a passphrase of several words",
        )


class UserStore:
    """The users file. Thread-safe (one connection per call, SQLite serialises writes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._hasher = password_hasher()  # argon2id (web/passwords.py)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._con() as con:
            con.executescript(_SCHEMA)
        with suppress(OSError):  # filesystems without modes
            self.path.chmod(0o600)

    def install_secret(self) -> bytes:
        """This install's 256-bit secret for signing cookies (made once, kept in the users
        file, which is 0600; every worker reads the same one)."""
        with self._con() as con:
            con.execute(
                "INSERT OR IGNORE INTO install (name, value) VALUES ('cookie_key', ?)",
                (secrets.token_bytes(32),),
            )
            (value,) = con.execute("SELECT value FROM install WHERE name = 'cookie_key'").fetchone()
        return bytes(value)

    @cached_property
    def _dummy_hash(self) -> str:
        """One hash to verify against when a login names no real user (or a locked one), so
        every failure costs one verification and timing does not reveal user names (made at
        the first such login, not for every store opened)."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def for_output(cls, out_dir: Path) -> UserStore:
        return cls(Path(out_dir) / USERS_FILE)

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(str(self.path), timeout=10)
        try:
            with con:
                yield con
        finally:
            con.close()

    # --- users (CLI) -----------------------------------------------------------------------

    def add(self, username: str, password: str, role: str, areas: tuple[str, ...] = ()) -> User:
        check_username(username)
        check_role_name(role)
        _check_password(password)
        with self._con() as con:
            if con.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise ConfigError(f"user {username!r} exists", hint="use set-role or set-areas")
            con.execute(
                "INSERT INTO users (username, password_hash, role, areas, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (username, self._hasher.hash(password), role, json.dumps(list(areas)), _now()),
            )
        self.audit("cli", "user_added", f"{username} as {role}")
        return self.get(username)

    def get(self, username: str) -> User:
        with self._con() as con:
            row = con.execute(
                "SELECT username, role, areas, disabled FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        if row is None:
            raise ConfigError(f"no user {username!r}", hint="everyfamily users list shows them")
        return User(row[0], row[1], tuple(json.loads(row[2])), bool(row[3]))

    def users(self) -> list[User]:
        with self._con() as con:
            rows = con.execute(
                "SELECT username, role, areas, disabled FROM users ORDER BY username"
            ).fetchall()
        return [User(r[0], r[1], tuple(json.loads(r[2])), bool(r[3])) for r in rows]

    def _update(self, username: str, sql: str, args: tuple[object, ...], what: str) -> User:
        self.get(username)
        with self._con() as con:
            con.execute(sql, (*args, username))
            if what in ("user_disabled", "role_set"):  # end the user's sessions at once
                con.execute("DELETE FROM sessions WHERE username = ?", (username,))
        self.audit("cli", what, username)
        return self.get(username)

    def set_role(self, username: str, role: str) -> User:
        check_role_name(role)
        return self._update(username, "UPDATE users SET role = ? WHERE username = ?", (role,),
                            "role_set")  # fmt: skip

    def set_areas(self, username: str, areas: tuple[str, ...]) -> User:
        return self._update(
            username, "UPDATE users SET areas = ? WHERE username = ?", (json.dumps(list(areas)),),
            "areas_set",
        )  # fmt: skip

    def unlock(self, username: str) -> User:
        """Lift the back-offs of this user name now (from every address it was tried at:
        an attacker can slow any account by guessing its name)."""
        self.get(username)
        self._forget_user_failures(username)
        return self._update(
            username, "UPDATE users SET failed = 0, locked_until = 0 WHERE username = ?", (),
            "user_unlocked",
        )  # fmt: skip

    def _forget_user_failures(self, username: str) -> None:
        """Delete this user name's failures (its buckets; the addresses' own buckets stay)."""
        with self._con() as con:
            con.execute(
                "DELETE FROM login_throttle WHERE user_sha256 = ?", (_sha("user\0" + username),)
            )

    def reset_password(self, username: str, password: str) -> User:
        """Set a new password; the user's sessions end and any lock is lifted."""
        _check_password(password)
        self.get(username)
        with self._con() as con:
            con.execute(
                "UPDATE users SET password_hash = ?, failed = 0, locked_until = 0 "
                "WHERE username = ?",
                (self._hasher.hash(password), username),
            )
            con.execute("DELETE FROM sessions WHERE username = ?", (username,))
        self._forget_user_failures(username)
        self.audit("cli", "password_reset", username)
        return self.get(username)

    def disable(self, username: str) -> User:
        return self._update(
            username, "UPDATE users SET disabled = 1 WHERE username = ?", (), "user_disabled"
        )

    # --- login -----------------------------------------------------------------------------

    @staticmethod
    def _buckets(username: str, client: str) -> list[tuple[str, int, float, bool]]:
        """(bucket key, free failures, back-off cap, spared at the user's known address) of a
        login: address, name at address, name anywhere. Keys are hashed with what they
        count, so buckets never collide."""
        return [
            (_sha("client\0" + client), ATTEMPTS_PER_WINDOW, LOCKOUT_SECONDS, False),
            (_sha("user-at\0" + username + "\0" + client), MAX_FAILURES, LOCKOUT_SECONDS, False),
            (_sha("user\0" + username), USER_FAILURES_ANY_ADDRESS, USER_BACKOFF_CAP_SECONDS, True),
        ]

    def _known_key(self, username: str, client: str) -> str:
        return _sha("known\0" + username + "\0" + client)

    def _throttled(self, username: str, client: str) -> float:
        """Seconds this login must still wait (0: go ahead). Counted in the users file, not in
        memory, with wall-clock time, so it survives a restart and every worker agrees."""
        now = time.time()
        wait = 0.0
        with self._con() as con:
            known = con.execute(
                "SELECT 1 FROM login_known WHERE key_sha256 = ? AND at > ?",
                (self._known_key(username, client), now - KNOWN_ADDRESS_DAYS * 86400),
            ).fetchone()
            for key, free, cap, spared in self._buckets(username, client):
                if known and spared:
                    continue  # the user's own address is spared the any-address bucket
                n, last = con.execute(
                    "SELECT count(*), max(at) FROM login_throttle WHERE key_sha256 = ? AND at > ?",
                    (key, now - FORGET_SECONDS),
                ).fetchone()
                if n:
                    wait = max(wait, last + backoff_seconds(int(n), free, cap) - now)
        return max(wait, 0.0)

    def _failed(self, username: str, client: str) -> None:
        """Record a failed login in each bucket (and forget failures older than
        :data:`FORGET_SECONDS`: they no longer count, and an address is personal data kept
        no longer than needed)."""
        now = time.time()
        with self._con() as con:
            con.execute("DELETE FROM login_throttle WHERE at <= ?", (now - FORGET_SECONDS,))
            user_key = _sha("user\0" + username)
            con.executemany(
                "INSERT INTO login_throttle (key_sha256, user_sha256, at) VALUES (?, ?, ?)",
                [
                    (key, "" if i == 0 else user_key, now)
                    for i, (key, *_rest) in enumerate(self._buckets(username, client))
                ],
            )

    def login(self, username: str, password: str, client: str) -> str:
        """A new session token for a correct password; :class:`AccessDenied` otherwise (one
        message for every failure, so it does not tell which user names exist; "too many
        login attempts" while a back-off runs, for any name, existing or not)."""
        denied = AccessDenied("login failed", hint="check the user name and password")
        # The audit actor of a failed login is always "-" (anonymous): the name typed is not
        # verified, and an attacker must not be able to write names into the audit log.
        if self._throttled(username, client) > 0:
            self.audit("-", "login_rate_limited", "anonymous")
            raise AccessDenied("too many login attempts", hint="wait a minute and try again")
        with self._con() as con:
            row = con.execute(
                "SELECT password_hash, disabled FROM users WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            # spend the same time as a real check, so timing does not reveal user names
            with suppress(VerificationError):
                self._hasher.verify(self._dummy_hash, password)
            self.audit("-", "login_failed", "anonymous: unknown user")
            self._failed(username, client)
            raise denied
        hashed, disabled = row
        if disabled:
            with suppress(VerificationError):
                self._hasher.verify(self._dummy_hash, password)
            self.audit("-", "login_failed", f"anonymous: for disabled user {username}")
            self._failed(username, client)
            raise denied
        try:
            self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self.audit("-", "login_failed", f"anonymous: wrong password for user {username}")
            self._failed(username, client)
            raise denied from None
        token = secrets.token_urlsafe(32)
        with self._con() as con:
            con.execute(
                "UPDATE users SET failed = 0, locked_until = 0 WHERE username = ?", (username,)
            )
            if self._hasher.check_needs_rehash(hashed):
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?",
                    (self._hasher.hash(password), username),
                )
            con.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            con.execute(
                "DELETE FROM login_known WHERE at < ?", (time.time() - KNOWN_ADDRESS_DAYS * 86400,)
            )
            con.execute(
                "INSERT OR REPLACE INTO login_known (key_sha256, at) VALUES (?, ?)",
                (self._known_key(username, client), time.time()),
            )
            con.execute(
                "INSERT INTO sessions (token_sha256, username, csrf, expires) VALUES (?,?,?,?)",
                (_sha(token), username, secrets.token_urlsafe(32), time.time() + SESSION_SECONDS),
            )
        self.audit(username, "login", "")
        return token

    def session(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        with self._con() as con:
            row = con.execute(
                "SELECT s.username, s.csrf, s.expires, u.role, u.areas, u.disabled, s.purpose "
                "FROM sessions s JOIN users u USING (username) WHERE s.token_sha256 = ?",
                (_sha(token),),
            ).fetchone()
        if row is None or row[2] < time.time() or row[5]:
            return None
        user = User(row[0], row[3], tuple(json.loads(row[4])), False)
        return Session(user, row[1], token, row[6])

    def set_purpose(self, token: str, purpose: str) -> None:
        """Record the purpose a user states before opening person-level data."""
        with self._con() as con:
            con.execute(
                "UPDATE sessions SET purpose = ? WHERE token_sha256 = ?",
                (purpose[:500], _sha(token)),
            )

    def logout(self, token: str | None) -> None:
        if token:
            with self._con() as con:
                con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_sha(token),))

    # --- outreach outcomes -----------------------------------------------------------------

    def record_outcome(
        self, username: str, person_ids: Iterable[str], outcome: str, purpose: str = ""
    ) -> int:
        """Append one outcome for each child of a visited household (pseudonyms only) and
        audit it (how many children, never who). Returns how many rows were written."""
        if outcome not in OUTREACH_OUTCOMES:
            raise ConfigError(
                f"outcome: {outcome!r} is not one of {', '.join(OUTREACH_OUTCOMES)}",
                hint="choose contacted, not_home, declined or registered",
            )
        ids = sorted({str(p) for p in person_ids if str(p)})
        at = _now()
        with self._con() as con:
            con.executemany(
                "INSERT INTO outreach_outcomes (at, username, person_id, outcome) "
                "VALUES (?, ?, ?, ?)",
                [(at, username, p, outcome) for p in ids],
            )
        self.audit(username, "outreach_outcome", f"{outcome} for {len(ids)} children", purpose)
        return len(ids)

    def last_outcomes(self) -> dict[str, tuple[str, str, str]]:
        """The last outcome recorded for each child: person_id -> (outcome, at, user)."""
        with self._con() as con:
            rows = con.execute(
                "SELECT person_id, outcome, at, username FROM outreach_outcomes o "
                "WHERE id = (SELECT max(id) FROM outreach_outcomes WHERE person_id = o.person_id)"
            ).fetchall()
        return {str(r[0]): (str(r[1]), str(r[2]), str(r[3])) for r in rows}

    # --- audit -----------------------------------------------------------------------------

    def audit(self, username: str, action: str, detail: str, purpose: str = "") -> None:
        with self._con() as con:
            con.execute(
                "INSERT INTO audit (at, username, action, detail, purpose) VALUES (?,?,?,?,?)",
                (_now(), username, action, detail[:500], purpose[:500]),
            )

    def audit_rows(self, limit: int = 500) -> list[dict[str, object]]:
        """The newest ``limit`` entries, anonymous ones included (see :meth:`audit_page`)."""
        return list(self.audit_page(AuditFilter(anonymous=True), page=1, page_size=limit).rows)

    def audit_page(self, where: AuditFilter, page: int = 1, page_size: int = 100) -> AuditPage:
        """One page of the audit log, newest first, filtered in SQL (bound parameters), so a
        flood of entries of one kind never pushes others out of reach: every entry can be
        paged to and filtered for. Anonymous entries (actor ``-``: failed or refused logins,
        whose typed name is unverified) are left out unless ``where.anonymous``."""
        clauses, args = where.sql()
        sql_where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        page = max(1, page)
        with self._con() as con:
            (total,) = con.execute(f"SELECT count(*) FROM audit{sql_where}", args).fetchone()
            rows = con.execute(
                f"SELECT id, at, username, action, detail, purpose FROM audit{sql_where} "
                "ORDER BY id DESC LIMIT ? OFFSET ?",
                (*args, page_size, (page - 1) * page_size),
            ).fetchall()
            (hidden,) = (
                (0,)
                if where.anonymous
                else con.execute("SELECT count(*) FROM audit WHERE username = '-'").fetchone()
            )
            actions = [r[0] for r in con.execute("SELECT DISTINCT action FROM audit ORDER BY 1")]
        keys = ("id", "at", "user", "action", "detail", "purpose")
        return AuditPage(
            rows=tuple(dict(zip(keys, r, strict=True)) for r in rows),
            total=int(total),
            page=page,
            pages=max(1, -(-int(total) // page_size)),
            anonymous_hidden=int(hidden),
            actions=tuple(actions),
        )


#: A login form's CSRF pair is good for this long.
LOGIN_CSRF_SECONDS = 3600


def _login_csrf_sig(secret: bytes, nonce: str, issued: int) -> str:
    msg = f"ef-login-csrf\0{nonce}\0{issued}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def login_csrf_pair(secret: bytes, now: float | None = None) -> tuple[str, str]:
    """(form token, cookie value) of a login form: the signed double-submit cookie (OWASP
    CSRF Prevention Cheat Sheet): the cookie carries the form's random token, when it was
    issued, and an HMAC-SHA256 of both under the install's secret, so a cookie planted by
    someone without the secret (a sibling subdomain, a man in the middle on plain http)
    never validates."""
    nonce = secrets.token_urlsafe(32)
    issued = int(time.time() if now is None else now)
    return nonce, f"{nonce}.{issued}.{_login_csrf_sig(secret, nonce, issued)}"


def login_csrf_valid(
    secret: bytes, cookie: str | None, given: str | None, now: float | None = None
) -> bool:
    """Does the login form's token match a cookie this install signed in the last hour?"""
    if not cookie or not given or len(cookie) > 256:
        return False
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    nonce, issued, sig = parts[0], int(parts[1]), parts[2]
    age = (time.time() if now is None else now) - issued
    return (
        0 <= age <= LOGIN_CSRF_SECONDS
        and hmac.compare_digest(sig, _login_csrf_sig(secret, nonce, issued))
        and hmac.compare_digest(nonce, str(given))
    )


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens (both must be present)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass(frozen=True)
class SessionPolicy:
    """The access policy once users exist: the role of the logged-in user, else
    ``anonymous`` (no permission but public pages: deny by default)."""

    store: UserStore

    def role_for(self, request: object) -> str:
        session = self.session_for(request)
        return session.user.role if session is not None else ANONYMOUS

    def session_for(self, request: object) -> Session | None:
        state = getattr(request, "state", None)
        cached = getattr(state, "session", False) if state is not None else False
        if cached is None or isinstance(cached, Session):
            return cached
        cookies = getattr(request, "cookies", {}) or {}
        found = self.store.session(cookies.get(SESSION_COOKIE))
        if state is not None:
            state.session = found
        return found
