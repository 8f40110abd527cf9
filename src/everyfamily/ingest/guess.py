"""Guess how a council's extract maps onto the canonical fields (``everyfamily init``).

Pure functions over column names and a sample of cell text; no file I/O (``ingest/draft.py``
reads the files and writes the project file). Each guess carries a confidence in [0, 1] and
the evidence behind it, so the drafted project file can say what it is sure of and what the
analyst must check.

Why our own code: column-mapping tools (e.g. schema matchers in data-integration suites) need
a target schema with training data or ontologies; ours is sixteen fields with well-known
spellings in UK council systems, so a table of spellings plus value-shape checks (NHS
modulus 11, the UK postcode pattern, dates that parse, sex codes) is simpler and explainable.

A guess never returns a cell value: only column names, shares and formats, so that nothing
drafted from a file can carry a person's data into the project file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from everyfamily.ingest import rules
from everyfamily.schema import CANONICAL_NAMES

#: Spellings of each canonical field's column in council systems (normalised: lower case,
#: words separated by one space). An exact match scores 1; a column containing all the words
#: of a spelling scores 0.85; otherwise the best difflib ratio, scaled down.
SPELLINGS: dict[str, tuple[str, ...]] = {
    "record_id": (
        "record id",
        "id",
        "ref",
        "reference",
        "record no",
        "row id",
        "notification no",
        "notification number",
        "notification id",
        "contact ref",
        "contact id",
        "reg id",
        "regid",
        "registration id",
        "attendance id",
        "event id",
        "unique id",
        "key",
    ),
    "nhs_number": ("nhs number", "nhs no", "nhs", "nhs num", "nhsnumber", "nhs id"),
    "first_name": (
        "first name",
        "forename",
        "given name",
        "child first name",
        "child forename",
        "baby forename",
        "baby first name",
        "firstname",
        "child given name",
        "forenames",
    ),
    "last_name": (
        "last name",
        "surname",
        "family name",
        "child last name",
        "child surname",
        "baby surname",
        "lastname",
        "child family name",
    ),
    "date_of_birth": (
        "date of birth",
        "dob",
        "birth date",
        "birthdate",
        "child dob",
        "child date of birth",
        "baby dob",
        "d o b",
    ),
    "sex": ("sex", "gender", "child sex", "child gender", "baby sex"),
    "postcode": (
        "postcode",
        "post code",
        "postal code",
        "pcode",
        "child postcode",
        "home postcode",
    ),
    "address": ("address", "address line 1", "address 1", "street", "home address", "addr1"),
    "parent_first_name": (
        "parent first name",
        "parent forename",
        "mother forename",
        "mother first name",
        "carer forename",
        "parent carer forename",
        "parent carer first name",
        "father forename",
        "guardian forename",
    ),
    "parent_last_name": (
        "parent last name",
        "parent surname",
        "mother surname",
        "mother last name",
        "carer surname",
        "parent carer surname",
        "parent carer last name",
        "father surname",
        "guardian surname",
    ),
    "mother_country_of_birth": (
        "mother country of birth",
        "country of birth",
        "cob",
        "mother cob",
        "maternal country of birth",
        "birth country",
    ),
    "main_language": (
        "main language",
        "first language",
        "home language",
        "language",
        "preferred language",
        "language spoken",
    ),
    "ethnicity": ("ethnicity", "ethnic group", "ethnic origin", "ethnic category", "ethnic code"),
    "event_date": (
        "event date",
        "contact date",
        "session date",
        "attendance date",
        "registered on",
        "registration date",
        "date registered",
        "visit date",
        "date of contact",
        "date",
    ),
    "event_type": (
        "event type",
        "contact type",
        "session type",
        "activity",
        "visit type",
        "activity type",
        "service",
    ),
    "site": ("site", "centre", "center", "venue", "venue code", "site code", "location", "hub"),
    "interpreter_needed": ("interpreter needed", "interpreter", "interpreter required"),
}

#: Words that say a column is about the parent, not the child.
_PARENT_WORDS = frozenset({"parent", "mother", "carer", "father", "guardian", "mum", "maternal"})

#: Strptime formats tried on date columns, UK day-first before US month-first.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d/%m/%y",
    "%Y%m%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
)

_DATE_FIELDS = ("date_of_birth", "event_date")
_NAME_FIELDS = ("first_name", "last_name", "parent_first_name", "parent_last_name")
ACCEPT = 0.55  # a mapping at or above this confidence is written; below, commented out

_WORDS = re.compile(r"[^0-9a-z]+")


def normalise_header(name: str) -> str:
    """Lower case, words separated by single spaces ('Child_DOB' -> 'child dob')."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name.strip())
    return " ".join(w for w in _WORDS.split(spaced.lower()) if w)


