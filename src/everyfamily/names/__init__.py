"""Small shared name resources (no personal data): English given-name nicknames.

The nickname list was written from general knowledge of common English given names
(``formal,nickname`` pairs, e.g. ``Katherine,Katie``). The synthetic scenario uses it to
plant nickname variants; record linkage reuses it to compare given names.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

__all__ = ["nickname_pairs", "nicknames"]


@lru_cache(maxsize=1)
def nickname_pairs() -> tuple[tuple[str, str], ...]:
    """Every ``(formal, nickname)`` pair of the list, in file order."""
    text = resources.files(__package__).joinpath("nicknames.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple((r["formal"].strip(), r["nickname"].strip()) for r in rows)


@lru_cache(maxsize=1)
def nicknames() -> Mapping[str, tuple[str, ...]]:
    """Formal given name -> its common nicknames (read-only), e.g. ``Katherine -> (Kate, ...)``."""
    out: dict[str, list[str]] = {}
    for formal, nick in nickname_pairs():
        out.setdefault(formal, []).append(nick)
    return MappingProxyType({k: tuple(v) for k, v in out.items()})
