"""Names the demo does not generate from, and the ways real systems mangle names.

Two parts, both for evaluation and tests only (issues 19 and 21):

* **An independent source.** The demo and the name-origin model's training both use Faker's
  lists; these names come from mimesis (MIT licence, its own per-locale ``person.json``
  datasets, compiled by other people), a development dependency. Mimesis covers some origin
  groups only (``INDEPENDENT_LOCALES``; ``UNCOVERED`` says why the others are missing). Its
  Cyrillic lists are romanised here with the national or passport systems below, its Chinese
  lists with pypinyin (tones dropped, syllables of a given name joined: 彦龙 -> Yanlong).
* **Transformations**, pure functions on one string, each a way a council's record differs
  from the name as written: a Windows-1252 export (letters the code page lacks become "?" or
  are folded to a base letter, as Windows' best-fit tables do), mojibake (UTF-8 bytes read as
  Windows-1252), Romanian s/t with cedilla instead of comma below, Polish l with stroke lost,
  Cyrillic romanised by different systems, given and family names swapped, one part of a
  double or hyphenated surname. ``name_cases`` draws (as written, as recorded) pairs of each
  kind from the independent source, seeded.

Nothing here is personal data: every name is a list entry of a public package.
"""

from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: mimesis locales per origin group (empty: the group is not covered).
INDEPENDENT_LOCALES: dict[str, tuple[str, ...]] = {
    "british_irish": ("en-gb",),
    "polish": ("pl",),
    "romanian": (),
    "baltic": ("et",),
    "other_cee": ("cs", "sk", "hu", "hr", "uk", "ru"),
    "south_asian": (),
    "arabic": (),
    "chinese": ("zh",),
    "west_african": (),
    "other": ("es", "pt", "it", "tr", "fr", "de", "nl"),
}

#: Why a group has no independent names.
UNCOVERED: dict[str, str] = {
    "romanian": "mimesis has no Romanian locale",
    "south_asian": "mimesis has no Indian, Pakistani or Bangladeshi locale",
    "arabic": "mimesis's Arabic locales hold names in Arabic script without vowels, which "
    "cannot be romanised as a council records them (Ahmed, Mohammed) by rule",
    "west_african": "mimesis has no West African locale",
}

#: Romanian names with s/t comma below, for the cedilla case only (mimesis has no Romanian
#: locale). Written from general knowledge of common Romanian names; NOT an evaluation set.
ROMANIAN_GIVEN: tuple[str, ...] = ("Ștefan", "Ștefania", "Ionuț", "Gheorghiță", "Petruț")
ROMANIAN_SURNAMES: tuple[str, ...] = (
    "Ștefănescu",
    "Țurcanu",
    "Mureșan",
    "Lupașcu",
    "Oprișan",
    "Dumitrașcu",
    "Grigoraș",
    "Țăranu",
)


@dataclass(frozen=True)
class LocaleNames:
    """One mimesis locale's given names by sex and family names by sex (Latin script)."""

    locale: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames_female: tuple[str, ...]
    surnames_male: tuple[str, ...]


def _read(locale: str) -> dict[str, object]:
    path = resources.files("mimesis").joinpath("datasets", locale, "person.json")
    doc: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).capitalize()


def _latin(name: str, locale: str) -> str:
    if locale == "uk":
        return cyrillic_to_latin(name, "uk_national_2010")
    if locale == "ru":
        return cyrillic_to_latin(name, "ru_icao_9303")
    if locale == "zh":
        return _pinyin(name)
    return name


