"""The built-in code lists, one value at a time: the published labels and codes are written
out here by hand (not read from codelists.py), so a typo in the tables fails a test."""

from __future__ import annotations

import pytest

from everyfamily.ingest import codelists, rules
from everyfamily.schema import ETHNICITY_2021

#: ONS Census 2021 TS021 "Ethnic group" (19 categories), as ONS publishes the labels.
ONS_2021 = {
    "Asian, Asian British or Asian Welsh: Bangladeshi": "asian_bangladeshi",
    "Asian, Asian British or Asian Welsh: Chinese": "asian_chinese",
    "Asian, Asian British or Asian Welsh: Indian": "asian_indian",
    "Asian, Asian British or Asian Welsh: Pakistani": "asian_pakistani",
    "Asian, Asian British or Asian Welsh: Other Asian": "asian_other",
    "Black, Black British, Black Welsh, Caribbean or African: African": "black_african",
    "Black, Black British, Black Welsh, Caribbean or African: Caribbean": "black_caribbean",
    "Black, Black British, Black Welsh, Caribbean or African: Other Black": "black_other",
    "Mixed or Multiple ethnic groups: White and Asian": "mixed_white_asian",
    "Mixed or Multiple ethnic groups: White and Black African": "mixed_white_black_african",
    "Mixed or Multiple ethnic groups: White and Black Caribbean": "mixed_white_black_caribbean",
    "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups": "mixed_other",
    "White: English, Welsh, Scottish, Northern Irish or British": "white_british",
    "White: Irish": "white_irish",
    "White: Gypsy or Irish Traveller": "white_gypsy_traveller",
    "White: Roma": "white_roma",
    "White: Other White": "white_other",
    "Other ethnic group: Arab": "other_arab",
    "Other ethnic group: Any other ethnic group": "other_any",
}

#: ONS Census 2011 KS201EW (18 categories).
ONS_2011 = {
    "White: English/Welsh/Scottish/Northern Irish/British": "white_british",
    "White: Irish": "white_irish",
    "White: Gypsy or Irish Traveller": "white_gypsy_traveller",
    "White: Other White": "white_other",
    "Mixed/multiple ethnic group: White and Black Caribbean": "mixed_white_black_caribbean",
    "Mixed/multiple ethnic group: White and Black African": "mixed_white_black_african",
    "Mixed/multiple ethnic group: White and Asian": "mixed_white_asian",
    "Mixed/multiple ethnic group: Other Mixed": "mixed_other",
    "Asian/Asian British: Indian": "asian_indian",
    "Asian/Asian British: Pakistani": "asian_pakistani",
    "Asian/Asian British: Bangladeshi": "asian_bangladeshi",
    "Asian/Asian British: Chinese": "asian_chinese",
    "Asian/Asian British: Other Asian": "asian_other",
    "Black/African/Caribbean/Black British: African": "black_african",
    "Black/African/Caribbean/Black British: Caribbean": "black_caribbean",
    "Black/African/Caribbean/Black British: Other Black": "black_other",
    "Other ethnic group: Arab": "other_arab",
    "Other ethnic group: Any other ethnic group": "other_any",
}

#: NHS Data Dictionary ETHNIC CATEGORY, letter and label.
NHS = {
    "A": ("White - British", "white_british"),
    "B": ("White - Irish", "white_irish"),
    "C": ("White - Any other White background", "white_other"),
    "D": ("Mixed - White and Black Caribbean", "mixed_white_black_caribbean"),
    "E": ("Mixed - White and Black African", "mixed_white_black_african"),
    "F": ("Mixed - White and Asian", "mixed_white_asian"),
    "G": ("Mixed - Any other mixed background", "mixed_other"),
    "H": ("Asian or Asian British - Indian", "asian_indian"),
    "J": ("Asian or Asian British - Pakistani", "asian_pakistani"),
    "K": ("Asian or Asian British - Bangladeshi", "asian_bangladeshi"),
    "L": ("Asian or Asian British - Any other Asian background", "asian_other"),
    "M": ("Black or Black British - Caribbean", "black_caribbean"),
    "N": ("Black or Black British - African", "black_african"),
    "P": ("Black or Black British - Any other Black background", "black_other"),
    "R": ("Other Ethnic Groups - Chinese", "asian_chinese"),
    "S": ("Other Ethnic Groups - Any other ethnic group", "other_any"),
}


def test_every_ons_2021_category_is_covered_by_the_published_labels() -> None:
    assert sorted(ONS_2021.values()) == sorted(ETHNICITY_2021)  # all 19, each once


@pytest.mark.parametrize(("label", "key"), sorted(ONS_2021.items()))
def test_ons_2021_full_labels(label: str, key: str) -> None:
    assert codelists.recognise_ethnicity(label) == key
    assert codelists.recognise_ethnicity(label.upper()) == key
    assert codelists.recognise_ethnicity(label.replace(": ", " - ")) == key


@pytest.mark.parametrize(("label", "key"), sorted(ONS_2011.items()))
def test_ons_2011_labels(label: str, key: str) -> None:
    assert codelists.recognise_ethnicity(label) == key


