"""The errors real extracts have, planted at low rates, and the ingest outcome each should get.

Every function takes the numpy Generator it may draw from (no global random state). The
expected outcome of a written row (:func:`expected_outcome`) follows the public contract in
``everyfamily.schema``: quarantine reasons for rows that cannot be used, quality flags for rows
that load with a known defect.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import numpy as np

from everyfamily.demo.nhs import is_valid
from everyfamily.schema import QUALITY_FLAGS, QUARANTINE_REASONS

#: A planted error kind -> what it is (the records truth lists these per row).
ERROR_KINDS: dict[str, str] = {
    "first_name_typo": "one-character slip in the child's given name",
    "last_name_typo": "one-character slip in the child's family name",
    "nickname": "the child's given name recorded as a common nickname",
    "first_name_missing": "birth notified before the baby was named",
    "surname_change": "the child's family name changed (mother remarried or hyphenated)",
    "dob_day_month_swap": "day and month of the date of birth swapped",
    "nhs_number_missing": "NHS number not recorded",
    "nhs_number_mistyped": "NHS number mistyped (digits swapped or changed)",
    "postcode_variant": "postcode in another format (lower case, no space, extra spaces)",
    "postcode_malformed": "postcode not in a valid UK format",
    "moved": "the family had moved: the row holds the other address",
    "duplicate_registration": "second registration of a child already registered",
    "dob_missing": "no date of birth",
    "dob_impossible": "date of birth that cannot exist (31 February, month 13)",
    "dob_future": "date of birth after the reference date",
    "dob_implausible": "date of birth a century out (keying slip in the year)",
    "dob_year_slip": "year of birth keyed six years early (the child looks over five)",
    "identity_missing": "no name and no NHS number",
    "event_date_impossible": "event date that cannot exist",
    "accents_lost": "letters the cp1252 births system cannot hold written without accents",
}

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def typo(rng: np.random.Generator, s: str) -> str:
    """One keying slip: substitute, delete, insert or transpose one letter (never the first)."""
    if len(s) < 3:
        return s + s[-1].lower()
    kind = int(rng.integers(0, 4))
    i = int(rng.integers(1, len(s) - 1))
    if kind == 0:
        new = _LETTERS[int(rng.integers(0, 26))]
        if new == s[i].lower():
            new = "e" if new != "e" else "a"
        return s[:i] + new + s[i + 1 :]
    if kind == 1:
        return s[:i] + s[i + 1 :]
    if kind == 2:
        return s[:i] + s[i] + s[i:]
    if s[i] == s[i + 1]:
        return s[:i] + s[i + 1 :]
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :]


def swap_day_month(d: dt.date) -> dt.date | None:
    """The date with day and month swapped, or None when the swap is a no-op or impossible."""
    if d.day > 12 or d.day == d.month:
        return None
    return dt.date(d.year, d.day, d.month)


def postcode_variant(rng: np.random.Generator, postcode: str) -> str:
    """The same postcode as people type it: lower case, no space, or extra spaces."""
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return postcode.lower()
    if kind == 1:
        return postcode.replace(" ", "")
    if kind == 2:
        return " " + postcode.replace(" ", "  ") + " "
    return postcode.replace(" ", "").lower()


def malformed_postcode(rng: np.random.Generator, postcode: str) -> str:
    """A postcode that is not a valid UK format (truncated, digits for letters, a note)."""
    outward, inward = postcode.split(" ")
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return f"{outward} {inward[:2]}"
    if kind == 1:
        return f"{outward} {inward[0]}{inward[1]}1"
    if kind == 2:
        return "NFA"
    return outward


def mistype_nhs(rng: np.random.Generator, nhs: str) -> str:
    """Swap two neighbouring different digits, or change one digit."""
    digits = list(nhs)
    if rng.random() < 0.5:
        for _ in range(10):
            i = int(rng.integers(0, 9))
            if digits[i] != digits[i + 1]:
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
                return "".join(digits)
    i = int(rng.integers(3, 10))
    digits[i] = str((int(digits[i]) + 1 + int(rng.integers(0, 8))) % 10)
    return "".join(digits)


@lru_cache(maxsize=65536)
def format_date(d: dt.date, fmt: str) -> str:
    """``d`` in a strptime format; %b is always the English abbreviation (locale-free)."""
    return (
        fmt.replace("%b", _MONTHS[d.month - 1])
        .replace("%d", f"{d.day:02d}")
        .replace("%m", f"{d.month:02d}")
        .replace("%Y", f"{d.year:04d}")
    )


def impossible_date(rng: np.random.Generator, fmt: str, year: int) -> str:
    """A string in ``fmt`` that names no real day: 30/31 February, or month 13."""
    if "%b" in fmt or rng.random() < 0.5:
        day, month = 30 + int(rng.integers(0, 2)), "02"
    else:
        day, month = int(rng.integers(1, 29)), "13"
    return (
        fmt.replace("%b", "Feb")
        .replace("%d", f"{day:02d}")
        .replace("%m", month)
        .replace("%Y", f"{year:04d}")
    )


@lru_cache(maxsize=65536)
def parse_date(text: str, fmt: str) -> dt.date | None:
    """Parse like the ingest does: strip, then strptime; None when empty or unreadable."""
    text = text.strip()
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def normal_postcode(text: str) -> str:
    return "".join(text.split()).upper()


@lru_cache(maxsize=65536)
def postcode_format_ok(text: str) -> bool:
    """True when ``text`` is a UK postcode in any spacing or case."""
    return _POSTCODE.match(normal_postcode(text)) is not None


@lru_cache(maxsize=65536)
def _nhs_ok(text: str) -> bool:
    return is_valid(text)


def age_years(dob: dt.date, on: dt.date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def expected_outcome(
    *,
    dob: str,
    dob_format: str,
    first_name: str,
    last_name: str,
    nhs_number: str,
    postcode: str,
    reference_date: dt.date,
    event_date: str | None = None,
    event_format: str | None = None,
    max_age_years: int = 4,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(quarantine reasons, quality flags) the contract gives a row with these written values."""
    reasons: list[str] = []
    flags: list[str] = []
    born = parse_date(dob, dob_format)
    if not dob.strip():
        reasons.append("missing_date_of_birth")
    elif born is None:
        reasons.append("invalid_date_of_birth")
    elif born > reference_date:
        reasons.append("date_of_birth_in_future")
    elif age_years(born, reference_date) >= 18:
        reasons.append("date_of_birth_out_of_range")
    has_names = bool(first_name.strip()) and bool(last_name.strip())
    if not has_names and not nhs_number.strip():
        reasons.append("missing_identity")
    event: dt.date | None = None
    if event_date is not None and event_format is not None:
        event = parse_date(event_date, event_format)
        if event_date.strip() and event is None:
            reasons.append("invalid_event_date")
    if reasons:  # a quarantined row is not loaded, so it carries no flags
        return tuple(reasons), ()
    if nhs_number.strip() and not _nhs_ok(nhs_number.strip()):
        flags.append("nhs_number_invalid")
    if postcode.strip() and not postcode_format_ok(postcode):
        flags.append("postcode_invalid")
    if born is not None and age_years(born, reference_date) > max_age_years:
        flags.append("outside_age_range")
    if born is not None and event is not None and event < born:
        flags.append("event_before_birth")
    unknown = [r for r in reasons if r not in QUARANTINE_REASONS] + [
        f for f in flags if f not in QUALITY_FLAGS
    ]
    if unknown:  # the contract moved under us: fail loudly rather than write wrong truth
        raise ValueError(f"codes not in everyfamily.schema: {unknown}")
    return tuple(reasons), tuple(flags)
