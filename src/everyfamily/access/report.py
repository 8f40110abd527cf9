"""The report's access section: a map of walking-time bands with the barrier lines and the
areas cut off, and reach by travel-time band. Pure apart from nothing: takes the aggregate
access tables (store ``access_areas``, ``access_bands``, ``access_barriers``) and returns
plain data and an inline SVG, in the style of report/svg.py (no scripts, no tiles).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

#: Sequential colours for the travel-time bands, nearest first (ColorBrewer YlOrRd, 5;
#: colour-blind safe). Bands beyond five share the last colour.
BAND_COLOURS: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#d9d9d9"
BARRIER_COLOUR = "#000000"
CANDIDATE_COLOUR = "#6a3d9a"


@dataclass(frozen=True)
class AccessTables:
    """The aggregate access outputs of a run (store tables) and its access findings."""

    areas: pd.DataFrame
    bands: pd.DataFrame
    barriers: pd.DataFrame
    findings: tuple[Mapping[str, Any], ...] = ()
    note: str | None = None


def _f(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _band_colour(label: str | None, labels: list[str]) -> str:
    if label is None or label not in labels:
        return NO_DATA
    return BAND_COLOURS[min(labels.index(label), len(BAND_COLOURS) - 1)]


def _ring(coords: Any, tx: Callable[[float, float], tuple[float, float]]) -> str:
    pts = [tx(x, y) for x, y in list(coords)[:-1]]
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z"


def _poly_path(geom: Any, tx: Callable[[float, float], tuple[float, float]]) -> str:
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for p in polys:
        out.append(_ring(p.exterior.coords, tx))
        out.extend(_ring(r.coords, tx) for r in p.interiors)
    return "".join(out)


def _line_path(geom: Any, tx: Callable[[float, float], tuple[float, float]]) -> str:
    parts = list(getattr(geom, "geoms", [geom]))
    return "".join(
        "M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in (tx(x, y) for x, y, *_ in p.coords))
        for p in parts
    )


def access_map_svg(
    areas_geo: Any,
    tables: AccessTables,
    band_labels: list[str],
    *,
    projected_crs: str,
    width: int = 640,
) -> str:
    """Small areas coloured by the median walking-time band of their children; barrier
    lines (black: found to cut an area off; purple dashed: candidates with few crossings);
    areas cut off outlined in red. ``areas_geo``: GeoDataFrame of the small areas (any CRS)."""
    from shapely import wkt
    from shapely.ops import transform

    geo = areas_geo.to_crs(projected_crs)
    minx, miny, maxx, maxy = (float(v) for v in geo.total_bounds)
    pad = 10.0
    scale = (width - 2 * pad) / max(maxx - minx, 1.0)
    height = int((maxy - miny) * scale + 2 * pad)

    def tx(x: float, y: float) -> tuple[float, float]:
        return pad + (x - minx) * scale, pad + (maxy - y) * scale

    band = {
        str(c): (str(b) if isinstance(b, str) else None, m)
        for c, b, m in zip(
            tables.areas["area_code"],
            tables.areas["walk_band"],
            tables.areas["median_walk_min"],
            strict=True,
        )
    }
    cut = {str(a) for f in tables.findings for a in f.get("areas", [])}
    paths = []
    outlines = []
    for code, name, g in zip(geo["area_code"], geo["area_name"], geo.geometry, strict=True):
        b, m = band.get(str(code), (None, math.nan))
        label = f"{name} ({code}): " + (
            "no data" if b is None else f"median walk {float(m):.0f} min (band {b})"
        )
        d = _poly_path(g, tx)
        paths.append(
            f'<path class="band" data-area="{escape(str(code))}" d="{d}" '
            f'fill="{_band_colour(b, band_labels)}"><title>{escape(label)}</title></path>'
        )
        if str(code) in cut:
            outlines.append(
                f'<path class="cut-off" d="{d}" fill="none" stroke="#d7191c" stroke-width="2.5"/>'
            )
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", projected_crs, always_xy=True).transform
    lines = []
    found = {str(f.get("evidence", {}).get("barrier", {}).get("id")) for f in tables.findings}
    for r in tables.barriers.itertuples():
        if not (r.candidate or r.barrier_id in found):
            continue
        g = transform(to_xy, wkt.loads(str(r.wkt)))
        is_found = str(r.barrier_id) in found
        style = (
            f'stroke="{BARRIER_COLOUR}" stroke-width="3.5"'
            if is_found
            else f'stroke="{CANDIDATE_COLOUR}" stroke-width="2" stroke-dasharray="6 4"'
        )
        title = f"{r.name}: {r.crossings} crossings in {_f(r.length_km):.1f} km" + (
            " (cuts areas off)" if is_found else " (candidate barrier)"
        )
        lines.append(
            f'<path class="barrier{" found" if is_found else ""}" '
            f'data-barrier="{escape(str(r.barrier_id))}" d="{_line_path(g, tx)}" fill="none" '
            f"{style}><title>{escape(title)}</title></path>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="access-map-title">'
        '<title id="access-map-title">Walking time to the nearest centre, with barriers</title>'
        f'<g stroke="#ffffff" stroke-width="0.6" fill-rule="evenodd">{"".join(paths)}</g>'
        f'<g class="cut-off-areas">{"".join(outlines)}</g>'
        f'<g class="barriers">{"".join(lines)}</g></svg>'
    )


def access_section(
    tables: AccessTables | None,
    areas_geo: Any,
    *,
    projected_crs: str,
    released: Callable[[float | None], str],
) -> dict[str, Any] | None:
    """Everything the report template's access section shows; None without access outputs."""
    if tables is None or tables.areas.empty:
        return None
    walk = tables.bands[tables.bands["mode"] == "walk"] if not tables.bands.empty else tables.bands
    labels = [str(b) for b in walk["band"]] if len(walk) else []
    svg = ""
    if areas_geo is not None and len(areas_geo):
        svg = access_map_svg(areas_geo, tables, labels, projected_crs=projected_crs)

    band_rows = [
        band_row({str(k): v for k, v in r.items()}, released)
        for r in tables.bands.to_dict("records")
    ]
    legend = [{"colour": _band_colour(b, labels), "label": f"{b} min"} for b in labels]
    barrier_rows = [
        {
            "name": str(r.name),
            "kind": str(r.kind),
            "length_km": f"{_f(r.length_km):.1f}",
            "crossings": int(_f(r.crossings)),
            "per_km": f"{_f(r.crossings_per_km):.1f}",
            "candidate": "yes" if r.candidate else "no",
            "finding": "yes" if r.finding else "no",
        }
        for r in tables.barriers.itertuples()
    ]
    return {
        "map_svg": svg,
        "legend": legend,
        "bands": band_rows,
        "barriers": barrier_rows,
        "findings": [str(f.get("headline", "")) for f in tables.findings],
        "note": tables.note,
    }


