"""Area levels by any name: their labels and the order they are shown in.

Councils name their geographies as they like (LSOA, ward, MSOA, but also neighbourhood,
locality, district ...): nothing here knows a fixed list beyond the labels of well-known
ONS names and the two levels the pipeline adds itself (centre reach areas and the borough).
Pure functions, used by the dashboard (web/labels.py re-exports them) and the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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


def level_noun(level: str) -> str:
    """One area of a level, for running text ("reach by LSOA", "reach by neighbourhood"):
    short vowel-less or ONS names as acronyms, others as lower-case words."""
    if level.lower() in {"oa", "lsoa", "msoa", "lad", "la", "dz", "iz"} or (
        len(level) <= 5 and level.isalpha() and not any(ch in "aeiou" for ch in level.lower())
    ):
        return level.upper()
    if level == "reach_area":
        return "centre reach area"
    return level.replace("_", " ").replace("-", " ").lower()


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