def _clean(values: object, locale: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for v in values if isinstance(values, list) else []:
        name = " ".join(_latin(str(v), locale).split())
        if name and all(c.isalpha() or c in " -'" for c in name):
            out.setdefault(name, None)
    return tuple(out)


@cache
def locale_names(locale: str) -> LocaleNames:
    """Read one mimesis locale (cached); names with brackets or digits are dropped."""
    doc = _read(locale)
    names, surnames = doc["names"], doc["surnames"]
    if not isinstance(names, dict):
        raise TypeError(f"mimesis {locale}: names is not a mapping")
    if isinstance(surnames, dict):
        s_female, s_male = surnames.get("female", []), surnames.get("male", [])
    else:
        s_female = s_male = surnames
    return LocaleNames(
        locale,
        _clean(names.get("female", []), locale),
        _clean(names.get("male", []), locale),
        _clean(s_female, locale),
        _clean(s_male, locale),
    )


# --- Windows-1252 -------------------------------------------------------------------------

#: Letters NFKD does not split into base letter + accent.
_FOLD_SPECIAL = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ø": "o", "Ø": "O"}


def _in_cp1252(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def cp1252_export(text: str, *, unknown: str = "?") -> str:
    """``text`` after a Windows-1252 export. Letters the code page holds stay (é, ö, š, ž);
    any other becomes "?" (``unknown="?"``, Python's and many exports' replacement) or its
    base letter (``unknown="fold"``, as Windows' best-fit mapping does: ł -> l, ș -> s,
    ő -> o). ``cp1252_export("Wiśniewski") == "Wi?niewski"``."""
    if unknown not in ("?", "fold"):
        raise ValueError("unknown must be '?' or 'fold'")
    out = []
    for ch in text:
        if _in_cp1252(ch):
            out.append(ch)
        elif unknown == "?":
            out.append("?")
        else:
            base = _FOLD_SPECIAL.get(ch) or "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and all(_in_cp1252(c) for c in base) else "?")
    return "".join(out)


def mojibake(text: str, *, rounds: int = 1) -> str:
    """UTF-8 bytes read as Windows-1252, ``rounds`` times (2: the result saved as UTF-8 and
    read as Windows-1252 again). The five bytes the code page leaves undefined (0x81, 0x8D,
    0x8F, 0x90, 0x9D) become the control character of the same number, as Windows does.
    ``mojibake("José") == "JosÃ©"``."""
    for _ in range(rounds):
        chars = []
        for b in text.encode("utf-8"):
            try:
                chars.append(bytes([b]).decode("cp1252"))
            except UnicodeDecodeError:
                chars.append(chr(b))
        text = "".join(chars)
    return text


# --- Romanian and Polish letters ----------------------------------------------------------

_COMMA_TO_CEDILLA = str.maketrans("ȘșȚț", "ŞşŢţ")
_CEDILLA_TO_COMMA = str.maketrans("ŞşŢţ", "ȘșȚț")


def romanian_cedilla(text: str) -> str:
    """Romanian s and t with comma below (U+0218-U+021B, correct) written with cedilla
    (U+015E, U+015F, U+0162, U+0163), as pre-2007 fonts and many systems do."""
    return text.translate(_COMMA_TO_CEDILLA)


def romanian_comma(text: str) -> str:
    """The reverse of ``romanian_cedilla``: cedilla s and t to comma below."""
    return text.translate(_CEDILLA_TO_COMMA)


def polish_l_dropped(text: str) -> str:
    """Polish l with stroke written as plain l; every other letter kept (Michał -> Michal,
    but Wiśniewski keeps its ś): the one letter that Unicode normalisation does not fold."""
    return text.replace("ł", "l").replace("Ł", "L")


# --- Cyrillic to Latin --------------------------------------------------------------------

_UK_2010 = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia", "'": "", "’": "", "ʼ": "",
    # Russian letters, for Russian names in Ukrainian documents
    "ё": "e", "ы": "y", "э": "e", "ъ": "",
}  # fmt: skip
_UK_2010_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}

_RU_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "ґ": "g", "є": "ie", "і": "i", "ї": "i", "'": "", "’": "", "ʼ": "",
}  # fmt: skip

_RU_BGN = {
    **_RU_ICAO,
    "й": "y", "ъ": "", "ю": "yu", "я": "ya", "ї": "yi", "є": "ye",
}  # fmt: skip
_VOWELS = set("аеёиоуыэюяєіїАЕЁИОУЫЭЮЯЄІЇ")

