"""The names generator for tests (issue 21): each transformation does what it says, checked
on hand-worked examples (byte values from the Windows-1252 code page; the Ukrainian 2010
system's own examples from Cabinet of Ministers resolution 55), and the cases it draws from
the independent source have the property of their kind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from everyfamily.testing.names import (
    FOREIGN_DIMINUTIVES,
    KINDS,
    NameCase,
    cp1252_export,
    cyrillic_to_latin,
    mojibake,
    name_cases,
    one_surname_part,
    polish_l_dropped,
    romanian_cedilla,
    romanian_comma,
    surname_parts,
    swap_names,
)


@pytest.mark.parametrize(
    ("written", "replaced", "folded"),
    [
        ("Wiśniewski", "Wi?niewski", "Wisniewski"),  # ś is not in cp1252
        ("Łukasz", "?ukasz", "Lukasz"),  # nor Ł (NFKD does not split it)
        ("Dvořák", "Dvo?ák", "Dvorák"),  # á is (0xE1): kept
        ("Szőke", "Sz?ke", "Szoke"),  # ő is not, ö is
        ("Ștefănescu", "?tef?nescu", "Stefanescu"),
        ("Šimková", "Šimková", "Šimková"),  # Š is 0x8A in cp1252
        ("Müller", "Müller", "Müller"),
    ],
)
def test_cp1252_export(written: str, replaced: str, folded: str) -> None:
    assert cp1252_export(written) == replaced
    assert cp1252_export(written, unknown="fold") == folded
    folded.encode("cp1252")  # the result is always encodable


def test_cp1252_export_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown"):
        cp1252_export("Anna", unknown="drop")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("José", "JosÃ©"),  # é = C3 A9 -> Ã ©
        ("Łukasz", "Å\x81ukasz"),  # Ł = C5 81; 0x81 is undefined in cp1252 -> U+0081
        ("Ioniță", "IoniÈ›Äƒ"),  # ț = C8 9B -> È ›, ă = C4 83 -> Ä ƒ
        ("Smith", "Smith"),
    ],
)
def test_mojibake(written: str, read: str) -> None:
    assert mojibake(written) == read


def test_mojibake_twice() -> None:
    # "JosÃ©" saved as UTF-8 (Ã = C3 83, © = C2 A9) and read as cp1252 again
    assert mojibake("José", rounds=2) == "JosÃƒÂ©"


def test_romanian_comma_and_cedilla() -> None:
    comma = "\u0218tef\u0103nescu \u021aurcanu"  # Ș, ă, Ț (comma below)
    cedilla = "\u015etef\u0103nescu \u0162urcanu"  # Ş, ă, Ţ (cedilla)
    assert romanian_cedilla(comma) == cedilla
    assert romanian_comma(cedilla) == comma
    assert romanian_cedilla("Popescu") == "Popescu"


def test_polish_l_dropped_keeps_other_letters() -> None:
    assert polish_l_dropped("Łukasz Michałowski Wiśniewski") == "Lukasz Michalowski Wiśniewski"


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    # Examples printed in the 2010 resolution's own table
    [
        ("Алушта", "Alushta"),
        ("Згорани", "Zghorany"),
        ("Розгон", "Rozghon"),
        ("Їжакевич", "Yizhakevych"),
        ("Кадиївка", "Kadyivka"),
        ("Йосипівка", "Yosypivka"),
        ("Стрий", "Stryi"),
        ("Юрій", "Yurii"),
        ("Корюківка", "Koriukivka"),
        ("Яготин", "Yahotyn"),
        ("Костянтин", "Kostiantyn"),
        ("Знам'янка", "Znamianka"),
        ("Феодосія", "Feodosiia"),
        ("Олександр Шевченко", "Oleksandr Shevchenko"),
    ],
)
def test_ukrainian_national_2010(cyrillic: str, latin: str) -> None:
    assert cyrillic_to_latin(cyrillic, "uk_national_2010") == latin


@pytest.mark.parametrize(
    ("cyrillic", "icao", "bgn"),
    [
        ("Юрий", "Iurii", "Yuriy"),
        ("Щукин", "Shchukin", "Shchukin"),
        ("Наталья", "Natalia", "Natalya"),
        ("Елена", "Elena", "Yelena"),
        ("Андреев", "Andreev", "Andreyev"),
        ("Фёдор", "Fedor", "Fedor"),
        ("ЩУКИН", "SHCHUKIN", "SHCHUKIN"),
    ],
)
def test_russian_systems_differ_as_documented(cyrillic: str, icao: str, bgn: str) -> None:
    assert cyrillic_to_latin(cyrillic, "ru_icao_9303") == icao
    assert cyrillic_to_latin(cyrillic, "ru_bgn_pcgn") == bgn


def test_cyrillic_to_latin_rejects_an_unknown_system() -> None:
    with pytest.raises(ValueError, match="system"):
        cyrillic_to_latin("Юрий", "gost")


def test_swap_and_surname_parts() -> None:
    assert swap_names("Anna", "Nowak") == ("Nowak", "Anna")
    assert surname_parts("García López") == ("García", "López")
    assert surname_parts("Nowak-Kowalska") == ("Nowak", "Kowalska")
    assert one_surname_part("Nowak-Kowalska", 0) == "Nowak"
    assert one_surname_part("García López", -1) == "López"


def _unmojibake(text: str) -> str:
    """Undo one round: each character back to its cp1252 byte (the five undefined bytes
    came through as the control character of the same number), then decode UTF-8."""
    out = b""
    for c in text:
        try:
            out += c.encode("cp1252")
        except UnicodeEncodeError:
            out += bytes([ord(c)])
    return out.decode("utf-8")


def _holds(case: NameCase) -> bool:
    written = (case.given, case.family)
    recorded = (case.recorded_given, case.recorded_family)
    if case.kind == "cp1252_replaced":
        return "?" in "".join(recorded) and all(
            r == cp1252_export(w) for w, r in zip(written, recorded, strict=True)
        )
    if case.kind == "cp1252_folded":
        "".join(recorded).encode("cp1252")  # raises if a letter is outside the code page
        return all(
            r == cp1252_export(w, unknown="fold") for w, r in zip(written, recorded, strict=True)
        )
    if case.kind == "mojibake":
        return all(_unmojibake(r) == w for w, r in zip(written, recorded, strict=True))
    if case.kind == "mojibake_twice":
        return all(_unmojibake(_unmojibake(r)) == w for w, r in zip(written, recorded, strict=True))
    if case.kind == "other_parent_surname":  # same given name, another family name
        return case.recorded_given == case.given and case.recorded_family != case.family
    if case.kind == "foreign_nickname":  # the diminutive listed for the formal name
        system = {"uk": "uk_national_2010", "ru": "ru_icao_9303"}.get(case.locale)
        listed = {
            (cyrillic_to_latin(f, system), cyrillic_to_latin(d, system)) if system else (f, d)
            for loc, f, d in FOREIGN_DIMINUTIVES
            if loc == case.locale
        }
        return case.recorded_family == case.family and (case.given, case.recorded_given) in listed
    if case.kind == "romanian_cedilla":
        return all(romanian_comma(r) == w for w, r in zip(written, recorded, strict=True)) and any(
            c in "ŞşŢţ" for c in "".join(recorded)
        )
    if case.kind == "polish_l_dropped":
        return "ł" in "".join(written).lower() and "ł" not in "".join(recorded).lower()
    if case.kind == "cyrillic_systems":
        return all(s.isascii() for s in written + recorded)
    if case.kind == "swapped":
        return recorded == (case.family, case.given)
    return (
        case.recorded_family in surname_parts(case.family) and len(surname_parts(case.family)) >= 2
    )


@pytest.mark.parametrize("kind", KINDS)
def test_cases_of_each_kind(kind: str) -> None:
    cases = name_cases(kind, 25, seed=7)
    assert len(set(cases)) == 25
    assert cases == name_cases(kind, 25, seed=7)  # seeded
    assert cases != name_cases(kind, 25, seed=8)
    for case in cases:
        assert case.kind == kind
        assert (case.given, case.family) != (case.recorded_given, case.recorded_family)
        assert _holds(case), case


def test_name_cases_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        name_cases("nickname", 3)


def test_the_generator_does_not_read_faker_or_the_demo() -> None:
    code = (
        "import sys\nfrom everyfamily.testing.names import KINDS, name_cases\n"
        "[name_cases(k, 5) for k in KINDS]\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('faker', 'everyfamily.demo'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""
