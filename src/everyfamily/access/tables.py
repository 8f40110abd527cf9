"""The access stage's tables and map layers, from each child's measured access (pure apart
from :func:`write_layers`, which writes the GeoPackage layers).

Moved out of access/stage.py unchanged (issue 19: stages split into load, compute, write);
``access.stage`` re-exports every name.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from everyfamily.access import barriers as br
from everyfamily.access import measures as ms
from everyfamily.findings.stats import wilson_interval
from everyfamily.findings.text import released, released_cells, released_pair
from everyfamily.privacy.cellkey import child_record_keys
from everyfamily.privacy.disclosure import released_rate
from everyfamily.privacy.release import ReleaseRules, release_child_counts

if TYPE_CHECKING:
    from everyfamily.findings.model import FindingsSettings


def _most_common(values: pd.Series) -> Any:
    """The most common value (ties: the first in sort order); None when all are missing."""
    v = values.dropna()
    return v.mode().iloc[0] if len(v) else None


def area_table(
    kids: pd.DataFrame, names: pd.DataFrame, limits: list[float], note: str | None
) -> pd.DataFrame:
    """Per small area: children, registered, walking figures, 2SFCA, expected and residual.

    Residual z = (O - E) / sqrt(sum p(1 - p)) with E the model's expected registrations
    (access, deprivation, age, group): strongly negative where reach is lower than access
    and who lives there explain."""
    g = kids.groupby("area_code")
    out = pd.DataFrame(
        {
            "children": g.size(),
            "registered": g["registered"].sum().astype("int64"),
            "median_walk_m": g["walk_m"].median(),
            "median_walk_min": g["walk_min"].median(),
            "median_detour_ratio": g["detour_ratio"].median(),
            "nearest_site_walk": g["nearest_site_walk"].agg(_most_common),
            "access_2sfca_per_1000": g["access_2sfca_per_1000"].mean(),
            "expected": g["expected_full"].sum(),
            "_var": g["expected_full"].agg(lambda s: float((s * (1 - s)).sum())),
        }
    ).reset_index()
    return _finish_areas(out, names, limits, note)


def _weighted_mode(values: pd.Series, weights: pd.Series) -> Any:
    """The value with the most weight (ties: the first in sort order); None when all are
    missing: :func:`_most_common` on the values repeated."""
    ok = values.notna()
    if not ok.any():
        return None
    totals = weights[ok].groupby(values[ok].to_numpy()).sum()
    return totals[totals == totals.max()].index.sort_values()[0]


def _exact_sum(values: pd.Series, weights: np.ndarray) -> float:
    """sum(value x weight) rounded once (exact rational arithmetic): the correctly rounded
    sum of the values repeated, which pandas' compensated (Kahan) sums per child give but
    for the rarest ties; NaN when any value is."""
    v = values.to_numpy(dtype="float64")
    if not np.isfinite(v).all():
        return math.nan
    return float(
        sum((Fraction(float(x)) * int(k) for x, k in zip(v, weights, strict=True)), Fraction(0))
    )


def area_table_from_cells(
    cells: pd.DataFrame,
    expected: np.ndarray,
    names: pd.DataFrame,
    limits: list[float],
    note: str | None,
) -> pd.DataFrame:
    """:func:`area_table` from the engine's cells (access.engine_sums.area_cells_sql: ``n``
    children, ``registered`` of them, per area, point measures and covariates) and the
    model's expectation per cell (``expected``: access.measures.expected_reach(cells=True)).
    Counts, medians (access.measures.weighted_median) and the most common site are those
    of the per-child table exactly; means and sums are exact sums rounded once
    (:func:`_exact_sum`), which the per-child table's compensated sums give to the last
    bit but for rare ties."""
    e = np.asarray(expected, dtype="float64")
    c = cells.assign(_e=e, _v=e * (1 - e))  # a child's variance, as area_table has it
    rows = []
    for code, g in c.groupby("area_code", sort=True):
        w = g["n"].to_numpy(dtype="int64")
        n = int(w.sum())
        rows.append(
            {
                "area_code": str(code),
                "children": int(w.sum()),
                "registered": int(g["registered"].sum()),
                "median_walk_m": ms.weighted_median(g["walk_m"].to_numpy(dtype="float64"), w),
                "median_walk_min": ms.weighted_median(g["walk_min"].to_numpy(dtype="float64"), w),
                "median_detour_ratio": ms.weighted_median(
                    g["detour_ratio"].to_numpy(dtype="float64"), w
                ),
                "nearest_site_walk": _weighted_mode(g["nearest_site_walk"], g["n"]),
                "access_2sfca_per_1000": _exact_sum(g["access_2sfca_per_1000"], w) / n,
                "expected": _exact_sum(g["_e"], w),
                "_var": _exact_sum(g["_v"], w),
            }
        )
    return _finish_areas(pd.DataFrame(rows), names, limits, note)


def _finish_areas(
    out: pd.DataFrame, names: pd.DataFrame, limits: list[float], note: str | None
) -> pd.DataFrame:
    """Rates, residual z and band of the per-area sums; names joined; sorted by area."""
    out["registered"] = out["registered"].astype("int64")
    out["registered_rate"] = out["registered"] / out["children"]
    out["expected_rate"] = out["expected"] / out["children"]
    out["residual_z"] = np.where(
        out["_var"] > 0, (out["registered"] - out["expected"]) / np.sqrt(out["_var"]), np.nan
    )
    out["walk_band"] = ms.time_band(out["median_walk_min"], limits)
    out = names.assign(area_code=names["area_code"].astype(str)).merge(
        out, on="area_code", how="inner"
    )
    out["approximate_network"] = note is not None
    return out.drop(columns=["_var"]).sort_values("area_code").reset_index(drop=True)


def released_areas(areas: pd.DataFrame, settings: FindingsSettings) -> pd.DataFrame:
    """The per-area access table as it may be released (the reach.gpkg layer): children
    and registered released (suppression, the complement rule, rounding; withheld where the
    released reach table suppresses the area's cell), expected registrations released as a
    count, rates computed from those released counts; the residual z (a fine function of
    the exact counts) is left out. Walking distances, times, bands and 2SFCA scores are
    about places, not counts of children, and stay as they are."""
    level = settings.small_area_level
    rows = []
    for code, x, n, e in zip(
        areas["area_code"].astype(str),
        areas["registered"],
        areas["children"],
        areas["expected"],
        strict=True,
    ):
        cell = [(level, code, "all", "all", "any")]
        rx, rn = released_cells(float(x), float(n), settings, cell, "registered")
        re_ = released(float(e), settings) if np.isfinite(e) else None
        rows.append((rn, rx, released_rate(rx, rn), re_, released_rate(re_, rn)))
    shown = pd.DataFrame(
        rows,
        columns=["children", "registered", "registered_rate", "expected", "expected_rate"],
        index=areas.index,
    )
    out = areas.drop(columns=["residual_z"]).copy()
    for col in ("children", "registered", "expected"):
        out[col] = shown[col].astype("Int64")
    for col in ("registered_rate", "expected_rate"):
        out[col] = shown[col].astype("float64")
    return out


def _released_band(
    n: int,
    reg: int,
    eng: int,
    keys: tuple[int, int, int] | None,
    rules: FindingsSettings,
) -> tuple[int | None, int | None, int | None]:
    """A band's children, registered and engaged as released. Under the cell key method
    (the default) each count is perturbed with the cell key of exactly the children it
    counts (``keys``: the sums of their record keys; privacy.release.release_child_counts,
    as barrier and community counts are), so the same children read the same wherever they
    are counted and 1-7 never appears; a part is never shown above its whole. Under
    suppress_round, or without keys: suppression, the complement rule and rounding
    (findings.text.released_pair)."""
    if rules.release_method != "cell_key" or keys is None:
        s_reg, s_n = released_pair(reg, n, rules)
        s_eng, _ = released_pair(eng, n, rules)
        return s_n, s_reg, s_eng
    release = ReleaseRules(rules.suppress_at_or_below, rules.rounding, "cell_key")
    values = release_child_counts([n, reg, eng], list(keys), release)
    s_n, s_reg, s_eng = (round(float(v)) if np.isfinite(v) else None for v in values)
    if s_n is not None:
        s_reg = min(s_reg, s_n) if s_reg is not None else None
        s_eng = min(s_eng, s_n) if s_eng is not None else None
    return s_n, s_reg, s_eng


def _child_keys(sub: pd.DataFrame) -> tuple[int, int, int] | None:
    """The record-key sums of a band's children: all, registered, engaged (None without
    person ids)."""
    if "person_id" not in sub.columns:
        return None
    keys = child_record_keys(sub["person_id"]).to_numpy(dtype="int64")
    registered = sub["registered"].astype(bool).to_numpy()
    engaged = sub["engaged"].astype(bool).to_numpy()
    return int(keys.sum()), int(keys[registered].sum()), int(keys[engaged].sum())


def _band_row(
    mode: str,
    band: str,
    counts: tuple[int, int, int, int],
    keys: tuple[int, int, int] | None,
    rules: FindingsSettings,
    note: str | None,
) -> dict[str, Any]:
    """One row of the band table from a band's children, known, registered and engaged."""
    n, known, reg, eng = counts
    lo, hi = wilson_interval(reg, n)
    s_n, s_reg, s_eng = _released_band(n, reg, eng, keys, rules)
    return {
        "mode": mode,
        "band": band,
        "children": n,
        "known": known,
        "registered": reg,
        "engaged": eng,
        "registered_rate": reg / n if n else np.nan,
        "registered_rate_lower": lo,
        "registered_rate_upper": hi,
        "engaged_rate": eng / n if n else np.nan,
        "children_shown": s_n,
        "registered_shown": s_reg,
        "engaged_shown": s_eng,
        "approximate_network": note is not None,
    }


