"""Name pools per origin group, read directly from Faker's per-locale provider lists.

We read the provider class attributes (e.g. ``faker.providers.person.pl_PL.Provider
.first_names_female``) instead of calling ``Faker().first_name()``: drawing ten thousand names
through Faker's formatters is slow, and indexing arrays with a seeded numpy Generator keeps the
scenario deterministic and fast. Accents are kept (Łukasz, Ioniță). Locales that Faker holds
in Cyrillic (bg_BG, uk_UA) are romanised with the national systems (Bulgarian Streamlined
System 2009, Ukrainian National 2010), as a council's system would record them. Faker is MIT
licensed; no name here belongs to a real record.
"""

from __future__ import annotations

import importlib

# Faker's lists are read by one module, shared with the name-model trainer (re-exported here
# for the demo's generators)
from everyfamily.fakernames import LocaleNames as LocaleNames
from everyfamily.fakernames import female_surname as female_surname
from everyfamily.fakernames import locale_names as locale_names
from everyfamily.fakernames import romanise as romanise

#: Locales (and weights) of each origin group. "arabic" uses fr_DZ, whose lists are Arabic
#: names in Latin script; "chinese" uses the romanised lists of zh_CN and zh_TW.
ORIGIN_LOCALES: dict[str, tuple[tuple[str, float], ...]] = {
    "british_irish": (("en_GB", 0.85), ("en_IE", 0.15)),
    "polish": (("pl_PL", 1.0),),
    "romanian": (("ro_RO", 1.0),),
    "baltic": (("lt_LT", 0.55), ("lv_LV", 0.45)),
    "other_cee": (("cs_CZ", 0.2), ("sk_SK", 0.25), ("hu_HU", 0.2), ("bg_BG", 0.2), ("uk_UA", 0.15)),
    "south_asian": (("en_PK", 0.6), ("en_IN", 0.4)),
    "arabic": (("fr_DZ", 1.0),),
    "chinese": (("zh_CN", 0.6), ("zh_TW", 0.4)),
    "west_african": (
        ("yo_NG", 0.35),
        ("ig_NG", 0.25),
        ("ha_NG", 0.1),
        ("en_NG", 0.1),
        ("tw_GH", 0.2),
    ),
    "other": (("es_ES", 0.25), ("pt_PT", 0.25), ("it_IT", 0.2), ("tr_TR", 0.15), ("fr_FR", 0.15)),
}

#: Country of birth and main language that go with each locale (for migrant mothers).
LOCALE_COUNTRY: dict[str, str] = {
    "en_GB": "United Kingdom",
    "en_IE": "Ireland",
    "pl_PL": "Poland",
    "ro_RO": "Romania",
    "lt_LT": "Lithuania",
    "lv_LV": "Latvia",
    "cs_CZ": "Czech Republic",
    "sk_SK": "Slovakia",
    "hu_HU": "Hungary",
    "bg_BG": "Bulgaria",
    "uk_UA": "Ukraine",
    "en_PK": "Pakistan",
    "en_IN": "India",
    "fr_DZ": "Syria",
    "zh_CN": "China",
    "zh_TW": "Hong Kong",
    "yo_NG": "Nigeria",
    "ig_NG": "Nigeria",
    "ha_NG": "Nigeria",
    "en_NG": "Nigeria",
    "tw_GH": "Ghana",
    "es_ES": "Spain",
    "pt_PT": "Portugal",
    "it_IT": "Italy",
    "tr_TR": "Turkey",
    "fr_FR": "France",
}
LOCALE_LANGUAGE: dict[str, str] = {
    "en_GB": "English",
    "en_IE": "English",
    "pl_PL": "Polish",
    "ro_RO": "Romanian",
    "lt_LT": "Lithuanian",
    "lv_LV": "Latvian",
    "cs_CZ": "Czech",
    "sk_SK": "Slovak",
    "hu_HU": "Hungarian",
    "bg_BG": "Bulgarian",
    "uk_UA": "Ukrainian",
    "en_PK": "Urdu",
    "en_IN": "Punjabi",
    "fr_DZ": "Arabic",
    "zh_CN": "Mandarin",
    "zh_TW": "Cantonese",
    "yo_NG": "Yoruba",
    "ig_NG": "Igbo",
    "ha_NG": "Hausa",
    "en_NG": "English",
    "tw_GH": "Akan (Twi)",
    "es_ES": "Spanish",
    "pt_PT": "Portuguese",
    "it_IT": "Italian",
    "tr_TR": "Turkish",
    "fr_FR": "French",
}


def british_surname_weights() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """en_GB family names with Faker's own frequency weights (an OrderedDict of name -> weight)."""
    provider = importlib.import_module("faker.providers.person.en_GB").Provider
    value = provider.last_names
    names = tuple(value.keys())
    weights = tuple(float(w) for w in value.values())
    return names, weights