@pytest.mark.parametrize(("letter", "label", "key"), [(k, *v) for k, v in sorted(NHS.items())])
def test_nhs_ethnic_category_letters_and_labels(letter: str, label: str, key: str) -> None:
    assert codelists.recognise_ethnicity(letter) == key
    assert codelists.recognise_ethnicity(letter.lower()) == key
    assert codelists.recognise_ethnicity(label) == key
    assert codelists.recognise_ethnicity(f"{letter} - {label}") == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("White British", "white_british"),
        ("British", "white_british"),
        ("Other White", "white_other"),
        ("White Other", "white_other"),
        ("Any other White background", "white_other"),
        ("Black African", "black_african"),
        ("African", "black_african"),
        ("Pakistani", "asian_pakistani"),
        ("Indian Asian", "asian_indian"),
        ("Mixed: White & Asian", "mixed_white_asian"),
        ("Chinese or other ethnic group: Chinese", "asian_chinese"),  # 2001 Census
        ("Arab", "other_arab"),
        ("WBRI", "white_british"),  # DfE codes
        ("wirt", "white_gypsy_traveller"),
        ("WROM", "white_roma"),
        ("CHNE", "asian_chinese"),
        ("Asian", None),  # a broad group alone names no category
        ("Polish", None),  # a nationality is not an ethnic category
        ("C3", None),  # local extensions are not guessed
        ("Q", None),  # not an NHS letter
    ],
)
def test_short_forms_and_dfe_codes(value: str, key: str | None) -> None:
    assert codelists.recognise_ethnicity(value) == key


@pytest.mark.parametrize(
    "value",
    ["Not known", "NOT STATED", "Unknown", "Refused", "N/K", "nk", "n.k.", "Prefer not to say",
     "Declined", "-", "?", "Information not yet obtained", "u/k"],
)  # fmt: skip
def test_missing_values_are_missing_in_every_coded_field(value: str) -> None:
    keys = codelists.missing_keys()
    # open fields (country, language, event type, site), closed ones (ethnicity, sex, yes/no)
    open_field = rules.ValueMapper({"Romania": "Romania"}, missing=keys)
    ethnicity = rules.ValueMapper(
        None,
        allowed=tuple(ETHNICITY_2021),
        recognise=codelists.recognise_ethnicity,
        missing=keys,
    )
    sex = rules.ValueMapper(
        None, builtin=rules.BUILTIN_SEX, allowed=("female", "male", "unknown"), fallback="unknown",
        missing=keys,
    )  # fmt: skip
    yes_no = rules.ValueMapper(None, allowed=("yes", "no"), missing=keys)
    for mapper in (open_field, ethnicity, sex, yes_no):
        assert mapper(value) == (None, False), mapper


def test_na_is_not_missing_it_is_namibia() -> None:
    assert codelists.code_key("NA") not in codelists.missing_keys()
    assert codelists.code_key("N/A") in codelists.missing_keys()


def test_extra_missing_values_extend_the_list() -> None:
    keys = codelists.missing_keys(["Not Asked Yet", "9999"])
    assert {"not asked yet", "9999", "not known", "refused"} <= keys


def test_a_source_map_wins_over_the_missing_list() -> None:
    m = rules.ValueMapper({"Unknown": "U1"}, missing=codelists.missing_keys())
    assert m("Unknown") == ("U1", False)


@pytest.mark.parametrize(
    ("value", "answer"),
    [("Y", "yes"), ("yes", "yes"), ("TRUE", "yes"), ("1", "yes"), ("Interpreter required", "yes"),
     ("N", "no"), ("No", "no"), ("false", "no"), ("0", "no"), ("Not required", "no")],
)  # fmt: skip
def test_yes_no_forms(value: str, answer: str) -> None:
    assert codelists.YES_NO_FORMS[codelists.code_key(value)] == answer


@pytest.mark.parametrize(
    ("name", "family", "placeholder"),
    [
        ("BABY", False, True),
        ("Baby", False, True),
        ("baby boy", False, True),
        ("Baby-Girl", False, True),
        ("UNNAMED", False, True),
        ("Infant", False, True),
        ("TWIN 1", False, True),
        ("Twin 2", False, True),
        ("twin b", False, True),
        ("Baby of Jane Smith", False, True),
        ("BABY OF", False, True),
        ("N/K", False, True),
        ("NK", True, True),
        ("Unknown", True, True),
        ("", False, False),  # blank is already missing; nothing to flag
        ("Babette", False, False),
        ("Babyface", False, False),
        ("Twinkle", False, False),
        ("Baby", True, False),  # a real family name (Kerala)
        ("Twin", True, False),
    ],
)
def test_placeholder_names(name: str, family: bool, placeholder: bool) -> None:
    assert codelists.PlaceholderNames(family=family).of_name(name) is placeholder


def test_extra_placeholder_names_extend_and_star_matches_a_prefix() -> None:
    p = codelists.PlaceholderNames(["Bebe", "NEWBORN OF*"])
    assert p.of_name("bébé") and p.of_name("Newborn of A Smith") and p.of_name("BABY")
    assert not p.of_name("Newbornia")
    assert codelists.PlaceholderNames(["Bebe"], family=True).of_name("BEBE")


def test_tables_have_no_contradictions_and_only_canonical_keys() -> None:
    assert set(codelists.ETHNICITY_FORMS.values()) == set(ETHNICITY_2021)
    assert set(codelists.YES_NO_FORMS.values()) == {"yes", "no"}
    assert not set(codelists.YES_NO_FORMS) & codelists.MISSING_KEYS


def test_everyfamily_short_labels_and_keys_still_read() -> None:
    """The labels schema.ETHNICITY_2021 carries ('Asian: Indian') and the keys themselves,
    which sources mapped onto before the full lists existed, read as before."""
    mapper = rules.ValueMapper(
        None,
        allowed=tuple(ETHNICITY_2021),
        recognise=codelists.recognise_ethnicity,
        missing=codelists.missing_keys(codelists.ETHNICITY_MISSING_VALUES),
    )
    for key, (label, _broad) in ETHNICITY_2021.items():
        assert mapper(label) == (key, False), label
        assert mapper(key) == (key, False), key
        assert mapper(key.upper()) == (key, False), key