def _band_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    for col in ("children_shown", "registered_shown", "engaged_shown"):
        if col in out:
            out[col] = out[col].astype("Int64")
    return out


def band_table(
    kids: pd.DataFrame,
    limits: list[float],
    note: str | None,
    *,
    driving: bool,
    settings: FindingsSettings | None = None,
) -> pd.DataFrame:
    """Reach by travel-time band: children, known, registered, engaged, rates with Wilson
    95% intervals; one block per mode (walk, and drive when on), every band listed.

    Exact counts (this is a restricted store table), and the counts as they may be released
    (``children_shown``, ``registered_shown``, ``engaged_shown``: suppression, the
    complement rule, rounding, per ``settings``), from which the report computes every rate
    it shows. :func:`band_table_from_sums` makes the same table from counts the engine
    made (access.engine_sums.band_sums_sql)."""
    from everyfamily.findings.model import FindingsSettings

    rules = settings or FindingsSettings()
    rows = []
    modes = [("walk", "walk_band")] + ([("drive", "drive_band")] if driving else [])
    for mode, col in modes:
        for band in ms.band_labels(limits):
            sub = kids[kids[col] == band]
            counts = (
                len(sub),
                int(sub["known"].astype(bool).sum()),
                int(sub["registered"].sum()),
                int(sub["engaged"].astype(bool).sum()),
            )
            rows.append(_band_row(mode, band, counts, _child_keys(sub), rules, note))
    return _band_frame(rows)


