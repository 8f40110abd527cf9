"""Geography: small-area boundaries, the postcode lookup and the area hierarchy.

This is an I/O edge: it reads the files named in the project's ``geography`` block and hands
back tidy frames with fixed column names, so nothing downstream sees a publisher's column
names (``lsoa11cd``, ``WD19CD`` ...). Levels have any names the project gives them; the
hierarchy is read from the boundary file's own columns and/or a lookup (CSV or boundary
file), and every area gets a name (looked up, given, or built: docs/geography.md).
Boundaries are returned in EPSG:4326 (WGS84 lon/lat); distances must be computed after
projecting to ``GeographySettings.projected_crs``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from everyfamily.config import Project
from everyfamily.errors import ConfigError, InputError
from everyfamily.population.levels import level_noun
from everyfamily.population.tables import VECTOR_KINDS, file_kind, read_csv_table

if TYPE_CHECKING:
    import geopandas as gpd

    from everyfamily.config import AreaNames, GeographySettings

_SPACES = re.compile(r"\s+")
#: Level names that stand for the whole council (reach/measure.py folds them into the one
#: borough row): never a place name, and the last choice to name other areas after.
COUNCIL_LEVELS = frozenset({"borough", "lad", "la"})


def _geo(settings: GeographySettings | Project) -> GeographySettings:
    """Accept the whole project or its geography block."""
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
    codes = pd.Series(_as_text(frame[layer.code_column]).to_numpy(), dtype=object)
    names = (
        pd.Series(_as_text(frame[layer.name_column]).to_numpy(), dtype=object)
        if layer.name_column
        else pd.Series("", index=codes.index, dtype=object)
    )
    geo = _geo(settings)
    names_file = geo.area_names.get(geo.small_area_level)
    if names_file is not None:
        looked_up = codes.map(_names_lookup(names_file, geo.small_area_level))
        names = looked_up.where(looked_up.notna() & (looked_up != ""), names)
    blank = names.str.strip() == ""
    if blank.any():
        built = (
            small_area_names(codes[blank], _hierarchy_as_given(geo))
            if geo.hierarchy is not None or layer.levels
            else codes[blank]
        )
        names[blank] = built
    out = gpd.GeoDataFrame(
        {"area_code": codes.to_numpy(), "area_name": names.to_numpy()},
        geometry=frame.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    return out


def load_postcode_lookup(settings: GeographySettings | Project) -> pd.DataFrame:
    """Postcode lookup: ``postcode`` (normalised 'L36 1AB'), ``area_code``, ``latitude``,
    ``longitude`` (NaN when the lookup has no centroid columns). One row per postcode."""
    lk = _geo(settings).postcode_lookup
    _need_file(lk.path, "postcode lookup")
    kind = file_kind(lk.path)
    if kind != "CSV":
        raise InputError(
            f"{lk.path}: the postcode lookup is a {kind} file, but "
            "geography.postcode_lookup.path expects a CSV",
            hint="export the lookup as a CSV with a header row and name that file",
        )
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


def _read_attributes(path: Path, layer: str | None, what: str) -> pd.DataFrame:
    """The attribute columns of a boundary file (no geometry), every value as text ('' for
    missing): codes stored as numbers keep no '.0'."""
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(
            f"{path}: cannot read the {what} file ({type(exc).__name__})",
            hint="give a GeoJSON, GeoPackage or shapefile (and its layer, if it has several)",
        ) from None
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        out[str(col)] = _as_text(frame[col])
    return out


def _as_text(values: pd.Series) -> pd.Series:
    """A column as text, '' for missing; whole numbers stored as floats print without '.0'
    (a code column with a gap is read as floats)."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) and (whole == whole.round()).all():
            values = values.astype("Int64")
    return values.astype("string").fillna("").astype(object)


def _read_hierarchy_file(path: Path, layer: str | None) -> pd.DataFrame:
    """The hierarchy file as text columns: a CSV, or the attributes of a boundary file."""
    _need_file(path, "area hierarchy")
    kind = file_kind(path)
    if kind in VECTOR_KINDS:
        return _read_attributes(path, layer, "area hierarchy")
    if kind != "CSV":
        raise InputError(
            f"{path}: the area hierarchy is a {kind} file",
            hint="give geography.hierarchy.path as a CSV or a boundary file "
            "(GeoJSON, GeoPackage, shapefile)",
        )
    return read_csv_table(path, "area hierarchy", "geography.hierarchy.path")


def _level_columns(
    raw: pd.DataFrame,
    area_column: str,
    levels: dict[str, str],
    names: dict[str, str],
    path: Path,
    what: str,
    setting: str,
) -> pd.DataFrame:
    """area_code, one column per level (its code) and ``<level>_name`` where named."""
    unnamed = [lv for lv in names if lv not in levels]
    if unnamed:
        raise ConfigError(
            f"{setting}: level {unnamed[0]!r} has a name column but no code column",
            hint=f"add {unnamed[0]}: <code column> to the levels of the same block",
        )
    _need_columns(raw, [area_column, *levels.values(), *names.values()], path, what)
    out = pd.DataFrame({"area_code": raw[area_column].astype(str)})
    for level, col in levels.items():
        out[level] = raw[col].astype(str)
    for level, col in names.items():
        out[f"{level}_name"] = raw[col].astype(str)
    return out.drop_duplicates("area_code", keep="first").reset_index(drop=True)


