"""Validation and standardisation rules for one value at a time, and their vectorised form.

Every rule is a pure function of one text value (easy to read, easy to property-test). Large
extracts repeat values heavily (a few thousand dates of birth, names and postcodes across a
million rows), so :func:`map_unique` applies a scalar rule once per distinct value and
broadcasts the result with Arrow; the NHS number check, whose values are nearly all
distinct, has a NumPy form (:func:`nhs_check_vector`) that a test holds equal to the scalar one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from everyfamily.ingest.codelists import code_key

# --- NHS number ------------------------------------------------------------------------------

_NHS_STRIP = re.compile(r"[\s\-]+")
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_NHS_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)  # 10, 9, ..., 2 for the first nine digits


def clean_nhs_number(value: str | None) -> str | None:
    """Remove spaces and dashes ('943 476 5919', '943-476-5919'); None when nothing is left."""
    if value is None:
        return None
    out = _NHS_STRIP.sub("", value)
    return out or None


def nhs_check_digit_ok(digits: str) -> bool:
    """Modulus-11 check (NHS Data Dictionary, 'NHS Number'): weight the first nine digits
    10..2, sum, take the remainder mod 11; the check digit is 11 minus it (11 -> 0, and 10
    means no valid number can have those nine digits)."""
    if not _TEN_DIGITS.fullmatch(digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def nhs_check_vector(digits: Sequence[str] | np.ndarray) -> np.ndarray:
    """Vectorised :func:`nhs_check_digit_ok` for strings that are already exactly 10 ASCII
    digits (callers filter with the 10-digit pattern first)."""
    arr = np.asarray(digits, dtype="S10")
    if arr.size == 0:
        return np.zeros(0, dtype=bool)
    d = arr.view(np.uint8).reshape(-1, 10).astype(np.int64) - 48
    check = 11 - (d[:, :9] @ _NHS_WEIGHTS) % 11
    check = np.where(check == 11, 0, check)
    return np.asarray((check != 10) & (check == d[:, 9]), dtype=bool)


# --- Postcodes -------------------------------------------------------------------------------

#: UK postcode format in normalised form (one space). Adapted from the format rules in the
#: UK Government Data Standards Catalogue (BS 7666 postcode): outward A9, A99, AA9, AA99,
#: A9A, AA9A; inward 9AA without C, I, K, M, O, V; plus the non-geographic GIR 0AA.
POSTCODE_RE = re.compile(
    r"(?:GIR 0AA|"
    r"[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" [0-9][ABD-HJLNP-UW-Z]{2})"
)
_WS = re.compile(r"\s+")


def normalise_postcode(value: str | None) -> str | None:
    """Upper case, no inner spaces, then one space before the last three characters.

    Returns the normalised text whether or not it is a valid postcode (None when empty); use
    :func:`postcode_is_valid` on the result.
    """
    if value is None:
        return None
    s = _WS.sub("", value).upper()
    if not s:
        return None
    return s if len(s) < 5 else f"{s[:-3]} {s[-3:]}"


def postcode_is_valid(normalised: str | None) -> bool:
    return normalised is not None and POSTCODE_RE.fullmatch(normalised) is not None


def postcode_sector(normalised: str) -> str:
    """'L36 1AB' -> 'L36 1' (outward code, space, first character of the inward code)."""
    return normalised[:-2]


def postcode_district(normalised: str) -> str:
    """'L36 1AB' -> 'L36' (the outward code)."""
    return normalised.split(" ", 1)[0]


# --- Names -----------------------------------------------------------------------------------

#: Letters that NFKD does not decompose into a base letter plus marks, folded by hand
#: (Polish ł, German ß, Nordic æ/ø/ð/þ, Croatian đ, Maltese ħ, Turkish dotless ı, ...).
_FOLD_SPECIAL = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "œ": "oe",
        "Œ": "OE",
        "ı": "i",
        "ħ": "h",
        "Ħ": "H",
        "ŀ": "l",
        "Ŀ": "L",
        "ŧ": "t",
        "Ŧ": "T",
        "ĸ": "k",
        "ŉ": "n",
        "ƒ": "f",
        "Ƒ": "F",
        "ǥ": "g",
        "Ǥ": "G",
        "ɨ": "i",
        "Ɨ": "I",
        "ŋ": "n",
        "Ŋ": "N",
        "ə": "e",
        "Ə": "E",
        "ǝ": "e",
        "Ǝ": "E",
        "ɛ": "e",
        "Ɛ": "E",
        "ɓ": "b",
        "Ɓ": "B",
        "ɗ": "d",
        "Ɗ": "D",
        "ƙ": "k",
        "Ƙ": "K",
        "ʋ": "v",
        "Ʋ": "V",
        "ƴ": "y",
        "Ƴ": "Y",
        "ȷ": "j",
    }
)
_APOSTROPHES = re.compile(r"[\'\u2018\u2019\u02bc`´.]")
_NOT_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"[^\W\d_]+")


def normalise_name(value: str | None) -> str | None:
    """NFKC (accents kept, ligatures split), single spaces, each word capitalised:
    "  zoë  o'BRIEN-smith " -> "Zoë O'Brien-Smith". None when empty."""
    if value is None:
        return None
    s = " ".join(unicodedata.normalize("NFKC", value).split())
    if not s:
        return None
    return _WORD.sub(lambda m: m.group(0)[:1].title() + m.group(0)[1:].lower(), s)


def fold_name(value: str | None) -> str | None:
    """ASCII-folded upper-case form for matching: 'Zoë O'Brien-Smith' -> 'ZOE OBRIEN SMITH',
    'Łukasz' -> 'LUKASZ', 'Straße' -> 'STRASSE'.

    Accents go by NFKD decomposition with combining marks dropped, plus the table above for
    letters NFKD keeps whole; apostrophes and dots are removed, other punctuation becomes a
    space. Letters of non-Latin scripts have no ASCII form without transliteration, so they are
    kept (upper-cased) rather than lost. None when nothing is left.
    """
    if value is None:
        return None
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", value).translate(_FOLD_SPECIAL))
    s = "".join(c for c in s if not unicodedata.combining(c)).translate(_FOLD_SPECIAL)
    s = _APOSTROPHES.sub("", s).upper()
    s = " ".join(_NOT_WORD.sub(" ", s).split())
    return s or None


def clean_text(value: str | None) -> str | None:
    """Free text (address, language ...): single spaces, trimmed, NFC; None when empty."""
    if value is None:
        return None
    s = " ".join(unicodedata.normalize("NFC", value).split())
    return s or None


# --- Dates -----------------------------------------------------------------------------------

#: Formats tried when a source gives none: ISO first, then the UK day-first form.
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%d/%m/%Y")
#: Native dates from Excel, Parquet and databases arrive as ISO text (readers.py); they are
#: accepted whatever the source's declared text format is. ISO is unambiguous, so this cannot
#: misread a day-first date.
_ISO_NATIVE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)


def parse_date(value: str | None, formats: Sequence[str] = DEFAULT_DATE_FORMATS) -> dt.date | None:
    """The date in ``value`` read with the first format that fits (``datetime.strptime``, so
    31/02 is rejected), else as ISO; None when empty or unreadable."""
    if value is None:
        return None
    s = value.strip()
    if not s:
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    m = _ISO_NATIVE.fullmatch(s)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def years_before(ref: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February -> 28 February)."""
    try:
        return ref.replace(year=ref.year - years)
    except ValueError:
        return ref.replace(year=ref.year - years, day=28)


