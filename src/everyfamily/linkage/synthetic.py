"""Seeded synthetic ``records`` for linkage tests and benchmarks (no real person anywhere).

Children are born into families (siblings, twins, lone parents, fathers as the named parent,
families who move), then seen by several services. Each sighting copies the child's details
with the errors real registers carry: typos, nicknames, day/month swaps of the date of birth,
missing NHS numbers and parent names, an old postcode after a move. The truth (which record is
which child, which child is in which family, and the groups linkage quality is reported by)
comes back alongside, so tests can check linkage against planted facts.

Names come from Faker's per-locale lists (en_GB, en_IN, ro_RO), read directly for speed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.linkage.nicknames import fold
from everyfamily.names import nicknames
from everyfamily.schema import RECORDS_COLUMNS

#: Origin groups: (share of families, Faker locale).
ORIGINS: dict[str, tuple[float, str]] = {
    "british": (0.80, "en_GB"),
    "south_asian": (0.10, "en_IN"),
    "eastern_european": (0.10, "ro_RO"),
}
#: Sources: (role, service type, share of sightings, chance the NHS number is recorded).
SOURCES: dict[str, tuple[str, str, float, float]] = {
    "births": ("births", "universal", 0.25, 0.97),
    "health_visiting": ("health_visiting", "universal", 0.30, 0.90),
    "registrations": ("registrations", "targeted", 0.20, 0.40),
    "attendances": ("attendances", "targeted", 0.25, 0.30),
}


@dataclass(frozen=True)
class ErrorRates:
    """Chance of each corruption per record (defaults: a plausibly messy council extract)."""

    first_name_typo: float = 0.04
    nickname: float = 0.05
    last_name_typo: float = 0.03
    dob_swap: float = 0.02
    dob_typo: float = 0.02
    nhs_typo: float = 0.01
    postcode_missing: float = 0.04
    postcode_typo: float = 0.02
    parent_missing: float = 0.10
    sex_unknown: float = 0.02


@dataclass(frozen=True)
class SyntheticLinkageData:
    records: pa.Table  # columns schema.RECORDS_COLUMNS
    truth: pd.DataFrame  # source, record_id, child_id, family_id
    children: pd.DataFrame  # child_id, family_id, origin, parent_sex, moved


def _names(locale: str) -> tuple[list[str], list[str], list[str]]:
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    return (
        list(provider.first_names_female),
        list(provider.first_names_male),
        list(provider.last_names),
    )


def nhs_check_digit(nine: str) -> int | None:
    """Modulus 11 check digit of the first nine digits (NHS Digital data dictionary);
    None when the remainder gives 10 (such numbers are never issued)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_valid_nhs(number: str) -> bool:
    if len(number) != 10 or not number.isdigit():
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def _nhs_numbers(rng: np.random.Generator, n: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        for v in rng.integers(400_000_000, 999_999_999, size=n - len(out) + 16):
            nine = f"{v:09d}"
            check = nhs_check_digit(nine)
            if check is None or nine in seen:
                continue
            seen.add(nine)
            out.append(nine + str(check))
            if len(out) == n:
                break
    return out


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _typo(rng: np.random.Generator, word: str) -> str:
    """One keyboard slip: substitute, delete, insert or transpose a letter."""
    if len(word) < 3:
        return word + str(rng.choice(list(_LETTERS))).lower()
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 4))
    letter = str(rng.choice(list(_LETTERS))).lower()
    if kind == 0:
        return word[:i] + letter + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + letter + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    district = rng.integers(1, 40, size=n)
    sector = rng.integers(0, 10, size=n)
    u1 = rng.integers(0, len(_UNIT_LETTERS), size=n)
    u2 = rng.integers(0, len(_UNIT_LETTERS), size=n)
    return np.array(
        [
            f"L{d} {s}{_UNIT_LETTERS[a]}{_UNIT_LETTERS[b]}"
            for d, s, a, b in zip(district, sector, u1, u2, strict=True)
        ],
        dtype=object,
    )


