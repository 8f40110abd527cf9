"""Mother's country of birth -> a broad region of birth.

Groups follow the ONS migration groupings used for births by mother's country of birth
(ONS, "Births by parents' country of birth, England and Wales"): EU14, EU8 (the 2004
accession countries less Cyprus and Malta), EU2 (Romania and Bulgaria, 2007). Ireland is kept
apart from the EU14 (ONS counts it inside) because it is a large, long-settled group in
Merseyside with very different service use. South-East Asia falls under 'other', as the
brief's list of regions has no separate group for it.

Countries are matched by English name (several common spellings), ISO 3166 alpha-2 or
alpha-3 code, case-insensitively. A country that is given but not listed goes to 'other';
a missing one is 'unknown'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

REGIONS: tuple[str, ...] = (
    "uk",
    "ireland",
    "eu14",
    "eu8",
    "eu2",
    "other_europe",
    "south_asia",
    "middle_east_north_africa",
    "sub_saharan_africa",
    "east_asia",
    "other",
)

# region -> entries "Name|alias|alias:A2:A3". Kept as data so it is easy to read and extend.
_TABLE: dict[str, tuple[str, ...]] = {
    "uk": (
        "United Kingdom|UK|Great Britain|Britain|England|Scotland|Wales|Northern Ireland"
        "|Channel Islands|Isle of Man:GB:GBR",
    ),
    "ireland": ("Ireland|Republic of Ireland|Eire|Irish Republic:IE:IRL",),
    "eu14": (
        "Austria:AT:AUT",
        "Belgium:BE:BEL",
        "Denmark:DK:DNK",
        "Finland:FI:FIN",
        "France:FR:FRA",
        "Germany:DE:DEU",
        "Greece:GR:GRC",
        "Italy:IT:ITA",
        "Luxembourg:LU:LUX",
        "Netherlands|The Netherlands|Holland:NL:NLD",
        "Portugal:PT:PRT",
        "Spain:ES:ESP",
        "Sweden:SE:SWE",
    ),
    "eu8": (
        "Czech Republic|Czechia:CZ:CZE",
        "Estonia:EE:EST",
        "Hungary:HU:HUN",
        "Latvia:LV:LVA",
        "Lithuania:LT:LTU",
        "Poland:PL:POL",
        "Slovakia:SK:SVK",
        "Slovenia:SI:SVN",
    ),
    "eu2": ("Romania:RO:ROU", "Bulgaria:BG:BGR"),
    "other_europe": (
        "Croatia:HR:HRV",
        "Cyprus:CY:CYP",
        "Malta:MT:MLT",
        "Norway:NO:NOR",
        "Switzerland:CH:CHE",
        "Iceland:IS:ISL",
        "Ukraine:UA:UKR",
        "Russia|Russian Federation:RU:RUS",
        "Belarus:BY:BLR",
        "Moldova:MD:MDA",
        "Albania:AL:ALB",
        "Serbia:RS:SRB",
        "Bosnia and Herzegovina|Bosnia:BA:BIH",
        "Kosovo:XK:XKX",
        "North Macedonia|Macedonia:MK:MKD",
        "Montenegro:ME:MNE",
        "Turkey|Turkiye|Türkiye:TR:TUR",
        "Georgia:GE:GEO",
        "Armenia:AM:ARM",
        "Azerbaijan:AZ:AZE",
        "Gibraltar:GI:GIB",
    ),
    "south_asia": (
        "India:IN:IND",
        "Pakistan:PK:PAK",
        "Bangladesh:BD:BGD",
        "Sri Lanka:LK:LKA",
        "Nepal:NP:NPL",
        "Afghanistan:AF:AFG",
        "Bhutan:BT:BTN",
        "Maldives:MV:MDV",
    ),
    "middle_east_north_africa": (
        "Iran:IR:IRN",
        "Iraq:IQ:IRQ",
        "Syria|Syrian Arab Republic:SY:SYR",
        "Lebanon:LB:LBN",
        "Jordan:JO:JOR",
        "Israel:IL:ISR",
        "Palestine|Occupied Palestinian Territories:PS:PSE",
        "Saudi Arabia:SA:SAU",
        "Yemen:YE:YEM",
        "Oman:OM:OMN",
        "United Arab Emirates|UAE:AE:ARE",
        "Qatar:QA:QAT",
        "Kuwait:KW:KWT",
        "Bahrain:BH:BHR",
        "Egypt:EG:EGY",
        "Libya:LY:LBY",
        "Tunisia:TN:TUN",
        "Algeria:DZ:DZA",
        "Morocco:MA:MAR",
        "Sudan:SD:SDN",
    ),
    "sub_saharan_africa": (
        "Nigeria:NG:NGA",
        "Ghana:GH:GHA",
        "Kenya:KE:KEN",
        "Somalia:SO:SOM",
        "Eritrea:ER:ERI",
        "Ethiopia:ET:ETH",
        "Zimbabwe:ZW:ZWE",
        "South Africa:ZA:ZAF",
        "Uganda:UG:UGA",
        "Congo|Republic of the Congo:CG:COG",
        "Democratic Republic of the Congo|DR Congo|DRC:CD:COD",
        "Cameroon:CM:CMR",
        "Sierra Leone:SL:SLE",
        "Gambia|The Gambia:GM:GMB",
        "Senegal:SN:SEN",
        "Zambia:ZM:ZMB",
        "Malawi:MW:MWI",
        "Tanzania:TZ:TZA",
        "Rwanda:RW:RWA",
        "Burundi:BI:BDI",
        "Angola:AO:AGO",
        "Mozambique:MZ:MOZ",
        "Namibia:NA:NAM",
        "Botswana:BW:BWA",
        "Ivory Coast|Cote d'Ivoire|Côte d'Ivoire:CI:CIV",
        "Liberia:LR:LBR",
        "Guinea:GN:GIN",
        "Mali:ML:MLI",
        "Niger:NE:NER",
        "Chad:TD:TCD",
        "South Sudan:SS:SSD",
        "Mauritius:MU:MUS",
        "Togo:TG:TGO",
        "Benin:BJ:BEN",
    ),
    "east_asia": (
        "China|People's Republic of China:CN:CHN",
        "Hong Kong:HK:HKG",
        "Macau|Macao:MO:MAC",
        "Taiwan:TW:TWN",
        "Japan:JP:JPN",
        "South Korea|Korea|Republic of Korea:KR:KOR",
        "North Korea:KP:PRK",
        "Mongolia:MN:MNG",
    ),
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for region, entries in _TABLE.items():
        for entry in entries:
            names, *codes = entry.split(":")
            for token in [*names.split("|"), *codes]:
                lookup[_key(token)] = region
    return lookup


_LOOKUP = _build_lookup()

#: Read-only view of the table above ("Name|alias:A2:A3" entries by region), for
#: docs/code-lists.md (everyfamily codes-doc).
REGION_TABLE: Mapping[str, tuple[str, ...]] = MappingProxyType(_TABLE)


def region_of_birth(countries: pd.Series) -> pd.Series:
    """Broad region for each country value: one of :data:`REGIONS`, or 'unknown' if missing."""
    s = countries.astype("string")
    keys = s.str.casefold().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    mapped = keys.map(_LOOKUP)
    out = np.where(s.isna() | (keys == ""), "unknown", mapped.fillna("other").astype(object))
    return pd.Series(out, index=countries.index, dtype=object)
