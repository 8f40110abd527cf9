"""The outreach list as a worker walks it: households, their order along the street, and
which to visit first. Pure functions over a table of children; no file, store or log.

A household is the children who share a parent and an address (siblings): the same
``family_id`` (the linkage's family pseudonym, built from shared parents) and the same
normalised address and postcode. A child whose family or address is unknown is a household of
their own, so two families are never merged on a guess.

Walking order (the usual canvassing "walk sheet": by postcode, then street, then house
number, odd and even sides kept together by number): postcode, street, house number with its
letter (12, 12A, 12B, 14), then flat ("Flat 3, 12 High Street" sits with 12 High Street,
after the house itself). Households with a baby (under one) or in an area a finding names as
home to an emerging community or cut off from its centre by a barrier come first, each with
the reasons it was put there; the rest follow in walking order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

#: A flat, apartment or unit before the house number: "Flat 3, 12 High St", "Apt 2B 7 Rd".
_FLAT = re.compile(r"^\s*(?:flat|apartment|apt\.?|unit|room)\s*([0-9]+[a-z]?)\s*[,/]?\s*", re.I)
#: A house number (with a letter, or a range "12-14") then the street.
_HOUSE = re.compile(r"^\s*([0-9]+)\s*([a-z])?(?:\s*-\s*[0-9]+[a-z]?)?\b[\s,]*(.*)$", re.I)
#: Common street-type abbreviations, so "12 High St" and "12 High Street" are one address.
_ABBREVIATIONS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "dr": "drive",
    "cres": "crescent",
    "ct": "court",
    "gdns": "gardens",
    "gr": "grove",
    "pl": "place",
    "sq": "square",
    "ter": "terrace",
    "tce": "terrace",
    "wy": "way",
}

#: Why a household comes first (in this order on the page).
BABY = "baby under one"
EMERGING = "area with an emerging community"
CUT_OFF = "area cut off by a barrier"
#: Finding kinds whose areas put their households first, and the reason shown.
PRIORITY_FINDINGS: Mapping[str, str] = {
    "emerging_community": EMERGING,
    "access_barrier": CUT_OFF,
}


@dataclass(frozen=True)
class AddressParts:
    """An address split for sorting: street (normalised), house number and letter, flat."""

    street: str
    number: int | None
    letter: str
    flat: str

    def sort_key(self) -> tuple[str, int, str, int, str]:
        """Street, then number (no number last), letter, then the house before its flats."""
        flat_no = _leading_int(self.flat)
        return (
            self.street,
            self.number if self.number is not None else 10**9,
            self.letter,
            -1 if not self.flat else (flat_no if flat_no is not None else 10**9),
            self.flat,
        )


def _leading_int(text: str) -> int | None:
    m = re.match(r"\d+", text)
    return int(m.group()) if m else None


def normalise_street(text: str) -> str:
    """Lower case, punctuation to spaces, one space, street-type abbreviations expanded."""
    words = re.sub(r"[^0-9a-z ]+", " ", text.casefold()).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def parse_address(address: str | None) -> AddressParts:
    """Split a free-text address: "Flat 3, 12A High St" -> street "high street", number 12,
    letter "a", flat "3". An address without a leading number keeps all its text as the
    street (sorted after the numbered houses of that street name)."""
    text = (address or "").strip()
    flat = ""
    m = _FLAT.match(text)
    if m:
        flat, text = m.group(1).casefold(), text[m.end() :]
    h = _HOUSE.match(text)
    if h and h.group(3):
        return AddressParts(
            normalise_street(h.group(3)), int(h.group(1)), (h.group(2) or "").casefold(), flat
        )
    return AddressParts(normalise_street(text), None, "", flat)


def normalise_postcode(postcode: str | None) -> str:
    """Upper case with one space before the inward code ("l369ya" -> "L36 9YA")."""
    pc = re.sub(r"\s+", "", str(postcode or "")).upper()
    return f"{pc[:-3]} {pc[-3:]}" if len(pc) > 3 else pc


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def household_key(family_id: object, address: object, postcode: object, person_id: str) -> str:
    """Children with equal keys are one household: same family and same address. Without a
    family or an address the child stands alone (never merged on a guess)."""
    fam = _text(family_id)
    parts = parse_address(_text(address))
    if not fam or not parts.street:
        return "child|" + person_id
    house = f"{parts.number}{parts.letter}/{parts.flat}"
    return "|".join((fam, normalise_postcode(_text(postcode)), parts.street, house))


def plan_visits(
    children: pd.DataFrame, priority_areas: Mapping[str, tuple[str, ...]] | None = None
) -> pd.DataFrame:
    """The children of an outreach list grouped into households, in visiting order.

    ``children`` needs person_id, area_code and age_years; family_id, address and postcode
    are used when present. Without an address column (a pseudonymous list, before
    re-identification) each linkage family is a household, ordered by area; with one, a
    child whose address is unknown stands alone. ``priority_areas``: small area -> the reasons its
    households come first (:func:`priority_areas_from_findings`).

    Returns ``children`` with ``household`` (1, 2 ... in visiting order), ``household_size``,
    ``priority`` (the reasons, "; "-joined, empty for none) and ``visit_order`` (one number per
    child), sorted by it.
    """
    if children.empty:
        return children.assign(household=[], household_size=[], priority=[], visit_order=[])
    areas = priority_areas or {}
    frame = children.reset_index(drop=True).copy()
    get = frame.get
    addresses = get("address", pd.Series("", index=frame.index))
    postcodes = get("postcode", pd.Series("", index=frame.index))
    families = get("family_id", pd.Series("", index=frame.index))
    if "address" in frame.columns:
        keys = [
            household_key(f, a, p, str(pid))
            for f, a, p, pid in zip(families, addresses, postcodes, frame["person_id"], strict=True)
        ]
    else:  # pseudonymous: the linkage family stands for the household
        keys = [
            f"family|{_text(f)}" if _text(f) else f"child|{pid}"
            for f, pid in zip(families, frame["person_id"], strict=True)
        ]
    frame["_key"] = keys
    ages = pd.to_numeric(frame["age_years"], errors="coerce")
    frame["_baby"] = ages.lt(1).fillna(False).astype(bool)
    by = frame.groupby("_key", sort=False)
    baby, size = by["_baby"].any(), by.size()
    first_id = frame["person_id"].astype(str).groupby(frame["_key"], sort=False).min()
    household_areas = by["area_code"].agg(lambda s: list(dict.fromkeys(str(a) for a in s)))
    rows = []
    for i in frame.drop_duplicates("_key").index:
        key = keys[i]
        reasons: list[str] = [BABY] if baby[key] else []
        for code in household_areas[key]:
            reasons.extend(r for r in areas.get(code, ()) if r not in reasons)
        parts = parse_address(_text(addresses[i]))
        rows.append(
            (
                0 if reasons else 1,
                normalise_postcode(_text(postcodes[i])) or "~",
                str(frame.at[i, "area_code"]),
                parts.sort_key(),
                str(first_id[key]),
                key,
                "; ".join(reasons),
                int(size[key]),
            )
        )
    rows.sort(key=lambda r: r[:5])
    order = {r[5]: (i + 1, r[6], r[7]) for i, r in enumerate(rows)}
    frame["household"] = [order[k][0] for k in keys]
    frame["priority"] = [order[k][1] for k in keys]
    frame["household_size"] = [order[k][2] for k in keys]
    frame = frame.sort_values(
        ["household", "age_years", "person_id"], kind="mergesort", key=_numeric_age
    )
    frame["visit_order"] = range(1, len(frame) + 1)
    return frame.drop(columns=["_key", "_baby"]).reset_index(drop=True)


def _numeric_age(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce") if s.name == "age_years" else s


def priority_areas_from_findings(
    findings: list[Mapping[str, object]],
) -> dict[str, tuple[str, ...]]:
    """Small area -> reasons, from released findings whose kind is in
    :data:`PRIORITY_FINDINGS` (each finding's ``areas``: codes or {"code": ...})."""
    out: dict[str, list[str]] = {}
    for f in findings:
        reason = PRIORITY_FINDINGS.get(str(f.get("kind", "")))
        areas = f.get("areas")
        if reason is None or not isinstance(areas, list):
            continue
        for a in areas:
            code = str(a.get("code", "")) if isinstance(a, Mapping) else str(a)
            if code and reason not in out.setdefault(code, []):
                out[code].append(reason)
    return {k: tuple(v) for k, v in out.items()}
