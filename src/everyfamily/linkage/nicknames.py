"""Nickname to formal given name, as an extra column for matching (``*_canonical``).

The list is the shared ``everyfamily.names.nicknames()`` (formal name -> nicknames); with
``multilingual`` also the other languages' tables (``names.LANGUAGE_FILES``), every name in
the form ``names.normalise.name_key`` gives it (any script romanised).
"""

from __future__ import annotations

from everyfamily.ingest.rules import fold_name
from everyfamily.names import LANGUAGE_FILES, language_nickname_pairs, nicknames
from everyfamily.names.normalise import name_key


def fold(name: str) -> str:
    """The ``*_match`` form of a name in ``records`` (the ingest stage's own folding)."""
    return fold_name(name) or ""


def nickname_map(*, multilingual: bool = False) -> dict[str, str]:
    """Folded nickname -> folded formal name. A nickname of several formal names (ALEX:
    ALEXANDER, ALEXANDRA) maps to the alphabetically first, so the mapping is stable.
    ``multilingual``: every language's table, both sides as ``name_key``."""
    key = (lambda s: name_key(s) or "") if multilingual else fold
    pairs = [(f, n) for f, nicks in nicknames().items() for n in nicks]
    if multilingual:
        pairs += [p for lang in LANGUAGE_FILES for p in language_nickname_pairs(lang)]
    out: dict[str, str] = {}
    for formal, nick in pairs:
        c, n = key(formal), key(nick)
        if n and c and n != c and (n not in out or c < out[n]):
            out[n] = c
    return _resolved(out) if multilingual else out


def _resolved(mapping: dict[str, str]) -> dict[str, str]:
    """Follow chains to their end (TASH -> NATASHA -> NATALYA when the Russian table makes
    Natasha a diminutive of Natalya), so a nickname and its formal name share one formal
    name; a cycle stops where it would repeat."""
    out: dict[str, str] = {}
    for start in mapping:
        seen, name = {start}, mapping[start]
        while name in mapping and mapping[name] not in seen:
            seen.add(name)
            name = mapping[name]
        out[start] = name
    return out
