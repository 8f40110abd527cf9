"""Small shared name resources (no personal data): given-name nicknames by language.

The English list (``formal,nickname`` pairs, e.g. ``Katherine,Katie``): 168 of its 226 pairs
are in the ``nicknames`` package on PyPI (Apache-2.0, Carlton Northern and Nick Crews), the
rest British diminutives that list lacks; each file's ``#`` header cites its source. The
synthetic scenario uses it to plant nickname variants; record linkage reuses it to compare
given names.

Other languages (issue 21: "nicknames beyond English") have one table each,
``nicknames_<language>.csv`` in the language's own spelling (Cyrillic for Russian and
Ukrainian), listed in :data:`LANGUAGE_FILES`. Each holds only the everyday diminutives
that the language's own grammars and name dictionaries give for its most common given names
(e.g. Polish Małgorzata -> Gosia, Romanian Gheorghe -> Ghiță, Russian Александр -> Саша);
they were written for this project from general knowledge of those conventions, with
Wiktionary's per-name entries (CC BY-SA 4.0), which list diminutives under "Derived terms",
as the reference to check and extend them against. Only linkage reads them (the demo plants
English nicknames only), and ``names.normalise`` romanises them on use.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

__all__ = ["LANGUAGE_FILES", "language_nickname_pairs", "nickname_pairs", "nicknames"]

#: Nickname tables of languages other than English: language -> file in this package.
LANGUAGE_FILES: Mapping[str, str] = MappingProxyType(
    {
        "polish": "nicknames_pl.csv",
        "romanian": "nicknames_ro.csv",
        "russian_ukrainian": "nicknames_ru_uk.csv",
    }
)


def _pairs(file: str) -> tuple[tuple[str, str], ...]:
    text = resources.files(__package__).joinpath(file).read_text(encoding="utf-8")
    # the header comment ("# ...") of each table says where its pairs come from
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple((r["formal"].strip(), r["nickname"].strip()) for r in rows)


@lru_cache(maxsize=8)
def language_nickname_pairs(language: str) -> tuple[tuple[str, str], ...]:
    """Every ``(formal, nickname)`` pair of one language's table (:data:`LANGUAGE_FILES`)."""
    if language not in LANGUAGE_FILES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGE_FILES)}")
    return _pairs(LANGUAGE_FILES[language])


@lru_cache(maxsize=1)
def nickname_pairs() -> tuple[tuple[str, str], ...]:
    """Every ``(formal, nickname)`` pair of the English list, in file order."""
    return _pairs("nicknames.csv")


@lru_cache(maxsize=1)
def nicknames() -> Mapping[str, tuple[str, ...]]:
    """Formal given name -> its common nicknames (read-only), e.g. ``Katherine -> (Kate, ...)``."""
    out: dict[str, list[str]] = {}
    for formal, nick in nickname_pairs():
        out.setdefault(formal, []).append(nick)
    return MappingProxyType({k: tuple(v) for k, v in out.items()})