def _hierarchy_as_given(geo: GeographySettings) -> pd.DataFrame:
    """area_code, each level's code and the ``<level>_name`` columns the files have."""
    parts: list[pd.DataFrame] = []
    layer = geo.small_areas
    if layer.levels or layer.level_names:
        _need_file(layer.path, "small-area boundary")
        raw = _read_attributes(layer.path, layer.layer, "small-area boundary")
        parts.append(
            _level_columns(
                raw,
                layer.code_column,
                layer.levels,
                layer.level_names,
                layer.path,
                "the small-area boundary file",
                "geography.small_areas",
            )
        )
    h = geo.hierarchy
    if h is not None:
        both = sorted(set(h.levels) & set(layer.levels))
        if both:
            raise ConfigError(
                f"geography: level {both[0]!r} is read from both small_areas.levels and "
                "hierarchy.levels",
                hint="name each level in one of the two blocks",
            )
        raw = _read_hierarchy_file(h.path, h.layer)
        parts.append(
            _level_columns(
                raw,
                h.area_column,
                h.levels,
                h.names,
                h.path,
                "the area hierarchy",
                "geography.hierarchy",
            )
        )
    if not parts:
        out = pd.DataFrame({"area_code": pd.Series([], dtype=str)})
    else:
        out = parts[0]
        for part in parts[1:]:
            out = out.merge(part, on="area_code", how="outer")
        out = out.fillna("")
    levels = _levels_of(out)
    for level, names_file in geo.area_names.items():
        if level == geo.small_area_level:
            continue  # small-area names: load_small_areas
        if level not in levels:
            raise ConfigError(
                f"geography.area_names: level {level!r} is not a level of the hierarchy "
                f"(levels: {', '.join(levels) or 'none'})",
                hint="name a level of small_areas.levels or hierarchy.levels",
            )
        names = _names_lookup(names_file, level)
        looked_up = out[level].map(names)
        col = f"{level}_name"
        current = out[col] if col in out.columns else pd.Series("", index=out.index, dtype=object)
        out[col] = looked_up.where(looked_up.notna() & (looked_up != ""), current)
    return out


def _names_lookup(names_file: AreaNames, level: str) -> pd.Series:
    """Area code -> name from a ``geography.area_names`` CSV (first name per code)."""
    setting = f"geography.area_names.{level}.path"
    raw = read_csv_table(names_file.path, f"{level} names", setting)
    _need_columns(
        raw, [names_file.code_column, names_file.name_column], names_file.path, "the names file"
    )
    pairs = raw[[names_file.code_column, names_file.name_column]].astype(str)
    pairs = pairs[pairs[names_file.name_column].str.strip() != ""]
    pairs = pairs.drop_duplicates(names_file.code_column, keep="first")
    return pd.Series(
        pairs[names_file.name_column].to_numpy(), index=pairs[names_file.code_column].to_numpy()
    )


def _levels_of(hierarchy: pd.DataFrame) -> list[str]:
    return [c for c in hierarchy.columns if c != "area_code" and not c.endswith("_name")]


def load_hierarchy(settings: GeographySettings | Project) -> pd.DataFrame:
    """Small area to larger areas: ``area_code`` plus one column per level (its code), then
    ``<level>_name`` for every level (a council level, :data:`COUNCIL_LEVELS`, only when a
    file names it). Empty frame (just ``area_code``) when the project has
    no hierarchy.

    Levels come from the small-area boundary file's own columns
    (``geography.small_areas.levels`` / ``level_names``) and from ``geography.hierarchy``
    (a CSV, or a GeoJSON/GeoPackage/shapefile whose columns hold the codes); any level name
    works. A level named in both is a :class:`ConfigError`. Levels without a name column get
    names built by :func:`complete_level_names`.
    """
    given = _hierarchy_as_given(_geo(settings))
    levels = _levels_of(given)
    if not levels:
        return given[["area_code"]]
    out = complete_level_names(given, levels)
    names = [f"{lv}_name" for lv in levels if f"{lv}_name" in out.columns]
    return out[["area_code", *levels, *names]]