def band_table_from_sums(
    sums: dict[str, pd.DataFrame],
    limits: list[float],
    note: str | None,
    *,
    settings: FindingsSettings | None = None,
) -> pd.DataFrame:
    """:func:`band_table` from the engine's counts: ``sums`` maps each mode ("walk",
    "drive") to its rows of access.engine_sums.band_sums_sql (band, children, known,
    registered, engaged, key_children, key_registered, key_engaged); a band with no row
    has no children."""
    from everyfamily.findings.model import FindingsSettings

    rules = settings or FindingsSettings()
    rows = []
    for mode, frame in sums.items():
        by_band = {str(r["band"]): r for r in frame.to_dict("records") if r["band"] is not None}
        for band in ms.band_labels(limits):
            r = by_band.get(band)
            if r is None:
                rows.append(_band_row(mode, band, (0, 0, 0, 0), (0, 0, 0), rules, note))
                continue
            counts = tuple(int(r[c]) for c in ("children", "known", "registered", "engaged"))
            keys = tuple(int(r[c]) for c in ("key_children", "key_registered", "key_engaged"))
            rows.append(_band_row(mode, band, counts, keys, rules, note))  # type: ignore[arg-type]
    return _band_frame(rows)


def barrier_table(
    bars: list[br.Barrier],
    max_per_km: float,
    tests: list[br.SideTest],
    findings: list[Any],
    to_wgs84: Any,
    note: str | None,
) -> pd.DataFrame:
    """One row per barrier line: name, kind, length, crossings, candidate, tested, found."""
    from shapely.ops import transform

    tested = {t.barrier.barrier_id for t in tests}
    found = {f.evidence["barrier"]["id"] for f in findings}
    return pd.DataFrame(
        [
            {
                "barrier_id": b.barrier_id,
                "name": b.name or b.kind,
                "kind": b.kind,
                "length_km": round(b.length_m / 1000, 3),
                "crossings": len(b.crossings),
                "crossings_per_km": round(b.crossings_per_km, 3),
                "candidate": b.crossings_per_km <= max_per_km,
                "tested": b.barrier_id in tested,
                "finding": b.barrier_id in found,
                "approximate_network": note is not None,
                "wkt": transform(to_wgs84, b.geometry.simplify(5.0)).wkt,
            }
            for b in bars
        ],
        columns=[
            "barrier_id",
            "name",
            "kind",
            "length_km",
            "crossings",
            "crossings_per_km",
            "candidate",
            "tested",
            "finding",
            "approximate_network",
            "wkt",
        ],
    )


