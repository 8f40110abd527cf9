"""The public input and store contract: canonical fields, source roles and store tables.

A council maps its own export columns onto these canonical fields in the project file
(docs/input-contract.md). Everything downstream reads only the standardised store tables
described here, never a council's raw column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ServiceType(StrEnum):
    """Universal services see (almost) every child; targeted ones see the families they reach."""

    UNIVERSAL = "universal"
    TARGETED = "targeted"


#: Built-in source roles and whether they are universal or targeted. A project may declare
#: other roles, giving their service type explicitly.
KNOWN_ROLES: dict[str, ServiceType] = {
    "births": ServiceType.UNIVERSAL,
    "health_visiting": ServiceType.UNIVERSAL,
    "registrations": ServiceType.TARGETED,
    "attendances": ServiceType.TARGETED,
}


@dataclass(frozen=True)
class CanonicalField:
    name: str
    kind: str  # "string" | "date" | "code" | "yes/no"
    description: str


CANONICAL_FIELDS: tuple[CanonicalField, ...] = (
    CanonicalField("record_id", "string", "Identifier of the row, unique within its source."),
    CanonicalField("nhs_number", "string", "NHS number (10 digits, modulus-11 check digit)."),
    CanonicalField("first_name", "string", "Child's given name."),
    CanonicalField("last_name", "string", "Child's family name."),
    CanonicalField("date_of_birth", "date", "Child's date of birth."),
    CanonicalField(
        "sex", "code", "Child's sex: female, male or unknown (map codes in value_maps)."
    ),
    CanonicalField("postcode", "string", "Home postcode (any common format)."),
    CanonicalField("address", "string", "Home address, free text."),
    CanonicalField("parent_first_name", "string", "Given name of the parent or carer."),
    CanonicalField("parent_last_name", "string", "Family name of the parent or carer."),
    CanonicalField("mother_country_of_birth", "string", "Mother's country of birth."),
    CanonicalField("main_language", "string", "Family's main language."),
    CanonicalField("ethnicity", "code", "Ethnic group, mapped onto ONS 2021 categories."),
    CanonicalField("event_date", "date", "Date of the contact, registration or attendance."),
    CanonicalField("event_type", "string", "Kind of contact (e.g. new_birth_visit, session)."),
    CanonicalField("site", "code", "Site id where the event happened (map names in value_maps)."),
    CanonicalField(
        "interpreter_needed",
        "yes/no",
        "Whether the family needs an interpreter (Y/N, Yes/No, True/False, 1/0 ...).",
    ),
)

CANONICAL_NAMES: tuple[str, ...] = tuple(f.name for f in CANONICAL_FIELDS)

#: Fields a source may set to one value for all its rows (``constants`` in the project file,
#: e.g. every row of a registrations export is event_type registration). Fields that identify
#: a person or a row cannot be constant.
CONSTANT_FIELDS: tuple[str, ...] = (
    "sex",
    "mother_country_of_birth",
    "main_language",
    "ethnicity",
    "interpreter_needed",
    "event_date",
    "event_type",
    "site",
)

#: Required for every source: an id, a date of birth, and a way to identify the child.
REQUIRED_FIELDS: tuple[str, ...] = ("record_id", "date_of_birth")
IDENTITY_ALTERNATIVES: tuple[tuple[str, ...], ...] = (("first_name", "last_name"), ("nhs_number",))

SEX_VALUES: tuple[str, ...] = ("female", "male", "unknown")

#: ONS 2021 ethnic group categories (19 groups, codes as ONS publishes them) and their 5 broad
#: groups. Sources map their own codes onto these in ``value_maps.ethnicity``.
ETHNICITY_2021: dict[str, tuple[str, str]] = {
    "white_british": ("White: English, Welsh, Scottish, Northern Irish or British", "white"),
    "white_irish": ("White: Irish", "white"),
    "white_gypsy_traveller": ("White: Gypsy or Irish Traveller", "white"),
    "white_roma": ("White: Roma", "white"),
    "white_other": ("White: Other White", "white"),
    "mixed_white_black_caribbean": ("Mixed: White and Black Caribbean", "mixed"),
    "mixed_white_black_african": ("Mixed: White and Black African", "mixed"),
    "mixed_white_asian": ("Mixed: White and Asian", "mixed"),
    "mixed_other": ("Mixed: Other Mixed or Multiple", "mixed"),
    "asian_indian": ("Asian: Indian", "asian"),
    "asian_pakistani": ("Asian: Pakistani", "asian"),
    "asian_bangladeshi": ("Asian: Bangladeshi", "asian"),
    "asian_chinese": ("Asian: Chinese", "asian"),
    "asian_other": ("Asian: Other Asian", "asian"),
    "black_african": ("Black: African", "black"),
    "black_caribbean": ("Black: Caribbean", "black"),
    "black_other": ("Black: Other Black", "black"),
    "other_arab": ("Other: Arab", "other"),
    "other_any": ("Other: Any other ethnic group", "other"),
}

# --- Store tables (DuckDB by default) -------------------------------------------------------
#: ``records``: one row per loaded input row, all sources, standardised. Person-level and
#: identifiable: lives only in the restricted zone of the store.
RECORDS_COLUMNS: tuple[str, ...] = (
    "source",  # source name from the project file
    "role",  # births | health_visiting | registrations | attendances | other
    "service_type",  # universal | targeted
    "record_id",
    "row_number",  # 1-based data row number in the input file (header excluded)
    "batch_id",  # content fingerprint of the input file
    "nhs_number",  # 10 digits or NULL
    "nhs_number_valid",  # BOOLEAN (NULL when absent)
    "first_name",  # whitespace/case normalised, accents kept
    "last_name",
    "first_name_match",  # ASCII-folded upper case, for matching
    "last_name_match",
    "date_of_birth",  # DATE
    "sex",  # female | male | unknown
    "postcode",  # 'L36 1AB' or NULL
    "postcode_valid",  # BOOLEAN
    "postcode_sector",  # 'L36 1'
    "postcode_district",  # 'L36'
    "area_code",  # small area (LSOA) from the postcode lookup or point-in-polygon; NULL if unknown
    "latitude",
    "longitude",
    "address",
    "parent_first_name",
    "parent_last_name",
    "parent_first_name_match",
    "parent_last_name_match",
    "mother_country_of_birth",
    "main_language",
    "ethnicity",  # ONS 2021 code (keys of ETHNICITY_2021) or NULL
    "event_date",  # DATE or NULL
    "event_type",
    "site",  # site id or NULL
    "interpreter_needed",  # BOOLEAN or NULL
    "flags",  # VARCHAR[]: quality flags that did not stop the row loading
    "extra",  # JSON text of extra columns the project asked to keep
)

#: ``quarantine``: rows that could not be used, with why. Restricted (holds the raw row).
QUARANTINE_COLUMNS: tuple[str, ...] = (
    "source",
    "row_number",
    "record_id",
    "batch_id",
    "reasons",  # VARCHAR[] of reason codes
    "raw",  # JSON text of the raw row
)

#: ``links``: one row per record in ``records`` with its linked ids. Restricted.
LINKS_COLUMNS: tuple[str, ...] = (
    "source",
    "record_id",
    "person_id",  # stable pseudonymous child id, e.g. 'P-3F9A1C2B7D'
    "family_id",  # stable pseudonymous family id, e.g. 'F-...'
    "match_probability",  # highest match probability to another record of the cluster
)

# --- Quarantine reasons and quality flags (the codes are part of the public contract) ------
#: A row with any of these cannot be used and goes to quarantine (nothing is lost).
QUARANTINE_REASONS: dict[str, str] = {
    "missing_record_id": "The record id is empty.",
    "duplicate_record_id": (
        "Another row of the same extract has this record id and different content."
    ),
    "duplicate_row": "An exact copy of an earlier row of the same extract (the first copy loads).",
    "missing_date_of_birth": "The date of birth is empty.",
    "invalid_date_of_birth": "The date of birth cannot be read as a date in the source's format, "
    "or is impossible (e.g. 31 February).",
    "date_of_birth_in_future": "The date of birth is after the extract's reference date.",
    "date_of_birth_out_of_range": "The date of birth is implausible for an early-years record "
    "(more than 18 years before the reference date).",
    "missing_identity": "Neither both names nor an NHS number are present.",
    "invalid_event_date": "The event date cannot be read, or is impossible.",
    "unreadable_row": "The row could not be parsed (wrong number of fields, bad bytes).",
}

#: A row with these still loads; the flag travels with it (and lowers its usefulness).
QUALITY_FLAGS: dict[str, str] = {
    "nhs_number_invalid": "NHS number present but not 10 digits with a valid check digit.",
    "postcode_invalid": "Postcode present but not in a valid UK postcode format.",
    "postcode_unknown": "Valid postcode format but not placed in any small area.",
    "postcode_placed_by_sector": "Postcode not in the lookup; placed by its sector, whose "
    "postcodes all lie in one small area.",
    "outside_age_range": "The child is outside the early-years age range on the reference date.",
    "event_before_birth": "The event date is before the date of birth.",
    "event_date_in_future": "The event date is after the extract's reference date.",
    "unmapped_value": "A value had no entry in the source's value map (kept as given).",
    "placeholder_name": "A name field held a placeholder (BABY, UNNAMED, TWIN 1 ...), read "
    "as missing: it neither links nor counts as a name.",
}

# --- Reach (released aggregate, before disclosure control) ---------------------------------
#: ``reach``: long table, one row per area level x area x group dimension x group value x
#: service. ``dimension``/``group_value`` are 'all'/'all' for the whole population of an area;
#: ``service`` is 'any' (any centre) or a site id. ONS denominators exist only where ONS
#: publishes them (whole population and age); elsewhere ons_population is NULL.
REACH_COLUMNS: tuple[str, ...] = (
    "level",  # lsoa | ward | msoa | borough | reach_area
    "area_code",
    "area_name",
    "dimension",  # all | ethnicity | ethnicity_broad | main_language | mother_country_of_birth |
    #               mother_region_of_birth | imd_decile | imd_quintile | idaci_decile |
    #               idaci_quintile | age_years | sex
    "group_value",
    "service",  # any | <site id>
    "ons_population",  # ONS 0-4 estimate (NULL where ONS has no such split)
    "known",  # of the denominator, children in universal sources (resident, in age range)
    "registered",  # of the known-or-registered children, those registered with the service
    "engaged",  # sustained engagement (>= min_attendances in window)
    "known_completeness",  # known / ons_population
    "registered_rate",  # registered / denominator (docs/measures.md)
    "registered_rate_lower",  # Wilson 95%
    "registered_rate_upper",
    "engaged_rate",  # engaged / denominator
    "engaged_rate_lower",
    "engaged_rate_upper",
    "registered_rate_ons",  # registered / ons_population
    "engaged_rate_ons",
    "registered_rate_smoothed",  # empirical Bayes (small areas)
    "funnel_z",  # Spiegelhalter z of registered_rate against the borough rate of the same
    #              group and service, with the family's over-dispersion tau2
    "funnel_band",  # below_998 | below_95 | within | above_95 | above_998
    "funnel_target",  # the borough's registered rate for the same group and service
    "funnel_tau2",  # additive over-dispersion of the row's funnel family (Spiegelhalter 2005)
    "registered_expected",  # 'all' rows: expected registrations from borough rates by age
    "registered_std_ratio",  # registered / registered_expected (indirect standardisation)
    "registered_std_ratio_lower",  # Byar / exact Poisson 95%
    "registered_std_ratio_upper",
    "registered_rate_std",  # indirectly age-standardised rate = ratio x borough crude rate
    "linkage_shift_lower",  # how far linkage error could move registered_rate (0-1 scale, <= 0)
    "linkage_shift_upper",  # (0-1 scale, >= 0)
    "denominator",  # children resident in the area, in age range, known OR registered OR engaged
)
