"""Every validation rule with hand-made values, and Hypothesis properties on each parser."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from everyfamily.ingest import rules

# --- NHS number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("9434765919", True),  # NHS Digital's published example number
        ("9434765918", False),  # wrong check digit
        ("4010232137", True),  # 4*10+0+1*8+0+2*6+3*5+2*4+1*3+3*2 = 92; 92 % 11 = 4; 11-4 = 7
        ("0000000000", True),  # sum 0 -> 11 -> check digit 0
        ("1000000000", False),  # 1*10 = 10; 10 % 11 = 10; 11-10 = 1 -> needs check digit 1
        ("1000000001", True),
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven digits
        ("943476591X", False),
    ],
)
def test_nhs_check_digit(text: str, ok: bool) -> None:
    assert rules.nhs_check_digit_ok(text) is ok


def test_nhs_check_digit_ten_means_no_valid_number() -> None:
    # stem '000000006': 6*2 = 12; 12 % 11 = 1; 11 - 1 = 10, so no digit makes it valid.
    assert not any(rules.nhs_check_digit_ok(f"000000006{d}") for d in "0123456789")


@pytest.mark.parametrize("text", ["943 476 5919", "943-476-5919", " 943 476-5919 ", "9434765919"])
def test_clean_nhs_number(text: str) -> None:
    assert rules.clean_nhs_number(text) == "9434765919"


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_nhs_vector_agrees_with_scalar(digits: str) -> None:
    assert bool(rules.nhs_check_vector([digits])[0]) is rules.nhs_check_digit_ok(digits)


@settings(deadline=None)
@given(st.text())
def test_nhs_rules_never_crash(text: str) -> None:
    cleaned = rules.clean_nhs_number(text)
    assert cleaned is None or isinstance(rules.nhs_check_digit_ok(cleaned), bool)


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_or_no_check_digit_is_valid(stem: str) -> None:
    valid = [d for d in "0123456789" if rules.nhs_check_digit_ok(stem + d)]
    assert len(valid) <= 1


# --- Postcodes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "valid"),
    [
        ("l36 9ya", "L36 9YA", True),
        ("L369YA", "L36 9YA", True),
        ("  L36   9YA ", "L36 9YA", True),
        ("sw1a1aa", "SW1A 1AA", True),
        ("EC1A 1BB", "EC1A 1BB", True),
        ("W1A 0AX", "W1A 0AX", True),
        ("M1 1AE", "M1 1AE", True),
        ("DN55 1PT", "DN55 1PT", True),
        ("GIR 0AA", "GIR 0AA", True),
        ("L36 9Y", "L3 69Y", False),  # truncated (the last three characters become inward)
        ("L36 9Y1", "L36 9Y1", False),  # digit for a letter
        ("NFA", "NFA", False),
        ("L36", "L36", False),
        ("Q1 1AA", "Q1 1AA", False),  # Q never starts a postcode
        ("L36 9CA", "L36 9CA", False),  # C never in the inward code
        ("", None, False),
        ("   ", None, False),
    ],
)
def test_postcode_normalise_and_validate(text: str, normalised: str | None, valid: bool) -> None:
    n = rules.normalise_postcode(text)
    assert n == normalised
    assert rules.postcode_is_valid(n) is valid


def test_sector_and_district() -> None:
    assert rules.postcode_sector("L36 9YA") == "L36 9"
    assert rules.postcode_district("L36 9YA") == "L36"
    assert rules.postcode_sector("SW1A 1AA") == "SW1A 1"
    assert rules.postcode_district("SW1A 1AA") == "SW1A"


@settings(deadline=None)
@given(st.text())
def test_postcode_rules_never_crash_and_are_idempotent(text: str) -> None:
    n = rules.normalise_postcode(text)
    if n is not None:
        assert rules.normalise_postcode(n) == n
        assert n == n.upper()
        assert n.count(" ") <= 1
    valid = rules.postcode_is_valid(n)
    if valid:
        assert n is not None and 6 <= len(n) <= 8


@settings(deadline=None)
@given(st.from_regex(r"[A-PR-UWYZ][A-HK-Y]?[0-9]{1,2} [0-9][ABD-HJLNP-UW-Z]{2}", fullmatch=True))
def test_generated_postcodes_in_any_spacing_are_valid(pcode: str) -> None:
    assert rules.postcode_is_valid(rules.normalise_postcode(pcode.lower().replace(" ", "")))


# --- Names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "display", "match"),
    [
        ("  zoë  o'BRIEN ", "Zoë O'Brien", "ZOE OBRIEN"),
        ("SMITH-JONES", "Smith-Jones", "SMITH JONES"),
        ("Łukasz", "Łukasz", "LUKASZ"),
        ("STRAßE", "Straße", "STRASSE"),
        ("Ærøskøbing", "Ærøskøbing", "AEROSKOBING"),
        ("Đorđe", "Đorđe", "DORDE"),
        ("Þóra", "Þóra", "THORA"),
        ("Chloé", "Chloé", "CHLOE"),
        ("Chloe\u0301", "Chloé", "CHLOE"),  # decomposed accent composes to the same name
        ("Nguyễn", "Nguyễn", "NGUYEN"),
        ("ﬁona", "Fiona", "FIONA"),
        ("   ", None, None),
    ],
)
def test_names(text: str, display: str | None, match: str | None) -> None:
    assert rules.normalise_name(text) == display
    assert rules.fold_name(text) == match


@settings(deadline=None)
@given(st.text())
def test_name_rules_never_crash(text: str) -> None:
    d = rules.normalise_name(text)
    m = rules.fold_name(text)
    if d is not None:
        assert d == d.strip() and "  " not in d
        assert rules.normalise_name(d) == d
    if m is not None:
        assert m == m.upper() or not m.isascii()
        assert rules.fold_name(m) == m


#: Latin-1 Supplement and Latin Extended-A letters, plus letters of African and Azerbaijani
#: names from Extended-B (schwa, hooked b/d/k, open e, eng).
_LATIN = [chr(c) for c in range(0xC0, 0x180) if chr(c).isalpha()] + list("ƏəƐɛƁɓƊɗƘƙŊŋ")


@settings(deadline=None)
@given(st.text(alphabet=st.sampled_from(_LATIN), min_size=1))
def test_folded_latin_names_are_ascii(text: str) -> None:
    m = rules.fold_name(text)
    assert m is None or m.isascii()


# --- Dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("01/02/2024", ("%d/%m/%Y",), dt.date(2024, 2, 1)),
        ("1/2/2024", ("%d/%m/%Y",), dt.date(2024, 2, 1)),
        ("31/02/2024", ("%d/%m/%Y",), None),  # no 31 February
        ("29/02/2023", ("%d/%m/%Y",), None),  # 2023 is not a leap year
        ("29/02/2024", ("%d/%m/%Y",), dt.date(2024, 2, 29)),
        ("01/13/2024", ("%d/%m/%Y",), None),
        ("2024-02-01", ("%d/%m/%Y",), dt.date(2024, 2, 1)),  # native (ISO) dates always read
        ("2024-02-01 00:00:00", ("%d/%m/%Y",), dt.date(2024, 2, 1)),
        ("2024-02-30", ("%d/%m/%Y",), None),
        ("01-Feb-2024", ("%d-%b-%Y",), dt.date(2024, 2, 1)),
        ("20240201", ("%Y%m%d",), dt.date(2024, 2, 1)),
        ("", ("%d/%m/%Y",), None),
        ("not a date", ("%d/%m/%Y",), None),
    ],
)
def test_parse_date(text: str, formats: tuple[str, ...], expected: dt.date | None) -> None:
    assert rules.parse_date(text, formats) == expected


@settings(deadline=None)
@given(
    st.dates(min_value=dt.date(1900, 1, 1)), st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"])
)
def test_parse_date_round_trips(d: dt.date, fmt: str) -> None:
    assert rules.parse_date(d.strftime(fmt), (fmt,)) == d


@settings(deadline=None)
@given(st.text(), st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y"]))
def test_parse_date_never_crashes(text: str, fmt: str) -> None:
    out = rules.parse_date(text, (fmt,))
    assert out is None or isinstance(out, dt.date)


@pytest.mark.parametrize(
    ("dob", "ref", "age"),
    [
        (dt.date(2020, 3, 31), dt.date(2025, 3, 31), 5),  # birthday on the day counts
        (dt.date(2020, 4, 1), dt.date(2025, 3, 31), 4),
        (dt.date(2020, 2, 29), dt.date(2025, 2, 28), 4),
        (dt.date(2020, 2, 29), dt.date(2025, 3, 1), 5),
    ],
)
def test_age_in_years(dob: dt.date, ref: dt.date, age: int) -> None:
    assert rules.age_in_years(dob, ref) == age


# --- Value maps ------------------------------------------------------------------------------


def test_sex_mapper_source_map_builtin_and_unmapped() -> None:
    m = rules.ValueMapper(
        {"G": "female", "B": "male"},
        builtin=rules.BUILTIN_SEX,
        allowed=("female", "male", "unknown"),
        fallback="unknown",
    )
    assert m("G") == ("female", False)
    assert m(" b ") == ("male", False)  # case-insensitive, trimmed
    assert m("F") == ("female", False)  # built-in reading
    assert m("2") == ("female", False)  # NHS code
    assert m("Female") == ("female", False)
    assert m("Q") == ("unknown", True)  # no reading: unknown, reported
    assert m(None) == (None, False)


def test_code_mapper_for_open_fields_keeps_unmapped_values() -> None:
    m = rules.ValueMapper({"Southmead CC": "S01"})
    assert m("southmead cc") == ("S01", False)
    assert m("Elsewhere") == ("Elsewhere", True)
    assert rules.ValueMapper(None)("Elsewhere") == ("Elsewhere", False)


def test_map_to_null() -> None:
    m = rules.ValueMapper({"Not stated": ""}, allowed=("white_british",))
    assert m("Not stated") == (None, False)


@settings(deadline=None)
@given(st.text(), st.dictionaries(st.text(max_size=3), st.sampled_from(["female", "male", "x"])))
def test_mapper_never_crashes_and_stays_in_allowed(text: str, mapping: dict[str, str]) -> None:
    m = rules.ValueMapper(
        mapping,
        builtin=rules.BUILTIN_SEX,
        allowed=("female", "male", "unknown"),
        fallback="unknown",
    )
    value, _unmapped = m(text)
    assert value in {None, "female", "male", "unknown"}


# --- Vectorised helpers ----------------------------------------------------------------------


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30))
def test_map_unique_equals_elementwise(values: list[str | None]) -> None:
    arr = pa.array(values, type=pa.string())
    out = rules.map_unique(arr, rules.normalise_name).to_pylist()
    assert out == [rules.normalise_name(v) for v in values]


def test_blank_to_null() -> None:
    out = rules.blank_to_null(pa.array([" a ", "", "  ", None])).to_pylist()
    assert out == ["a", None, None, None]