def build_records(
    n_records: int = 5_000,
    *,
    seed: int = 7,
    errors: ErrorRates | None = None,
    reference_date: dt.date = dt.date(2026, 3, 31),
    records_per_child: float = 2.5,
    id_prefix: str = "",
) -> SyntheticLinkageData:
    """About ``n_records`` sighting records of about ``n_records / records_per_child`` children.

    One seeded generator draws, in this order: the families, the children, the sightings
    and their errors (each step below takes the generator where the last one left it)."""
    err = errors or ErrorRates()
    rng = np.random.default_rng(seed)
    n_children = max(1, round(n_records / records_per_child))
    nick_of = {k.title(): [v.title() for v in vs] for k, vs in nicknames().items()}
    fam = _families(rng, n_children)
    kids = _children(rng, fam, n_children, reference_date, nick_of)
    rows = _sightings(rng, fam, kids, n_children, records_per_child)
    _add_errors(rng, rows, err, reference_date, nick_of)
    rec_id = _record_ids(rows.source, id_prefix)
    records = _records_table(rows, rec_id)
    child_ids = np.array([f"C{i:07d}" for i in range(n_children)], dtype=object)
    fam_ids = np.array([f"FAM{i:07d}" for i in range(fam.n)], dtype=object)
    truth = pd.DataFrame(
        {
            "source": rows.source,
            "record_id": rec_id,
            "child_id": child_ids[rows.child],
            "family_id": fam_ids[rows.fam],
        }
    )
    children = pd.DataFrame(
        {
            "child_id": child_ids,
            "family_id": fam_ids[kids.fam],
            "origin": fam.origin[kids.fam],
            "parent_sex": fam.parent_sex[kids.fam],
            "moved": fam.moved[kids.fam],
        }
    )
    return SyntheticLinkageData(records=records, truth=truth, children=children)


@dataclass(frozen=True)
class _Families:
    sizes: list[int]
    n: int
    origin: np.ndarray
    parent_sex: np.ndarray
    moved: np.ndarray
    pc1: np.ndarray
    pc2: np.ndarray
    name_lists: dict[str, tuple[list[str], list[str], list[str]]]
    parent_first: np.ndarray
    parent_last: np.ndarray
    child_last: np.ndarray
    addr1: np.ndarray
    addr2: np.ndarray


def _families(rng: np.random.Generator, n_children: int) -> _Families:
    """Families of one to three children: origin, parent, postcodes (a second for those who
    moved), surnames and addresses."""
    sizes: list[int] = []
    while sum(sizes) < n_children:
        sizes.append(int(rng.choice([1, 2, 3], p=[0.55, 0.33, 0.12])))
    sizes[-1] -= sum(sizes) - n_children
    n_fam = len(sizes)
    origin_names = list(ORIGINS)
    fam_origin = rng.choice(origin_names, size=n_fam, p=[ORIGINS[o][0] for o in origin_names])
    fam_parent_sex = np.where(rng.random(n_fam) < 0.85, "female", "male")
    fam_moved = rng.random(n_fam) < 0.2
    fam_pc1 = _postcodes(rng, n_fam)
    fam_pc2 = _postcodes(rng, n_fam)
    name_lists = {o: _names(ORIGINS[o][1]) for o in origin_names}
    fam_parent_first = np.empty(n_fam, dtype=object)
    fam_parent_last = np.empty(n_fam, dtype=object)
    fam_child_last = np.empty(n_fam, dtype=object)
    for o in origin_names:
        idx = np.flatnonzero(fam_origin == o)
        fem, mal, last = name_lists[o]
        female = fam_parent_sex[idx] == "female"
        fam_parent_first[idx] = np.where(
            female, rng.choice(fem, size=idx.size), rng.choice(mal, size=idx.size)
        )
        fam_parent_last[idx] = rng.choice(last, size=idx.size)
        other = rng.choice(last, size=idx.size)
        fam_child_last[idx] = np.where(rng.random(idx.size) < 0.85, fam_parent_last[idx], other)
    fam_addr1 = np.array(
        [
            f"{n} {s}"
            for n, s in zip(rng.integers(1, 200, n_fam), rng.choice(_STREETS, n_fam), strict=True)
        ]
    )
    fam_addr2 = np.array(
        [
            f"{n} {s}"
            for n, s in zip(rng.integers(1, 200, n_fam), rng.choice(_STREETS, n_fam), strict=True)
        ]
    )
    return _Families(
        sizes,
        n_fam,
        fam_origin,
        fam_parent_sex,
        fam_moved,
        fam_pc1,
        fam_pc2,
        name_lists,
        fam_parent_first,
        fam_parent_last,
        fam_child_last,
        fam_addr1,
        fam_addr2,
    )


_STREETS = np.array(
    [
        "High Street",
        "Church Road",
        "Station Road",
        "Park Lane",
        "Mill Lane",
        "Victoria Road",
        "Green Lane",
        "Manor Way",
        "School Lane",
        "Kings Drive",
    ]
)


@dataclass(frozen=True)
class _Children:
    fam: np.ndarray
    sex: np.ndarray
    first: np.ndarray
    dob: np.ndarray
    nhs: np.ndarray


