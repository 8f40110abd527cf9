"""Plain-English names for the codes of the reach table (dimensions, groups, measures)."""

from __future__ import annotations

from dataclasses import dataclass

from everyfamily.population.levels import (  # noqa: F401  (re-exported for the web layer)
    LEVELS,
    PIPELINE_LEVELS,
    level_label,
    level_noun,
    ordered_levels,
    outline_levels,
)
from everyfamily.schema import ETHNICITY_2021

DIMENSIONS: dict[str, str] = {
    "all": "Everyone",
    "age_years": "Age (years)",
    "sex": "Sex",
    "ethnicity_broad": "Ethnic group (broad)",
    "ethnicity": "Ethnic group",
    "main_language": "Main language",
    "mother_region_of_birth": "Mother's region of birth",
    "mother_country_of_birth": "Mother's country of birth",
    "imd_decile": "Deprivation (IMD decile)",
    "imd_quintile": "Deprivation (IMD quintile)",
    "idaci_decile": "Income deprivation affecting children (IDACI decile)",
    "idaci_quintile": "Income deprivation affecting children (IDACI quintile)",
}

REGIONS: dict[str, str] = {
    "uk": "United Kingdom",
    "ireland": "Ireland",
    "eu14": "EU14 (older EU members)",
    "eu8": "EU8 (joined 2004)",
    "eu2": "EU2 (Romania, Bulgaria)",
    "other_europe": "Other Europe",
    "south_asia": "South Asia",
    "middle_east_north_africa": "Middle East and North Africa",
    "sub_saharan_africa": "Sub-Saharan Africa",
    "east_asia": "East Asia",
    "other": "Elsewhere",
}

BROAD_ETHNICITY: dict[str, str] = {
    "white": "White",
    "mixed": "Mixed or multiple",
    "asian": "Asian",
    "black": "Black",
    "other": "Other ethnic group",
}

BANDS: dict[str, str] = {
    "below_998": "Far below the borough (outside 99.8% limit)",
    "below_95": "Below the borough (outside 95% limit)",
    "within": "Within the expected range",
    "above_95": "Above the borough (outside 95% limit)",
    "above_998": "Far above the borough (outside 99.8% limit)",
}


@dataclass(frozen=True)
class Measure:
    """A rate the map can show: column, its numerator and denominator columns."""

    key: str
    label: str
    numerator: str
    denominator: str
    denominator_label: str


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "registered_rate",
            "Registered with a centre",
            "registered",
            "denominator",
            "children living there (known or registered)",
        ),
        Measure(
            "engaged_rate",
            "Sustained engagement",
            "engaged",
            "denominator",
            "children living there (known or registered)",
        ),
        Measure(
            "engaged_per_registered",
            "Engaged, of those registered",
            "engaged",
            "registered",
            "children registered",
        ),
        Measure(
            "known_completeness",
            "Known to universal services, of the ONS estimate",
            "known",
            "ons_population",
            "children in the ONS estimate",
        ),
        Measure(
            "registered_rate_ons",
            "Registered, of the ONS estimate",
            "registered",
            "ons_population",
            "children in the ONS estimate",
        ),
    )
}


def dimension_label(dimension: str) -> str:
    return DIMENSIONS.get(dimension, dimension.replace("_", " ").capitalize())


def group_label(dimension: str, value: str) -> str:
    """A readable name for a group value of a dimension."""
    if value == "unknown":
        return "Not recorded"
    if dimension == "all":
        return "Everyone"
    if dimension == "ethnicity" and value in ETHNICITY_2021:
        return ETHNICITY_2021[value][0]
    if dimension == "ethnicity_broad":
        return BROAD_ETHNICITY.get(value, value)
    if dimension == "mother_region_of_birth":
        return REGIONS.get(value, value)
    if dimension == "sex":
        return value.capitalize()
    if dimension == "age_years":
        return f"Aged {value}"
    if dimension.endswith("_decile"):
        extra = " (most deprived)" if value == "1" else " (least deprived)" if value == "10" else ""
        return f"Decile {value}{extra}"
    if dimension.endswith("_quintile"):
        extra = " (most deprived)" if value == "1" else " (least deprived)" if value == "5" else ""
        return f"Quintile {value}{extra}"
    return value


def _group_sort_key(value: str) -> tuple[int, float, str]:
    if value == "unknown":
        return (2, 0.0, value)
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def sort_groups(values: list[str]) -> list[str]:
    """Numbers numerically, names alphabetically, 'unknown' last."""
    return sorted(values, key=_group_sort_key)
