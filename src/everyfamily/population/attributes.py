"""Attributes of areas (deprivation) and the service sites, read from the project's files.

An I/O edge: reads the CSVs named in the ``deprivation`` and ``sites`` blocks and returns tidy
frames with fixed column names. Deciles follow the English Indices of Deprivation convention
(1 = most deprived 10% of small areas in England); quintiles are derived as
ceil(decile / 2), so quintile 1 = deciles 1-2 (the "most deprived 20%" target group).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from everyfamily.errors import InputError
from everyfamily.population.tables import read_csv_table

if TYPE_CHECKING:
    from everyfamily.config import DeprivationSettings, SitesSettings

DEPRIVATION_COLUMNS = ("area_code", "imd_decile", "imd_quintile", "idaci_decile", "idaci_quintile")
SITE_COLUMNS = ("site_id", "site_name", "latitude", "longitude", "reach_areas", "capacity")


def _read_csv(path: Path, what: str, block: str) -> pd.DataFrame:
    return read_csv_table(path, what, f"{block}.path")


def _need(raw: pd.DataFrame, column: str | None, path: Path, block: str) -> None:
    if column is not None and column not in raw.columns:
        raise InputError(
            f"{path}: no column {column!r}; columns are: {', '.join(map(str, raw.columns))}",
            hint=f"fix the column names in the project file's {block} block",
        )


def _numbers(
    raw: pd.DataFrame,
    column: str,
    path: Path,
    *,
    low: float | None = None,
    high: float | None = None,
    whole: bool = False,
    allow_blank: bool = False,
    expected: str,
) -> pd.Series:
    text = raw[column].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & ~(allow_blank & (text == ""))
    if low is not None:
        bad |= values < low
    if high is not None:
        bad |= values > high
    if whole:
        bad |= values.notna() & (values != np.floor(values))
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 1
        raise InputError(
            f"{path}, row {row}, column {column!r}: expected {expected}",
            hint="fix the value in the file",
        )
    return values


def _decile(raw: pd.DataFrame, column: str | None, path: Path) -> pd.Series:
    if column is None:
        return pd.Series(pd.NA, index=raw.index, dtype="Int64")
    values = _numbers(
        raw,
        column,
        path,
        low=1,
        high=10,
        whole=True,
        allow_blank=True,
        expected="a decile from 1 to 10",
    )
    return values.astype("Int64")


def quintile_of_decile(decile: pd.Series) -> pd.Series:
    """Quintile from decile: ceil(decile / 2), so deciles 1-2 -> 1 ... 9-10 -> 5."""
    d = decile.astype("Int64")
    return ((d + 1) // 2).astype("Int64")


def load_deprivation(settings: DeprivationSettings | None) -> pd.DataFrame:
    """IMD and IDACI decile and quintile by small area (nullable integers); an empty frame with
    the same columns when the project has no deprivation block."""
    if settings is None:
        return pd.DataFrame(
            {
                c: pd.Series([], dtype="Int64" if c != "area_code" else object)
                for c in DEPRIVATION_COLUMNS
            }
        )
    raw = _read_csv(settings.path, "deprivation", "deprivation")
    for col in (settings.area_column, settings.imd_decile_column, settings.idaci_decile_column):
        _need(raw, col, settings.path, "deprivation")
    imd = _decile(raw, settings.imd_decile_column, settings.path)
    idaci = _decile(raw, settings.idaci_decile_column, settings.path)
    out = pd.DataFrame(
        {
            "area_code": raw[settings.area_column].str.strip(),
            "imd_decile": imd,
            "imd_quintile": quintile_of_decile(imd),
            "idaci_decile": idaci,
            "idaci_quintile": quintile_of_decile(idaci),
        }
    )
    return out.drop_duplicates("area_code", keep="first").reset_index(drop=True)


def load_sites(settings: SitesSettings | None) -> pd.DataFrame:
    """Service sites: ``site_id, site_name, latitude, longitude`` (WGS84), ``reach_areas``
    (list of small-area codes, or None when the file gives none) and ``capacity`` (float or
    NaN). Empty frame when the project lists no sites."""
    if settings is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in SITE_COLUMNS})
    raw = _read_csv(settings.path, "sites", "sites")
    for col in (
        settings.id_column,
        settings.name_column,
        settings.latitude_column,
        settings.longitude_column,
        settings.reach_areas_column,
        settings.capacity_column,
    ):
        _need(raw, col, settings.path, "sites")
    ids = raw[settings.id_column].str.strip()
    if (ids == "").any():
        row = int((ids == "").to_numpy().argmax()) + 1
        raise InputError(
            f"{settings.path}, row {row}, column {settings.id_column!r}: expected a site id",
            hint="give every site an id",
        )
    dup = ids.duplicated()
    if dup.any():
        row = int(dup.to_numpy().argmax()) + 1
        raise InputError(
            f"{settings.path}, row {row}, column {settings.id_column!r}: "
            "this site id is used twice",
            hint="site ids must be unique",
        )
    lat = _numbers(
        raw,
        settings.latitude_column,
        settings.path,
        low=-90,
        high=90,
        expected="a latitude in degrees (WGS84)",
    )
    lon = _numbers(
        raw,
        settings.longitude_column,
        settings.path,
        low=-180,
        high=180,
        expected="a longitude in degrees (WGS84)",
    )
    if settings.reach_areas_column:
        reach: list[list[str] | None] = [
            [a.strip() for a in str(v).split(";") if a.strip()] or None
            for v in raw[settings.reach_areas_column]
        ]
    else:
        reach = [None] * len(raw)
    capacity = (
        _numbers(
            raw,
            settings.capacity_column,
            settings.path,
            low=0,
            allow_blank=True,
            expected="a weekly capacity (a number of 0 or more)",
        )
        if settings.capacity_column
        else pd.Series(np.nan, index=raw.index)
    )
    return pd.DataFrame(
        {
            "site_id": ids,
            "site_name": raw[settings.name_column].str.strip(),
            "latitude": lat.astype("float64"),
            "longitude": lon.astype("float64"),
            "reach_areas": pd.Series(reach, index=raw.index, dtype=object),
            "capacity": capacity.astype("float64"),
        }
    )
