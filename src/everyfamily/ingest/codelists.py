"""Built-in code lists: the values councils' systems record, read without a hand-written map.

Pure data and pure functions of one value. Every table here is listed in docs/code-lists.md,
which ``everyfamily codes-doc`` generates from this module (a test fails when it is stale).

Sources of the tables:

* ONS 2021 ethnic group, 19 categories (Census 2021 table TS021 labels, and the ONS/GOV.UK
  "List of ethnic groups" wording: https://www.ethnicity-facts-figures.service.gov.uk/
  style-guide/ethnic-groups).
* ONS 2011 ethnic group, 18 categories (Census 2011 table KS201EW labels).
* NHS Data Dictionary, ETHNIC CATEGORY (the 2001 Census categories as letters A-S, Z "Not
  stated", and 99 "Not known"): https://www.datadictionary.nhs.uk/data_elements/
  ethnic_category.html
* DfE Common Basic Data Set (CBDS) main ethnicity codes used by school and early-years
  systems (WBRI, WIRI, ... REFU, NOBT).

Matching is on a folded key (:func:`code_key`): accents dropped, case folded, '&' read as
'and', every run of punctuation or spaces one space. So "White - English/Welsh/Scottish/
Northern Irish/British" and "White: English, Welsh, Scottish, Northern Irish or British"
are both found, and "N/K" and "n.k." are the same key ("n k").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def code_key(value: str) -> str:
    """The folded form a coded value is matched on: 'Asian/Asian British: Indian' ->
    'asian asian british indian'; 'N/K' -> 'n k'; '-' -> '' (nothing)."""
    s = unicodedata.normalize("NFKD", value)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold().replace("&", " and ")
    return " ".join(_NON_ALNUM.sub(" ", s).split())


# --- Missing values --------------------------------------------------------------------------

#: Values that mean "not recorded" in EVERY coded field (sex, ethnicity, country of birth,
#: language, event type, site, interpreter needed). They are read as missing (NULL; 'unknown'
#: for sex), never as a category, and are not reported as unmapped. A value that folds to
#: nothing ('-', '?', '.') is missing too. Bare 'NA' is NOT here: it is Namibia's ISO code.
MISSING_VALUES: tuple[str, ...] = (
    "not known",
    "unknown",
    "unk",
    "nk",
    "n/k",
    "u/k",
    "not stated",
    "stated not known",
    "refused",
    "declined",
    "declined to answer",
    "declined to say",
    "refused to answer",
    "prefer not to say",
    "preferred not to say",
    "not disclosed",
    "not recorded",
    "not given",
    "not provided",
    "not specified",
    "unspecified",
    "not asked",
    "not obtained",
    "information not yet obtained",
    "not yet obtained",
    "not applicable",
    "n/a",
    "to be confirmed",
    "tbc",
    "awaiting",
    "no data",
    "blank",
    "null",
    "none recorded",
)

#: Further values that mean "not recorded" for ethnicity only: the NHS Data Dictionary's Z
#: (Not stated) and 99 (Not known), the DfE codes REFU (refused) and NOBT (not obtained).
ETHNICITY_MISSING_VALUES: tuple[str, ...] = ("z", "99", "refu", "nobt")

MISSING_KEYS: frozenset[str] = frozenset(code_key(v) for v in MISSING_VALUES)


def missing_keys(extra: Iterable[str] = ()) -> frozenset[str]:
    """The folded missing-value keys, the built-in ones plus ``extra`` (a source's
    ``extra_missing_values``)."""
    return MISSING_KEYS | {code_key(v) for v in extra}


# --- Ethnicity -------------------------------------------------------------------------------

#: ONS 2021 ethnic group: the 19 categories' full labels (Census 2021, TS021) and the
#: question wording of the GOV.UK list, by everyfamily's key (schema.ETHNICITY_2021).
ONS_2021_LABELS: dict[str, tuple[str, ...]] = {
    "asian_bangladeshi": ("Asian, Asian British or Asian Welsh: Bangladeshi",),
    "asian_chinese": ("Asian, Asian British or Asian Welsh: Chinese",),
    "asian_indian": ("Asian, Asian British or Asian Welsh: Indian",),
    "asian_pakistani": ("Asian, Asian British or Asian Welsh: Pakistani",),
    "asian_other": (
        "Asian, Asian British or Asian Welsh: Other Asian",
        "Any other Asian background",
    ),
    "black_african": ("Black, Black British, Black Welsh, Caribbean or African: African",),
    "black_caribbean": ("Black, Black British, Black Welsh, Caribbean or African: Caribbean",),
    "black_other": (
        "Black, Black British, Black Welsh, Caribbean or African: Other Black",
        "Any other Black, Black British, or Caribbean background",
        "Any other Black, Black British, Black Welsh, Caribbean or African background",
    ),
    "mixed_white_asian": ("Mixed or Multiple ethnic groups: White and Asian",),
    "mixed_white_black_african": ("Mixed or Multiple ethnic groups: White and Black African",),
    "mixed_white_black_caribbean": ("Mixed or Multiple ethnic groups: White and Black Caribbean",),
    "mixed_other": (
        "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups",
        "Any other Mixed or Multiple ethnic background",
        "Any other Mixed or Multiple background",
    ),
    "white_british": ("White: English, Welsh, Scottish, Northern Irish or British",),
    "white_irish": ("White: Irish",),
    "white_gypsy_traveller": ("White: Gypsy or Irish Traveller",),
    "white_roma": ("White: Roma",),
    "white_other": ("White: Other White", "Any other White background"),
    "other_arab": ("Other ethnic group: Arab",),
    "other_any": ("Other ethnic group: Any other ethnic group", "Any other ethnic group"),
}

#: ONS 2011 ethnic group: the 18 categories (Census 2011, KS201EW). 2011 had no Roma
#: category (Roma were in Other White).
ONS_2011_LABELS: dict[str, tuple[str, ...]] = {
    "white_british": ("White: English/Welsh/Scottish/Northern Irish/British",),
    "white_irish": ("White: Irish",),
    "white_gypsy_traveller": ("White: Gypsy or Irish Traveller",),
    "white_other": ("White: Other White",),
    "mixed_white_black_caribbean": ("Mixed/multiple ethnic group: White and Black Caribbean",),
    "mixed_white_black_african": ("Mixed/multiple ethnic group: White and Black African",),
    "mixed_white_asian": ("Mixed/multiple ethnic group: White and Asian",),
    "mixed_other": ("Mixed/multiple ethnic group: Other Mixed",),
    "asian_indian": ("Asian/Asian British: Indian",),
    "asian_pakistani": ("Asian/Asian British: Pakistani",),
    "asian_bangladeshi": ("Asian/Asian British: Bangladeshi",),
    "asian_chinese": ("Asian/Asian British: Chinese",),
    "asian_other": ("Asian/Asian British: Other Asian",),
    "black_african": ("Black/African/Caribbean/Black British: African",),
    "black_caribbean": ("Black/African/Caribbean/Black British: Caribbean",),
    "black_other": ("Black/African/Caribbean/Black British: Other Black",),
    "other_arab": ("Other ethnic group: Arab",),
    "other_any": ("Other ethnic group: Any other ethnic group",),
}

#: NHS Data Dictionary ETHNIC CATEGORY letters (2001 Census categories) with their labels and
#: the ONS 2021 key each is read as. Z (Not stated) and 99 (Not known) are missing values.
#: 2001 had no Gypsy, Roma or Arab category: they are in C and S, read as white_other and
#: other_any. R (Chinese) sat under "Other Ethnic Groups" in 2001; 2021 puts it under Asian.
NHS_ETHNIC_CATEGORY: dict[str, tuple[str, str]] = {
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

#: DfE CBDS main ethnicity codes. WROM ("Gypsy/Roma") mixes English Romany Gypsies and
#: (mostly Eastern European) Roma; it is read as white_roma, the category that does not claim
#: a British or Irish origin (the communities signals then fall through to the next signal).
DFE_ETHNICITY_CODES: dict[str, tuple[str, str]] = {
    "WBRI": ("White - British", "white_british"),
    "WIRI": ("White - Irish", "white_irish"),
    "WIRT": ("Traveller of Irish heritage", "white_gypsy_traveller"),
    "WROM": ("Gypsy/Roma", "white_roma"),
    "WOTH": ("Any other White background", "white_other"),
    "MWBC": ("White and Black Caribbean", "mixed_white_black_caribbean"),
    "MWBA": ("White and Black African", "mixed_white_black_african"),
    "MWAS": ("White and Asian", "mixed_white_asian"),
    "MOTH": ("Any other mixed background", "mixed_other"),
    "AIND": ("Indian", "asian_indian"),
    "APKN": ("Pakistani", "asian_pakistani"),
    "ABAN": ("Bangladeshi", "asian_bangladeshi"),
    "AOTH": ("Any other Asian background", "asian_other"),
    "BCRB": ("Black Caribbean", "black_caribbean"),
    "BAFR": ("Black - African", "black_african"),
    "BOTH": ("Any other Black background", "black_other"),
    "CHNE": ("Chinese", "asian_chinese"),
    "OOTH": ("Any other ethnic group", "other_any"),
}

#: Heads of the labels ("White: ...", "Asian or Asian British - ...") by broad group: a value
#: made of a head and a tail is read by looking the tail up in that group's tails below.
ETHNICITY_HEADS: dict[str, tuple[str, ...]] = {
    "white": ("White",),
    "mixed": (
        "Mixed",
        "Mixed/multiple ethnic group",
        "Mixed/multiple ethnic groups",
        "Mixed or Multiple ethnic groups",
        "Mixed or Multiple ethnic group",
        "Mixed or Multiple",
        "Dual heritage",
    ),
    "asian": (
        "Asian",
        "Asian or Asian British",
        "Asian/Asian British",
        "Asian, Asian British or Asian Welsh",
        "British Asian",
    ),
    "black": (
        "Black",
        "Black or Black British",
        "Black/African/Caribbean/Black British",
        "Black, African, Caribbean or Black British",
        "Black, Black British, Black Welsh, Caribbean or African",
        "Black British",
    ),
    "other": (
        "Other",
        "Other ethnic group",
        "Other ethnic groups",
        "Chinese or other ethnic group",
        "Chinese or Other Ethnic Group",
    ),
}

_ANY_OTHER = ("Other", "Any other", "Any other background")
#: Tails by broad group: the part after the head. Also read on their own when they name one
#: category unambiguously (see ETHNICITY_SHORT_FORMS).
ETHNICITY_TAILS: dict[str, dict[str, tuple[str, ...]]] = {
    "white": {
        "white_british": (
            "British",
            "English",
            "Welsh",
            "Scottish",
            "Northern Irish",
            "English, Welsh, Scottish, Northern Irish or British",
            "English/Welsh/Scottish/Northern Irish/British",
            "English, Welsh, Scottish, Northern Irish, British",
            "UK",
        ),
        "white_irish": ("Irish",),
        "white_gypsy_traveller": (
            "Gypsy or Irish Traveller",
            "Gypsy/Irish Traveller",
            "Irish Traveller",
            "Traveller of Irish heritage",
            "Gypsy",
            "Traveller",
        ),
        "white_roma": ("Roma", "Gypsy/Roma", "Gypsy or Roma"),
        "white_other": (
            *_ANY_OTHER,
            "Other White",
            "Any other White background",
            "White other",
        ),
    },
    "mixed": {
        "mixed_white_black_caribbean": ("White and Black Caribbean",),
        "mixed_white_black_african": ("White and Black African",),
        "mixed_white_asian": ("White and Asian",),
        "mixed_other": (
            *_ANY_OTHER,
            "Other Mixed",
            "Other Mixed or Multiple",
            "Other Mixed or Multiple ethnic groups",
            "Any other Mixed background",
            "Any other Mixed or Multiple ethnic background",
            "Any other mixed/multiple ethnic background",
        ),
    },
    "asian": {
        "asian_indian": ("Indian",),
        "asian_pakistani": ("Pakistani",),
        "asian_bangladeshi": ("Bangladeshi",),
        "asian_chinese": ("Chinese",),
        "asian_other": (*_ANY_OTHER, "Other Asian", "Any other Asian background"),
    },
    "black": {
        "black_african": ("African",),
        "black_caribbean": ("Caribbean",),
        "black_other": (*_ANY_OTHER, "Other Black", "Any other Black background"),
    },
    "other": {
        "other_arab": ("Arab",),
        "asian_chinese": ("Chinese",),
        "other_any": (
            *_ANY_OTHER,
            "Any other ethnic group",
            "Other ethnic group",
            "Any other group",
        ),
    },
}

#: Short forms read on their own (no head): common wordings in council systems.
ETHNICITY_SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "white_british": ("White British", "British", "English", "Welsh", "Scottish"),
    "white_irish": ("White Irish", "Irish"),
    "white_gypsy_traveller": (
        "Gypsy or Irish Traveller",
        "Irish Traveller",
        "Traveller of Irish heritage",
        "Gypsy",
    ),
    "white_roma": ("Roma",),
    "white_other": ("White other", "Other White", "Any other White background"),
    "mixed_white_black_caribbean": ("White and Black Caribbean", "Mixed White/Black Caribbean"),
    "mixed_white_black_african": ("White and Black African", "Mixed White/Black African"),
    "mixed_white_asian": ("White and Asian", "Mixed White/Asian"),
    "mixed_other": ("Other Mixed", "Mixed other", "Any other mixed background"),
    "asian_indian": ("Indian", "Asian Indian", "British Indian"),
    "asian_pakistani": ("Pakistani", "Asian Pakistani", "British Pakistani"),
    "asian_bangladeshi": ("Bangladeshi", "Asian Bangladeshi", "British Bangladeshi"),
    "asian_chinese": ("Chinese", "Asian Chinese"),
    "asian_other": ("Other Asian", "Asian other", "Any other Asian background"),
    "black_african": ("African", "Black African"),
    "black_caribbean": ("Caribbean", "Black Caribbean"),
    "black_other": ("Other Black", "Black other", "Any other Black background"),
    "other_arab": ("Arab",),
    "other_any": ("Any other ethnic group", "Other ethnic group", "Other"),
}


def _ethnicity_table() -> dict[str, str]:
    table: dict[str, str] = {}

    def put(text: str, key: str) -> None:
        k = code_key(text)
        old = table.setdefault(k, key)
        if old != key:  # a programming error in the tables above
            raise RuntimeError(f"ethnicity form {text!r} read as both {old} and {key}")

    for tables in (ONS_2021_LABELS, ONS_2011_LABELS, ETHNICITY_SHORT_FORMS):
        for key, texts in tables.items():
            for t in texts:
                put(t, key)
    for code, (label, key) in {**NHS_ETHNIC_CATEGORY, **DFE_ETHNICITY_CODES}.items():
        put(code, key)
        put(label, key)
        put(f"{code} {label}", key)
    for broad, heads in ETHNICITY_HEADS.items():
        for head in heads:
            for key, tails in ETHNICITY_TAILS[broad].items():
                for tail in tails:
                    put(f"{head} {tail}", key)
                    if broad != "other":  # "Other White": the tail first
                        put(f"{tail} {head}", key)
    return table


#: Every recognised form, folded, -> ONS 2021 key.
ETHNICITY_FORMS: Mapping[str, str] = _ethnicity_table()


def recognise_ethnicity(value: str) -> str | None:
    """The ONS 2021 key a recorded ethnicity names, or None when it is not recognised.

    One look-up of the folded value in :data:`ETHNICITY_FORMS`: ONS 2021 and 2011 labels,
    NHS and DfE codes alone or followed by their labels ('A', 'A White - British'), head +
    tail combinations ('Asian or Asian British - Indian', 'Indian Asian'), short forms.
    Nothing is guessed from part of a value: local extensions ('C3 Polish') and anything else
    are unrecognised (reported as unmapped). Missing values are the caller's business.
    """
    return ETHNICITY_FORMS.get(code_key(value))


# --- Yes / no --------------------------------------------------------------------------------

#: Readings of a yes/no field (interpreter_needed), after the source's own value map.
YES_NO_VALUES: dict[str, tuple[str, ...]] = {
    "yes": (
        "yes",
        "y",
        "true",
        "t",
        "1",
        "-1",
        "required",
        "needed",
        "interpreter required",
        "interpreter needed",
        "yes interpreter required",
        "yes - interpreter required",
    ),
    "no": (
        "no",
        "n",
        "false",
        "f",
        "0",
        "not required",
        "not needed",
        "no interpreter",
        "no interpreter required",
        "interpreter not required",
        "interpreter not needed",
        "none required",
    ),
}
YES_NO_FORMS: Mapping[str, str] = {
    code_key(v): answer for answer, values in YES_NO_VALUES.items() for v in values
}


# --- Placeholder names -----------------------------------------------------------------------

#: Names that are not names: what systems write before a baby is named, or when the name is
#: not known. Compared with the matching form of the name (ASCII, upper case, punctuation as
#: spaces), so "Baby-Boy" and "baby boy" are the same. A trailing '*' matches any name
#: beginning with the words before it ("BABY OF*": "Baby of Jane Smith").
PLACEHOLDER_NAMES: tuple[str, ...] = (
    "BABY",
    "BABY BOY",
    "BABY GIRL",
    "BABY 1",
    "BABY 2",
    "BABY 3",
    "BABY A",
    "BABY B",
    "BABY C",
    "BABY OF*",
    "INFANT",
    "INFANT OF*",
    "INFANT BOY",
    "INFANT GIRL",
    "CHILD OF*",
    "SON OF*",
    "DAUGHTER OF*",
    "NEWBORN",
    "NEW BORN",
    "NEONATE",
    "UNNAMED",
    "UNNAMED BABY",
    "UNNAMED INFANT",
    "NO NAME",
    "NONAME",
    "NOT NAMED",
    "NOT YET NAMED",
    "NAME NOT KNOWN",
    "TWIN",
    "TWIN 1",
    "TWIN 2",
    "TWIN ONE",
    "TWIN TWO",
    "TWIN A",
    "TWIN B",
    "TWIN I",
    "TWIN II",
    "TRIPLET",
    "TRIPLET 1",
    "TRIPLET 2",
    "TRIPLET 3",
    "TRIPLET A",
    "TRIPLET B",
    "TRIPLET C",
    "BOY",
    "GIRL",
    "MALE",
    "FEMALE",
    "NK",
    "N K",
    "NOT KNOWN",
    "UNKNOWN",
    "UNK",
    "NOT STATED",
    "NOT GIVEN",
    "NOT RECORDED",
    "TBC",
    "TBA",
    "X",
    "XX",
    "XXX",
    "XXXX",
    "ZZZ",
)


#: Placeholders of family names: only the "not known" kind. Baby, Boy, Twin and the like are
#: placeholders as given names only: as family names they are real (Baby is a Keralan
#: surname, Twin an English one).
PLACEHOLDER_FAMILY_NAMES: tuple[str, ...] = (
    "NK",
    "N K",
    "NOT KNOWN",
    "UNKNOWN",
    "UNK",
    "UNNAMED",
    "NO NAME",
    "NONAME",
    "NAME NOT KNOWN",
    "NOT STATED",
    "NOT GIVEN",
    "NOT RECORDED",
    "TBC",
    "TBA",
    "X",
    "XX",
    "XXX",
    "XXXX",
    "ZZZ",
)


class PlaceholderNames:
    """Decides whether a name's matching form (rules.fold_name) is a placeholder: one of
    :data:`PLACEHOLDER_NAMES` (given names) or :data:`PLACEHOLDER_FAMILY_NAMES` (family
    names), plus a source's ``extra_placeholder_names`` for both (they extend the lists,
    never replace them)."""

    def __init__(self, extra: Iterable[str] = (), *, family: bool = False) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        builtin = PLACEHOLDER_FAMILY_NAMES if family else PLACEHOLDER_NAMES
        for entry in (*builtin, *extra):
            star = entry.rstrip().endswith("*")
            folded = _fold(entry.rstrip().rstrip("*"))
            if not folded:
                continue
            if star:
                prefixes.append(folded)
            else:
                exact.add(folded)
        self.exact = frozenset(exact)
        self.prefixes = tuple(sorted(set(prefixes)))

    def __call__(self, folded: str | None) -> bool:
        if folded is None:
            return False
        if folded in self.exact:
            return True
        return any(folded == p or folded.startswith(p + " ") for p in self.prefixes)

    def of_name(self, name: str | None) -> bool:
        """Whether a name as recorded is a placeholder (folded here first)."""
        return self(_fold(name)) if name is not None else False


def _fold(text: str) -> str:
    from everyfamily.ingest.rules import fold_name

    return fold_name(text) or ""