def name_score(header: str, canonical: str) -> float:
    """How much a column header reads like ``canonical`` (0-1), from :data:`SPELLINGS`."""
    norm = normalise_header(header)
    if not norm:
        return 0.0
    words = set(norm.split())
    parentish = bool(words & _PARENT_WORDS)
    wants_parent = canonical.startswith("parent_") or canonical == "mother_country_of_birth"
    best = 0.0
    for spelling in SPELLINGS.get(canonical, (canonical.replace("_", " "),)):
        if norm == spelling or norm.replace(" ", "") == spelling.replace(" ", ""):
            score = 1.0
        elif set(spelling.split()) <= words and len(spelling) > 2:
            score = 0.85
        else:
            score = 0.8 * difflib.SequenceMatcher(None, norm, spelling).ratio()
        best = max(best, score)
    if parentish and not wants_parent and canonical in _NAME_FIELDS:
        best *= 0.3  # 'Mother Forename' is not the child's first name
    if canonical in ("parent_first_name", "parent_last_name") and not parentish:
        best *= 0.5
    return best


# --- value shapes ------------------------------------------------------------------------------


def _present(values: Sequence[str | None]) -> list[str]:
    return [v.strip() for v in values if v is not None and v.strip()]


def date_format_share(values: Sequence[str | None], fmt: str) -> float:
    """Share of the non-blank ``values`` that ``fmt`` reads (strptime)."""
    vals = _present(values)
    if not vals:
        return 0.0
    ok = 0
    for v in vals:
        try:
            dt.datetime.strptime(v, fmt)
            ok += 1
        except ValueError:
            continue
    return ok / len(vals)


#: Distinct values a date format is tried on (strptime is slow; a few hundred decide it).
DATE_SAMPLE = 300


def guess_date_format(values: Sequence[str | None]) -> tuple[str | None, float]:
    """(best strptime format, share of non-blank values it reads); (None, 0) if none fits.

    Excel and Parquet dates arrive as ISO text (readers.py), so ISO wins for them. Among
    formats that read the same share, the first in :data:`DATE_FORMATS` (day-first) wins.
    Shares are over the first :data:`DATE_SAMPLE` distinct non-blank values.
    """
    distinct = list(dict.fromkeys(_present(values)))[:DATE_SAMPLE]
    best: tuple[str | None, float] = (None, 0.0)
    for fmt in DATE_FORMATS:
        share = date_format_share(distinct, fmt)
        if share > best[1] + 1e-9:
            best = (fmt, share)
    return best


def _share(values: Sequence[str | None], test: Callable[[str], bool]) -> float:
    vals = _present(values)
    if not vals:
        return 0.0
    return sum(1 for v in vals if test(v)) / len(vals)


def _is_nhs(v: str) -> bool:
    digits = rules.clean_nhs_number(v)
    return digits is not None and rules.nhs_check_digit_ok(digits)


def _is_postcode(v: str) -> bool:
    return rules.postcode_is_valid(rules.normalise_postcode(v))


def _is_sex(v: str) -> bool:
    return v.casefold() in rules.BUILTIN_SEX


_NAMEISH = re.compile(r"^[^\W\d_][^\W\d_ '\-]*(?:[ '\-][^\W\d_]+)*$")


def value_score(canonical: str, values: Sequence[str | None]) -> float | None:
    """How well the sample's values fit ``canonical`` (0-1), or None when the shape says
    nothing (free text, codes with no fixed vocabulary)."""
    vals = _present(values)
    if not vals:
        return 0.0
    if canonical in _DATE_FIELDS:
        return guess_date_format(vals)[1]
    if canonical == "nhs_number":
        return _share(vals, _is_nhs)
    if canonical == "postcode":
        return _share(vals, _is_postcode)
    if canonical == "sex":
        distinct = {v.casefold() for v in vals}
        return 1.0 if len(distinct) <= 6 and _share(vals, _is_sex) >= 0.9 else 0.2
    if canonical in _NAME_FIELDS:
        return _share(vals, lambda v: bool(_NAMEISH.match(v)) and len(v) < 40)
    if canonical == "record_id":
        return len(set(vals)) / len(vals)
    return None


# --- the guess -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnGuess:
    """One canonical field's best column, with confidence and the evidence in words."""

    field: str
    column: str
    confidence: float
    evidence: str

    @property
    def accepted(self) -> bool:
        return self.confidence >= ACCEPT


@dataclass(frozen=True)
class SourceGuess:
    """The guessed mapping of one extract: role, columns, date formats."""

    role: str
    role_confidence: float
    mappings: tuple[ColumnGuess, ...]
    date_formats: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    unused_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> dict[str, str]:
        """Accepted canonical field -> column."""
        return {m.field: m.column for m in self.mappings if m.accepted}


