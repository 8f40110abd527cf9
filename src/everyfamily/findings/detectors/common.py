"""What every detector shares: strength of evidence, numbers for JSON, the reach table's
rows and denominators, the borough's totals, touching areas and labels."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from everyfamily.evidence import fnum, sig
from everyfamily.evidence import strength as strength
from everyfamily.findings import stats
from everyfamily.findings.model import FindingsSettings

Neighbours = Mapping[str, Iterable[str]]

#: the detectors' short names for the shared evidence helpers (everyfamily.evidence)
_fnum = fnum
_sig = sig


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _interval(part: int | None, whole: int | None) -> tuple[float, float]:
    """Wilson interval of RELEASED counts (NaN when either is suppressed)."""
    if part is None or whole is None:
        return math.nan, math.nan
    return stats.wilson_interval(float(part), float(whole))


def _select(
    reach: pd.DataFrame, level: str, dimension: str = "all", service: str = "any"
) -> pd.DataFrame:
    mask = (
        (reach["level"] == level)
        & (reach["dimension"] == dimension)
        & (reach["service"] == service)
    )
    rows = reach.loc[mask].copy()
    for col in ("known", "registered", "engaged", "ons_population"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce")
    rows["den"] = _denominator(rows)
    return rows


def _denominator(rows: pd.DataFrame) -> pd.Series:
    """The children a rate is out of: the reach table's ``denominator`` (known, registered
    or engaged; everyfamily.reach) when present, else ``known`` (schema.REACH_COLUMNS)."""
    known = pd.to_numeric(rows["known"], errors="coerce")
    if "denominator" in rows.columns:
        den = pd.to_numeric(rows["denominator"], errors="coerce")
        return den.where(den.notna(), known)
    return known


def borough_row(reach: pd.DataFrame, settings: FindingsSettings) -> dict[str, Any]:
    """Borough totals (the comparison for every area): the borough row when present, else
    the sum over small areas."""
    rows = _select(reach, "borough")
    if len(rows):
        r = rows.iloc[0]
        return {
            "area_code": str(r["area_code"]),
            "area_name": str(r["area_name"]) if pd.notna(r["area_name"]) else settings.borough_name,
            "known": _num(r["known"]),
            "den": _num(r["den"]),
            "registered": _num(r["registered"]),
            "engaged": _num(r["engaged"]),
            "ons_population": _num(r["ons_population"]),
        }
    small = _select(reach, settings.small_area_level)
    return {
        "area_code": "borough",
        "area_name": settings.borough_name,
        "known": float(small["known"].sum()),
        "den": float(small["den"].sum()),
        "registered": float(small["registered"].sum()),
        "engaged": float(small["engaged"].sum()),
        "ons_population": float(small["ons_population"].sum(min_count=1)),
    }


def _components(codes: list[str], neighbours: Neighbours | None) -> list[list[str]]:
    """Connected groups of flagged areas (contiguity), in the order first seen."""
    flagged = set(codes)
    parent = {c: c for c in codes}

    def root(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    if neighbours:
        for c in codes:
            for n in neighbours.get(c, ()):
                if n in flagged:
                    ra, rb = root(c), root(n)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for c in codes:
        groups.setdefault(root(c), []).append(c)
    return list(groups.values())


def _label(code: str, name: Any, labels: Mapping[str, str] | None) -> str:
    if labels and code in labels:
        return labels[code]
    return (
        str(name)
        if name is not None and not (isinstance(name, float) and math.isnan(name))
        else code
    )