def _shown(row: Mapping[str, Any], column: str, released: Callable[[float | None], str]) -> Any:
    """The released count of ``column`` (the access stage stores it as ``column_shown``);
    for tables written before that, the report's own release of the exact count, read back
    from its text (None when suppressed)."""
    if f"{column}_shown" in row:
        v = _f(row[f"{column}_shown"])
        return int(v) if math.isfinite(v) else None
    text = released(_f(row.get(column)))
    digits = text.replace(",", "")
    return int(digits) if digits.isdigit() else None


def band_row(row: Mapping[str, Any], released: Callable[[float | None], str]) -> dict[str, str]:
    """One row of the report's reach-by-band table: released counts, and every rate and
    interval computed from them (never from the exact counts, which would undo their
    rounding). A suppressed count reads as the report's release says ('fewer than 8') or
    'a number not released'; a rate of one 'rate not released'."""
    from everyfamily.findings.stats import wilson_interval
    from everyfamily.findings.text import RATE_WITHHELD_TEXT, WITHHELD_TEXT, share

    n = _shown(row, "children", released)
    reg = _shown(row, "registered", released)
    eng = _shown(row, "engaged", released)

    def text(column: str, value: int | None) -> str:
        if value is not None:
            return f"{value:,}"
        exact = released(_f(row.get(column)))
        return exact if not exact.replace(",", "").isdigit() else WITHHELD_TEXT

    interval = RATE_WITHHELD_TEXT
    if reg is not None and n:
        lo, hi = wilson_interval(float(reg), float(n))
        interval = f"{100 * lo:.0f}% to {100 * hi:.0f}%"
    return {
        "mode": "on foot" if row.get("mode") == "walk" else "by car",
        "band": f"{row.get('band')} min",
        "children": text("children", n),
        "registered": text("registered", reg),
        "rate": share(reg, n) if n else "n/a",
        "interval": interval if n else "n/a",
        "engaged_rate": share(eng, n) if n else "n/a",
    }


def read_access_tables(
    engine: Engine, findings: Mapping[str, Any], note: str | None = None
) -> AccessTables | None:
    """The access tables from the store (None when the access stage did not run).
    ``note``: what the run recorded about an approximate network (run.json)."""
    if not all(engine.has_table(t) for t in ("access_areas", "access_bands", "access_barriers")):
        return None
    areas = engine.query("SELECT * FROM access_areas").to_pandas()
    bands = engine.query("SELECT * FROM access_bands").to_pandas()
    barriers = engine.query("SELECT * FROM access_barriers").to_pandas()
    found = tuple(f for f in findings.get("findings", []) if f.get("kind") == "access_barrier")
    if note is None and "approximate_network" in areas and areas["approximate_network"].any():
        note = "The walking network is APPROXIMATE: walking times are indicative."
    return AccessTables(areas=areas, bands=bands, barriers=barriers, findings=found, note=note)
