"""Hand-made reach tables with known structure, for the findings and report tests.

Rows have every column of ``schema.REACH_COLUMNS``; the rate columns are filled from the
counts the test states, so a test reads like the table an analyst would see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from everyfamily.schema import REACH_COLUMNS

BOROUGH = "E08000011"


@dataclass(frozen=True)
class Area:
    code: str
    known: int
    registered: int
    engaged: int | None = None
    ons: float | None = None
    name: str | None = None


def _row(
    level: str,
    code: str,
    name: str,
    dimension: str,
    value: str,
    service: str,
    known: float,
    registered: float,
    engaged: float,
    ons: float | None,
) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(REACH_COLUMNS, np.nan)
    row.update(
        level=level,
        area_code=code,
        area_name=name,
        dimension=dimension,
        group_value=value,
        service=service,
        known=known,
        registered=registered,
        engaged=engaged,
        ons_population=np.nan if ons is None else ons,
    )
    if known:
        row["registered_rate"] = registered / known
        row["engaged_rate"] = engaged / known
    if ons:
        row["known_completeness"] = known / ons
    return row


def reach_table(
    areas: list[Area],
    *,
    groups: list[tuple[str, str, str, str, int, int]] = (),  # type: ignore[assignment]
    sites: list[tuple[str, int, int]] = (),  # type: ignore[assignment]
    level: str = "lsoa",
) -> pd.DataFrame:
    """Small areas (dimension all, service any), a borough row summing them, optional group
    rows (level, area, dimension, value, known, registered) and site rows (site, registered,
    engaged) at borough level."""
    rows = []
    for a in areas:
        engaged = a.engaged if a.engaged is not None else a.registered // 2
        rows.append(
            _row(
                level,
                a.code,
                a.name or f"Area {a.code}",
                "all",
                "all",
                "any",
                a.known,
                a.registered,
                engaged,
                a.ons,
            )
        )
    k = sum(a.known for a in areas)
    r = sum(a.registered for a in areas)
    e = sum((a.engaged if a.engaged is not None else a.registered // 2) for a in areas)
    ons_total = sum(a.ons for a in areas if a.ons is not None) or None
    rows.append(_row("borough", BOROUGH, "Knowsley", "all", "all", "any", k, r, e, ons_total))
    for lvl, code, dim, value, gk, gr in groups:
        name = "Knowsley" if lvl == "borough" else f"Area {code}"
        rows.append(_row(lvl, code, name, dim, value, "any", gk, gr, gr // 2, None))
    for site, sr, se in sites:
        rows.append(_row("borough", BOROUGH, "Knowsley", "all", "all", site, k, sr, se, None))
    return pd.DataFrame(rows, columns=list(REACH_COLUMNS))


def null_areas(
    n: int, *, rate: float, seed: int, size: tuple[int, int] = (60, 200), completeness: float = 0.97
) -> list[Area]:
    """``n`` areas whose registered counts are drawn from one borough rate (no story)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ons = int(rng.integers(*size))
        known = int(rng.poisson(ons * completeness))
        reg = int(rng.binomial(known, rate))
        out.append(Area(f"E0100{i:04d}", known, reg, int(rng.binomial(reg, 0.6)), float(ons)))
    return out


def grid_neighbours(codes: list[str], width: int) -> dict[str, set[str]]:
    """Queen contiguity for codes laid out row by row on a grid ``width`` wide."""
    pos = {c: (i // width, i % width) for i, c in enumerate(codes)}
    at = {v: k for k, v in pos.items()}
    out: dict[str, set[str]] = {}
    for c, (y, x) in pos.items():
        out[c] = {
            at[(y + dy, x + dx)]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if (dy or dx) and (y + dy, x + dx) in at
        }
    return out
