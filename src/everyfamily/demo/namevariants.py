"""Names as real council systems deliver them: the demo's optional name corruption (issue 21).

Off by default (``simulate(..., name_variants=None)``), so the demo and its outputs are as
before; a benchmark or test turns it on with :class:`NameVariants`. When on, every draw comes
from its own random generator, so the rest of the world (people, events, other errors) is the
same as without it.

What each variant is, and where it happens (rates are assumptions, stated per record of the
system named; none is from a measured council extract):

* ``cp1252_export``: the registrations system exports through Windows-1252; letters that
  code page lacks (ș, ț, ł, ś, ő ...) become "?" (Python's and many exports' replacement).
* ``mojibake``: health visiting reads a UTF-8 file as Windows-1252 (é -> Ã©).
* ``cedilla``: health visiting types Romanian s and t with cedilla (ş, ţ) instead of the
  correct comma below (ș, ț), as pre-2007 keyboards and fonts do.
* ``swapped``: registrations record given and family names the other way round; more often
  for names whose order a form filler did not recognise (``swapped_other``) than for British
  and Irish names (``swapped_british``).
* ``one_part``: a double or hyphenated surname is recorded as one of its parts.
* ``other_parent``: registrations record the child under the surname of the parent the child
  does not take (mother's instead of father's or the reverse), when the parents' differ.

The transformations here are the demo's own: the tests' independent source
(``everyfamily.testing.names``) shares no list or code with them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NameVariants:
    """Rates of each name corruption (see the module docstring)."""

    cp1252_export: float = 0.5
    mojibake: float = 0.05
    cedilla: float = 0.5
    swapped_british: float = 0.005
    swapped_other: float = 0.05
    one_part: float = 0.4
    other_parent: float = 0.1


def _cp1252_ok(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def cp1252_questions(s: str) -> str:
    """Letters Windows-1252 lacks written as "?"."""
    return "".join(ch if _cp1252_ok(ch) else "?" for ch in s)


def utf8_as_cp1252(s: str) -> str:
    """UTF-8 bytes decoded as Windows-1252 (undefined bytes kept as their control char)."""
    return "".join(
        bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in s.encode("utf-8")
    )


def cedilla(s: str) -> str:
    """Romanian comma-below s/t written with cedilla."""
    return unicodedata.normalize("NFC", s).translate(str.maketrans("ȘșȚț", "ŞşŢţ"))


def parts(surname: str) -> list[str]:
    return [p for p in surname.replace("-", " ").split() if p]


class NameCorrupter:
    """Applies :class:`NameVariants` to one system's copy of a child's names."""

    def __init__(self, variants: NameVariants, seed: int) -> None:
        self.v = variants
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 21]))

    def _both(self, first: str, last: str, change: Any) -> tuple[str, str]:
        return change(first), change(last)

    def health_visiting(self, first: str, last: str, errors: list[str]) -> tuple[str, str]:
        """Health visiting's copy: mojibake, Romanian cedilla, one surname part."""
        u = self.rng.random(3)
        if u[0] < self.v.cedilla and any(c in "ȘșȚț" for c in first + last):
            first, last = self._both(first, last, cedilla)
            errors.append("name_cedilla")
        if u[1] < self.v.mojibake and not (first + last).isascii():
            first, last = self._both(first, last, utf8_as_cp1252)
            errors.append("name_mojibake")
        if u[2] < self.v.one_part and len(parts(last)) > 1:
            last = parts(last)[int(self.rng.integers(0, 2)) * -1]
            errors.append("surname_one_part")
        return first, last

    def registrations(
        self,
        first: str,
        last: str,
        family: dict[str, Any],
        british: bool,
        errors: list[str],
    ) -> tuple[str, str]:
        """The registration system's copy: other parent's surname, one surname part, a
        Windows-1252 export, given and family names swapped."""
        u = self.rng.random(4)
        mother, father = str(family["mother_last"]), str(family["father_last"])
        if u[0] < self.v.other_parent and mother != father and last in (mother, father):
            last = father if last == mother else mother
            errors.append("surname_other_parent")
        elif u[1] < self.v.one_part and len(parts(last)) > 1:
            last = parts(last)[int(self.rng.integers(0, 2)) * -1]
            errors.append("surname_one_part")
        if u[2] < self.v.cp1252_export and not all(_cp1252_ok(c) for c in first + last):
            first, last = self._both(first, last, cp1252_questions)
            errors.append("name_cp1252_export")
        swap = self.v.swapped_british if british else self.v.swapped_other
        if u[3] < swap:
            first, last = last, first
            errors.append("names_swapped")
        return first, last
