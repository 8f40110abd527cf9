"""Map a source's columns onto the canonical fields, validate, and split rows into the
standardised ``records`` and the ``quarantine``.

Pure: a :class:`~everyfamily.ingest.readers.RawBatch` and the source's settings in, two Arrow
tables out; nothing is read or written here. Every input row ends in exactly one of the two
tables, so rows read = rows loaded + rows quarantined by construction (and the stage checks).

Duplicate record ids (docs/input-contract.md): the first row with a given record id (in file
order) is the one that counts; a later row with the same id goes to quarantine, as
``duplicate_row`` when it is an exact copy of that first row, or ``duplicate_record_id`` when
its content differs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from everyfamily.config import SourceSettings
from everyfamily.errors import ConfigError, InputError
from everyfamily.ingest import codelists, rules
from everyfamily.ingest.postcodes import MIN_SECTOR_POSTCODES, Placement, PostcodePlacer
from everyfamily.ingest.postcodes import postcode_row as _postcode_row
from everyfamily.ingest.quarantine_rows import (
    QUARANTINE_SCHEMA,
    UNREADABLE_KEY,
    json_objects,
)
from everyfamily.ingest.quarantine_rows import find_duplicates as _duplicates
from everyfamily.ingest.quarantine_rows import quarantine_table as _quarantine_table
from everyfamily.ingest.readers import RawBatch
from everyfamily.schema import (
    ETHNICITY_2021,
    QUALITY_FLAGS,
    QUARANTINE_REASONS,
    RECORDS_COLUMNS,
    SEX_VALUES,
)

#: Arrow types of the ``records`` table (the store's DDL mirrors these in store.py).
RECORDS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("role", pa.string()),
        ("service_type", pa.string()),
        ("record_id", pa.string()),
        ("row_number", pa.int64()),
        ("batch_id", pa.string()),
        ("nhs_number", pa.string()),
        ("nhs_number_valid", pa.bool_()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("first_name_match", pa.string()),
        ("last_name_match", pa.string()),
        ("date_of_birth", pa.date32()),
        ("sex", pa.string()),
        ("postcode", pa.string()),
        ("postcode_valid", pa.bool_()),
        ("postcode_sector", pa.string()),
        ("postcode_district", pa.string()),
        ("area_code", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("address", pa.string()),
        ("parent_first_name", pa.string()),
        ("parent_last_name", pa.string()),
        ("parent_first_name_match", pa.string()),
        ("parent_last_name_match", pa.string()),
        ("mother_country_of_birth", pa.string()),
        ("main_language", pa.string()),
        ("ethnicity", pa.string()),
        ("event_date", pa.date32()),
        ("event_type", pa.string()),
        ("site", pa.string()),
        ("interpreter_needed", pa.bool_()),
        ("flags", pa.list_(pa.string())),
        ("extra", pa.string()),
    ]
)
if tuple(RECORDS_SCHEMA.names) != RECORDS_COLUMNS:  # guard: the contract lives in schema.py
    raise RuntimeError("RECORDS_SCHEMA is out of step with schema.RECORDS_COLUMNS")

#: Fields whose values a source's ``value_maps`` may translate.
MAPPABLE_FIELDS: frozenset[str] = frozenset(
    {
        "sex",
        "ethnicity",
        "site",
        "event_type",
        "main_language",
        "mother_country_of_birth",
        "interpreter_needed",
    }
)
#: Coded fields: each goes through a ValueMapper, so missing values (codelists.MISSING_VALUES
#: and the source's extra_missing_values) are read as not recorded in every one of them.
CODED_FIELDS: tuple[str, ...] = (
    "sex",
    "ethnicity",
    "mother_country_of_birth",
    "main_language",
    "event_type",
    "site",
    "interpreter_needed",
)
_NAME_FIELDS = ("first_name", "last_name", "parent_first_name", "parent_last_name")
#: A date of birth giving an age of 18 or more on the reference date is not an early-years
#: record (the Children Act 1989 defines a child as under 18): quarantined as out of range.
MAX_PLAUSIBLE_AGE = 18
__all__ = [
    "MIN_SECTOR_POSTCODES",
    "QUARANTINE_SCHEMA",
    "UNREADABLE_KEY",
    "Placement",
    "PostcodePlacer",
    "Standardised",
    "json_objects",
    "standardise",
]


@dataclass(frozen=True)
class Standardised:
    """The outcome for one source batch: the loadable rows and the quarantined ones."""

    source: str
    batch_id: str
    location: str
    rows_read: int
    records: pa.Table
    quarantine: pa.Table

    @property
    def rows_loaded(self) -> int:
        return int(self.records.num_rows)

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine.num_rows)


# --- Helpers ---------------------------------------------------------------------------------


def resolve_column(wanted: str, columns: Sequence[str], *, location: str, setting: str) -> str:
    """The file's column for a mapped name: exact, else the one column equal to it ignoring
    case and surrounding spaces. Raises InputError naming the column and listing those there."""
    if wanted in columns:
        return wanted
    key = wanted.strip().casefold()
    close = [c for c in columns if c.strip().casefold() == key]
    if len(close) == 1:
        return close[0]
    if not columns_look_like_headers(columns):
        # A file without a header row (or with the header further down) has a record where
        # the names should be: listing them would print a person's details in an error.
        raise InputError(
            f"{location}: column {wanted!r} ({setting}) is not in the file, and the file's "
            f"first row looks like data, not a header row ({len(columns)} columns)",
            hint="export the file with its header row, or set options.skip_rows to the "
            "number of lines above it",
        )
    shown = [str(c) for c in columns[:_MAX_LISTED]]
    more = f" and {len(columns) - _MAX_LISTED} more" if len(columns) > _MAX_LISTED else ""
    listed = ", ".join(repr(c) for c in shown) + more
    raise InputError(
        f"{location}: column {wanted!r} ({setting}) is not in the file; its columns are: {listed}",
        hint=f"fix {setting} in the project file",
    )


_MAX_LISTED = 40
#: What a header name looks like: a short label starting with a letter, of letters, digits,
#: spaces and the punctuation column names use; never a run of five or more digits (NHS
#: numbers, phone numbers), a date, a postcode or an e-mail address.
_HEADER_NAME = re.compile(r"^[^\W\d][\w .()#/&:-]{0,59}$")
_DATA_LIKE = re.compile(
    r"\d{5,}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|@|"
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b",  # a UK postcode
    re.IGNORECASE,
)


def columns_look_like_headers(columns: Sequence[object]) -> bool:
    """True when every column name looks like a header label rather than a value.

    Used before any error lists a file's column names, so that a file whose first row is a
    record (no header, or a shifted header) never has that record printed. pandas' own
    names for blank header cells ('Unnamed: 3') count as headers.
    """
    for c in columns:
        name = str(c).strip()
        if not name or name.startswith("Unnamed:"):
            continue
        if _DATA_LIKE.search(name) or not _HEADER_NAME.match(name):
            return False
    return True


def _map_many(
    arr: pa.Array, func: Callable[[Any], tuple[Any, ...]], types: Sequence[pa.DataType]
) -> list[pa.Array]:
    """Like :func:`rules.map_unique` for a function returning several values."""
    uniq = pc.unique(arr)
    results = [func(v) for v in uniq.to_pylist()]
    idx = pc.index_in(arr, value_set=uniq, skip_nulls=False)
    out = []
    for k, t in enumerate(types):
        out.append(pc.take(pa.array([r[k] for r in results], type=t), idx))
    return out


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean Arrow array -> NumPy bool with NULL as False."""
    filled = pc.fill_null(arr, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def code_lists(masks: Mapping[str, np.ndarray], n: int) -> pa.Array:
    """A list<string> array: for each row the codes whose mask is true, in mapping order."""
    codes = list(masks)
    if not codes:
        return pa.array([[] for _ in range(n)], type=pa.list_(pa.string()))
    matrix = np.column_stack([masks[c] for c in codes]) if n else np.zeros((0, len(codes)), bool)
    rows, cols = np.nonzero(matrix)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(matrix.sum(axis=1), out=offsets[1:])
    values = pa.array(np.asarray(codes, dtype=object)[cols], type=pa.string())
    del rows
    return pa.ListArray.from_arrays(pa.array(offsets), values)


# --- The standardisation ---------------------------------------------------------------------


#: A function giving a source's text column for a canonical field (all NULL when unmapped).
TextOf = Callable[[str], pa.Array]


def standardise(
    raw: RawBatch,
    source: SourceSettings,
    *,
    reference_date: dt.date,
    min_age_years: int = 0,
    max_age_years: int = 4,
    placer: PostcodePlacer | None = None,
) -> Standardised:
    """Validate and standardise one batch; see docs/input-contract.md for every rule."""
    n = raw.rows_read
    loc = raw.location
    text, keep_cols = _columns(raw, source)
    unreadable = (
        _mask(pc.is_valid(raw.unreadable)) if raw.unreadable is not None else np.zeros(n, bool)
    )
    reasons: dict[str, np.ndarray] = {}
    flags: dict[str, np.ndarray] = {}

    # record id and duplicates
    record_id = text("record_id")
    reasons["missing_record_id"] = ~_mask(pc.is_valid(record_id)) & ~unreadable
    dup_row, dup_id = _duplicates(raw, record_id, unreadable)
    reasons["duplicate_record_id"] = dup_id
    reasons["duplicate_row"] = dup_row

    dates = _dates_of_birth(text, source, reference_date, unreadable, reasons)
    names, nhs_clean, has_nhs = _identity(text, source, n, unreadable, reasons, flags)

    # event date
    ev_text = text("event_date")
    ev_formats = _formats(source, "event_date")
    event = rules.map_unique(ev_text, lambda v: rules.parse_date(v, ev_formats), pa.date32())
    reasons["invalid_event_date"] = _mask(pc.is_valid(ev_text)) & ~_mask(pc.is_valid(event))

    nhs_number, nhs_valid_arr = _nhs_numbers(nhs_clean, has_nhs, n, flags)
    pc_out = _postcodes(text, placer, flags)

    # age on the reference date
    ages, in_future, too_old, dob = dates.ages, dates.in_future, dates.too_old, dates.dob
    flags["outside_age_range"] = (
        (_mask(pc.greater(ages, max_age_years)) | _mask(pc.less(ages, min_age_years)))
        & ~in_future
        & ~too_old
    )
    flags["event_before_birth"] = _mask(pc.less(event, dob))
    flags["event_date_in_future"] = _mask(pc.greater(event, dates.ref))

    name_out = _name_forms(names)
    coded = _coded(text, source, n, flags)
    reasons, flags = _ordered_codes(reasons, flags, unreadable)
    bad = np.zeros(n, dtype=bool)
    for m in reasons.values():
        bad |= m
    good_idx = pa.array(np.flatnonzero(~bad))
    bad_idx = pa.array(np.flatnonzero(bad))
    row_number = pa.array(np.arange(1, n + 1, dtype=np.int64))

    extra = (
        json_objects(
            [(k, rules.blank_to_null(raw.table.column(c).combine_chunks())) for k, c in keep_cols],
            n,
        )
        if keep_cols
        else pa.nulls(n, pa.string())
    )
    postcode, pc_valid, sector, district, area, lat, lon, _by_sector = pc_out
    columns: dict[str, Any] = {
        "record_id": record_id,
        "row_number": row_number,
        "nhs_number": nhs_number,
        "nhs_number_valid": nhs_valid_arr,
        **name_out,
        "date_of_birth": dob,
        "sex": coded["sex"],
        "postcode": postcode,
        "postcode_valid": pc_valid,
        "postcode_sector": sector,
        "postcode_district": district,
        "area_code": area,
        "latitude": lat,
        "longitude": lon,
        "address": coded["address"],
        "mother_country_of_birth": coded["mother_country_of_birth"],
        "main_language": coded["main_language"],
        "ethnicity": coded["ethnicity"],
        "event_date": event,
        "event_type": coded["event_type"],
        "site": coded["site"],
        "interpreter_needed": coded["interpreter_needed"],
        "flags": code_lists(flags, n),
        "extra": extra,
    }
    records = _records_table(raw, source, columns, good_idx)
    quarantine = _quarantine_table(
        raw, source.name, record_id, row_number, code_lists(reasons, n), bad_idx, unreadable
    )
    return Standardised(source.name, raw.batch_id, loc, n, records, quarantine)


def _columns(raw: RawBatch, source: SourceSettings) -> tuple[TextOf, list[tuple[str, str]]]:
    """Check the source's settings against the file; the reader of each canonical field's
    text (a constant, the mapped column, or NULL) and the columns kept as they are."""
    n = raw.rows_read
    loc = raw.location
    bad_fields = sorted(set(source.value_maps) - MAPPABLE_FIELDS)
    if bad_fields:
        raise ConfigError(
            f"source {source.name!r}: value_maps.{bad_fields[0]} is not supported",
            hint="value maps apply to " + ", ".join(sorted(MAPPABLE_FIELDS)),
        )
    check_constants(source)
    src_cols = {
        field: resolve_column(col, raw.columns, location=loc, setting=f"columns.{field}")
        for field, col in source.columns.items()
    }
    keep_cols = [
        (k, resolve_column(k, raw.columns, location=loc, setting="keep_columns"))
        for k in source.keep_columns
    ]

    def text(field: str) -> pa.Array:
        if field in source.constants:
            return rules.blank_to_null(pa.array([source.constants[field]] * n, pa.string()))
        if field not in src_cols:
            return pa.nulls(n, pa.string())
        col = raw.table.column(src_cols[field]).combine_chunks()
        return rules.blank_to_null(col)

    return text, keep_cols


@dataclass(frozen=True)
class _Dates:
    """Dates of birth parsed, ages on the reference date, and the implausible ones."""

    dob: pa.Array
    ages: pa.Array
    in_future: np.ndarray
    too_old: np.ndarray
    ref: pa.Scalar


def _dates_of_birth(
    text: TextOf,
    source: SourceSettings,
    reference_date: dt.date,
    unreadable: np.ndarray,
    reasons: dict[str, np.ndarray],
) -> _Dates:
    """Parse dates of birth; set the date-of-birth quarantine reasons."""
    dob_text = text("date_of_birth")
    dob_formats = _formats(source, "date_of_birth")
    dob = rules.map_unique(dob_text, lambda v: rules.parse_date(v, dob_formats), pa.date32())
    dob_present = _mask(pc.is_valid(dob_text))
    dob_ok = _mask(pc.is_valid(dob))
    ref = pa.scalar(reference_date, pa.date32())
    ages = rules.map_unique(
        dob, lambda d: None if d is None else rules.age_in_years(d, reference_date), pa.int32()
    )
    in_future = _mask(pc.greater(dob, ref))
    too_old = _mask(pc.greater_equal(ages, MAX_PLAUSIBLE_AGE)) & ~in_future
    reasons["missing_date_of_birth"] = ~dob_present & ~unreadable
    reasons["invalid_date_of_birth"] = dob_present & ~dob_ok
    reasons["date_of_birth_in_future"] = in_future
    reasons["date_of_birth_out_of_range"] = too_old
    return _Dates(dob, ages, in_future, too_old, ref)


def _identity(
    text: TextOf,
    source: SourceSettings,
    n: int,
    unreadable: np.ndarray,
    reasons: dict[str, np.ndarray],
    flags: dict[str, np.ndarray],
) -> tuple[dict[str, pa.Array], pa.Array, np.ndarray]:
    """Identity: both names, or an NHS number; a placeholder name (BABY, TWIN 1 ...) is
    none. Returns the names (placeholders blanked), the cleaned NHS number text and which
    rows have one."""
    placeholders = {
        family: codelists.PlaceholderNames(source.extra_placeholder_names, family=family)
        for family in (False, True)
    }
    names: dict[str, pa.Array] = {}
    placeholder = np.zeros(n, dtype=bool)
    for f in _NAME_FIELDS:
        given = text(f)
        hit = rules.map_unique(given, placeholders[f.endswith("last_name")].of_name, pa.bool_())
        placeholder |= _mask(hit)
        names[f] = pc.if_else(hit, pa.scalar(None, pa.string()), given)
    flags["placeholder_name"] = placeholder
    nhs_clean = rules.blank_to_null(pc.replace_substring_regex(text("nhs_number"), r"[\s\-]+", ""))
    has_names = _mask(pc.is_valid(names["first_name"])) & _mask(pc.is_valid(names["last_name"]))
    has_nhs = _mask(pc.is_valid(nhs_clean))
    reasons["missing_identity"] = ~has_names & ~has_nhs & ~unreadable
    return names, nhs_clean, has_nhs


def _nhs_numbers(
    nhs_clean: pa.Array, has_nhs: np.ndarray, n: int, flags: dict[str, np.ndarray]
) -> tuple[pa.Array, pa.Array]:
    """NHS number: 10 digits kept (valid or not); anything else NULL; all invalid ones
    flagged (modulus 11 check digit)."""
    ten = _mask(pc.match_substring_regex(nhs_clean, r"^[0-9]{10}$"))
    nhs_valid = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(ten)
    if idx.size:
        digits = nhs_clean.take(pa.array(idx)).to_numpy(zero_copy_only=False)
        nhs_valid[idx] = rules.nhs_check_vector(digits.astype("S10"))
    nhs_number = pc.if_else(pa.array(ten), nhs_clean, pa.scalar(None, pa.string()))
    nhs_valid_arr = pa.array(nhs_valid, mask=~has_nhs)
    flags["nhs_number_invalid"] = has_nhs & ~nhs_valid
    return nhs_number, nhs_valid_arr


def _postcodes(
    text: TextOf, placer: PostcodePlacer | None, flags: dict[str, np.ndarray]
) -> list[pa.Array]:
    """Postcode, valid, sector, district, area, latitude, longitude, placed by sector."""
    pc_text = text("postcode")
    pc_out = _map_many(
        pc_text,
        lambda v: _postcode_row(v, placer),
        [
            pa.string(),
            pa.bool_(),
            pa.string(),
            pa.string(),
            pa.string(),
            pa.float64(),
            pa.float64(),
            pa.bool_(),
        ],
    )
    pc_valid, area, by_sector = pc_out[1], pc_out[4], pc_out[7]
    pc_present = _mask(pc.is_valid(pc_text))
    pc_valid_np = _mask(pc_valid)
    flags["postcode_invalid"] = pc_present & ~pc_valid_np
    flags["postcode_unknown"] = pc_valid_np & ~_mask(pc.is_valid(area))
    flags["postcode_placed_by_sector"] = _mask(by_sector)
    return list(pc_out)


def _name_forms(names: Mapping[str, pa.Array]) -> dict[str, pa.Array]:
    """Names: normalised display form and folded match form."""
    name_out: dict[str, pa.Array] = {}
    for f in _NAME_FIELDS:
        disp, match = _map_many(
            names[f],
            lambda v: (rules.normalise_name(v), rules.fold_name(v)),
            [pa.string(), pa.string()],
        )
        name_out[f] = disp
        name_out[f"{f}_match"] = match
    return name_out


def _coded(
    text: TextOf, source: SourceSettings, n: int, flags: dict[str, np.ndarray]
) -> dict[str, pa.Array]:
    """Coded and free-text fields, through the value maps (``interpreter_needed`` as a
    boolean)."""
    unmapped = np.zeros(n, dtype=bool)
    coded: dict[str, pa.Array] = {}
    mappers = coded_mappers(source)
    for f in CODED_FIELDS:
        cleaned = rules.map_unique(text(f), rules.clean_text)
        value, miss = _map_many(cleaned, mappers[f], [pa.string(), pa.bool_()])
        coded[f] = value
        unmapped |= _mask(miss)
    coded["address"] = rules.map_unique(text("address"), rules.clean_text)
    coded["sex"] = pc.fill_null(coded["sex"], "unknown")
    flags["unmapped_value"] = unmapped
    coded["interpreter_needed"] = pc.equal(coded["interpreter_needed"], "yes")
    return coded


def _ordered_codes(
    reasons: dict[str, np.ndarray], flags: dict[str, np.ndarray], unreadable: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Unreadable rows carry only that reason; codes checked and ordered as the contract
    lists them."""
    for code in reasons:
        reasons[code] = reasons[code] & ~unreadable
    for code in flags:
        flags[code] = flags[code] & ~unreadable
    reasons["unreadable_row"] = unreadable
    _check_codes(reasons, QUARANTINE_REASONS, "quarantine reason")
    _check_codes(flags, QUALITY_FLAGS, "quality flag")
    return (
        {c: reasons[c] for c in QUARANTINE_REASONS if c in reasons},
        {c: flags[c] for c in QUALITY_FLAGS if c in flags},
    )


def _records_table(
    raw: RawBatch, source: SourceSettings, columns: Mapping[str, Any], good_idx: pa.Array
) -> pa.Table:
    """The loadable rows as the ``records`` table (RECORDS_SCHEMA)."""
    const = {
        "source": source.name,
        "role": source.role,
        "service_type": str(source.kind),
        "batch_id": raw.batch_id,
    }
    n_good = len(good_idx)
    return pa.table(
        {
            name: (
                pa.array([const[name]] * n_good, type=RECORDS_SCHEMA.field(name).type)
                if name in const
                else pc.take(columns[name], good_idx).cast(RECORDS_SCHEMA.field(name).type)
            )
            for name in RECORDS_COLUMNS
        },
        schema=RECORDS_SCHEMA,
    )


def coded_mappers(source: SourceSettings) -> dict[str, rules.ValueMapper]:
    """One ValueMapper per coded field for this source: its value map first, then the
    missing values (built-in plus ``extra_missing_values``), then the built-in code lists
    (codelists.py; listed in docs/code-lists.md)."""
    missing = codelists.missing_keys(source.extra_missing_values)
    maps = source.value_maps
    out = {
        "sex": rules.ValueMapper(
            maps.get("sex"),
            builtin=rules.BUILTIN_SEX,
            allowed=SEX_VALUES,
            fallback="unknown",
            missing=missing,
        ),
        "ethnicity": rules.ValueMapper(
            maps.get("ethnicity"),
            allowed=tuple(ETHNICITY_2021),
            fallback=None,
            recognise=codelists.recognise_ethnicity,
            missing=missing | codelists.missing_keys(codelists.ETHNICITY_MISSING_VALUES),
        ),
        "interpreter_needed": rules.ValueMapper(
            maps.get("interpreter_needed"),
            allowed=("yes", "no"),
            fallback=None,
            recognise=lambda v: codelists.YES_NO_FORMS.get(codelists.code_key(v)),
            missing=missing,
        ),
    }
    for f in CODED_FIELDS:
        if f not in out:
            out[f] = rules.ValueMapper(maps.get(f), missing=missing)
    return out


def check_constants(source: SourceSettings) -> None:
    """A source's ``constants`` must each read as a value (not missing, not unmapped, a date
    in the field's format): a constant is written once and applies to every row, so a wrong
    one is a configuration error, not a row's problem."""
    mappers = coded_mappers(source)
    for field, value in source.constants.items():
        setting = f"source {source.name!r}: constants.{field} = {value!r}"
        if field in mappers:
            got, unmapped = mappers[field](rules.clean_text(value))
            if got is None or unmapped:
                raise ConfigError(
                    f"{setting} is not a recognised value "
                    f"({'a missing value' if got is None and not unmapped else 'unmapped'})",
                    hint=f"give a canonical value (docs/code-lists.md) or add it to "
                    f"value_maps.{field}",
                )
        elif rules.parse_date(value, _formats(source, field)) is None:
            raise ConfigError(
                f"{setting} is not a date in the format {_formats(source, field)[0]!r}",
                hint=f"write the date as YYYY-MM-DD or set date_formats.{field}",
            )


def _formats(source: SourceSettings, field: str) -> tuple[str, ...]:
    fmt = source.date_formats.get(field)
    return (fmt,) if fmt else rules.DEFAULT_DATE_FORMATS


def _check_codes(masks: Mapping[str, np.ndarray], known: Mapping[str, str], what: str) -> None:
    unknown = sorted(set(masks) - set(known))
    if unknown:  # a programming error: every code must be in the public contract
        raise RuntimeError(f"{what} {unknown[0]!r} is not in everyfamily.schema")
