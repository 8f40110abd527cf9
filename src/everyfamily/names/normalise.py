"""Keys that make a name as real systems deliver it comparable with the name as written.

Issue 21: linkage missed about one true cross-source match in ten for children of Romanian
origin, against under one in a hundred for others, because the same name arrives in
different shapes from different systems. Each key below is a pure function of one string;
the linkage stage computes them once per distinct name (``linkage.name_keys``) and compares
them with Splink levels (``linkage.model``).

* :func:`repair` undoes mojibake (UTF-8 bytes read as Windows-1252, once or twice) with
  ``ftfy`` (Speer 2019, "ftfy", Zenodo 10.5281/zenodo.2591652), the maintained library for
  exactly this; Romanian s and t with cedilla become the correct comma-below letters.
* :func:`name_key` is the ASCII form used for exact and fuzzy comparison: ``anyascii``
  (ISC licence; per-character transliteration tables for every script, Cyrillic included)
  turns "Ștefănescu" into "STEFANESCU", "Łukasz" into "LUKASZ" and "Юрий" into "YURIY".
  A "?" (what a Windows-1252 export writes for a letter its code page lacks) is dropped;
  every other non-letter separates parts ("O'Brien-Smith" -> "OBRIEN SMITH").
* :func:`cp1252_key`: the name with every letter Windows-1252 cannot hold (and every "?")
  deleted before folding. A record exported through Windows-1252 and the record as written
  then have the same key: "Wiśniewski" and "Wi?niewski" both give "WINIEWSKI".
* :func:`skeleton`: a romanisation-neutral form, so one Cyrillic name written by two systems
  (Ukrainian national 2010 / ICAO 9303 "Iurii", BGN/PCGN "Yuriy", German "Juri") meets: y and
  j read as i; the digraphs those systems spell differently (ya/ia, yu/iu, ye/ie, kh/h, ts/c,
  shch/sc) are merged; w reads as v; doubled letters are collapsed. It is coarse on purpose
  and only ever one level of a comparison whose weight EM learns (u is measured, so a key
  that many different names share earns little).

None of these keys is ever logged or written outside the identifiable store.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii
from ftfy import fix_text

__all__ = ["cp1252_key", "name_key", "repair", "skeleton"]

_CEDILLA_TO_COMMA = str.maketrans("ŞşŢţ", "ȘșȚț")
_APOSTROPHES = re.compile(r"['’ʼ`´.]")
_NOT_LETTER = re.compile(r"[^A-Z]+")
_SKELETON_RULES: tuple[tuple[str, str], ...] = (
    ("SHCH", "SC"),
    ("SZCZ", "SC"),
    ("KH", "H"),
    ("CH", "H"),
    ("TS", "C"),
    ("TZ", "C"),
    ("J", "I"),
    ("Y", "I"),
    ("W", "V"),
    ("IA", "A"),
    ("IU", "U"),
    ("IE", "E"),
    ("IO", "O"),
)
_DOUBLES = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def repair(text: str) -> str:
    """``text`` with mojibake undone (ftfy) and Romanian cedilla s/t as comma-below letters.
    ``repair("JosÃ©") == "José"``; ``repair("Şerban") == "Șerban"``."""
    return fix_text(text, normalization="NFC").translate(_CEDILLA_TO_COMMA)


def _ascii_upper(text: str) -> str:
    s = _APOSTROPHES.sub("", anyascii(text)).upper()
    return " ".join(_NOT_LETTER.sub(" ", s).split())


@lru_cache(maxsize=65536)
def name_key(text: str | None) -> str | None:
    """ASCII upper-case key: repaired, transliterated, "?" dropped, parts single-spaced.
    ``name_key("Wi?niewski") == "WINIEWSKI"``; None when nothing is left."""
    if text is None:
        return None
    s = _ascii_upper(repair(text).replace("?", ""))
    return s or None


def _in_cp1252(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=65536)
def cp1252_key(text: str | None) -> str | None:
    """The key with every letter Windows-1252 lacks deleted (and every "?"): equal for a
    name and its Windows-1252 export. ``cp1252_key("Ștefan") == cp1252_key("?tefan")
    == "TEFAN"``; None when nothing is left."""
    if text is None:
        return None
    kept = "".join(ch for ch in repair(text) if ch != "?" and _in_cp1252(ch))
    s = _ascii_upper(kept)
    return s or None


@lru_cache(maxsize=65536)
def skeleton(key: str | None) -> str | None:
    """Romanisation-neutral form of a :func:`name_key` (see module docstring).
    ``skeleton("IURII") == skeleton("YURIY") == "URI"``."""
    if not key:
        return None
    s = key
    for a, b in _SKELETON_RULES:
        s = s.replace(a, b)
    s = _DOUBLES.sub(r"\1", s)
    # a leading i before a vowel is the iotation one system writes and another does not
    # (Yelena / Elena, Iurii / Yuriy)
    s = " ".join(p[1:] if len(p) > 2 and p[0] == "I" and p[1] in "AEOU" else p for p in s.split())
    return s or None
