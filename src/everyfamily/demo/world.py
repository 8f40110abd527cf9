"""The synthetic Knowsley population and what each council system records about it (pure).

:func:`simulate` builds, in memory and without touching the disk, every child aged 0-4 on
the reference date in each LSOA (the ONS mid-2020 single-year counts), groups them into
families at real postcodes, gives them census-shaped ethnicity, language and mothers'
countries of birth, names them from Faker's locale lists, plants the stories, and produces
the four extracts (as tables of strings, exactly as they will be written) plus the truth.

Randomness: one ``numpy.random.SeedSequence(seed)`` spawns an independent Generator per
concern. Per-family and per-child draws are taken as fixed-size blocks of uniforms before any
story is applied, so switching a story off changes only what that story touches.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from everyfamily.demo import faults
from everyfamily.demo.namepools import (
    LOCALE_COUNTRY,
    LOCALE_LANGUAGE,
    ORIGIN_LOCALES,
    british_surname_weights,
    female_surname,
    locale_names,
)
from everyfamily.demo.namevariants import NameCorrupter, NameVariants
from everyfamily.demo.nhs import synthetic_nhs_numbers
from everyfamily.demo.opendata_io import ETHNIC_GROUPS_2011, OpenData, line_to_bng, load_open_data
from everyfamily.demo.stories import ORIGINS, Stories
from everyfamily.names import nicknames

REFERENCE_DATE = dt.date(2026, 3, 31)
N_SITES = 12

# --- Source formats (the project file declares the same) ------------------------------------
BIRTHS_DATE = "%d/%m/%Y"
HV_DATE = "%d-%b-%Y"
REG_DATE = "%Y-%m-%d"
ATT_DATE = "%Y%m%d"

BIRTHS_COLUMNS = {
    "record_id": "Notification No",
    "nhs_number": "NHS Number",
    "first_name": "Baby Forename",
    "last_name": "Baby Surname",
    "date_of_birth": "Date of Birth",
    "sex": "Sex",
    "parent_first_name": "Mother Forename",
    "parent_last_name": "Mother Surname",
    "mother_country_of_birth": "Mother Country of Birth",
    "address": "Address Line 1",
    "postcode": "Postcode",
}
HV_COLUMNS = {
    "record_id": "Contact Ref",
    "nhs_number": "NHS No",
    "first_name": "Forename",
    "last_name": "Surname",
    "date_of_birth": "DOB",
    "sex": "Gender",
    "postcode": "Postcode",
    "event_type": "Contact Type",
    "event_date": "Contact Date",
    "parent_first_name": "Parent/Carer Forename",
    "parent_last_name": "Parent/Carer Surname",
    "main_language": "First Language",
    "ethnicity": "Ethnicity",
}
REG_COLUMNS = {
    "record_id": "RegID",
    "first_name": "Child First Name",
    "last_name": "Child Last Name",
    "date_of_birth": "DOB",
    "sex": "Sex",
    "postcode": "Post Code",
    "address": "Address",
    "parent_first_name": "Parent First Name",
    "parent_last_name": "Parent Last Name",
    "ethnicity": "Ethnicity",
    "main_language": "Home Language",
    "event_date": "Registered On",
    "site": "Centre",
    "nhs_number": "NHS Number",
}
ATT_COLUMNS = {
    "record_id": "attendance_id",
    "event_date": "session_date",
    "site": "venue_code",
    "event_type": "session_type",
    "first_name": "child_forename",
    "last_name": "child_surname",
    "date_of_birth": "child_dob",
    "postcode": "child_postcode",
    "nhs_number": "nhs_no",
}

HV_CONTACT_TYPES = {
    "new_birth_visit": "New Birth Visit",
    "6_8_week": "6-8 Week Review",
    "1_year": "12 Month Review",
    "2_year": "2-2.5 Year Review",
}
SEX_CODES = {
    "births": {"female": "Female", "male": "Male", "unknown": "Indeterminate"},
    "health_visiting": {"female": "Female", "male": "Male", "unknown": "Not Known"},
    "registrations": {"female": "F", "male": "M", "unknown": "U"},
}
#: Local ethnicity codes of the centres' system (DfE-style) -> ONS 2021 keys.
LOCAL_ETHNICITY_CODES = {
    "WBRI": "white_british",
    "WIRI": "white_irish",
    "WIRT": "white_gypsy_traveller",
    "WROM": "white_roma",
    "WOTH": "white_other",
    "MWBC": "mixed_white_black_caribbean",
    "MWBA": "mixed_white_black_african",
    "MWAS": "mixed_white_asian",
    "MOTH": "mixed_other",
    "AIND": "asian_indian",
    "APKN": "asian_pakistani",
    "ABAN": "asian_bangladeshi",
    "CHNE": "asian_chinese",
    "AOTH": "asian_other",
    "BAFR": "black_african",
    "BCRB": "black_caribbean",
    "BOTH": "black_other",
    "OARB": "other_arab",
    "OOTH": "other_any",
}
#: Language codes of the centres' system -> language names.
LANGUAGE_CODES = {
    "ENG": "English",
    "POL": "Polish",
    "RUM": "Romanian",
    "LIT": "Lithuanian",
    "LAT": "Latvian",
    "CZE": "Czech",
    "SLO": "Slovak",
    "HUN": "Hungarian",
    "BUL": "Bulgarian",
    "UKR": "Ukrainian",
    "RUS": "Russian",
    "URD": "Urdu",
    "PNJ": "Punjabi",
    "BNG": "Bengali",
    "GUJ": "Gujarati",
    "HIN": "Hindi",
    "ARA": "Arabic",
    "CHI": "Mandarin",
    "CAN": "Cantonese",
    "YOR": "Yoruba",
    "IGB": "Igbo",
    "HAU": "Hausa",
    "AKA": "Akan (Twi)",
    "SPA": "Spanish",
    "POR": "Portuguese",
    "ITA": "Italian",
    "TUR": "Turkish",
    "FRN": "French",
    "KUR": "Kurdish",
}
SESSION_TYPES = (
    ("Baby Massage", "Baby Stay and Play", "Infant Feeding Group"),
    ("Stay and Play", "Messy Play", "Rhyme Time"),
    ("Stay and Play", "Ready for School", "Messy Play", "Story Time"),
)
STREETS = (
    "Church Road",
    "Park Lane",
    "Station Road",
    "Mill Lane",
    "Chapel Street",
    "Manor Road",
    "Green Lane",
    "Victoria Road",
    "Moss Lane",
    "Orchard Close",
    "Meadow Way",
    "Elm Grove",
    "Cherry Tree Drive",
    "Willow Road",
    "Oak Avenue",
    "Beech Close",
    "Ash Grove",
    "Hawthorn Road",
    "Rowan Drive",
    "Field View",
    "School Lane",
    "Hall Lane",
    "Birch Road",
    "Sycamore Avenue",
    "Lime Grove",
    "Heath Road",
    "Brook Street",
    "Poplar Drive",
)

# Census 2011 group -> ONS 2021 ethnicity codes (and shares within the group).
GROUP_ETHNICITY: dict[str, tuple[tuple[str, float], ...]] = {
    "WhiteBrit": (("white_british", 0.997), ("white_gypsy_traveller", 0.003)),
    "Irish": (("white_irish", 1.0),),
    "OtherWhite": (("white_other", 0.95), ("white_roma", 0.05)),
    "Mixed": (
        ("mixed_white_black_caribbean", 0.3),
        ("mixed_white_black_african", 0.2),
        ("mixed_white_asian", 0.25),
        ("mixed_other", 0.25),
    ),
    "Indian": (("asian_indian", 1.0),),
    "Pakistani": (("asian_pakistani", 1.0),),
    "Bangladeshi": (("asian_bangladeshi", 1.0),),
    "Chinese": (("asian_chinese", 1.0),),
    "OtherAsian": (("asian_other", 1.0),),
    "BlkAfrican": (("black_african", 1.0),),
    "BlkCaribbean": (("black_caribbean", 1.0),),
    "OtherBlk": (("black_other", 1.0),),
    "Arab": (("other_arab", 1.0),),
    "Other": (("other_any", 1.0),),
}
# Ethnicity -> name origin (the names a family of that group most often carries).
ETHNICITY_ORIGIN: dict[str, tuple[tuple[str, float], ...]] = {
    "white_british": (("british_irish", 1.0),),
    "white_irish": (("british_irish", 1.0),),
    "white_gypsy_traveller": (("british_irish", 1.0),),
    "white_roma": (("romanian", 0.6), ("other_cee", 0.4)),
    "white_other": (
        ("polish", 0.40),
        ("romanian", 0.14),
        ("baltic", 0.16),
        ("other_cee", 0.15),
        ("other", 0.15),
    ),
    "mixed_white_black_caribbean": (("british_irish", 1.0),),
    "mixed_white_black_african": (("british_irish", 0.6), ("west_african", 0.4)),
    "mixed_white_asian": (("british_irish", 0.7), ("south_asian", 0.3)),
    "mixed_other": (("british_irish", 0.8), ("other", 0.2)),
    "asian_indian": (("south_asian", 1.0),),
    "asian_pakistani": (("south_asian", 1.0),),
    "asian_bangladeshi": (("south_asian", 1.0),),
    "asian_chinese": (("chinese", 1.0),),
    "asian_other": (("south_asian", 0.5), ("chinese", 0.2), ("other", 0.3)),
    "black_african": (("west_african", 1.0),),
    "black_caribbean": (("british_irish", 1.0),),
    "black_other": (("west_african", 0.5), ("british_irish", 0.5)),
    "other_arab": (("arabic", 1.0),),
    "other_any": (("arabic", 0.4), ("other", 0.6)),
}
# The ethnicity a planted community of each origin is recorded with.
COMMUNITY_ETHNICITY: dict[str, tuple[tuple[str, float], ...]] = {
    "romanian": (("white_other", 0.75), ("white_roma", 0.25)),
    "polish": (("white_other", 1.0),),
    "baltic": (("white_other", 1.0),),
    "other_cee": (("white_other", 0.8), ("white_roma", 0.2)),
    "south_asian": (("asian_pakistani", 0.6), ("asian_bangladeshi", 0.4)),
    "arabic": (("other_arab", 1.0),),
    "chinese": (("asian_chinese", 1.0),),
    "west_african": (("black_african", 1.0),),
    "other": (("other_any", 1.0),),
}
# Share of mothers born abroad, and of those the share whose main language is not English.
BORN_ABROAD = {
    "british_irish": 0.02,
    "polish": 0.92,
    "romanian": 0.97,
    "baltic": 0.95,
    "other_cee": 0.93,
    "south_asian": 0.5,
    "arabic": 0.85,
    "chinese": 0.7,
    "west_african": 0.75,
    "other": 0.8,
}
NON_ENGLISH = {
    "british_irish": 0.0,
    "polish": 0.85,
    "romanian": 0.9,
    "baltic": 0.8,
    "other_cee": 0.8,
    "south_asian": 0.6,
    "arabic": 0.85,
    "chinese": 0.8,
    "west_african": 0.3,
    "other": 0.6,
}
#: Share of attendance rows that are broken (one of four faults each).
ATT_BROKEN_RATE = 0.002
#: Venue codes of the attendance system -> site ids.
VENUE_CODES = {f"KN{i:02d}": f"V{100 + i}" for i in range(1, N_SITES + 1)}
ARAB_COUNTRIES = ("Syria", "Iraq", "Yemen", "Sudan", "Egypt", "Algeria")

# Rates of planted errors (per record unless said otherwise).
RATES = {
    "births_first_name_missing": 0.04,
    "births_typo": 0.01,
    "births_swap": 0.005,
    "hv_nhs_missing": 0.04,
    "hv_nhs_mistyped": 0.006,
    "hv_typo": 0.012,
    "hv_swap": 0.004,
    "hv_nickname": 0.01,
    "reg_nhs_present": 0.12,
    "reg_nhs_mistyped": 0.08,
    "reg_nickname": 0.08,
    "reg_typo": 0.02,
    "reg_swap": 0.007,
    "reg_duplicate": 0.03,
    "postcode_variant": 0.06,
    "postcode_malformed": 0.004,
    "surname_change": 0.025,
    "moved": 0.05,
    # Families who moved into the borough from elsewhere in the UK in the last five years:
    # their children born before the move have no birth notification here, and health
    # visiting knows them only from the first scheduled contact after they arrive, so some
    # are known to no service yet (ONS internal migration: a few per cent of under-fives move
    # between local authorities each year, so about one family in ten arrived within five
    # years; a council's "movers-in not yet known").
    "moved_in": 0.10,
    "dob_missing": 0.0015,
    "dob_impossible": 0.0015,
    "dob_future": 0.001,
    "dob_implausible": 0.001,
    # a year keyed a few years early: the row loads, flagged outside the age range
    "dob_year_slip": 0.0005,
    "identity_missing": 0.001,
    "event_date_impossible": 0.0005,
}

_DOB_CUTS = tuple(
    float(c)
    for c in np.cumsum(
        [
            RATES["dob_missing"],
            RATES["dob_impossible"],
            RATES["dob_future"],
            RATES["dob_implausible"],
        ]
    )
)


@dataclass(frozen=True)
class World:
    """Everything the scenario writes, in memory (tables of strings for the extracts)."""

    seed: int
    reference_date: dt.date
    children: pd.DataFrame
    families: pd.DataFrame
    sites: pd.DataFrame
    extracts: dict[str, pd.DataFrame]
    records_truth: pd.DataFrame
    stories: dict[str, Any]


#: The sizes a synthetic world may be scaled to (``scale_ages``): a tenth of the children up
#: to the full count. Smaller worlds keep the tests and the null calibration cheap.
MIN_SCALE, MAX_SCALE = 0.1, 1.0


def check_scale(scale: float) -> float:
    """``scale`` as a float in [MIN_SCALE, MAX_SCALE], or a ConfigError saying so."""
    from everyfamily.errors import ConfigError

    value = float(scale)
    if not MIN_SCALE <= value <= MAX_SCALE:
        raise ConfigError(
            f"demo scale {value:g}: expected a share of the children between "
            f"{MIN_SCALE:g} and {MAX_SCALE:g}",
            hint="pass e.g. --scale 0.25 for a quarter-size world, or leave it out (1)",
        )
    return value


def scale_ages(areas: pd.DataFrame, scale: float) -> pd.DataFrame:
    """A copy of ``areas`` with every single-year count ``age_0``..``age_4`` multiplied by
    ``scale`` and rounded half to even (numpy), so a world simulated from it has about that
    share of the children in every area and age, and the population file written from it
    says so. ``scale`` 1 returns ``areas`` itself (the default world is unchanged)."""
    value = check_scale(scale)
    if value == 1.0:
        return areas
    out = areas.copy()
    for a in range(5):
        out[f"age_{a}"] = np.rint(out[f"age_{a}"].to_numpy(dtype="float64") * value).astype(int)
    return out


def _pick(u: np.ndarray, options: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Map uniforms to options by cumulative weight (vectorised categorical draw)."""
    names = np.array([o for o, _ in options], dtype=object)
    w = np.array([p for _, p in options], dtype=float)
    cum = np.cumsum(w / w.sum())
    return names[np.minimum(np.searchsorted(cum, u, side="right"), len(names) - 1)]


