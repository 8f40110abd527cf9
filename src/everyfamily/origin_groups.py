"""Origin groups and how each recorded signal points to one.

The groups are the broad name-origin groups of the issue (British and Irish, Polish,
Romanian, Baltic, other Central and Eastern European, South Asian, Arabic, Chinese, West
African, Other). Each signal a council holds maps onto them with a fixed table:

* mother's country of birth: the country's group (Romania -> romanian ...); the UK and
  Ireland say nothing about origin on their own (a second-generation family is born here),
  so they fall through to the next signal;
* main language: the language's group; English falls through;
* ethnicity (ONS 2021): only the categories that point to one group (e.g. Asian: Chinese ->
  chinese, Other: Arab -> arabic); broad ones (White: Other White, Mixed, Any other) fall
  through, since "Other White" holds Polish, Romanian, Baltic and many more;
* name: the name-origin classifier (nameorigin.py), an estimate with known error.

Tables are data so they are easy to read and extend; matching is case-insensitive.

A code list with no imports from the package, so every layer may read it: the communities
stage assigns children to groups with it, and the find stage matches an unreached language,
country or ethnic group with an emerging community (findings/engine.py). The communities
package re-exports it as ``everyfamily.communities.groups``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

GROUPS: tuple[str, ...] = (
    "british_irish",
    "polish",
    "romanian",
    "baltic",
    "other_cee",
    "south_asian",
    "arabic",
    "chinese",
    "west_african",
    "other",
)

GROUP_LABELS: dict[str, str] = {
    "british_irish": "British or Irish",
    "polish": "Polish",
    "romanian": "Romanian",
    "baltic": "Baltic (Lithuanian, Latvian, Estonian)",
    "other_cee": "other Central and Eastern European",
    "south_asian": "South Asian",
    "arabic": "Arabic",
    "chinese": "Chinese",
    "west_african": "West African",
    "other": "other",
}

#: Signals in the order they decide a child's group (most specific first).
SIGNALS: tuple[str, ...] = ("country_of_birth", "language", "ethnicity", "name")

_COUNTRY: dict[str, tuple[str, ...]] = {
    "polish": ("poland", "pl", "pol"),
    "romanian": ("romania", "ro", "rou"),
    "baltic": ("lithuania", "latvia", "estonia", "lt", "ltu", "lv", "lva", "ee", "est"),
    "other_cee": (
        "czech republic",
        "czechia",
        "slovakia",
        "hungary",
        "bulgaria",
        "ukraine",
        "slovenia",
        "croatia",
        "russia",
        "russian federation",
        "belarus",
        "moldova",
        "serbia",
        "bosnia and herzegovina",
        "bosnia",
        "albania",
        "kosovo",
        "north macedonia",
        "macedonia",
        "montenegro",
        "cz",
        "cze",
        "sk",
        "svk",
        "hu",
        "hun",
        "bg",
        "bgr",
        "ua",
        "ukr",
    ),
    "south_asian": (
        "india",
        "pakistan",
        "bangladesh",
        "sri lanka",
        "nepal",
        "afghanistan",
        "bhutan",
        "maldives",
        "in",
        "ind",
        "pk",
        "pak",
        "bd",
        "bgd",
    ),
    "arabic": (
        "syria",
        "syrian arab republic",
        "iraq",
        "yemen",
        "sudan",
        "egypt",
        "algeria",
        "morocco",
        "tunisia",
        "libya",
        "lebanon",
        "jordan",
        "palestine",
        "saudi arabia",
        "kuwait",
        "qatar",
        "oman",
        "bahrain",
        "united arab emirates",
        "uae",
    ),
    "chinese": (
        "china",
        "people's republic of china",
        "hong kong",
        "taiwan",
        "macau",
        "macao",
        "cn",
        "chn",
        "hk",
        "hkg",
        "tw",
        "twn",
    ),
    "west_african": (
        "nigeria",
        "ghana",
        "sierra leone",
        "gambia",
        "the gambia",
        "senegal",
        "liberia",
        "guinea",
        "ivory coast",
        "cote d'ivoire",
        "côte d'ivoire",
        "togo",
        "benin",
        "mali",
        "niger",
        "burkina faso",
        "cameroon",
        "ng",
        "nga",
        "gh",
        "gha",
    ),
    "other": (
        "spain",
        "portugal",
        "italy",
        "france",
        "germany",
        "turkey",
        "turkiye",
        "türkiye",
        "greece",
        "netherlands",
        "belgium",
        "austria",
        "sweden",
        "denmark",
        "finland",
        "brazil",
        "iran",
    ),
}
#: Countries that say nothing about origin by themselves (families born here).
_HOME_COUNTRIES: frozenset[str] = frozenset(
    {
        "united kingdom",
        "uk",
        "great britain",
        "britain",
        "england",
        "scotland",
        "wales",
        "northern ireland",
        "gb",
        "gbr",
        "ireland",
        "republic of ireland",
        "ie",
        "irl",
    }
)

_LANGUAGE: dict[str, tuple[str, ...]] = {
    "polish": ("polish",),
    "romanian": ("romanian", "moldovan"),
    "baltic": ("lithuanian", "latvian", "estonian"),
    "other_cee": (
        "czech",
        "slovak",
        "hungarian",
        "bulgarian",
        "ukrainian",
        "russian",
        "slovenian",
        "croatian",
        "serbian",
        "bosnian",
        "albanian",
        "macedonian",
    ),
    "south_asian": (
        "urdu",
        "punjabi",
        "panjabi",
        "bengali",
        "bangla",
        "sylheti",
        "gujarati",
        "hindi",
        "tamil",
        "pashto",
        "sinhala",
        "nepali",
    ),
    "arabic": ("arabic",),
    "chinese": ("mandarin", "cantonese", "chinese", "hakka"),
    "west_african": ("yoruba", "igbo", "hausa", "akan", "akan (twi)", "twi", "krio", "fula"),
    "other": ("spanish", "portuguese", "italian", "turkish", "french", "german", "kurdish"),
}
_ENGLISH: frozenset[str] = frozenset({"english", "eng", "english or welsh", "welsh"})

#: ONS 2021 ethnicity codes that point to one group. The rest (white_other, white_roma,
#: mixed_*, asian_other, black_caribbean, black_other, other_any) fall through. Black African
#: is mapped to West African: in England most Black African families of the last decades are
#: Nigerian or Ghanaian, but East African families are counted here too (a known weakness).
ETHNICITY_GROUP: dict[str, str] = {
    "white_british": "british_irish",
    "white_irish": "british_irish",
    "white_gypsy_traveller": "british_irish",
    "asian_indian": "south_asian",
    "asian_pakistani": "south_asian",
    "asian_bangladeshi": "south_asian",
    "asian_chinese": "chinese",
    "black_african": "west_african",
    "other_arab": "arabic",
}


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip()


def _invert(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(v): g for g, values in table.items() for v in values}


_COUNTRY_LOOKUP = _invert(_COUNTRY)
_LANGUAGE_LOOKUP = _invert(_LANGUAGE)

#: Read-only views of the tables above, for docs/code-lists.md (everyfamily codes-doc).
COUNTRY_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(_COUNTRY)
HOME_COUNTRIES: frozenset[str] = _HOME_COUNTRIES
LANGUAGE_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(_LANGUAGE)
ENGLISH_LANGUAGES: frozenset[str] = _ENGLISH


def group_from_country(value: object) -> str | None:
    """The group a mother's country of birth points to; None for missing, UK or Ireland.

    A country not in the table counts as 'other' (it is somewhere else, just not one of the
    named groups)."""
    if not isinstance(value, str) or not value.strip():
        return None
    k = _key(value)
    if k in _HOME_COUNTRIES:
        return None
    return _COUNTRY_LOOKUP.get(k, "other")


def group_from_language(value: object) -> str | None:
    """The group a main language points to; None for missing or English. A language not
    in the table counts as 'other'."""
    if not isinstance(value, str) or not value.strip():
        return None
    k = _key(value)
    if k in _ENGLISH:
        return None
    return _LANGUAGE_LOOKUP.get(k, "other")


def group_from_ethnicity(value: object) -> str | None:
    """The group an ONS 2021 ethnicity code points to, or None when it is too broad."""
    if not isinstance(value, str):
        return None
    return ETHNICITY_GROUP.get(value.strip())