def age_in_years(dob: dt.date, ref: dt.date) -> int:
    """Completed years of age on ``ref`` (a birthday counts on the day)."""
    return ref.year - dob.year - ((ref.month, ref.day) < (dob.month, dob.day))


# --- Value maps ------------------------------------------------------------------------------

#: Built-in readings of sex codes, used after the source's own map. Includes the NHS Data
#: Dictionary 'person stated gender code' digits (1 male, 2 female, 0/9 not known).
BUILTIN_SEX: dict[str, str] = {
    "f": "female",
    "female": "female",
    "girl": "female",
    "2": "female",
    "m": "male",
    "male": "male",
    "boy": "male",
    "1": "male",
    "u": "unknown",
    "unknown": "unknown",
    "not known": "unknown",
    "not specified": "unknown",
    "indeterminate": "unknown",
    "i": "unknown",
    "x": "unknown",
    "0": "unknown",
    "9": "unknown",
}

#: Values that mean 'not recorded' (in every coded field) are in codelists.MISSING_VALUES.

#: Sentinel a value map can use to say 'treat as not recorded' (an empty string works too).
MAP_TO_NULL = ("", "null")


class ValueMapper:
    """Apply a source's value map to one field, then built-in readings, case-insensitively.

    Order: the source's own map (exact, then ignoring case); then ``missing`` (folded
    missing-value keys, codelists.code_key: the value is read as not recorded, NULL, and not
    reported); then a canonical code as it is; then ``builtin``; then ``recognise`` (a
    function naming the canonical code a value stands for, e.g. an ONS label).

    ``allowed`` (when given) is the closed set of canonical codes: a value that reaches no
    allowed code is replaced by ``fallback`` and reported as unmapped. Without ``allowed``
    (site, event type ...), an unmapped value is kept as given and reported as unmapped only
    when the source has a map for the field.
    """

    def __init__(
        self,
        source_map: Mapping[str, str] | None,
        *,
        builtin: Mapping[str, str | None] | None = None,
        allowed: Sequence[str] | None = None,
        fallback: str | None = None,
        recognise: Callable[[str], str | None] | None = None,
        missing: Collection[str] = (),
    ) -> None:
        self.recognise = recognise
        self.missing = frozenset(missing)
        self.exact = dict(source_map or {})
        self.folded = {k.strip().casefold(): v for k, v in self.exact.items()}
        self.builtin = {k.casefold(): v for k, v in (builtin or {}).items()}
        self.allowed = {a.casefold(): a for a in allowed} if allowed is not None else None
        self.fallback = fallback
        self.has_map = bool(self.exact)

    def __call__(self, value: str | None) -> tuple[str | None, bool]:
        """(canonical value or None, unmapped?)"""
        if value is None:
            return None, False
        v = value.strip()
        if not v:
            return None, False
        key = v.casefold()
        target: str | None
        if v in self.exact:
            target = self.exact[v]
        elif key in self.folded:
            target = self.folded[key]
        elif self.missing and (not code_key(v) or code_key(v) in self.missing):
            return None, False
        elif self.allowed is not None and key in self.allowed:
            return self.allowed[key], False
        elif key in self.builtin:
            target = self.builtin[key]
            if target is None:
                return None, False
        elif self.recognise is not None and (recognised := self.recognise(v)) is not None:
            target = recognised
        else:
            if self.allowed is not None:
                return self.fallback, True
            return v, self.has_map
        if target is None or target.strip().casefold() in MAP_TO_NULL:
            return None, False
        if self.allowed is not None:
            hit = self.allowed.get(target.strip().casefold())
            return (hit, False) if hit is not None else (self.fallback, True)
        return target, False


# --- Vectorised application ------------------------------------------------------------------


def blank_to_null(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Trim whitespace; empty text becomes NULL."""
    a = pc.utf8_trim_whitespace(arr)
    out = pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def map_unique(
    arr: pa.Array, func: Callable[[Any], Any], out_type: pa.DataType | None = None
) -> pa.Array:
    """Apply ``func`` once per distinct value of ``arr`` and broadcast the results (NULL in,
    ``func(None)`` out)."""
    uniq = pc.unique(arr)
    values = pa.array([func(v) for v in uniq.to_pylist()], type=out_type or pa.string())
    idx = pc.index_in(arr, value_set=uniq, skip_nulls=False)
    return pc.take(values, idx)