def _children(
    rng: np.random.Generator,
    fam: _Families,
    n_children: int,
    reference_date: dt.date,
    nick_of: dict[str, list[str]],
) -> _Children:
    """Children: sex, a first name unlike their siblings' (nicknames included), date of
    birth (some twins), NHS number."""
    sizes, name_lists, fam_origin = fam.sizes, fam.name_lists, fam.origin
    child_fam = np.repeat(np.arange(fam.n), sizes)
    sex = np.where(rng.random(n_children) < 0.5, "female", "male")
    first = np.empty(n_children, dtype=object)
    days_back = rng.integers(0, 5 * 365, size=n_children)
    dob = np.array([reference_date - dt.timedelta(days=int(d)) for d in days_back], dtype=object)
    start = 0
    for f, size in enumerate(sizes):
        fem, mal, _ = name_lists[fam_origin[f]]
        used: set[str] = set()
        twins = size >= 2 and rng.random() < 0.06
        for j in range(start, start + size):
            pool = fem if sex[j] == "female" else mal
            name = str(rng.choice(pool))
            while name in used or any(
                name in nick_of.get(u, ()) or u in nick_of.get(name, ()) for u in used
            ):
                name = str(rng.choice(pool))
            used.add(name)
            first[j] = name
        if twins:
            dob[start + 1] = dob[start]
        start += size
    nhs = np.array(_nhs_numbers(rng, n_children), dtype=object)
    return _Children(child_fam, sex, first, dob, nhs)


@dataclass
class _Rows:
    """The sighting records' columns, before and after errors are added (mutable)."""

    child: np.ndarray
    fam: np.ndarray
    source: np.ndarray
    u: np.ndarray
    first: np.ndarray
    last: np.ndarray
    dob: np.ndarray
    sex: np.ndarray
    nhs: np.ndarray
    pc: np.ndarray
    addr: np.ndarray
    pf: np.ndarray
    pl: np.ndarray


def _sightings(
    rng: np.random.Generator,
    fam: _Families,
    kids: _Children,
    n_children: int,
    records_per_child: float,
) -> _Rows:
    """Each child seen one or more times (Poisson), each sighting in a source, with the
    family's details (the second address for half the sightings of a family that moved)."""
    k = 1 + rng.poisson(records_per_child - 1, size=n_children)
    rec_child = np.repeat(np.arange(n_children), k)
    n = rec_child.size
    src_names = list(SOURCES)
    rec_source = rng.choice(src_names, size=n, p=[SOURCES[s][2] for s in src_names])
    rec_fam = kids.fam[rec_child]
    u = rng.random((n, 12))

    rows_first = kids.first[rec_child].copy()
    rows_last = fam.child_last[rec_fam].copy()
    rows_dob = kids.dob[rec_child].copy()
    rows_sex = kids.sex[rec_child].astype(object)
    rows_nhs = kids.nhs[rec_child].copy()
    rows_pc = np.where(fam.moved[rec_fam] & (u[:, 0] < 0.5), fam.pc2[rec_fam], fam.pc1[rec_fam])
    rows_addr = np.where(rows_pc == fam.pc2[rec_fam], fam.addr2[rec_fam], fam.addr1[rec_fam])
    rows_pc = rows_pc.astype(object)
    rows_pf = fam.parent_first[rec_fam].copy()
    rows_pl = fam.parent_last[rec_fam].copy()
    return _Rows(
        rec_child,
        rec_fam,
        rec_source,
        u,
        rows_first,
        rows_last,
        rows_dob,
        rows_sex,
        rows_nhs,
        rows_pc,
        rows_addr,
        rows_pf,
        rows_pl,
    )