def write_layers(
    path: Any,
    small: Any,
    areas: pd.DataFrame,
    bars: list[br.Barrier],
    barrier_rows: pd.DataFrame,
    findings: list[Any],
    to_wgs84: Any,
) -> None:
    """Add the access layers to reach.gpkg (EPSG:4326), replacing earlier ones."""
    import geopandas as gpd
    import pyogrio
    from shapely import wkt

    have = {str(n) for n, _k in pyogrio.list_layers(path)} if path.exists() else set()
    mode: dict[str, Any] = {"driver": "GPKG"}
    geo = small[["area_code", "geometry"]].assign(area_code=small["area_code"].astype(str))
    bands = gpd.GeoDataFrame(geo.merge(areas, on="area_code"), geometry="geometry", crs=small.crs)
    lines = gpd.GeoDataFrame(
        barrier_rows.drop(columns=["wkt"]),
        geometry=[wkt.loads(w) for w in barrier_rows["wkt"]],
        crs="EPSG:4326",
    )
    cut_rows = []
    for f in findings:
        for code in f.areas:
            cut_rows.append(
                {
                    "area_code": code,
                    "finding_id": f.id,
                    "barrier_id": f.evidence["barrier"]["id"],
                    "headline": f.headline,
                    "approximate_network": bool(f.evidence["network"]["approximate"]),
                }
            )
    cut = pd.DataFrame(
        cut_rows,
        columns=["area_code", "finding_id", "barrier_id", "headline", "approximate_network"],
    )
    cut_off = gpd.GeoDataFrame(cut.merge(geo, on="area_code"), geometry="geometry", crs=small.crs)
    for name, frame in (
        ("access_time_bands", bands),
        ("access_barriers", lines),
        ("access_cut_off", cut_off),
    ):
        if name in have:
            pyogrio.write_dataframe(frame.iloc[:0], path, layer=name, **mode)  # reset
        frame.to_crs("EPSG:4326").to_file(path, layer=name, **mode)
