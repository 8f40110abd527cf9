"""Inline SVG for the report: a choropleth of small-area reach (the funnel plot is drawn by
:mod:`everyfamily.report.funnel`, shared with the dashboard).

Hand-written SVG rather than matplotlib or a web map: the report must be one file that opens
on a closed network with no scripts, fonts or tiles, and a few hundred polygons and points
are simple enough to draw directly. Geometry is projected to British National Grid
(EPSG:27700, metres) first, so the map keeps true shapes; y is flipped for screen space.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

#: Colour-blind-safe sequential palette (viridis, 5 classes; van der Walt & Smith 2015),
#: dark = low reach so the areas to raise stand out.
PALETTE: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
NO_DATA = "#d9d9d9"


@dataclass(frozen=True)
class MapClass:
    """One legend class: its rate range (0-1), colour, areas and children behind it."""

    lower: float
    upper: float
    colour: str
    areas: int
    children: int


def class_breaks(rates: Sequence[float], k: int = len(PALETTE)) -> list[float]:
    """Quantile class breaks (k classes) on the rates, rounded to whole percentages and made
    unique, so each class holds about the same number of areas."""
    r = np.asarray([v for v in rates if v is not None and math.isfinite(v)], dtype="float64")
    if r.size == 0:
        return [0.0, 1.0]
    qs = np.quantile(r, np.linspace(0, 1, k + 1))
    edges = sorted(
        {
            math.floor(qs[0] * 100) / 100,
            *(round(q, 2) for q in qs[1:-1]),
            math.ceil(qs[-1] * 100) / 100,
        }
    )
    if len(edges) < 2:
        edges = [edges[0], min(1.0, edges[0] + 0.01)]
    return edges


def classify(rate: float | None, edges: Sequence[float]) -> int | None:
    """Index of the class a rate falls in (upper edge inclusive in the last class)."""
    if rate is None or not math.isfinite(rate):
        return None
    for i in range(len(edges) - 1):
        if rate < edges[i + 1] or i == len(edges) - 2:
            return i
    return None


def _ring_path(coords: Any, tx: Callable[[float, float], tuple[float, float]]) -> str:
    pts = [tx(x, y) for x, y in list(coords)[:-1]]  # the closing point repeats the first
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z"


def _geom_path(geom: Any, tx: Callable[[float, float], tuple[float, float]]) -> str:
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    parts = []
    for poly in polys:
        parts.append(_ring_path(poly.exterior.coords, tx))
        parts.extend(_ring_path(r.coords, tx) for r in poly.interiors)
    return "".join(parts)


def choropleth_svg(
    areas: Any,
    rates: dict[str, float | None],
    children: dict[str, int],
    *,
    sites: Sequence[dict[str, Any]] = (),
    highlight: set[str] | frozenset[str] = frozenset(),
    illustrative_sites: bool = False,
    width: int = 640,
) -> tuple[str, list[MapClass]]:
    """A choropleth of ``rates`` (0-1) by area, one ``<path>`` per small area.

    ``areas``: GeoDataFrame with ``area_code``, ``area_name`` and geometry in a projected CRS
    (metres). ``sites``: dicts with ``x``, ``y`` (same CRS) and ``name``. ``children`` (per
    area) is tallied per class for the legend. Returns (svg, classes).
    """
    minx, miny, maxx, maxy = (float(v) for v in areas.total_bounds)
    pad = 10.0
    scale = (width - 2 * pad) / max(maxx - minx, 1.0)
    height = int((maxy - miny) * scale + 2 * pad)

    def tx(x: float, y: float) -> tuple[float, float]:
        return pad + (x - minx) * scale, pad + (maxy - y) * scale

    edges = class_breaks([v for v in rates.values() if v is not None])
    n_classes = len(edges) - 1
    colours = (
        PALETTE if n_classes == len(PALETTE) else PALETTE[:: max(1, len(PALETTE) // n_classes)]
    )
    tallies = [[0, 0] for _ in range(n_classes)]
    paths = []
    for code, name, geom in zip(
        areas["area_code"], areas["area_name"], areas.geometry, strict=True
    ):
        code = str(code)
        rate = rates.get(code)
        k = classify(rate, edges)
        fill = NO_DATA if k is None else colours[min(k, len(colours) - 1)]
        if k is not None:
            tallies[k][0] += 1
            tallies[k][1] += int(children.get(code, 0))
        label = f"{name} ({code}): " + (
            "no data"
            if rate is None or not math.isfinite(rate)
            else f"{100 * rate:.0f}% registered"
        )
        stroke = ' stroke="#000" stroke-width="2.2"' if code in highlight else ""
        paths.append(
            f'<path class="area" data-area="{escape(code)}" d="{_geom_path(geom, tx)}" '
            f'fill="{fill}"{stroke}><title>{escape(label)}</title></path>'
        )
    marks = []
    for s in sites:
        x, y = tx(float(s["x"]), float(s["y"]))
        if not (0 <= x <= width and 0 <= y <= height):
            continue
        label = escape(str(s["name"]) + (" (illustrative)" if illustrative_sites else ""))
        marks.append(
            f'<g class="site"><rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
            f'fill="#fff" stroke="#000" stroke-width="1.5"/>'
            f'<text x="{x + 6:.1f}" y="{y + 4:.1f}" font-size="10" paint-order="stroke" '
            f'stroke="#fff" stroke-width="3">{label}</text></g>'
        )
    classes = [
        MapClass(edges[i], edges[i + 1], colours[min(i, len(colours) - 1)], t[0], t[1])
        for i, t in enumerate(tallies)
    ]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="map-title">'
        '<title id="map-title">Registered reach by small area</title>'
        f'<g stroke="#ffffff" stroke-width="0.6" fill-rule="evenodd">{"".join(paths)}</g>'
        f'<g class="sites">{"".join(marks)}</g></svg>'
    )
    return svg, classes


def nice_ticks(hi: float, n: int = 5) -> list[float]:
    """Round axis ticks (steps of 1, 2 or 5 x 10^k) from 0 up to ``hi``."""
    if hi <= 0:
        return [0.0]
    raw = hi / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=mag * 10)
    return [i * step for i in range(int(hi // step) + 1)]
