"""Plain-English names for the codes of the reach table (dimensions, groups, measures)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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

#: Labels of well-known level names (ONS geographies and the two levels the pipeline adds);
#: any other level is labelled from its name (:func:`level_label`) or from the project's
#: ``geography.level_labels``.
LEVELS: dict[str, str] = {
    "oa": "Output areas (OA)",
    "lsoa": "Small areas (LSOA)",
    "dz": "Data zones",
    "ward": "Wards",
    "msoa": "MSOAs",
    "iz": "Intermediate zones",
    "lad": "Local authority",
    "la": "Local authority",
    "reach_area": "Centre reach areas",
    "borough": "Borough",
}

#: Levels the pipeline itself adds to every run (reach/measure.py): not the council's own.
PIPELINE_LEVELS: tuple[str, ...] = ("reach_area", "borough")

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


def _plural(word: str) -> str:
    """English plural of a level noun: locality -> localities, parish -> parishes."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def level_label(level: str, custom: Mapping[str, str] | None = None) -> str:
    """How a level is called on screen, plural ("Neighbourhoods", "Localities"): the
    project's ``geography.level_labels`` first, then :data:`LEVELS`, else built from the
    level's name (short all-letter names without vowels, e.g. 'pcn', read as acronyms)."""
    if custom and level in custom:
        return custom[level]
    if level in LEVELS:
        return LEVELS[level]
    words = level.replace("_", " ").replace("-", " ").split()
    if not words:
        return level
    if len(words) == 1 and len(level) <= 5 and not any(ch in "aeiou" for ch in level.lower()):
        return level.upper() + "s"
    words[-1] = _plural(words[-1])
    return " ".join(words).capitalize()


def ordered_levels(
    present: Iterable[str],
    small_level: str,
    geography: Mapping[str, Any] | None = None,
    sizes: Mapping[str, int] | None = None,
) -> list[str]:
    """The levels of a run in display order: the small-area level, then the larger levels
    in the order the project lists them (``geography.small_areas.levels``, then
    ``geography.hierarchy.levels``), then any other level by number of areas (most first),
    then centre reach areas and the borough. ``geography``: the run's settings block."""
    have = list(dict.fromkeys(str(lv) for lv in present))
    geo = geography or {}
    listed: list[str] = []
    for block in (geo.get("small_areas") or {}, geo.get("hierarchy") or {}):
        listed += [str(lv) for lv in (block.get("levels") or {})]
    size = sizes or {}
    rest = sorted(
        (lv for lv in have if lv not in listed and lv != small_level and lv not in PIPELINE_LEVELS),
        key=lambda lv: (-size.get(lv, 0), lv),
    )
    order = [small_level, *listed, *rest, *PIPELINE_LEVELS]
    return [lv for lv in dict.fromkeys(order) if lv in have]


def outline_levels(levels: Iterable[str], small_level: str) -> list[str]:
    """Levels drawn as outlines over the map: the first larger level of the council's own
    (thin lines) and the borough (thick line)."""
    own = [lv for lv in levels if lv != small_level and lv not in PIPELINE_LEVELS]
    return [*own[:1], *(lv for lv in levels if lv == "borough")]


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
