"""Plain-English pieces of headlines: area names, group phrases, percentages and counts.

Counts in headlines pass through :mod:`everyfamily.privacy.disclosure` (suppression, the
complement rule, rounding: the rules of the reach release), and every percentage shown is
computed FROM those released counts (:func:`share`), so "36% of 255" is 36% of the 255
shown, and no number in a headline undoes the rounding of another.
"""

from __future__ import annotations

import math

from everyfamily.findings.model import FindingsSettings
from everyfamily.privacy.disclosure import (
    SUPPRESSED_TEXT,
    released_count,
    released_part,
    released_rate,
    released_text,
)
from everyfamily.schema import ETHNICITY_2021

_REGION_LABELS: dict[str, str] = {
    "uk": "the UK",
    "ireland": "Ireland",
    "eu14": "the EU14 countries",
    "eu8": "the EU8 countries",
    "eu2": "Romania or Bulgaria (EU2)",
    "other_europe": "elsewhere in Europe",
    "south_asia": "South Asia",
    "middle_east_north_africa": "the Middle East or North Africa",
    "sub_saharan_africa": "sub-Saharan Africa",
    "east_asia": "East Asia",
    "other": "elsewhere in the world",
}


def pct(rate: float) -> str:
    """A rate on the 0-1 scale as a whole percentage ('29%'); 'n/a' when undefined."""
    if rate is None or not math.isfinite(rate):
        return "n/a"
    return f"{100 * rate:.0f}%"


def count(n: float, settings: FindingsSettings) -> str:
    """A count as released (suppressed or rounded per the project's privacy settings)."""
    return released_text(
        n, suppress_at_or_below=settings.suppress_at_or_below, rounding=settings.rounding
    )


#: What a count suppressed by the complement rule reads as (it is not small: "fewer than 8"
#: would be false).
WITHHELD_TEXT = "a number not released"
#: What a percentage of a suppressed count reads as.
RATE_WITHHELD_TEXT = "rate not released"

#: Steps a rate may be rounded to when its sum holds a suppressed cell (see coarse_rate).
COARSE_STEPS: tuple[float, ...] = (0.05, 0.10)


def coarse_rate(
    part: float, whole: float, released_whole: int | None, settings: FindingsSettings
) -> float:
    """The rate ``part / whole`` of a sum whose count may not be released (it holds a
    suppressed small-area cell), rounded to a 5% or 10% step so coarse that it cannot give
    the cell back: half a step of the (released) whole must be more than twice the
    suppression threshold, so the count the rate implies is uncertain by more than any
    suppressed count could be (a 5% step needs over 640 children with the default 7).
    NaN when even a 10% step is too fine."""
    if released_whole is None or not whole or not math.isfinite(part / whole):
        return math.nan
    hidden = 2 * (settings.suppress_at_or_below + 1)
    for step in COARSE_STEPS:
        if step / 2 * released_whole > hidden:
            return round(part / whole / step) * step
    return math.nan


def released(n: float | None, settings: FindingsSettings) -> int | None:
    """A count as released (None when suppressed), per the project's privacy settings."""
    return released_count(
        n, suppress_at_or_below=settings.suppress_at_or_below, rounding=settings.rounding
    )


def released_pair(
    part: float, whole: float, settings: FindingsSettings
) -> tuple[int | None, int | None]:
    """A count and its group as released together (complement rule included)."""
    return released_part(
        part, whole, suppress_at_or_below=settings.suppress_at_or_below, rounding=settings.rounding
    )


#: A reach-table cell: level, area_code, dimension, group_value, service.
Cell = tuple[str, str, str, str, str]


def withheld(settings: FindingsSettings, cells: list[Cell], column: str) -> bool:
    """Does the released reach table suppress ``column`` of any of these cells?"""
    return any((*cell, column) in settings.withheld for cell in cells)


def released_cells(
    part: float,
    whole: float,
    settings: FindingsSettings,
    cells: list[Cell],
    part_column: str,
    whole_column: str = "denominator",
) -> tuple[int | None, int | None]:
    """:func:`released_pair` for counts that are the sum of these reach-table cells: a
    count is also suppressed when the released reach table suppresses it in any of them (a
    sum shown next to its other parts would give a suppressed cell back)."""
    shown_part, shown_whole = released_pair(part, whole, settings)
    if withheld(settings, cells, part_column):
        shown_part = None
    if withheld(settings, cells, whole_column):
        shown_whole = None
    return shown_part, shown_whole


def shown(exact: float, value: int | None, settings: FindingsSettings) -> str:
    """Text of a released count ``value`` (of the exact count ``exact``): '1,233', 'fewer
    than 8' when suppressed as small, :data:`WITHHELD_TEXT` when suppressed otherwise."""
    if value is not None:
        return f"{value:,}"
    if exact is not None and math.isfinite(exact) and exact <= settings.suppress_at_or_below:
        return SUPPRESSED_TEXT.format(limit=settings.suppress_at_or_below + 1)
    return WITHHELD_TEXT


def share(part: int | None, whole: int | None) -> str:
    """A percentage of RELEASED counts: '36%', or :data:`RATE_WITHHELD_TEXT`."""
    rate = released_rate(part, whole)
    return RATE_WITHHELD_TEXT if not math.isfinite(rate) else pct(rate)


def _pretty(value: str) -> str:
    return value.replace("_", " ").strip().title() if value.islower() else value


def group_phrase(dimension: str, value: str) -> str:
    """'under-fives whose main language is Romanian' and the like."""
    v = str(value)
    if dimension == "ethnicity":
        label = ETHNICITY_2021.get(v, (_pretty(v), ""))[0]
        return f"under-fives of {label} ethnicity"
    if dimension == "ethnicity_broad":
        return f"under-fives of {_pretty(v)} ethnicity (broad group)"
    if dimension == "main_language":
        return f"under-fives whose family's main language is {_pretty(v)}"
    if dimension == "mother_country_of_birth":
        return f"under-fives whose mother was born in {_pretty(v)}"
    if dimension == "mother_region_of_birth":
        return f"under-fives whose mother was born in {_REGION_LABELS.get(v, _pretty(v))}"
    if dimension in {"imd_decile", "idaci_decile"}:
        index = dimension.split("_")[0].upper()
        return f"under-fives in {index} decile {v} areas"
    if dimension in {"imd_quintile", "idaci_quintile"}:
        index = dimension.split("_")[0].upper()
        return f"under-fives in {index} quintile {v} areas"
    if dimension == "age_years":
        return f"children aged {v}"
    if dimension == "sex":
        return f"{v} under-fives"
    if dimension == "moved":  # a linkage-quality dimension: records at different addresses
        return {
            "yes": "under-fives whose records show a house move",
            "no": "under-fives whose records show no house move",
        }.get(v, "under-fives whose house moves are unknown")
    return f"under-fives with {dimension.replace('_', ' ')} {v}"


def areas_label(names: list[str], *, neighbours_word: str = "neighbouring") -> str:
    """'Halewood South', 'Halewood South and Halewood North', 'Halewood South and 3
    neighbouring areas'."""
    if not names:
        return "Unnamed area"
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {len(names) - 1} {neighbours_word} areas"