#: Romanisation systems: Ukrainian national (Cabinet of Ministers resolution 55, 2010; used
#: in Ukrainian passports), Russian ICAO Doc 9303 (Russian passports since 2014), and
#: Russian BGN/PCGN 1947 with its diacritics and apostrophes dropped (ë -> e), the usual
#: English spelling (Yuriy, Natalya, Yelena).
SYSTEMS: tuple[str, ...] = ("uk_national_2010", "ru_icao_9303", "ru_bgn_pcgn")


def _letter(prev: str, low: str, system: str) -> str:
    initial = not prev or not (prev.isalpha() or prev in "'’ʼ")
    if system == "uk_national_2010":
        if low == "г" and prev.lower() == "з":
            return "gh"
        return _UK_2010_INITIAL[low] if initial and low in _UK_2010_INITIAL else _UK_2010[low]
    if system == "ru_icao_9303":
        return _RU_ICAO[low]
    if low in "её" and (initial or prev in _VOWELS or prev.lower() in "йъь"):
        return "ye"
    return _RU_BGN[low]


def cyrillic_to_latin(text: str, system: str) -> str:
    """Romanise Cyrillic ``text`` with one of ``SYSTEMS``; other characters are kept.
    ``cyrillic_to_latin("Юрий", "ru_icao_9303") == "Iurii"``, ``"Yuriy"`` with
    ``ru_bgn_pcgn``; ``cyrillic_to_latin("Олександр", "uk_national_2010") == "Oleksandr"``."""
    if system not in SYSTEMS:
        raise ValueError(f"system must be one of {', '.join(SYSTEMS)}")
    table = _UK_2010 if system == "uk_national_2010" else _RU_ICAO
    out: list[str] = []
    prev = ""
    for i, ch in enumerate(text):
        low = ch.lower()
        if low not in table:
            out.append(ch)
        else:
            rep = _letter(prev, low, system)
            if ch != low and rep:
                nxt = text[i + 1] if i + 1 < len(text) else ""
                rep = rep.upper() if nxt.isupper() else rep.capitalize()
            out.append(rep)
        prev = ch
    return "".join(out)


# --- Given and family names ---------------------------------------------------------------


def swap_names(given: str, family: str) -> tuple[str, str]:
    """(given, family) recorded the other way round: returns (family, given)."""
    return family, given


def surname_parts(surname: str) -> tuple[str, ...]:
    """The parts of a double or hyphenated surname ("García López", "Nowak-Kowalska")."""
    return tuple(p for p in surname.replace("-", " ").split() if p)


def one_surname_part(surname: str, which: int) -> str:
    """One part of a double or hyphenated surname (0: the first, -1: the last)."""
    return surname_parts(surname)[which]


# --- Cases for tests ----------------------------------------------------------------------

KINDS: tuple[str, ...] = (
    "cp1252_replaced",
    "cp1252_folded",
    "mojibake",
    "mojibake_twice",
    "romanian_cedilla",
    "polish_l_dropped",
    "cyrillic_systems",
    "swapped",
    "one_surname_part",
    "other_parent_surname",
    "foreign_nickname",
)

#: Everyday diminutives of other languages, for the ``foreign_nickname`` case: (locale,
#: formal, diminutive). Written here from general knowledge, separately from the linkage's
#: tables (everyfamily/names/nicknames_*.csv), so a test drawing them checks those tables
#: and the romanisation of Cyrillic ones end to end; NOT from the demo's name pools.
FOREIGN_DIMINUTIVES: tuple[tuple[str, str, str], ...] = (
    ("pl", "Katarzyna", "Kasia"),
    ("pl", "Małgorzata", "Gosia"),
    ("pl", "Wojciech", "Wojtek"),
    ("pl", "Zofia", "Zosia"),
    ("ro", "Gheorghe", "Ghiță"),
    ("ro", "Constantin", "Costel"),
    ("ro", "Ion", "Ionuț"),
    ("ru", "Дмитрий", "Дима"),
    ("ru", "Екатерина", "Катя"),
    ("ru", "Михаил", "Миша"),
    ("uk", "Юрій", "Юрко"),
)


@dataclass(frozen=True)
class NameCase:
    """A person's name as written (given, family) and as a second record holds it."""

    kind: str
    locale: str
    given: str
    family: str
    recorded_given: str
    recorded_family: str