def _day(d: dt.date) -> int:
    return d.toordinal()


@lru_cache(maxsize=8192)
def _date(o: int) -> dt.date:
    return dt.date.fromordinal(int(o))


# --- Population ------------------------------------------------------------------------------


def _children(data: OpenData, ref: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """One row per child: LSOA and date of birth, matching ONS single-year counts exactly."""
    lsoa, age = [], []
    for a in range(5):
        counts = data.areas[f"age_{a}"].to_numpy()
        lsoa.append(np.repeat(data.areas["lsoa"].to_numpy(), counts))
        age.append(np.full(counts.sum(), a))
    lsoa_all = np.concatenate(lsoa)
    age_all = np.concatenate(age)
    # Age a on the reference date: born after ref - (a+1) years, on or before ref - a years.
    lo = np.array([_day(ref.replace(year=ref.year - a - 1)) + 1 for a in range(5)])
    hi = np.array([_day(ref.replace(year=ref.year - a)) for a in range(5)])
    u = rng.random(len(age_all))
    dob = lo[age_all] + np.floor(u * (hi[age_all] - lo[age_all] + 1)).astype(int)
    df = pd.DataFrame({"lsoa": lsoa_all, "age": age_all, "dob": dob})
    df["sex"] = np.where(rng.random(len(df)) < 0.512, "male", "female")
    df["u_child"] = list(rng.random((len(df), 12)))
    return df


def _families(children: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Group each LSOA's children into families of 1-3 under-fives (siblings >= 11 months apart)."""
    family = np.full(len(children), -1)
    next_id = 0
    dob = children["dob"].to_numpy()
    for _, idx in children.groupby("lsoa", sort=True).indices.items():
        remaining = list(rng.permutation(idx))
        while remaining:
            first = remaining.pop(0)
            members = [first]
            size = int(rng.choice([1, 2, 3], p=[0.70, 0.24, 0.06]))
            while len(members) < size and remaining:
                rem = np.array(remaining)
                ok = np.all(np.abs(dob[rem][:, None] - dob[members][None, :]) >= 335, axis=1)
                if not ok.any():
                    break
                choice = int(rem[ok][int(rng.integers(0, int(ok.sum())))])
                members.append(choice)
                remaining.remove(choice)
            family[members] = next_id
            next_id += 1
    return family


def _group_shares(areas: pd.DataFrame) -> np.ndarray:
    """Each LSOA's ethnic-group mix for families with under-fives (rows sum to 1).

    Census 2011 shares (all ages), with the minority groups raised by 40% (under-fives are more
    diverse than the whole population) and Other White raised to at least 45% of the Census
    2021 share born outside the UK (most arrivals since 2011 were from the EU).
    """
    shares = areas[[f"eth_{g}" for g in ETHNIC_GROUPS_2011]].to_numpy(copy=True)
    shares[:, 2:] *= 1.4
    shares[:, 1] *= 1.4
    shares[:, 2] = np.maximum(shares[:, 2], 0.45 * areas["born_outside_uk"].to_numpy())
    shares[:, 0] = np.maximum(1.0 - shares[:, 1:].sum(axis=1), 0.5)
    return np.asarray(shares / shares.sum(axis=1, keepdims=True))


def _community_areas(data: OpenData, stories: Stories) -> list[str]:
    ec = stories.emerging_community
    areas = data.areas
    total = areas[[f"age_{a}" for a in range(5)]].sum(axis=1)
    if ec.anchor_lsoa is not None:
        if ec.anchor_lsoa not in set(areas["lsoa"]):
            raise ValueError(
                f"emerging_community.anchor_lsoa {ec.anchor_lsoa!r} is not a "
                "Knowsley LSOA 2011 code"
            )
        anchor = ec.anchor_lsoa
    else:
        # 80 under-fives is a full-size Knowsley threshold; a scaled-down world (--scale)
        # may have no such area, so it falls back to the better-populated half.
        eligible = areas[total >= 80]
        if eligible.empty:
            eligible = areas[total >= total.median()]
        anchor = str(
            eligible.sort_values(["born_outside_uk", "lsoa"], ascending=[False, True]).iloc[0][
                "lsoa"
            ]
        )
    a_row = areas.set_index("lsoa").loc[anchor]
    poly = data.polygons[anchor].buffer(5)
    dist = np.hypot(areas["x"] - a_row["x"], areas["y"] - a_row["y"])
    touching = [
        (d, c)
        for c, d in zip(areas["lsoa"], dist, strict=True)
        if c != anchor and data.polygons[c].intersects(poly)
    ]
    others = [
        (d, c)
        for c, d in zip(areas["lsoa"], dist, strict=True)
        if c != anchor and not data.polygons[c].intersects(poly)
    ]
    chosen = [c for _, c in sorted(touching)] + [c for _, c in sorted(others)]
    return [anchor, *chosen[: ec.n_areas - 1]]


def _years_earlier(d: dt.date, years: int) -> dt.date:
    """``d`` moved ``years`` years back (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def _sites(data: OpenData) -> pd.DataFrame:
    """12 illustrative sites at primary schools, spread by farthest-point sampling.

    Start from the school nearest the mean of all postcode centroids (the borough's middle),
    then repeatedly add the school farthest from those chosen: a deterministic, even spread.
    """
    sch = data.schools
    pts = sch[["x", "y"]].to_numpy()
    centre = data.postcodes[["x", "y"]].to_numpy().mean(axis=0)
    chosen = [int(np.argmin(np.hypot(*(pts - centre).T)))]
    mind = np.hypot(*(pts - pts[chosen[0]]).T)
    while len(chosen) < N_SITES:
        nxt = int(np.argmax(mind))
        chosen.append(nxt)
        mind = np.minimum(mind, np.hypot(*(pts - pts[nxt]).T))
    rows = []
    seen: set[str] = set()
    for i, k in enumerate(chosen):
        s = sch.iloc[k]
        stem = _site_stem(str(s["name"]))
        name = f"{stem} Children's Centre"
        if name in seen:
            name = f"{stem} ({s['ward']}) Children's Centre"
        seen.add(name)
        rows.append(
            {
                "site_id": f"KN{i + 1:02d}",
                "name": name,
                "lat": float(s["lat"]),
                "lon": float(s["lon"]),
                "capacity": int(40 + 5 * round(float(s["pupils"]) / 25)),
                "school_urn": str(s["urn"]),
                "lsoa": str(s["lsoa"]),
                "x": float(s["x"]),
                "y": float(s["y"]),
            }
        )
    return pd.DataFrame(rows)


def _site_stem(school: str) -> str:
    stem = school.split(" (")[0].split(" - ")[0].replace(" & Nursery", "")
    for suffix in (
        " Church of England Primary Academy",
        " CofE Primary School",
        " Church of England Primary School",
        " Catholic Primary School",
        " Catholic Infant School",
        " Catholic Junior School",
        " Community Primary School",
        " Primary Academy",
        " Primary School",
        " Academy",
        " School",
    ):
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def _barrier(data: OpenData, sites: pd.DataFrame, stories: Stories) -> dict[str, Any]:
    """LSOAs near the barrier line whose nearest site lies across it (far) or not (near)."""
    b = stories.barrier
    coords = b.line if b.line is not None else data.m57
    line = line_to_bng(tuple(coords))
    spts = sites[["x", "y"]].to_numpy()
    far: list[str] = []
    near: list[str] = []
    for code, x, y in zip(data.areas["lsoa"], data.areas["x"], data.areas["y"], strict=True):
        p = Point(x, y)
        if p.distance(line) > b.max_distance_km * 1000:
            continue
        k = int(np.argmin(np.hypot(spts[:, 0] - x, spts[:, 1] - y)))
        crosses = LineString([(x, y), (spts[k, 0], spts[k, 1])]).intersects(line)
        (far if crosses else near).append(str(code))
    return {"line": [list(c) for c in coords], "far_side_lsoas": far, "near_side_lsoas": near}


def _ascii_fold(s: str) -> str:
    """Letters cp1252 cannot hold, written as a births system would: without their accents."""
    out = []
    for ch in s:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ß": "ss"}.get(ch)
            if base is None:
                base = "".join(
                    c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
                )
                try:
                    base.encode("cp1252")
                except UnicodeEncodeError:
                    base = "?"
            out.append(base)
    return "".join(out)


def simulate(
    seed: int = 2026,
    stories: Stories | None = None,
    reference_date: dt.date = REFERENCE_DATE,
    *,
    data: OpenData | None = None,
    sites: pd.DataFrame | None = None,
    area_registration_factor: Mapping[str, float] | None = None,
    name_variants: NameVariants | None = None,
) -> World:
    """Build the whole scenario in memory. Same seed and stories, same world.

    ``data`` and ``sites`` default to the Knowsley open data and its 12 illustrative sites;
    another world (``demo/town``) passes its own areas, postcodes and sites (columns as in
    :class:`OpenData` and :func:`_sites`). ``area_registration_factor`` multiplies the
    registration probability of families living in the given small areas (an unreached
    cluster); areas not listed keep factor 1. ``name_variants``: corrupt names the way real
    systems do (demo.namevariants; None, the default, leaves the world as it was).
    """
    stories = stories if stories is not None else Stories()
    stories.validate()
    data = data if data is not None else load_open_data()
    ref = reference_date
    ref_o = _day(ref)
    # an 11th stream for the declining-reach story: the first ten are those of spawn(10)
    seqs = np.random.SeedSequence(seed).spawn(11)
    r_pop, r_fam, r_fu, r_names, r_comm, r_nhs, r_reg, r_att, r_hv, r_err = (
        np.random.default_rng(s) for s in seqs[:10]
    )
    r_trend = np.random.default_rng(seqs[10])

    areas = data.areas.set_index("lsoa", drop=False)
    kids = _children(data, ref, r_pop)
    kids["family"] = _families(kids, r_fam)
    kids = kids.sort_values(["family", "dob"], kind="stable").reset_index(drop=True)
    n_kids = len(kids)
    kids["child_id"] = [f"C{i + 1:05d}" for i in range(n_kids)]

    # --- families: base attributes from blocks of uniforms --------------------------------
    fam = kids.groupby("family", sort=True).agg(
        lsoa=("lsoa", "first"), eldest=("dob", "min"), youngest=("dob", "max"), n=("dob", "size")
    )
    fam = fam.reset_index()
    n_fam = len(fam)
    fam["family_id"] = [f"F{i + 1:05d}" for i in range(n_fam)]
    U = r_fu.random((n_fam, 24))
    shares = _group_shares(data.areas)
    row_of = {c: i for i, c in enumerate(data.areas["lsoa"])}
    li = fam["lsoa"].map(row_of).to_numpy()
    cum = np.cumsum(shares[li], axis=1)
    g = np.minimum((cum < U[:, [0]]).sum(axis=1), len(ETHNIC_GROUPS_2011) - 1)
    groups = np.array(ETHNIC_GROUPS_2011)[g]
    eth = np.empty(n_fam, dtype=object)
    for grp, opts in GROUP_ETHNICITY.items():
        m = groups == grp
        eth[m] = _pick(U[m, 1], opts)
    origin = np.empty(n_fam, dtype=object)
    for e, opts in ETHNICITY_ORIGIN.items():
        m = eth == e
        origin[m] = _pick(U[m, 2], opts)
    fam["ethnicity"] = eth
    fam["origin"] = origin

    # postcode (current home) and a synthetic street address
    pcs = data.postcodes
    pc_by_lsoa = pcs.groupby("lsoa").indices
    pc_idx = np.array(
        [
            pc_by_lsoa[c][int(u * len(pc_by_lsoa[c]))]
            for c, u in zip(fam["lsoa"], U[:, 4], strict=True)
        ]
    )
    fam["pc"] = pc_idx
    fam["address"] = [
        f"{1 + int(a * 180)} {STREETS[int(b * len(STREETS))]}"
        for a, b in zip(U[:, 5], U[:, 6], strict=True)
    ]
    # house moves within the borough: the earlier address is elsewhere
    moved = U[:, 7] < RATES["moved"]
    old_pc = np.floor(U[:, 8] * len(pcs)).astype(int)
    same = pcs["lsoa"].to_numpy()[old_pc] == fam["lsoa"].to_numpy()
    moved &= ~same & (ref_o - fam["eldest"].to_numpy() > 120)
    fam["moved"] = moved
    fam["old_pc"] = np.where(moved, old_pc, -1)
    span = np.maximum(ref_o - 30 - (fam["eldest"].to_numpy() + 20), 1)
    fam["move_date"] = np.where(
        moved, fam["eldest"].to_numpy() + 20 + np.floor(U[:, 9] * span), 10**7
    ).astype(int)
    fam["arrival"] = 0  # ordinal day the family arrived (0: always lived here)
    fam["community"] = False

    # --- story 1: the emerging community ------------------------------------------------------
    ec = stories.emerging_community
    comm_info: dict[str, Any] = {"enabled": ec.enabled}
    if ec.enabled:
        c_areas = _community_areas(data, stories)
        in_area = fam["lsoa"].isin(c_areas).to_numpy()
        cand = np.flatnonzero(in_area)
        recent = fam["eldest"].to_numpy()[cand] >= _day(dt.date(ec.arrival_year, 1, 1))
        w = np.where(recent, 1.0, 0.08)
        k = min(ec.n_families, int(0.6 * len(cand)))
        chosen = np.sort(r_comm.choice(cand, size=k, replace=False, p=w / w.sum()))
        uc = r_comm.random((k, 4))
        fam.loc[chosen, "origin"] = ec.origin
        fam.loc[chosen, "ethnicity"] = _pick(uc[:, 0], COMMUNITY_ETHNICITY[ec.origin])
        fam.loc[chosen, "community"] = True
        fam.loc[chosen, "moved"] = False
        fam.loc[chosen, "old_pc"] = -1
        a0 = _day(dt.date(ec.arrival_year, 1, 1))
        arrival = a0 + np.floor(uc[:, 1] * max(ref_o - 60 - a0, 1)).astype(int)
        # Most arrive before their youngest child is born (births here are recent)
        youngest = fam["youngest"].to_numpy()[chosen]
        arrival = np.where(uc[:, 2] < 0.75, np.minimum(arrival, youngest - 30), arrival)
        fam.loc[chosen, "arrival"] = np.maximum(arrival, a0)
        comm_info.update(
            {
                "origin": ec.origin,
                "anchor_lsoa": c_areas[0],
                "lsoas": c_areas,
                "arrival_year": ec.arrival_year,
                "registration_factor": ec.registration_factor,
                "n_families_requested": ec.n_families,
                "n_families": int(k),
            }
        )

    # --- movers-in from elsewhere in the UK (not a story: the everyday reason some children
    # are known to no service). Uses its own uniforms (U[:, 17:19]) so nothing else moves.
    mover_in = (U[:, 17] < RATES["moved_in"]) & ~fam["community"].to_numpy()
    arrive = ref_o - 30 - np.floor(U[:, 18] * 1796).astype(int)
    fam.loc[mover_in, "arrival"] = arrive[mover_in]
    fam.loc[mover_in, "moved"] = False
    fam.loc[mover_in, "old_pc"] = -1
    fam["moved_in"] = mover_in

    # --- locale, mother's country, language, names ----------------------------------------------
    loc = np.empty(n_fam, dtype=object)
    for o in ORIGINS:
        m = fam["origin"].to_numpy() == o
        loc[m] = _pick(U[m, 3], ORIGIN_LOCALES[o])
    e_arr = fam["ethnicity"].to_numpy()
    sa = fam["origin"].to_numpy() == "south_asian"
    loc[sa & (e_arr == "asian_indian")] = "en_IN"
    loc[sa & np.isin(e_arr, ["asian_pakistani", "asian_bangladeshi"])] = "en_PK"
    fam["locale"] = loc
    abroad_p = fam["origin"].map(BORN_ABROAD).to_numpy()
    abroad = (U[:, 10] < abroad_p) | fam["community"].to_numpy()
    abroad &= ~((fam["origin"] == "british_irish") & (fam["ethnicity"] != "white_irish")).to_numpy()
    country = np.where(abroad, fam["locale"].map(LOCALE_COUNTRY).to_numpy(), "United Kingdom")
    arab = abroad & (fam["origin"].to_numpy() == "arabic")
    pick = np.floor(U[arab, 11] * len(ARAB_COUNTRIES)).astype(int)
    country[arab] = np.array(ARAB_COUNTRIES)[pick]
    bangla = abroad & (e_arr == "asian_bangladeshi")
    country[bangla] = "Bangladesh"
    fam["mother_country"] = country
    mean_non = float(data.areas["non_english_msoa"].mean())
    msoa_factor = np.clip(
        np.sqrt(areas.loc[fam["lsoa"], "non_english_msoa"].to_numpy() / mean_non), 0.6, 1.5
    )
    p_lang = np.clip(fam["origin"].map(NON_ENGLISH).to_numpy() * msoa_factor, 0, 0.95)
    p_lang = np.where(fam["community"].to_numpy(), 0.95, p_lang)
    non_eng = abroad & (U[:, 12] < p_lang)
    lang = np.where(non_eng, fam["locale"].map(LOCALE_LANGUAGE).to_numpy(), "English")
    lang[non_eng & bangla] = "Bengali"
    lang[non_eng & (fam["locale"].to_numpy() == "en_IN") & (U[:, 13] < 0.4)] = "Gujarati"
    lang[
        non_eng & np.isin(fam["locale"].to_numpy(), ["lt_LT", "lv_LV", "uk_UA"]) & (U[:, 13] < 0.15)
    ] = "Russian"
    fam["language"] = lang
    fam["parent_sex"] = np.where(U[:, 14] < 0.9, "female", "male")

    un = r_names.random((n_fam, 6))
    gb_names, gb_w = british_surname_weights()
    gb_cum = np.cumsum(gb_w) / np.sum(gb_w)
    root, mother_last, mother_first, father_first, child_takes = [], [], [], [], []
    for i in range(n_fam):
        lc = str(loc[i])
        pool = locale_names(lc)
        if lc == "en_GB":
            s1 = gb_names[min(int(np.searchsorted(gb_cum, un[i, 0])), len(gb_names) - 1)]
            s2 = gb_names[min(int(np.searchsorted(gb_cum, un[i, 1])), len(gb_names) - 1)]
        else:
            s1 = pool.surnames[int(un[i, 0] * len(pool.surnames))]
            s2 = pool.surnames[int(un[i, 1] * len(pool.surnames))]
        married_p = 0.5 if fam["origin"].iat[i] == "british_irish" else 0.85
        married = un[i, 2] < married_p
        root.append(s1)
        mother_last.append(female_surname(lc, s1 if married else s2, married=True))
        # unmarried parents: the child takes the mother's name two times in three
        child_takes.append(s1 if married or un[i, 3] >= 0.67 else s2)
        mother_first.append(pool.female[int(un[i, 4] * len(pool.female))])
        father_first.append(pool.male[int(un[i, 5] * len(pool.male))])
    fam["surname_root"] = child_takes
    fam["father_last"] = root
    fam["mother_last"] = mother_last
    fam["mother_first"] = mother_first
    fam["father_first"] = father_first
    # surname change after birth (mother remarries: hyphenated or new name)
    sc = U[:, 15] < RATES["surname_change"]
    fam["surname_change"] = sc
    span = np.maximum(ref_o - 30 - (fam["eldest"].to_numpy() + 180), 1)
    fam["change_date"] = np.where(
        sc, fam["eldest"].to_numpy() + 180 + np.floor(U[:, 16] * span), 10**7
    ).astype(int)

    # --- children: names, NHS numbers ---------------------------------------------------------
    kids = kids.merge(
        fam[["family", "family_id", "locale", "surname_root", "origin"]], on="family", how="left"
    )
    uc_kids = np.stack(list(kids["u_child"]))
    firsts, lasts = [], []
    for i in range(n_kids):
        lc = str(kids["locale"].iat[i])
        pool = locale_names(lc)
        lst = pool.female if kids["sex"].iat[i] == "female" else pool.male
        firsts.append(lst[int(uc_kids[i, 0] * len(lst))])
        r = str(kids["surname_root"].iat[i])
        lasts.append(female_surname(lc, r, married=False) if kids["sex"].iat[i] == "female" else r)
    kids["first_name"] = firsts
    kids["last_name"] = lasts
    kids["nhs"] = synthetic_nhs_numbers(r_nhs, n_kids)

    # --- sites, distances, barrier ------------------------------------------------------------
    sites = _sites(data) if sites is None else sites.reset_index(drop=True)
    n_sites = len(sites)
    spts = sites[["x", "y"]].to_numpy()
    fx = pcs["x"].to_numpy()[fam["pc"].to_numpy()]
    fy = pcs["y"].to_numpy()[fam["pc"].to_numpy()]
    dist = np.hypot(fx[:, None] - spts[None, :, 0], fy[:, None] - spts[None, :, 1])
    order = np.argsort(dist, axis=1, kind="stable")
    b_info: dict[str, Any] = {"enabled": stories.barrier.enabled}
    far: set[str] = set()
    if stories.barrier.enabled:
        b_info.update(_barrier(data, sites, stories))
        b_info.update(
            {
                "max_distance_km": stories.barrier.max_distance_km,
                "registration_factor": stories.barrier.registration_factor,
                "line_name": "M57 J1-J7 (schematic)" if stories.barrier.line is None else "custom",
            }
        )
        far = set(b_info["far_side_lsoas"])
    fam["barrier"] = fam["lsoa"].isin(far).to_numpy()

    # --- registration --------------------------------------------------------------------------
    gr = stories.gradients
    imd = areas.loc[fam["lsoa"], "imd_decile"].to_numpy()
    fam_age = (ref_o - fam["eldest"].to_numpy()) / 365.25
    p = np.full(n_fam, 0.82)
    if gr.enabled:
        p *= 1 + gr.registration_per_imd_decile * (imd - 1)
        p *= 1 + gr.registration_per_year_of_age * np.floor(fam_age)
    p = np.where(fam["community"].to_numpy(), p * ec.registration_factor, p)
    p = np.where(fam["barrier"].to_numpy(), p * stories.barrier.registration_factor, p)
    if area_registration_factor:
        p = p * fam["lsoa"].map(dict(area_registration_factor)).fillna(1.0).to_numpy(float)
    ur = r_reg.random((n_fam, 4))
    start = np.maximum.reduce(
        [fam["eldest"].to_numpy() + 14, fam["arrival"].to_numpy(), np.full(n_fam, ref_o - 1826)]
    )
    reg_day = start + np.floor(-np.log(1 - ur[:, 1]) * 120).astype(int)
    fam_reg = (ur[:, 0] < np.clip(p, 0, 1)) & (reg_day <= ref_o)
    site_k = np.where(
        ur[:, 2] < 0.75,
        order[:, 0],
        np.where(ur[:, 2] < 0.95, order[:, 1], np.floor(ur[:, 3] * n_sites).astype(int)),
    )
    fam["registered"] = fam_reg
    fam["reg_day"] = reg_day
    fam["site"] = sites["site_id"].to_numpy()[site_k]

    kids = kids.merge(
        fam[
            [
                "family",
                "lsoa",
                "registered",
                "reg_day",
                "site",
                "community",
                "barrier",
                "moved",
                "old_pc",
                "move_date",
                "pc",
                "arrival",
                "surname_change",
                "change_date",
            ]
        ].rename(columns={"lsoa": "lsoa_f", "registered": "fam_registered"}),
        on="family",
        how="left",
    )
    child_reg = np.maximum(
        kids["reg_day"].to_numpy(),
        kids["dob"].to_numpy() + np.floor(-np.log(1 - uc_kids[:, 1]) * 45),
    )
    kids["reg_day_child"] = child_reg.astype(int)
    kids["registered"] = (
        kids["fam_registered"].to_numpy() & (child_reg <= ref_o) & (uc_kids[:, 2] < 0.95)
    )
    # Born before the family arrived: no birth notification here. Abroad for the emerging
    # community's families; elsewhere in the UK for movers-in.
    kids["born_elsewhere"] = kids["dob"].to_numpy() < kids["arrival"].to_numpy()
    kids["born_abroad"] = kids["born_elsewhere"].to_numpy() & kids["community"].to_numpy()

    # --- engagement (attendance intensity) -----------------------------------------------------
    les = stories.low_engagement_site
    low_site = None
    if les.enabled:
        if les.site_id is not None:
            if les.site_id not in set(sites["site_id"]):
                raise ValueError(
                    f"low_engagement_site.site_id {les.site_id!r} is not one of "
                    f"{list(sites['site_id'])}"
                )
            low_site = les.site_id
        else:
            counts = fam.assign(k=sites["site_id"].to_numpy()[order[:, 0]]).groupby("k")["n"].sum()
            low_site = str(counts.sort_values(ascending=False, kind="stable").index[0])
    k_imd = areas.loc[kids["lsoa"], "imd_decile"].to_numpy()
    p_eng = np.full(n_kids, 0.62)
    if gr.enabled:
        p_eng *= 1 + gr.engagement_per_imd_decile * (k_imd - 1)
        p_eng *= 1 + gr.engagement_per_year_of_age * kids["age"].to_numpy()
    p_eng = np.where(kids["community"].to_numpy(), p_eng * 0.8, p_eng)
    engaged_type = uc_kids[:, 3] < np.clip(p_eng, 0, 1)
    rate = np.where(engaged_type, 0.9 * (-np.log(1 - uc_kids[:, 4]) * 0.5 + 0.5), 0.12)
    if low_site is not None:
        rate = np.where(kids["site"].to_numpy() == low_site, rate * les.attendance_factor, rate)
    kids["rate"] = rate

    # --- story 5: reach falling over the last year ----------------------------------------------
    decline = _plant_decline(data, stories, kids, sites, ref, r_trend, avoid={low_site})

    # --- the extracts ---------------------------------------------------------------------------
    builder = _Extracts(kids, fam, sites, pcs, ref, r_err, r_hv, r_att, decline=decline)
    if name_variants is not None:
        builder.names = NameCorrupter(name_variants, seed)
    extracts, truth = builder.build()

    kids["engaged"] = kids["child_id"].map(builder.engaged_counts).fillna(0).to_numpy() >= 3
    children = pd.DataFrame(
        {
            "child_id": kids["child_id"],
            "family_id": kids["family_id"],
            "date_of_birth": [_date(o).isoformat() for o in kids["dob"]],
            "lsoa": kids["lsoa"],
            "sex": kids["sex"],
            "first_name": kids["first_name"],
            "last_name": kids["last_name"],
            "nhs_number": kids["nhs"],
            "postcode": pcs["postcode"].to_numpy()[kids["pc"].to_numpy()],
            "origin": kids["origin"],
            "name_locale": kids["locale"],
            "ethnicity": kids["family"].map(fam.set_index("family")["ethnicity"]),
            "main_language": kids["family"].map(fam.set_index("family")["language"]),
            "mother_country_of_birth": kids["family"].map(
                fam.set_index("family")["mother_country"]
            ),
            "parent_sex": kids["family"].map(fam.set_index("family")["parent_sex"]),
            "moved": kids["moved"].astype(bool),
            "born_abroad": kids["born_abroad"].astype(bool),
            "born_elsewhere": kids["born_elsewhere"].astype(bool),
            "community": kids["community"].astype(bool),
            "barrier": kids["barrier"].astype(bool),
            "registered": kids["registered"].astype(bool),
            "engaged": kids["engaged"].astype(bool),
            "registered_site": np.where(kids["registered"], kids["site"], ""),
            "attendances": kids["child_id"].map(builder.attendance_counts).fillna(0).astype(int),
        }
    )
    # stories summary with sizes
    story_info: dict[str, Any] = {"reference_date": ref.isoformat(), "seed": seed}
    if ec.enabled:
        cm = children["community"]
        comm_info["n_children"] = int(cm.sum())
        comm_info["children_by_lsoa"] = {
            c: int(((children["lsoa"] == c) & cm).sum()) for c in comm_info["lsoas"]
        }
        comm_info["registration_rate"] = float(children.loc[cm, "registered"].mean())
    story_info["emerging_community"] = comm_info
    if stories.barrier.enabled:
        for side in ("far", "near"):
            m = children["lsoa"].isin(b_info[f"{side}_side_lsoas"])
            b_info[f"{side}_side_children"] = int(m.sum())
            b_info[f"{side}_side_registration_rate"] = (
                float(children.loc[m, "registered"].mean()) if m.any() else None
            )
    story_info["barrier"] = b_info
    le_info: dict[str, Any] = {"enabled": les.enabled}
    if low_site is not None:
        reg = children[children["registered"]]
        at = reg.groupby("registered_site")["attendances"].sum()
        n_reg = reg.groupby("registered_site").size()
        le_info.update(
            {
                "site_id": low_site,
                "attendance_factor": les.attendance_factor,
                "registered_children": int(n_reg.get(low_site, 0)),
                "attendances_per_registered_child": {
                    s: round(float(at.get(s, 0) / n_reg[s]), 3) for s in sorted(n_reg.index)
                },
            }
        )
    story_info["low_engagement_site"] = le_info
    story_info["declining_reach"] = (
        decline.truth(children, data.areas) if decline else {"enabled": False}
    )
    story_info["gradients"] = {
        "enabled": gr.enabled,
        **(
            {
                "registration_per_imd_decile": gr.registration_per_imd_decile,
                "engagement_per_imd_decile": gr.engagement_per_imd_decile,
                "registration_per_year_of_age": gr.registration_per_year_of_age,
                "engagement_per_year_of_age": gr.engagement_per_year_of_age,
            }
            if gr.enabled
            else {}
        ),
    }
    families = fam[
        [
            "family_id",
            "lsoa",
            "origin",
            "locale",
            "ethnicity",
            "language",
            "mother_country",
            "parent_sex",
            "moved",
            "community",
            "barrier",
            "registered",
            "site",
            "n",
        ]
    ].rename(columns={"n": "n_children_0_4"})
    return World(
        seed=seed,
        reference_date=ref,
        children=children,
        families=families,
        sites=sites[["site_id", "name", "lat", "lon", "capacity", "school_urn", "lsoa"]],
        extracts=extracts,
        records_truth=truth,
        stories=story_info,
    )


@dataclass(frozen=True)
class _Decline:
    """Where and when the declining-reach story thins registrations and sessions."""

    lsoas: tuple[str, ...]
    onset: int  # ordinal day: registrations and sessions after it thin out in the areas
    attendance_factor: float
    site: str | None
    site_onset: int
    site_attendance_factor: float
    rng: np.random.Generator
    dropped_registrations: int

    def thin_sessions(
        self, sessions: list[tuple[int, str, int, str]], kids: pd.DataFrame
    ) -> list[tuple[int, str, int, str]]:
        """Sessions (day, site, kid index, registration id) kept: one after the areas' onset
        by a child living there with probability ``attendance_factor``; one after the site's
        onset at the site with ``site_attendance_factor``."""
        home = kids["lsoa"].to_numpy()
        areas = set(self.lsoas)
        u = self.rng.random(len(sessions))
        kept = []
        for (day, site, i, rid), x in zip(sessions, u, strict=True):
            keep = 1.0
            if day > self.onset and home[i] in areas:
                keep *= self.attendance_factor
            if self.site is not None and site == self.site and day > self.site_onset:
                keep *= self.site_attendance_factor
            if x < keep:
                kept.append((day, site, i, rid))
        return kept

    def truth(self, children: pd.DataFrame, areas: pd.DataFrame) -> dict[str, Any]:
        live = children["lsoa"].isin(self.lsoas)
        rows = areas[areas["lsoa"].isin(self.lsoas)]
        levels = {"lsoa": list(self.lsoas)}
        for level in ("msoa", "ward"):
            if level in rows:
                levels[level] = sorted({str(v) for v in rows[level]})
        return {
            "enabled": True,
            "lsoas": list(self.lsoas),
            "areas": levels,
            "onset": _date(self.onset).isoformat(),
            "children": int(live.sum()),
            "registrations_dropped": self.dropped_registrations,
            "attendance_factor": self.attendance_factor,
            "site_id": self.site,
            "site_onset": _date(self.site_onset).isoformat() if self.site else None,
            "site_attendance_factor": self.site_attendance_factor if self.site else None,
        }


def _plant_decline(
    data: OpenData,
    stories: Stories,
    kids: pd.DataFrame,
    sites: pd.DataFrame,
    ref: dt.date,
    rng: np.random.Generator,
    avoid: set[str | None],
) -> _Decline | None:
    """Choose the declining areas (a random anchor with 60+ under-fives, away from the
    community and the barrier's families, and its nearest neighbours) and site (random, not
    the low-engagement one), and drop registrations after the onset in those areas (in
    place on ``kids``). None when the story is off."""
    dr = stories.declining_reach
    if not dr.enabled:
        return None
    areas = data.areas.reset_index(drop=True)
    total = areas[[f"age_{a}" for a in range(5)]].sum(axis=1).to_numpy()
    busy = set(kids.loc[kids["community"] | kids["barrier"], "lsoa"])
    free = np.flatnonzero((total >= 60) & ~areas["lsoa"].isin(busy).to_numpy())
    if len(free) == 0:
        return None
    anchor = int(free[int(rng.integers(0, len(free)))])
    x = areas["x"].to_numpy(dtype="float64")
    y = areas["y"].to_numpy(dtype="float64")
    codes = [str(c) for c in areas["lsoa"]]
    dist = np.hypot(x - x[anchor], y - y[anchor])
    order = [int(i) for i in np.argsort(dist, kind="stable") if codes[int(i)] not in busy]
    lsoas = tuple(codes[i] for i in order[: dr.n_areas])
    onset = _day((pd.Timestamp(ref) - pd.DateOffset(months=dr.months)).date())
    site_onset = _day((pd.Timestamp(ref) - pd.DateOffset(months=dr.site_months)).date())
    site = None
    if dr.site_enabled:
        ids = [str(x) for x in sites["site_id"] if str(x) not in avoid]
        if dr.site_id is not None:
            if dr.site_id not in set(sites["site_id"].astype(str)):
                raise ValueError(f"declining_reach.site_id {dr.site_id!r} is not a site")
            site = dr.site_id
        elif ids:
            site = ids[int(rng.integers(0, len(ids)))]
    late = (
        kids["registered"].to_numpy()
        & kids["lsoa"].isin(lsoas).to_numpy()
        & (kids["reg_day_child"].to_numpy() > onset)
    )
    drop = late & (rng.random(len(kids)) >= dr.registration_factor)
    kids["registered"] = kids["registered"].to_numpy() & ~drop
    return _Decline(
        lsoas=lsoas,
        onset=onset,
        attendance_factor=dr.attendance_factor,
        site=site,
        site_onset=site_onset,
        site_attendance_factor=dr.site_attendance_factor,
        rng=rng,
        dropped_registrations=int(drop.sum()),
    )


class _Extracts:
    """Turns the population into the four extracts, planting errors and noting the truth."""

    def __init__(
        self,
        kids: pd.DataFrame,
        fam: pd.DataFrame,
        sites: pd.DataFrame,
        pcs: pd.DataFrame,
        ref: dt.date,
        r_err: np.random.Generator,
        r_hv: np.random.Generator,
        r_att: np.random.Generator,
        *,
        decline: _Decline | None = None,
    ) -> None:
        self.kids = kids
        self.decline = decline
        # Plain dicts: row access inside the loops is ~50x faster than pandas .loc/.iloc.
        self.krec: list[dict[str, Any]] = [
            {str(c): v for c, v in r.items()} for r in kids.to_dict("records")
        ]
        self.frec: dict[Any, dict[str, Any]] = {
            f: {str(c): v for c, v in r.items()}
            for f, r in fam.set_index("family").to_dict("index").items()
        }
        self.sites = sites
        self.site_ids: list[str] = [str(s) for s in sites["site_id"]]
        self.n_sites = len(self.site_ids)
        #: attendance system venue codes: V101, V102 ... in site order (VENUE_CODES for Knowsley)
        self.venue = {s: f"V{100 + i}" for i, s in enumerate(self.site_ids, start=1)}
        self.postcodes = pcs["postcode"].to_numpy()
        self.ref = ref
        self.ref_o = _day(ref)
        self.rng = r_err
        self.r_hv = r_hv
        self.r_att = r_att
        self.nick = nicknames()
        self.names: NameCorrupter | None = None
        self.truth: list[dict[str, Any]] = []
        self.engaged_counts: dict[str, int] = {}
        self.attendance_counts: dict[str, int] = {}

    # helpers ----------------------------------------------------------------------------------
    def _home(self, k: dict[str, Any], day: int) -> tuple[str, bool]:
        """The postcode a record made on ``day`` holds, and whether it is the earlier address."""
        if k["moved"] and day < k["move_date"]:
            return str(self.postcodes[int(k["old_pc"])]), True
        return str(self.postcodes[int(k["pc"])]), False

    def _surname(self, k: dict[str, Any], day: int) -> tuple[str, bool]:
        if k["surname_change"] and day >= k["change_date"]:
            f = self.frec[k["family"]]
            new = (
                f"{k['last_name']}-{f['father_last']}"
                if (f["father_last"] != k["surname_root"])
                else f"{k['last_name']}-{f['mother_last']}"
            )
            return new, True
        return str(k["last_name"]), False

    def _postcode(self, pc: str, errors: list[str]) -> str:
        u = self.rng.random()
        if u < RATES["postcode_malformed"]:
            errors.append("postcode_malformed")
            return faults.malformed_postcode(self.rng, pc)
        if u < RATES["postcode_malformed"] + RATES["postcode_variant"]:
            errors.append("postcode_variant")
            return faults.postcode_variant(self.rng, pc)
        return pc

    def _dob(self, dob: dt.date, fmt: str, swap_rate: float, errors: list[str]) -> str:
        """The date of birth as written, with at most one planted date fault."""
        u = self.rng.random()
        cut = (*_DOB_CUTS, _DOB_CUTS[-1] + swap_rate)
        if u < cut[0]:
            errors.append("dob_missing")
            return ""
        if u < cut[1]:
            errors.append("dob_impossible")
            return faults.impossible_date(self.rng, fmt, dob.year)
        if u < cut[2]:
            errors.append("dob_future")
            return faults.format_date(
                self.ref + dt.timedelta(days=int(self.rng.integers(30, 400))), fmt
            )
        if u < cut[3]:
            errors.append("dob_implausible")
            return faults.format_date(dob.replace(year=dob.year - 100), fmt)
        if u < cut[4]:
            swapped = faults.swap_day_month(dob)
            if swapped is not None:
                errors.append("dob_day_month_swap")
                return faults.format_date(swapped, fmt)
        elif u < cut[4] + RATES["dob_year_slip"]:
            # carved from the fault-free draws with no draw of its own, so the random stream
            # (and every other planted fault) is unchanged
            errors.append("dob_year_slip")
            return faults.format_date(_years_earlier(dob, 6), fmt)
        return faults.format_date(dob, fmt)

    def _record(
        self,
        source: str,
        record_id: str,
        k: dict[str, Any],
        errors: list[str],
        outcome: tuple[tuple[str, ...], tuple[str, ...]],
    ) -> None:
        self.truth.append(
            {
                "source": source,
                "record_id": record_id,
                "child_id": k["child_id"],
                "family_id": k["family_id"],
                "errors": ";".join(sorted(set(errors))),
                "expected_quarantine": ";".join(outcome[0]),
                "expected_flags": ";".join(outcome[1]),
            }
        )

    def _outcome(
        self, row: dict[str, str], cols: dict[str, str], dob_fmt: str, ev_fmt: str | None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return faults.expected_outcome(
            dob=row[cols["date_of_birth"]],
            dob_format=dob_fmt,
            first_name=row[cols["first_name"]],
            last_name=row[cols["last_name"]],
            nhs_number=row.get(cols.get("nhs_number", ""), ""),
            postcode=row.get(cols["postcode"], ""),
            reference_date=self.ref,
            event_date=row[cols["event_date"]] if "event_date" in cols else None,
            event_format=ev_fmt,
        )

    def _identity_missing(
        self, row: dict[str, str], cols: dict[str, str], errors: list[str]
    ) -> None:
        if self.rng.random() < RATES["identity_missing"]:
            errors.append("identity_missing")
            row[cols["first_name"]] = ""
            row[cols["last_name"]] = ""
            if "nhs_number" in cols:
                row[cols["nhs_number"]] = ""

    # sources -------------------------------------------------------------------------------------
    def build(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        births = self._births()
        hv = self._health_visiting()
        reg, reg_identity = self._registrations()
        att = self._attendances(reg_identity)
        truth = pd.DataFrame(self.truth)
        truth["row_number"] = truth.groupby("source").cumcount() + 1
        truth = truth[
            [
                "source",
                "record_id",
                "row_number",
                "child_id",
                "family_id",
                "errors",
                "expected_quarantine",
                "expected_flags",
            ]
        ]
        return {
            "births": births,
            "health_visiting": hv,
            "registrations": reg,
            "attendances": att,
        }, truth

    def _births(self) -> pd.DataFrame:
        cols = BIRTHS_COLUMNS
        kids = self.kids[~self.kids["born_elsewhere"]].sort_values(["dob", "child_id"])
        rows = []
        for i, pos in enumerate(kids.index):
            k = self.krec[pos]
            rid = f"BN{i + 100001}"
            f = self.frec[k["family"]]
            errors: list[str] = []
            dob = _date(k["dob"])
            first = str(k["first_name"])
            last = str(k["last_name"])
            if self.rng.random() < RATES["births_first_name_missing"]:
                first = ""
                errors.append("first_name_missing")
            elif self.rng.random() < RATES["births_typo"]:
                first = faults.typo(self.rng, first)
                errors.append("first_name_typo")
            if self.rng.random() < RATES["births_typo"]:
                last = faults.typo(self.rng, last)
                errors.append("last_name_typo")
            pc, old = self._home(k, int(k["dob"]))
            if old:
                errors.append("moved")
            row = {
                cols["record_id"]: rid,
                cols["nhs_number"]: str(k["nhs"]),
                cols["first_name"]: first,
                cols["last_name"]: last,
                cols["date_of_birth"]: self._dob(dob, BIRTHS_DATE, RATES["births_swap"], errors),
                cols["sex"]: SEX_CODES["births"][k["sex"]],
                cols["parent_first_name"]: str(f["mother_first"]),
                cols["parent_last_name"]: str(f["mother_last"]),
                cols["mother_country_of_birth"]: str(f["mother_country"]),
                cols["address"]: str(f["address"]) if not old else "Flat 2, " + str(f["address"]),
                cols["postcode"]: self._postcode(pc, errors),
            }
            for key in (
                cols["first_name"],
                cols["last_name"],
                cols["parent_first_name"],
                cols["parent_last_name"],
            ):
                folded = _ascii_fold(row[key])
                if folded != row[key]:
                    row[key] = folded
                    errors.append("accents_lost")
            rows.append(row)
            self._record("births", rid, k, errors, self._outcome(row, cols, BIRTHS_DATE, None))
        return pd.DataFrame(rows, columns=list(cols.values()))

    def _child_identity(
        self, k: dict[str, Any], nick_rate: float, typo_rate: float, errors: list[str]
    ) -> tuple[str, str]:
        """A system's own copy of the child's name, with its own slips (nickname, typo)."""
        first = str(k["first_name"])
        if first in self.nick and self.rng.random() < nick_rate:
            opts = self.nick[first]
            first = opts[int(self.rng.integers(0, len(opts)))]
            errors.append("nickname")
        elif self.rng.random() < typo_rate:
            first = faults.typo(self.rng, first)
            errors.append("first_name_typo")
        last = str(k["last_name"])
        if self.rng.random() < typo_rate / 2:
            last = faults.typo(self.rng, last)
            errors.append("last_name_typo")
        return first, last

    def _parent(self, k: dict[str, Any]) -> tuple[str, str]:
        f = self.frec[k["family"]]
        if f["parent_sex"] == "female":
            return str(f["mother_first"]), str(f["mother_last"])
        return str(f["father_first"]), str(f["father_last"])

    def _health_visiting(self) -> pd.DataFrame:
        cols = HV_COLUMNS
        ref_o = self.ref_o
        kids = self.kids
        n = len(kids)
        U = self.r_hv.random((n, 10))
        contacts: list[tuple[int, int, str]] = []  # (day, child position, contact type)
        dob = kids["dob"].to_numpy()
        arrival = kids["arrival"].to_numpy()
        comm = kids["community"].to_numpy()
        # New birth visit: NHS England 2024/25, 85.2% within 14 days and 98.0% within 30.
        nbv_off = np.where(
            U[:, 1] < 0.861,
            7 + np.floor(U[:, 2] * 8),
            np.where(U[:, 1] < 0.99, 15 + np.floor(U[:, 2] * 16), 31 + np.floor(U[:, 2] * 30)),
        ).astype(int)
        plans = (
            ("new_birth_visit", nbv_off, 0.995),
            ("6_8_week", (42 + np.floor(U[:, 4] * 15)).astype(int), 0.93),
            ("1_year", (300 + np.floor(U[:, 5] * 100)).astype(int), 0.85),
            ("2_year", (730 + np.floor(U[:, 6] * 150)).astype(int), 0.78),
        )
        for j, (kind, off, cover) in enumerate(plans):
            day = dob + off
            cov = np.where(comm, cover * 0.9, cover)
            done = (U[:, 7 + min(j, 2)] < cov) if j < 3 else (U[:, 0] < cov)
            done &= (day <= ref_o) & (day >= arrival)
            contacts.extend((int(day[ci]), int(ci), kind) for ci in np.flatnonzero(done))
        contacts.sort()
        # One HV child record per child: its slips repeat on every contact.
        ident: dict[int, tuple[str, str, str, list[str], str, str]] = {}
        rows = []
        for c, (day, i, kind) in enumerate(contacts):
            k = self.krec[i]
            if i not in ident:
                errs: list[str] = []
                first, last = self._child_identity(k, RATES["hv_nickname"], RATES["hv_typo"], errs)
                if self.names is not None:
                    first, last = self.names.health_visiting(first, last, errs)
                u = self.rng.random()
                nhs = str(k["nhs"])
                if u < RATES["hv_nhs_missing"]:
                    nhs = ""
                    errs.append("nhs_number_missing")
                elif u < RATES["hv_nhs_missing"] + RATES["hv_nhs_mistyped"]:
                    nhs = faults.mistype_nhs(self.rng, nhs)
                    errs.append("nhs_number_mistyped")
                d_errs: list[str] = []
                dob_txt = self._dob(_date(k["dob"]), HV_DATE, RATES["hv_swap"], d_errs)
                # broken date faults belong to one contact row, a swap to the child record
                if d_errs and d_errs[0] != "dob_day_month_swap":
                    dob_txt = faults.format_date(_date(k["dob"]), HV_DATE)
                    d_errs = []
                eth = self.frec[k["family"]]["ethnicity"]
                eth_txt = "" if self.rng.random() < 0.05 else ETHNICITY_LABELS[str(eth)]
                ident[i] = (first, last, nhs, errs + d_errs, dob_txt, eth_txt)
            first, last, nhs, errs, dob_txt, eth_txt = ident[i]
            errors = list(errs)
            new_last, changed = self._surname(k, day)
            if changed and last == k["last_name"]:
                last_w = new_last
                errors.append("surname_change")
            else:
                last_w = last
            pc, old = self._home(k, day)
            if old:
                errors.append("moved")
            p_first, p_last = self._parent(k)
            rid = f"HV{c + 1:07d}"
            row = {
                cols["record_id"]: rid,
                cols["nhs_number"]: nhs,
                cols["first_name"]: first,
                cols["last_name"]: last_w,
                cols["date_of_birth"]: dob_txt,
                cols["sex"]: SEX_CODES["health_visiting"][k["sex"]],
                cols["postcode"]: self._postcode(pc, errors),
                cols["event_type"]: HV_CONTACT_TYPES[kind],
                cols["event_date"]: faults.format_date(_date(day), HV_DATE),
                cols["parent_first_name"]: p_first,
                cols["parent_last_name"]: p_last,
                cols["main_language"]: str(self.frec[k["family"]]["language"]),
                cols["ethnicity"]: eth_txt,
            }
            self._row_faults(row, cols, HV_DATE, _date(k["dob"]), errors)
            rows.append(row)
            self._record(
                "health_visiting", rid, k, errors, self._outcome(row, cols, HV_DATE, HV_DATE)
            )
        return pd.DataFrame(rows, columns=list(cols.values()))

    def _row_faults(
        self, row: dict[str, str], cols: dict[str, str], fmt: str, dob: dt.date, errors: list[str]
    ) -> None:
        """Broken-row faults of one row: date of birth faults, no identity, bad event date."""
        errs: list[str] = []
        txt = self._dob(dob, fmt, 0.0, errs)
        if errs:
            row[cols["date_of_birth"]] = txt
            errors.extend(errs)
        self._identity_missing(row, cols, errors)
        if "event_date" in cols and self.rng.random() < RATES["event_date_impossible"]:
            row[cols["event_date"]] = faults.impossible_date(
                self.rng, fmt if fmt != REG_DATE else REG_DATE, self.ref.year - 1
            )
            errors.append("event_date_impossible")

    def _attendance_fault(
        self, row: dict[str, str], cols: dict[str, str], kind: int, errors: list[str]
    ) -> None:
        """One broken attendance row: no DOB, impossible DOB, no identity or bad session date."""
        if kind == 0:
            row[cols["date_of_birth"]] = ""
            errors.append("dob_missing")
        elif kind == 1:
            row[cols["date_of_birth"]] = faults.impossible_date(self.rng, ATT_DATE, 2023)
            errors.append("dob_impossible")
        elif kind == 2:
            for key in ("first_name", "last_name", "nhs_number"):
                row[cols[key]] = ""
            errors.append("identity_missing")
        else:
            row[cols["event_date"]] = faults.impossible_date(self.rng, ATT_DATE, self.ref.year)
            errors.append("event_date_impossible")

    def _registrations(self) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
        cols = REG_COLUMNS
        kids = self.kids[self.kids["registered"]]
        site_name = dict(zip(self.sites["site_id"], self.sites["name"], strict=True))
        lang_code = {v: c for c, v in LANGUAGE_CODES.items()}
        eth_code = {v: c for c, v in LOCAL_ETHNICITY_CODES.items()}
        plan: list[tuple[int, int, str, bool]] = []  # (day, kid index, site, duplicate)
        for i in kids.index:
            k = self.krec[int(i)]
            plan.append((int(k["reg_day_child"]), int(i), str(k["site"]), False))
            if self.rng.random() < RATES["reg_duplicate"]:
                day = int(k["reg_day_child"]) + int(self.rng.integers(30, 400))
                if day <= self.ref_o:
                    other = self.site_ids[int(self.rng.integers(0, self.n_sites))]
                    plan.append(
                        (day, int(i), other if self.rng.random() < 0.5 else str(k["site"]), True)
                    )
        plan.sort()
        rows = []
        identity: dict[str, dict[str, Any]] = {}
        for c, (day, i, site, dup) in enumerate(plan):
            k = self.krec[i]
            f = self.frec[k["family"]]
            rid = f"CC-{c + 1:06d}"
            errors: list[str] = ["duplicate_registration"] if dup else []
            first, last = self._child_identity(k, RATES["reg_nickname"], RATES["reg_typo"], errors)
            new_last, changed = self._surname(k, day)
            if changed and last == k["last_name"]:
                last = new_last
                errors.append("surname_change")
            if self.names is not None:
                first, last = self.names.registrations(
                    first, last, f, f["origin"] == "british_irish", errors
                )
            nhs = ""
            if self.rng.random() < RATES["reg_nhs_present"]:
                nhs = str(k["nhs"])
                if self.rng.random() < RATES["reg_nhs_mistyped"]:
                    nhs = faults.mistype_nhs(self.rng, nhs)
                    errors.append("nhs_number_mistyped")
            pc, old = self._home(k, day)
            if old:
                errors.append("moved")
            swap_err: list[str] = []
            dob_txt = faults.format_date(_date(k["dob"]), REG_DATE)
            if self.rng.random() < RATES["reg_swap"]:
                sw = faults.swap_day_month(_date(k["dob"]))
                if sw is not None:
                    dob_txt = faults.format_date(sw, REG_DATE)
                    swap_err.append("dob_day_month_swap")
            errors.extend(swap_err)
            p_first, p_last = self._parent(k)
            sex = SEX_CODES["registrations"]["unknown" if self.rng.random() < 0.01 else k["sex"]]
            row = {
                cols["record_id"]: rid,
                cols["first_name"]: first,
                cols["last_name"]: last,
                cols["date_of_birth"]: dob_txt,
                cols["sex"]: sex,
                cols["postcode"]: self._postcode(pc, errors),
                cols["address"]: str(f["address"]),
                cols["parent_first_name"]: p_first,
                cols["parent_last_name"]: p_last,
                cols["ethnicity"]: "" if self.rng.random() < 0.06 else eth_code[f["ethnicity"]],
                cols["main_language"]: lang_code[str(f["language"])],
                cols["event_date"]: faults.format_date(_date(day), REG_DATE),
                cols["site"]: site_name[site],
                cols["nhs_number"]: nhs,
            }
            # the identity attendances inherit: the record as the centre's system keeps it
            identity[rid] = {
                "first": first,
                "last": last,
                "dob": dob_txt,
                "postcode": row[cols["postcode"]],
                "nhs": nhs,
                "site": site,
                "day": day,
                "kid": i,
                "errors": list(errors),
                "dup": dup,
            }
            self._row_faults(row, cols, REG_DATE, _date(k["dob"]), errors)
            rows.append(row)
            self._record(
                "registrations", rid, k, errors, self._outcome(row, cols, REG_DATE, REG_DATE)
            )
        return pd.DataFrame(rows, columns=list(cols.values())), identity

    def _attendances(self, identity: dict[str, dict[str, Any]]) -> pd.DataFrame:
        cols = ATT_COLUMNS
        ref_o = self.ref_o
        window_start = ref_o - 730
        engaged_from = _day(self.ref.replace(year=self.ref.year - 1)) + 1
        by_kid: dict[int, list[str]] = {}
        for rid, ident in identity.items():
            by_kid.setdefault(ident["kid"], []).append(rid)
        sessions: list[tuple[int, str, int, str]] = []  # (day, site, kid, registration id)
        for i, rids in sorted(by_kid.items()):
            k = self.krec[i]
            first = identity[rids[0]]
            lo = max(first["day"], window_start)
            days = ref_o - lo + 1
            n = int(self.r_att.poisson(k["rate"] * days / 30.4))
            if n == 0:
                continue
            when = lo + np.floor(self.r_att.random(n) * days).astype(int)
            # The day the 12-month window starts is avoided, so "in the window" is unambiguous.
            when = np.where(when == engaged_from - 1, engaged_from, when)
            u = self.r_att.random((n, 2))
            for d, (u1, u2) in zip(np.sort(when), u, strict=True):
                rid = rids[0]
                if len(rids) > 1 and d >= identity[rids[1]]["day"] and u1 < 0.5:
                    rid = rids[1]
                site = identity[rid]["site"]
                if u2 < 0.05:
                    site = self.site_ids[int(u2 * 20 * self.n_sites) % self.n_sites]
                sessions.append((int(d), site, i, rid))
        if self.decline is not None:
            sessions = self.decline.thin_sessions(sessions, self.kids)
        sessions.sort()
        n_rows = len(sessions)
        ua = self.rng.random((n_rows, 2))
        engaged: dict[str, int] = {}
        total: dict[str, int] = {}
        cache: dict[tuple[str, bool], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        out = {v: [] for v in cols.values()}  # type: dict[str, list[str]]
        truth_rows = []
        for c, (day, site, i, rid) in enumerate(sessions):
            k = self.krec[i]
            ident = identity[rid]
            age = (day - int(k["dob"])) // 365
            types = SESSION_TYPES[0 if age < 1 else (1 if age < 3 else 2)]
            aid = f"A{c + 1:08d}"
            row = {
                cols["record_id"]: aid,
                cols["event_date"]: faults.format_date(_date(day), ATT_DATE),
                cols["site"]: self.venue[site],
                cols["event_type"]: types[int(ua[c, 0] * len(types))],
                cols["first_name"]: ident["first"],
                cols["last_name"]: ident["last"],
                cols["date_of_birth"]: _reformat(ident["dob"], REG_DATE, ATT_DATE),
                cols["postcode"]: ident["postcode"],
                cols["nhs_number"]: ident["nhs"],
            }
            errors = [e for e in ident["errors"] if e != "duplicate_registration"]
            if ident["dup"]:
                errors.append("duplicate_registration")
            if ua[c, 1] < ATT_BROKEN_RATE:
                self._attendance_fault(row, cols, int(ua[c, 1] / ATT_BROKEN_RATE * 4), errors)
                outcome = self._outcome(row, cols, ATT_DATE, ATT_DATE)
            else:
                # Unbroken rows differ only in the session date: one outcome per
                # (registration, session before the written birth date or not).
                written = faults.parse_date(row[cols["date_of_birth"]], ATT_DATE)
                ckey = (rid, written is not None and _date(day) < written)
                if ckey not in cache:
                    cache[ckey] = self._outcome(row, cols, ATT_DATE, ATT_DATE)
                outcome = cache[ckey]
            for name, v in row.items():
                out[name].append(v)
            truth_rows.append((aid, k, errors, outcome))
            cid = str(k["child_id"])
            if not outcome[0]:
                total[cid] = total.get(cid, 0) + 1
                if day >= engaged_from:
                    engaged[cid] = engaged.get(cid, 0) + 1
        for aid, k, errors, outcome in truth_rows:
            self._record("attendances", aid, k, errors, outcome)
        self.engaged_counts = engaged
        self.attendance_counts = total
        return pd.DataFrame(out, columns=list(cols.values()))


def _reformat(text: str, src: str, dst: str) -> str:
    d = faults.parse_date(text, src)
    return faults.format_date(d, dst) if d is not None else text


#: ONS 2021 labels as the health visiting system exports them (mapped back by value_maps).
def _labels() -> dict[str, str]:
    from everyfamily.schema import ETHNICITY_2021

    return {k: v[0] for k, v in ETHNICITY_2021.items()}


ETHNICITY_LABELS = _labels()
