"""Placing a postcode in a small area: the lookup, else its sector (moved from
standardise.py unchanged, issue 19; ``ingest.standardise`` re-exports these names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from everyfamily.ingest import rules

if TYPE_CHECKING:
    import geopandas as gpd


#: Fewest lookup postcodes a sector needs before an unknown postcode is placed by its sector.
MIN_SECTOR_POSTCODES = 10


@dataclass(frozen=True)
class Placement:
    area_code: str | None
    latitude: float | None
    longitude: float | None
    by_sector: bool = False


class PostcodePlacer:
    """Places a valid, normalised postcode in a small area.

    1. The postcode lookup (its area code; when a lookup row has coordinates but no area, the
       area is found by point-in-polygon on the small-area boundaries).
    2. Otherwise its postcode sector, when the lookup holds at least
       :data:`MIN_SECTOR_POSTCODES` postcodes of that sector and all lie in one small area
       (coordinates are then the mean of the sector's centroids). Flagged
       ``postcode_placed_by_sector``. The minimum guards against lookups cut to one council,
       where a sector straddling the boundary can look whole from a handful of postcodes.
    3. Otherwise unplaced (flag ``postcode_unknown``).
    """

    def __init__(self, lookup: pd.DataFrame, areas: gpd.GeoDataFrame | None = None) -> None:
        lk = lookup.copy()
        missing = lk["area_code"].isna() & lk["latitude"].notna() & lk["longitude"].notna()
        if missing.any() and areas is not None:
            from everyfamily.population.geography import place_points

            lk.loc[missing, "area_code"] = place_points(
                lk.loc[missing, "latitude"], lk.loc[missing, "longitude"], areas
            )
        self.exact: dict[str, Placement] = {
            p: Placement(a if isinstance(a, str) else None, _num(la), _num(lo))
            for p, a, la, lo in zip(
                lk["postcode"], lk["area_code"], lk["latitude"], lk["longitude"], strict=True
            )
        }
        placed = lk[lk["area_code"].notna()].copy()
        placed["sector"] = placed["postcode"].str[:-2]
        grouped = placed.groupby("sector").agg(
            n_areas=("area_code", "nunique"),
            area_code=("area_code", "first"),
            latitude=("latitude", "mean"),
            longitude=("longitude", "mean"),
        )
        counts = placed.groupby("sector").size()
        one = grouped[(grouped["n_areas"] == 1) & (counts >= MIN_SECTOR_POSTCODES)]
        self.sectors: dict[str, Placement] = {
            str(s): Placement(str(a), _num(la), _num(lo), by_sector=True)
            for s, a, la, lo in zip(
                one.index, one["area_code"], one["latitude"], one["longitude"], strict=True
            )
        }

    def place(self, postcode: str) -> Placement | None:
        hit = self.exact.get(postcode)
        if hit is not None and hit.area_code is not None:
            return hit
        sector = self.sectors.get(rules.postcode_sector(postcode))
        if sector is not None:
            return sector
        return None


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None


def postcode_row(value: str | None, placer: PostcodePlacer | None) -> tuple[Any, ...]:
    """(postcode, valid, sector, district, area, lat, lon, placed_by_sector) for one value;
    an invalid postcode is not kept (only its flag is)."""
    norm = rules.normalise_postcode(value)
    if norm is None:
        return (None, None, None, None, None, None, None, False)
    if not rules.postcode_is_valid(norm):
        return (None, False, None, None, None, None, None, False)
    place = placer.place(norm) if placer is not None else None
    if place is None:
        return (
            norm,
            True,
            rules.postcode_sector(norm),
            rules.postcode_district(norm),
            None,
            None,
            None,
            False,
        )
    return (
        norm,
        True,
        rules.postcode_sector(norm),
        rules.postcode_district(norm),
        place.area_code,
        place.latitude,
        place.longitude,
        place.by_sector,
    )
