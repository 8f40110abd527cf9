"""Geography: small-area boundaries, the postcode lookup and the area hierarchy.

This is an I/O edge: it reads the files named in the project's ``geography`` block and hands
back tidy frames with fixed column names, so nothing downstream sees a publisher's column
names (``lsoa11cd``, ``WD19CD`` ...). Boundaries are returned in EPSG:4326 (WGS84 lon/lat);
distances must be computed after projecting to ``GeographySettings.projected_crs``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from everyfamily.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from everyfamily.config import GeographySettings, Project

_SPACES = re.compile(r"\s+")


def _geo(settings: GeographySettings | Project) -> GeographySettings:
    """Accept the whole project or its geography block."""
    from everyfamily.config import Project

    return settings.geography if isinstance(settings, Project) else settings


def normalise_postcode_text(values: pd.Series) -> pd.Series:
    """Upper case, no spaces, then one space before the inward code (last 3 characters).

    Only the layout is normalised here; whether the result is a valid UK postcode is decided
    by :mod:`everyfamily.ingest.rules`.
    """
    s = values.astype("string").str.upper().str.replace(_SPACES, "", regex=True)
    return s.where(s.str.len() < 5, s.str[:-3] + " " + s.str[-3:])


def _need_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise InputError(
            f"{path}: {what} file not found", hint="check geography paths in the project file"
        )


def _need_columns(frame: pd.DataFrame | Any, columns: list[str], path: Path, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        present = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise InputError(
            f"{path}: {what} has no column {missing[0]!r}; columns are: {present}",
            hint="fix the column name in the project file's geography block",
        )


def load_small_areas(settings: GeographySettings | Project) -> gpd.GeoDataFrame:
    """Small-area polygons in EPSG:4326 with columns ``area_code``, ``area_name``, ``geometry``."""
    import geopandas as gpd

    layer = _geo(settings).small_areas
    _need_file(layer.path, "small-area boundary")
    kwargs: dict[str, Any] = {"layer": layer.layer} if layer.layer else {}
    try:
        frame = gpd.read_file(layer.path, **kwargs)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(
            f"{layer.path}: cannot read the boundary file ({type(exc).__name__})",
            hint="give a GeoJSON, GeoPackage or shapefile",
        ) from None
    wanted = [layer.code_column] + ([layer.name_column] if layer.name_column else [])
    _need_columns(frame, wanted, layer.path, "the small-area boundary file")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    out = gpd.GeoDataFrame(
        {
            "area_code": frame[layer.code_column].astype(str).to_numpy(),
            "area_name": (
                frame[layer.name_column].astype(str).to_numpy()
                if layer.name_column
                else frame[layer.code_column].astype(str).to_numpy()
            ),
        },
        geometry=frame.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    return out


def load_postcode_lookup(settings: GeographySettings | Project) -> pd.DataFrame:
    """Postcode lookup: ``postcode`` (normalised 'L36 1AB'), ``area_code``, ``latitude``,
    ``longitude`` (NaN when the lookup has no centroid columns). One row per postcode."""
    lk = _geo(settings).postcode_lookup
    _need_file(lk.path, "postcode lookup")
    cols = [lk.postcode_column, lk.area_column]
    cols += [c for c in (lk.latitude_column, lk.longitude_column) if c]
    try:
        header = pd.read_csv(lk.path, nrows=0, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{lk.path}: cannot read the postcode lookup ({type(exc).__name__})",
            hint="give a UTF-8 CSV with a header row",
        ) from None
    _need_columns(header, cols, lk.path, "the postcode lookup")
    raw = pd.read_csv(lk.path, usecols=cols, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    out = pd.DataFrame(
        {
            "postcode": normalise_postcode_text(raw[lk.postcode_column]),
            "area_code": raw[lk.area_column].replace("", np.nan),
            "latitude": pd.to_numeric(raw[lk.latitude_column], errors="coerce")
            if lk.latitude_column
            else np.nan,
            "longitude": pd.to_numeric(raw[lk.longitude_column], errors="coerce")
            if lk.longitude_column
            else np.nan,
        }
    )
    out = out[out["postcode"].notna() & (out["postcode"] != "")]
    return out.drop_duplicates("postcode", keep="first").reset_index(drop=True)


def load_hierarchy(settings: GeographySettings | Project) -> pd.DataFrame:
    """Small area to larger areas: ``area_code`` plus one column per level (its code) and
    ``<level>_name`` for levels whose name column is given. Empty frame (just ``area_code``)
    when the project has no hierarchy."""
    h = _geo(settings).hierarchy
    if h is None:
        return pd.DataFrame({"area_code": pd.Series([], dtype=str)})
    _need_file(h.path, "area hierarchy")
    raw = pd.read_csv(h.path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    wanted = [h.area_column, *h.levels.values(), *h.names.values()]
    _need_columns(raw, wanted, h.path, "the area hierarchy")
    out = pd.DataFrame({"area_code": raw[h.area_column]})
    for level, col in h.levels.items():
        out[level] = raw[col]
    for level, col in h.names.items():
        out[f"{level}_name"] = raw[col]
    return out.drop_duplicates("area_code", keep="first").reset_index(drop=True)


def place_points(
    lat: np.ndarray | pd.Series | list[float],
    lon: np.ndarray | pd.Series | list[float],
    areas: gpd.GeoDataFrame,
) -> np.ndarray:
    """Area code of the polygon containing each (lat, lon) point, by point-in-polygon.

    Returns an object array aligned with the input; None where a point is missing or falls in
    no area. A point on a shared edge goes to the first area listed (deterministic).
    """
    import geopandas as gpd

    lat_a = np.asarray(lat, dtype="float64")
    lon_a = np.asarray(lon, dtype="float64")
    result = np.full(lat_a.shape[0], None, dtype=object)
    ok = np.isfinite(lat_a) & np.isfinite(lon_a)
    if not ok.any() or len(areas) == 0:
        return result
    pts = gpd.GeoDataFrame(
        {"_i": np.flatnonzero(ok)},
        geometry=gpd.points_from_xy(lon_a[ok], lat_a[ok]),
        crs="EPSG:4326",
    )
    polys = areas[["area_code", "geometry"]]
    if polys.crs is not None and polys.crs.to_epsg() != 4326:
        polys = polys.to_crs("EPSG:4326")
    joined = gpd.sjoin(pts, polys, how="left", predicate="within")
    joined = joined[~joined["_i"].duplicated(keep="first")]
    codes = joined["area_code"].to_numpy(dtype=object)
    codes[pd.isna(codes)] = None
    result[joined["_i"].to_numpy()] = codes
    return result
