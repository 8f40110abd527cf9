"""Per-seed file layouts of the town: column names, formats, encodings, dates, missing fields.

A council's systems never agree on names or formats; the town draws its own for every seed
so that nothing in the product can lean on the Knowsley demo's choices. Pure: returns
frozen descriptions that scenario.py writes and turns into the project file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Candidate column names per canonical field (council exports seen in the wild, invented).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "record_id": ("Record ID", "REF", "row_id", "Unique Ref", "ExtractKey", "ID"),
    "nhs_number": ("NHS_NUMBER", "NHSNo", "nhs number", "Patient NHS No", "NHS Num"),
    "first_name": ("Forename", "GivenName", "CHILD_FIRST", "First Name", "child forename"),
    "last_name": ("Surname", "FamilyName", "CHILD_LAST", "Last Name", "child surname"),
    "date_of_birth": ("DateOfBirth", "BirthDate", "D.O.B.", "dob", "Child DOB"),
    "sex": ("Gender", "SEX", "Sex Code", "child_gender"),
    "postcode": ("PostCode", "Post_Code", "PCODE", "Home Postcode", "postcode_current"),
    "address": ("Address1", "Street Address", "ADDR_LINE_1", "House and street"),
    "parent_first_name": (
        "Mum/Carer Forename",
        "Carer First",
        "PARENT_FORENAME",
        "Main Carer Name",
    ),
    "parent_last_name": ("Mum/Carer Surname", "Carer Last", "PARENT_SURNAME", "Main Carer Surname"),
    "mother_country_of_birth": ("Mother's Birth Country", "MUM_COB", "Maternal COB"),
    "main_language": ("Language", "Main Language", "LANG_SPOKEN", "Preferred Language"),
    "ethnicity": ("Ethnic Group", "ETHNIC_ORIGIN", "Ethnicity Description", "EthnicCategory"),
    "event_type": ("Activity", "Visit Type", "EVENT", "Contact Reason"),
    "event_date": ("Activity Date", "Visit Date", "EVENT_DT", "Date Seen", "Registered"),
    "site": ("Hub", "Venue", "CENTRE_CODE", "Location"),
}
DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d-%b-%Y",
    "%d.%m.%Y",
    "%Y%m%d",
    "%d %b %Y",
    "%Y/%m/%d",
)
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "cp1252", "latin-1")
DELIMITERS: tuple[str, ...] = (",", ";", "|", "\t")
SHEETS: tuple[str, ...] = ("Export", "Sheet1", "Data", "Report 1")
#: Sex code sets (canonical -> code) of different systems.
SEX_CODE_SETS: tuple[dict[str, str], ...] = (
    {"female": "F", "male": "M", "unknown": "U"},
    {"female": "2", "male": "1", "unknown": "9"},
    {"female": "Girl", "male": "Boy", "unknown": "Not recorded"},
    {"female": "Female", "male": "Male", "unknown": "Indeterminate"},
)
ROLES: tuple[str, ...] = ("births", "health_visiting", "registrations", "attendances")
_FILE_STEMS = {
    "births": ("birth_notifications", "CHIS_births", "new_births_extract"),
    "health_visiting": ("hv_contacts", "health_visiting_activity", "0-19_service_contacts"),
    "registrations": ("hub_registrations", "cc_regs", "family_hub_members"),
    "attendances": ("session_attendance", "hub_attendances", "activity_log"),
}


@dataclass(frozen=True)
class SourceLayout:
    """How one source is written: file, format, reading options, columns and codes."""

    role: str
    name: str
    file_name: str
    format: str  # csv, excel or parquet
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    #: canonical field -> column name in the file (only fields the file has)
    columns: dict[str, str]
    date_format: str
    sex_codes: dict[str, str]
    #: canonical fields the generator produces but this source does not carry
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    sources: tuple[SourceLayout, ...]
    no_ethnicity: bool
    #: reference-file choices
    area_code_column: str
    area_name_column: str
    boundaries_crs: str
    postcode_columns: tuple[str, str, str, str]  # postcode, area, lat, lon
    population_area_column: str
    age_column_style: str
    deprivation_columns: tuple[str, str, str]  # area, imd decile, idaci decile
    census_style: str
    site_columns: tuple[str, str, str, str, str]  # id, name, lat, lon, capacity
    class_column: str


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return str(options[int(rng.integers(0, len(options)))])


def draw_layout(seed: int, fields: dict[str, tuple[str, ...]]) -> Layout:
    """The layouts of this seed; ``fields`` lists each role's canonical fields."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3001]))
    no_eth = bool(rng.random() < 0.5)
    no_nhs = _pick(rng, ("registrations", "attendances", ""))
    formats = [_pick(rng, ("csv", "csv", "excel", "parquet")) for _ in ROLES]
    if "csv" not in formats:
        formats[int(rng.integers(0, len(ROLES)))] = "csv"
    sources = []
    for role, fmt in zip(ROLES, formats, strict=True):
        dropped: list[str] = []
        if no_eth:
            dropped.append("ethnicity")
        if role == no_nhs:
            dropped.append("nhs_number")
        if role == "registrations" and rng.random() < 0.5:
            dropped.append("address")
        if role == "births" and rng.random() < 0.25:
            dropped.append("mother_country_of_birth")
        used: set[str] = set()
        columns: dict[str, str] = {}
        for f in fields[role]:
            if f in dropped:
                continue
            options = tuple(c for c in COLUMN_NAMES[f] if c not in used)
            name = _pick(rng, options)
            used.add(name)
            columns[f] = name
        ext = {"csv": _pick(rng, (".csv", ".txt")), "excel": ".xlsx", "parquet": ".parquet"}[fmt]
        sources.append(
            SourceLayout(
                role=role,
                name={
                    "births": "birth_notices",
                    "health_visiting": "hv",
                    "registrations": "hub_regs",
                    "attendances": "sessions",
                }[role],
                file_name=_pick(rng, _FILE_STEMS[role]) + ext,
                format=fmt,
                encoding=_pick(rng, ENCODINGS) if fmt == "csv" else None,
                delimiter=_pick(rng, DELIMITERS) if fmt == "csv" else None,
                sheet=_pick(rng, SHEETS) if fmt == "excel" else None,
                columns=columns,
                date_format=_pick(rng, DATE_FORMATS),
                sex_codes=dict(SEX_CODE_SETS[int(rng.integers(0, len(SEX_CODE_SETS)))]),
                dropped=tuple(dropped),
            )
        )
    return Layout(
        sources=tuple(sources),
        no_ethnicity=no_eth,
        area_code_column=_pick(rng, ("lsoa_code", "LSOA21CD", "area_id", "sa_code")),
        area_name_column=_pick(rng, ("lsoa_name", "LSOA21NM", "area_name")),
        boundaries_crs=_pick(rng, ("EPSG:27700", "EPSG:4326")),
        postcode_columns=(
            _pick(rng, ("pcds", "postcode", "PCD")),
            _pick(rng, ("lsoa21", "lsoa_code", "small_area")),
            _pick(rng, ("lat", "latitude", "LAT")),
            _pick(rng, ("long", "lon", "longitude")),
        ),
        population_area_column=_pick(rng, ("LSOA Code", "lsoa_code", "AreaCode")),
        age_column_style=_pick(rng, ("age_{a}", "{a}", "Age {a}", "Age_{a}_years")),
        deprivation_columns=_pick_dep(rng),
        census_style=_pick(rng, ("short", "long")),
        site_columns=(
            _pick(rng, ("site_id", "SiteCode", "hub_ref")),
            _pick(rng, ("name", "Site Name", "hub_name")),
            _pick(rng, ("lat", "Latitude", "y_lat")),
            _pick(rng, ("lon", "Longitude", "x_long")),
            _pick(rng, ("capacity", "weekly_places", "Places")),
        ),
        class_column=_pick(rng, ("highway", "road_class", "fclass")),
    )


def _pick_dep(rng: np.random.Generator) -> tuple[str, str, str]:
    if rng.random() < 0.5:
        return ("lsoa_code", "imd_decile", "idaci_decile")
    return (
        "LSOA code (2011)",
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
        "Income Deprivation Affecting Children Index (IDACI) Decile (where 1 is most deprived "
        "10% of LSOAs)",
    )
