"""Faker's per-locale name lists, read and romanised: one reader for two users.

The demo draws its synthetic people from these lists (``demo/namepools.py``) and the
name-origin trainer learns from them (``communities/training``). Both import this module,
so the trainer never imports ``everyfamily.demo`` (issue 19) and the lists are read one way.
Because the two share the lists, the model is evaluated on an independent source
(``communities/training/evaluate.py``, mimesis names).

Read from the provider class attributes (e.g. ``faker.providers.person.pl_PL.Provider
.first_names_female``). Accents are kept (Łukasz, Ioniță). Locales that Faker holds in
Cyrillic (bg_BG, uk_UA) are romanised with the national systems (Bulgarian Streamlined
System 2009, Ukrainian National 2010), as a council's system would record them; female
surname forms are made by rule (Kowalska, Nováková, Kazlauskienė). Faker is MIT licensed.
Changing anything here changes the demo's people and the shipped model (``python -m
everyfamily.communities.training --check`` says so).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

# Bulgarian Streamlined System (2009) and Ukrainian National transliteration (2010),
# simplified to their word-internal forms.
_CYRILLIC = {
    "bg": {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sht",
        "ъ": "a",
        "ь": "y",
        "ю": "yu",
        "я": "ya",
    },
    "uk": {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "h",
        "ґ": "g",
        "д": "d",
        "е": "e",
        "є": "ie",
        "ж": "zh",
        "з": "z",
        "и": "y",
        "і": "i",
        "ї": "i",
        "й": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ь": "",
        "ю": "iu",
        "я": "ia",
        "'": "",
        "’": "",
    },
}


def romanise(text: str, system: str) -> str:
    """Romanise Cyrillic ``text`` with the Bulgarian ('bg') or Ukrainian ('uk') system."""
    table = _CYRILLIC[system]
    out = []
    for ch in text:
        low = ch.lower()
        if low in table:
            rep = table[low]
            out.append(rep.capitalize() if ch != low else rep)
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class LocaleNames:
    """Given names by sex and family names (male form) of one locale."""

    locale: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]


def _attr(provider: type, name: str) -> tuple[str, ...]:
    value = getattr(provider, name, ())
    return tuple(value.keys()) if isinstance(value, dict) else tuple(value)


def _clean(names: tuple[str, ...], locale: str) -> tuple[str, ...]:
    out: list[str] = []
    for n in names:
        if locale == "bg_BG":
            n = romanise(n, "bg")
        elif locale == "uk_UA":
            n = romanise(n, "uk")
        elif locale in ("zh_TW",):
            n = "-".join(part.capitalize() for part in n.split("-"))
        n = n.strip()
        if n and n not in out:
            out.append(n)
    return tuple(out)


@cache
def locale_names(locale: str) -> LocaleNames:
    """Read one locale's lists from Faker (cached)."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if locale in ("zh_CN", "zh_TW"):
        firsts = _attr(provider, "first_romanized_names")
        female = _attr(provider, "first_romanized_names_female") or firsts
        male = _attr(provider, "first_romanized_names_male") or firsts
        surnames = _attr(provider, "last_romanized_names")
    elif locale == "lt_LT":
        # lt_LT has one mixed list: Lithuanian male given names end in -s, female in -a/-ė.
        firsts = _attr(provider, "first_names")
        male = tuple(n for n in firsts if n.endswith("s"))
        female = tuple(n for n in firsts if not n.endswith("s"))
        surnames = _attr(provider, "last_names")
    elif locale == "pl_PL":
        female = _attr(provider, "first_names_female")
        male = _attr(provider, "first_names_male")
        # The 200 common -ski/-cki/-wicz names first, then a slice of the long unisex list.
        surnames = _attr(provider, "male_last_names") + _attr(provider, "unisex_last_names")[:400]
    elif locale == "en_PK":
        # en_PK given names are not split by sex: use en_IN's Urdu/Hindi-romanised lists
        # of the same region for the child's sex, and en_PK's family names.
        ind = importlib.import_module("faker.providers.person.en_IN").Provider
        female = _attr(ind, "first_names_female")
        male = _attr(ind, "first_names_male")
        surnames = _attr(provider, "last_names")
    else:
        firsts = _attr(provider, "first_names")
        female = _attr(provider, "first_names_female") or firsts
        male = _attr(provider, "first_names_male") or firsts
        surnames = _attr(provider, "last_names_male") or _attr(provider, "last_names")
    return LocaleNames(
        locale, _clean(female, locale), _clean(male, locale), _clean(surnames, locale)
    )


def female_surname(locale: str, male: str, *, married: bool) -> str:
    """The female form of a family name where the language has one.

    A daughter and a married mother differ in Lithuanian (-aitė / -ienė); elsewhere both take
    the same female form (Kowalski -> Kowalska, Novák -> Nováková, Ivanov -> Ivanova).
    """
    if locale == "pl_PL":
        for m, f in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
            if male.endswith(m):
                return male[: -len(m)] + f
        return male
    if locale in ("cs_CZ", "sk_SK"):
        if male.endswith(("ý", "í")):
            return male[:-1] + "á"
        if male.endswith(("a", "e", "o")):
            return male[:-1] + "ová"
        return male + "ová"
    if locale == "lt_LT":
        for end in ("as", "is", "ys", "us"):
            if male.endswith(end):
                stem = male[: -len(end)]
                if married:
                    return stem + "ienė"
                return stem + {"as": "aitė", "is": "ytė", "ys": "ytė", "us": "ūtė"}[end]
        return male
    if locale == "lv_LV":
        if male.endswith("is"):
            return male[:-2] + "e"
        if male.endswith(("s", "š")):
            return male[:-1] + "a"
        return male
    if locale in ("bg_BG", "uk_UA"):
        if male.endswith(("ov", "ev", "in")):
            return male + "a"
        if male.endswith("skyi"):
            return male[:-4] + "ska"
        if male.endswith("ski"):
            return male[:-3] + "ska"
        return male
    return male
