"""Plain-English pieces of headlines: area names, group phrases, percentages and counts.

Counts in headlines pass through :func:`everyfamily.privacy.disclosure.released_text`, so a
headline never shows a count that disclosure control would not release.
"""

from __future__ import annotations

import math

from everyfamily.findings.model import FindingsSettings
from everyfamily.privacy.disclosure import released_text
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
