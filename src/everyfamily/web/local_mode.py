"""Local single-user mode until the first user exists: then logins, without a restart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from everyfamily.web.access import AccessPolicy
from everyfamily.web.auth import SessionPolicy, UserStore


@dataclass
class UntilUsersExist:
    """Local single-user mode (``fallback``: every request has one role) until the users
    file at ``path`` holds a user; then, at the next request and without a restart, the app
    switches to logins for good: ``state`` (the app's state) gets the users store, a signing
    secret from it and a :class:`SessionPolicy`. The file is looked at once a second at most.
    """

    fallback: AccessPolicy
    path: Path
    state: Any  # the app's state (starlette.datastructures.State)
    _checked: float = 0.0

    def role_for(self, request: object) -> str:
        store = self._store()
        if store is None:
            return self.fallback.role_for(request)  # type: ignore[arg-type]
        return SessionPolicy(store).role_for(request)

    def _store(self) -> UserStore | None:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return None
        self._checked = now
        if not self.path.is_file():
            return None
        store = UserStore(self.path)
        if not store.users():
            return None
        state = self.state
        state.users = store
        state.csrf_secret = store.install_secret()
        state.policy = SessionPolicy(store)
        store.audit("-", "logins_required", "the first user was added while serving")
        return store