def _score(
    column: str, canonical: str, values: Sequence[str | None], date_fit: float | None = None
) -> tuple[float, str]:
    ns = name_score(column, canonical)
    vs = date_fit if canonical in _DATE_FIELDS and date_fit is not None else None
    if vs is None:
        vs = value_score(canonical, values)
    if vs is None:
        return ns, f"name {ns:.2f}"
    if canonical in (*_DATE_FIELDS, "nhs_number", "postcode") and vs < 0.5:
        return min(ns, vs), f"name {ns:.2f}, values fit {vs:.0%}"  # the shape vetoes
    return 0.65 * ns + 0.35 * vs, f"name {ns:.2f}, values fit {vs:.0%}"


def guess_columns(
    columns: Sequence[str],
    samples: Mapping[str, Sequence[str | None]],
    fields: Sequence[str] = CANONICAL_NAMES,
) -> tuple[tuple[ColumnGuess, ...], tuple[str, ...]]:
    """Assign columns to canonical fields greedily by confidence, one column per field.

    Returns (guesses for every field that got any candidate, columns left unassigned).
    """
    scored: list[tuple[float, str, str, str]] = []
    for col in columns:
        vals = samples.get(col, ())
        date_fit = guess_date_format(vals)[1]  # once per column, shared by both date fields
        for f in fields:
            conf, why = _score(col, f, vals, date_fit)
            if conf > 0.3:
                scored.append((conf, f, col, why))
    scored.sort(key=lambda t: (-t[0], fields.index(t[1]), columns.index(t[2])))
    taken_fields: set[str] = set()
    taken_cols: set[str] = set()
    out: list[ColumnGuess] = []
    for conf, f, col, why in scored:
        if f in taken_fields or col in taken_cols:
            continue
        taken_fields.add(f)
        taken_cols.add(col)
        out.append(ColumnGuess(f, col, round(conf, 2), why))
    out.sort(key=lambda g: fields.index(g.field))
    unused = tuple(c for c in columns if c not in taken_cols)
    return tuple(out), unused


#: Words in a file name or its columns that point to a role (weights are votes).
_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "births": ("birth", "births", "notification", "notifications", "baby", "maternity"),
    "health_visiting": ("hv", "health", "visiting", "visit", "contact", "contacts", "review"),
    "registrations": ("registration", "registrations", "registered", "register", "reg"),
    "attendances": ("attendance", "attendances", "attended", "session", "sessions"),
}


def guess_role(
    file_name: str, columns: Sequence[str], mapped: Mapping[str, str]
) -> tuple[str, float]:
    """(role, confidence) from the file name, the column names and which fields it has."""
    votes = dict.fromkeys(_ROLE_WORDS, 0.0)
    stem_words = set(normalise_header(file_name.rsplit(".", 1)[0]).split())
    col_words = set(" ".join(normalise_header(c) for c in columns).split())
    for role, words in _ROLE_WORDS.items():
        votes[role] += 2.0 * len(stem_words & set(words)) + 0.5 * len(col_words & set(words))
    has = set(mapped)
    if "event_date" not in has and "site" not in has:
        votes["births"] += 1.5
    if "site" in has:
        votes["registrations"] += 0.5
        votes["attendances"] += 0.5
    if "event_type" in has and "site" not in has:
        votes["health_visiting"] += 1.0
    total = sum(votes.values())
    role = max(votes, key=lambda r: votes[r])
    if total == 0:
        return "registrations", 0.0
    return role, round(votes[role] / total, 2)


def guess_source(
    file_name: str, columns: Sequence[str], samples: Mapping[str, Sequence[str | None]]
) -> SourceGuess:
    """The whole guess for one extract."""
    mappings, unused = guess_columns(columns, samples)
    accepted = {m.field: m.column for m in mappings if m.accepted}
    role, role_conf = guess_role(file_name, columns, accepted)
    formats: dict[str, tuple[str, float]] = {}
    for f in _DATE_FIELDS:
        if f in accepted:
            fmt, share = guess_date_format(samples.get(accepted[f], ()))
            if fmt is not None:
                formats[f] = (fmt, round(share, 3))
    return SourceGuess(role, role_conf, mappings, formats, unused)


def match_sites(
    values: Sequence[str], site_ids: Sequence[str], site_names: Sequence[str]
) -> dict[str, str | None]:
    """Each distinct site value -> a site id (exact id, exact or near name), else None.

    Site names and codes are not personal data; they are the council's own venue labels.
    """
    by_id = {s.casefold(): s for s in site_ids}
    by_name = {normalise_header(n): i for n, i in zip(site_names, site_ids, strict=True)}
    out: dict[str, str | None] = {}
    for v in sorted(set(values)):
        key = v.strip()
        if key.casefold() in by_id:
            out[v] = by_id[key.casefold()]
            continue
        norm = normalise_header(key)
        if norm in by_name:
            out[v] = by_name[norm]
            continue
        close = difflib.get_close_matches(norm, list(by_name), n=1, cutoff=0.85)
        out[v] = by_name[close[0]] if close else None
    return out