def _latin_locales() -> tuple[str, ...]:
    return tuple(
        loc
        for locs in INDEPENDENT_LOCALES.values()
        for loc in locs
        if loc not in ("uk", "ru", "zh")
    )


def _draw(rng: random.Random, locale: str) -> tuple[str, str]:
    names = locale_names(locale)
    if rng.random() < 0.5:
        return rng.choice(names.female), rng.choice(names.surnames_female)
    return rng.choice(names.male), rng.choice(names.surnames_male)


def _cyrillic_case(rng: random.Random) -> NameCase:
    locale = rng.choice(("uk", "ru"))
    doc = _read(locale)
    sex = rng.choice(("female", "male"))
    given = str(rng.choice(doc["names"][sex]))  # type: ignore[index]
    family = str(rng.choice(doc["surnames"][sex]))  # type: ignore[index]
    first = "uk_national_2010" if locale == "uk" else "ru_icao_9303"
    return NameCase(
        "cyrillic_systems",
        locale,
        cyrillic_to_latin(given, first),
        cyrillic_to_latin(family, first),
        cyrillic_to_latin(given, "ru_bgn_pcgn"),
        cyrillic_to_latin(family, "ru_bgn_pcgn"),
    )


def _case(kind: str, rng: random.Random) -> NameCase:
    if kind == "cyrillic_systems":
        return _cyrillic_case(rng)
    if kind == "foreign_nickname":
        loc, formal, dim = rng.choice(FOREIGN_DIMINUTIVES)
        family_loc = {"ro": "pl", "ru": "ru", "uk": "uk"}.get(loc, loc)
        family = str(rng.choice(_read(family_loc)["surnames"]["male"]))  # type: ignore[index]
        if loc in ("ru", "uk"):
            system = "uk_national_2010" if loc == "uk" else "ru_icao_9303"
            formal, dim = cyrillic_to_latin(formal, system), cyrillic_to_latin(dim, system)
            family = cyrillic_to_latin(family, system)
        return NameCase(kind, loc, formal, family, dim, family)
    if kind == "romanian_cedilla":
        given, family = rng.choice(ROMANIAN_GIVEN), rng.choice(ROMANIAN_SURNAMES)
        return NameCase(
            kind, "ro", given, family, romanian_cedilla(given), romanian_cedilla(family)
        )
    locale = "pl" if kind == "polish_l_dropped" else rng.choice(_latin_locales())
    given, family = _draw(rng, locale)
    if kind == "one_surname_part":
        other = _draw(rng, locale)[1]
        family = f"{family} {other}" if locale in ("es", "pt") else f"{family}-{other}"
        return NameCase(
            kind, locale, given, family, given, one_surname_part(family, rng.choice((0, -1)))
        )
    if kind == "swapped":
        return NameCase(kind, locale, given, family, *swap_names(given, family))
    if kind == "other_parent_surname":
        # recorded under the other parent's family name (mother's instead of father's)
        return NameCase(kind, locale, given, family, given, _draw(rng, locale)[1])
    change = {
        "cp1252_replaced": lambda s: cp1252_export(s, unknown="?"),
        "cp1252_folded": lambda s: cp1252_export(s, unknown="fold"),
        "mojibake": mojibake,
        "mojibake_twice": lambda s: mojibake(s, rounds=2),
        "polish_l_dropped": polish_l_dropped,
    }[kind]
    return NameCase(kind, locale, given, family, change(given), change(family))


def name_cases(kind: str, n: int, *, seed: int = 21) -> tuple[NameCase, ...]:
    """``n`` distinct cases of one of ``KINDS``, drawn from the independent source with a
    seeded generator; only cases where the recorded name differs from the written one."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    rng = random.Random(f"{kind}:{seed}")  # noqa: S311 (seeded sampling, not security)
    out: dict[NameCase, None] = {}
    for _ in range(n * 200):
        case = _case(kind, rng)
        if (case.given, case.family) != (case.recorded_given, case.recorded_family):
            out.setdefault(case, None)
        if len(out) == n:
            return tuple(out)
    raise ValueError(f"could not draw {n} distinct {kind} cases")