def complete_level_names(hierarchy: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """Give every area of every level a name, never a bare code where one can be built.

    A level with a name column keeps its names (a blank name falls back as below). An area
    with no name is called after the named area of another level that holds most of its
    small areas, followed by its own code: "Stockbridge (E02001234)", the "ward name + code"
    style of ONS and the House of Commons Library when no official name exists. The named
    level used is the one whose number of areas is closest (by ratio) to this level's, so
    an MSOA is named after a ward rather than after the borough; ties go to the finer level,
    then to the level listed first; a level standing for the whole council
    (:data:`COUNCIL_LEVELS`) is used last, and is itself never given a built name (the
    project names the borough). Areas left with no named level at all keep their code.
    """
    out = hierarchy.copy()
    named = [lv for lv in levels if f"{lv}_name" in out.columns and (out[f"{lv}_name"] != "").any()]
    size = {lv: out.loc[out[lv] != "", lv].nunique() for lv in levels}
    for level in levels:
        col = f"{level}_name"
        if level.lower() in COUNCIL_LEVELS and col not in out.columns:
            continue  # the council's own row is named by the project (reach/stage.py)
        if col not in out.columns:
            out[col] = ""
        missing = (out[level] != "") & (out[col] == "")
        if not missing.any():
            continue
        donors = sorted(
            (lv for lv in named if lv != level and size[lv] > 0),
            key=lambda lv: (
                lv.lower() in COUNCIL_LEVELS,  # the council's own name: the last resort
                abs(np.log(size[lv] / max(size[level], 1))),
                -size[lv],
                levels.index(lv),  # then the order the project lists them
            ),
        )
        built = pd.Series("", index=out.index, dtype=object)
        for donor in donors:
            donor_name = f"{donor}_name"
            has = (out[level] != "") & (out[donor_name] != "")
            pairs = out.loc[has, [level, donor_name]]
            if pairs.empty:
                continue
            counts = pairs.value_counts().reset_index(name="n")
            counts = counts.sort_values(["n", f"{donor}_name"], ascending=[False, True])
            best = counts.drop_duplicates(level).set_index(level)[f"{donor}_name"]
            name_of = out[level].map(best)
            fill = (built == "") & name_of.notna()
            built[fill] = name_of[fill] + " (" + out.loc[fill, level] + ")"
        built[built == ""] = out.loc[built == "", level]
        out.loc[missing, col] = built[missing]
    return out


def small_area_names(codes: pd.Series, hierarchy: pd.DataFrame) -> pd.Series:
    """Names for small areas whose boundary file has none: the name of the finest larger
    area that has a name of its own, with the small area's code ("Stockbridge (E01006412)");
    the bare code only where no level is named. ``hierarchy``: as the files give it (names
    not completed)."""
    text = codes.astype(str)
    names = pd.Series(text.to_numpy(), index=codes.index, dtype=object)
    by_code = hierarchy.set_index("area_code")
    levels = [lv for lv in _levels_of(hierarchy) if f"{lv}_name" in by_code.columns]
    size = {lv: by_code[lv][by_code[lv] != ""].nunique() for lv in levels}
    finest = sorted(levels, key=lambda lv: -size[lv])  # ties: the order the project lists
    done = pd.Series(False, index=codes.index)
    for level in finest:
        parent = text.map(by_code[f"{level}_name"])
        ok = ~done & parent.notna() & (parent != "")
        names[ok] = parent[ok] + " (" + text[ok] + ")"
        done |= ok
    return names


def place_names(hierarchy: pd.DataFrame) -> dict[str, str]:
    """Small-area code -> the name of the place it is in: the first larger level the project
    lists (ward, locality ...; not the council itself), as :func:`load_hierarchy` returns
    it. Empty when there is no such level."""
    levels = [lv for lv in _levels_of(hierarchy) if lv.lower() not in COUNCIL_LEVELS]
    if not levels or f"{levels[0]}_name" not in hierarchy.columns:
        return {}
    names = hierarchy[f"{levels[0]}_name"].astype(str)
    return {
        str(code): name
        for code, name in zip(hierarchy["area_code"].astype(str), names, strict=True)
        if name and name != "nan"
    }


def check_geography(settings: GeographySettings | Project) -> list[str]:
    """Open the geography files as a run will (boundaries, postcode lookup, hierarchy) and
    describe what was found, one line per level: how many areas, where their names come
    from. Raises the same one-line errors a run would. For ``everyfamily validate``."""
    geo = _geo(settings)
    small = load_small_areas(geo)
    lookup = load_postcode_lookup(geo)
    given = _hierarchy_as_given(geo)
    level = geo.small_area_level
    named = (small["area_name"] != small["area_code"]).mean() if len(small) else 0.0
    placed = lookup["area_code"].isin(set(small["area_code"])).mean() if len(lookup) else 0.0
    lines = [
        f"geography: {len(small)} small areas ({level_noun(level)}), {100 * named:.0f}% named; "
        f"postcode lookup: {len(lookup)} postcodes, {100 * placed:.0f}% in these small areas"
    ]
    codes = set(small["area_code"])
    for lv in _levels_of(given):
        within = given[given["area_code"].isin(codes)]
        n = within.loc[within[lv] != "", lv].nunique()
        covered = (within[lv] != "").sum()
        if f"{lv}_name" in given.columns and (given[f"{lv}_name"] != "").any():
            source = "names from the file"
        elif lv.lower() in COUNCIL_LEVELS:
            source = "the council's row, named by the project"
        else:
            source = "names built from another level"
        lines.append(
            f"geography: level {lv}: {n} areas over {covered} of {len(codes)} small areas; {source}"
        )
    return lines


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