def _add_errors(
    rng: np.random.Generator,
    rows: _Rows,
    err: ErrorRates,
    reference_date: dt.date,
    nick_of: dict[str, list[str]],
) -> None:
    """Recording errors at the rates of ``err``: typos, nicknames, swapped day and month,
    missing NHS numbers, postcodes and parents, unknown sex."""
    u = rows.u
    rows_first, rows_last, rows_dob, rows_nhs = rows.first, rows.last, rows.dob, rows.nhs
    rows_pc, rows_pf, rows_pl, rows_sex = rows.pc, rows.pf, rows.pl, rows.sex
    nhs_p = np.array([SOURCES[s][3] for s in rows.source])
    rows_nhs[u[:, 1] >= nhs_p] = None
    for i in np.flatnonzero(u[:, 2] < err.first_name_typo):
        rows_first[i] = _typo(rng, rows_first[i])
    for i in np.flatnonzero(
        (u[:, 2] >= err.first_name_typo) & (u[:, 2] < err.first_name_typo + err.nickname)
    ):
        options = nick_of.get(rows_first[i])
        if options:
            rows_first[i] = str(rng.choice(options))
    for i in np.flatnonzero(u[:, 3] < err.last_name_typo):
        rows_last[i] = _typo(rng, rows_last[i])
    for i in np.flatnonzero(u[:, 4] < err.dob_swap + err.dob_typo):
        d = rows_dob[i]
        if u[i, 4] < err.dob_swap and d.day <= 12 and d.day != d.month:
            rows_dob[i] = d.replace(month=d.day, day=d.month)
        else:
            shifted = d.replace(day=min(28, max(1, d.day + int(rng.choice([-9, -1, 1, 9])))))
            rows_dob[i] = shifted if shifted <= reference_date else d
    for i in np.flatnonzero((u[:, 5] < err.nhs_typo) & pd.notna(rows_nhs)):
        s = rows_nhs[i]
        j = int(rng.integers(0, 10))
        rows_nhs[i] = s[:j] + str((int(s[j]) + 1) % 10) + s[j + 1 :]
    for i in np.flatnonzero(u[:, 6] < err.postcode_typo):
        pc = rows_pc[i]
        rows_pc[i] = pc[:-1] + str(rng.choice(list(_UNIT_LETTERS)))
    rows_pc[u[:, 7] < err.postcode_missing] = None
    rows_pf[u[:, 8] < err.parent_missing] = None
    rows_pl[u[:, 9] < err.parent_missing] = None
    for i in np.flatnonzero(u[:, 10] < err.nickname):
        options = nick_of.get(rows_pf[i]) if rows_pf[i] else None
        if options:
            rows_pf[i] = str(rng.choice(options))
    rows_sex[u[:, 11] < err.sex_unknown] = "unknown"


def _record_ids(rec_source: np.ndarray, id_prefix: str) -> np.ndarray:
    """Record ids, unique within source."""
    rec_id = np.empty(rec_source.size, dtype=object)
    for s in SOURCES:
        idx = np.flatnonzero(rec_source == s)
        rec_id[idx] = [f"{id_prefix}{s[:2].upper()}{j:07d}" for j in range(idx.size)]
    return rec_id


def _records_table(rows: _Rows, rec_id: np.ndarray) -> pa.Table:
    """The sightings as a ``records`` table (the store's columns and types)."""
    rec_source = rows.source
    n = rec_source.size

    def match(col: np.ndarray) -> list[str | None]:
        return [fold(v) if v else None for v in col]

    nhs_valid = [is_valid_nhs(v) if v else None for v in rows.nhs]
    pc_list = list(rows.pc)
    data = {
        "source": rec_source.astype(object),
        "role": [SOURCES[s][0] for s in rec_source],
        "service_type": [SOURCES[s][1] for s in rec_source],
        "record_id": rec_id,
        "row_number": np.arange(1, n + 1),
        "batch_id": ["synthetic"] * n,
        "nhs_number": rows.nhs,
        "nhs_number_valid": nhs_valid,
        "first_name": rows.first,
        "last_name": rows.last,
        "first_name_match": match(rows.first),
        "last_name_match": match(rows.last),
        "date_of_birth": rows.dob,
        "sex": rows.sex,
        "postcode": pc_list,
        "postcode_valid": [None if p is None else True for p in pc_list],
        "postcode_sector": [p[:-2] if p else None for p in pc_list],
        "postcode_district": [p.split(" ")[0] if p else None for p in pc_list],
        "area_code": [None] * n,
        "latitude": [None] * n,
        "longitude": [None] * n,
        "address": rows.addr.astype(object),
        "parent_first_name": rows.pf,
        "parent_last_name": rows.pl,
        "parent_first_name_match": match(rows.pf),
        "parent_last_name_match": match(rows.pl),
        "mother_country_of_birth": [None] * n,
        "main_language": [None] * n,
        "ethnicity": [None] * n,
        "event_date": [None] * n,
        "event_type": [None] * n,
        "site": [None] * n,
        "interpreter_needed": [None] * n,
        "flags": [[] for _ in range(n)],
        "extra": [None] * n,
    }
    types = {
        "row_number": pa.int64(),
        "date_of_birth": pa.date32(),
        "nhs_number_valid": pa.bool_(),
        "postcode_valid": pa.bool_(),
        "latitude": pa.float64(),
        "longitude": pa.float64(),
        "event_date": pa.date32(),
        "flags": pa.list_(pa.string()),
        "interpreter_needed": pa.bool_(),
    }
    arrays = [pa.array(data[c], type=types.get(c, pa.string())) for c in RECORDS_COLUMNS]
    return pa.Table.from_arrays(arrays, names=list(RECORDS_COLUMNS))
