"""Nickname to formal given name, as an extra column for matching (``*_canonical``).

The list is the shared ``everyfamily.names.nicknames()`` (formal name -> nicknames).
"""

from __future__ import annotations

from everyfamily.ingest.rules import fold_name
from everyfamily.names import nicknames


def fold(name: str) -> str:
    """The ``*_match`` form of a name in ``records`` (the ingest stage's own folding)."""
    return fold_name(name) or ""


def nickname_map() -> dict[str, str]:
    """Folded nickname -> folded formal name. A nickname of several formal names (ALEX:
    ALEXANDER, ALEXANDRA) maps to the alphabetically first, so the mapping is stable."""
    out: dict[str, str] = {}
    for formal, nicks in nicknames().items():
        c = fold(formal)
        for nick in nicks:
            n = fold(nick)
            if n and c and n != c and (n not in out or c < out[n]):
                out[n] = c
    return out
