"""The password hash of the users file: argon2id with one of two published parameter sets.

* ``rfc9106`` (the default): argon2-cffi's defaults, RFC 9106 section 4's second recommended
  option (t=3 passes, 64 MiB, 4 lanes). About 0.2 s of CPU per hash or check here.
* ``owasp-minimum``: the OWASP Password Storage Cheat Sheet's minimum for argon2id (t=2,
  19 MiB, 1 lane). About 0.03 s per check: for a small server that handles many logins, and
  for the test suite (which logs in a few thousand times).

Nothing weaker can be chosen. The choice is the environment variable
``EVERYFAMILY_PASSWORD_HASH`` of the process that writes a hash (``users add``,
``users reset-password``, the dashboard at a login). A check always uses the parameters stored
in the hash itself, so a users file may hold hashes of both kinds; a hash made with the other
set is re-made with this one at the user's next successful login
(``PasswordHasher.check_needs_rehash``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from argon2 import PasswordHasher

from everyfamily.errors import ConfigError

#: The environment variable that chooses the parameter set.
HASH_ENV = "EVERYFAMILY_PASSWORD_HASH"
DEFAULT_PROFILE = "rfc9106"
#: name -> argon2id parameters (time cost, memory in KiB, lanes), each from its source above.
PROFILES: dict[str, tuple[int, int, int]] = {
    "rfc9106": (3, 65_536, 4),
    "owasp-minimum": (2, 19_456, 1),
}


def password_hasher(environ: Mapping[str, str] | None = None) -> PasswordHasher:
    """The argon2id hasher the environment chooses (module docstring); a name that is not
    one of :data:`PROFILES` is a one-line :class:`ConfigError`."""
    env = os.environ if environ is None else environ
    name = env.get(HASH_ENV, "").strip() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ConfigError(
            f"{HASH_ENV}={name!r} is not a password hash profile",
            hint=f"use one of {', '.join(sorted(PROFILES))} (or leave it unset)",
        )
    time_cost, memory_kib, lanes = PROFILES[name]
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=lanes)
