"""The audit log's filter and page (the log itself is the ``audit`` table of the users
store, :class:`everyfamily.web.auth.UserStore`: append-only, who, what, when, purpose)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from everyfamily.errors import ConfigError

#: The actor of entries nobody verified (failed and refused logins).
ANONYMOUS_ACTOR = "-"


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries to show: an action, a user (exact name), a date range (UTC days,
    both ends included), and whether to include anonymous entries."""

    action: str | None = None
    user: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    anonymous: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> AuditFilter:
        """From query parameters ``action``, ``user``, ``from``, ``to`` (YYYY-MM-DD) and
        ``anonymous`` (1/true/yes/on); :class:`ConfigError` names a bad one."""

        def day(key: str) -> dt.date | None:
            value = (params.get(key) or "").strip()
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ConfigError(
                    f"{key}: expected a date as YYYY-MM-DD", hint="e.g. 2026-01-31"
                ) from None

        return cls(
            action=(params.get("action") or "").strip()[:64] or None,
            user=(params.get("user") or "").strip()[:64] or None,
            since=day("from"),
            until=day("to"),
            anonymous=(params.get("anonymous") or "").lower() in ("1", "true", "yes", "on"),
        )

    def sql(self) -> tuple[list[str], list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if self.action:
            clauses.append("action = ?")
            args.append(self.action)
        if self.user:
            clauses.append("username = ?")
            args.append(self.user)
        if self.since:
            clauses.append("at >= ?")  # ISO timestamps sort as text
            args.append(self.since.isoformat())
        if self.until:
            clauses.append("at < ?")
            args.append((self.until + dt.timedelta(days=1)).isoformat())
        if not self.anonymous:
            clauses.append("username <> ?")
            args.append(ANONYMOUS_ACTOR)
        return clauses, args

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for page links)."""
        out = {
            "action": self.action or "",
            "user": self.user or "",
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "anonymous": "1" if self.anonymous else "",
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class AuditPage:
    rows: tuple[dict[str, object], ...]
    total: int
    page: int
    pages: int
    #: anonymous entries left out of this view (0 when they are shown)
    anonymous_hidden: int
    #: every action the log holds (for the filter's choices)
    actions: tuple[str, ...]
