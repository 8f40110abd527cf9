"""Inline SVG for the report: a funnel plot, and the choropleth of small-area reach
(drawn by everyfamily/svgmap.py, which the stages' own report sections share; its names are
re-exported here).

Hand-written SVG rather than matplotlib or a web map: the report must be one file that opens
on a closed network with no scripts, fonts or tiles, and a few hundred polygons and points
are simple enough to draw directly. Geometry is projected to British National Grid
(EPSG:27700, metres) first, so the map keeps true shapes; y is flipped for screen space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np

from everyfamily.reach.statistics import funnel_limits
from everyfamily.svgmap import (
    NO_DATA,
    PALETTE,
    MapClass,
    choropleth_svg,
    class_breaks,
    classify,
    nice_ticks,
)

__all__ = [  # the map primitives are svgmap's, re-exported for the report and the dashboard
    "BAND_COLOURS",
    "NO_DATA",
    "PALETTE",
    "MapClass",
    "choropleth_svg",
    "class_breaks",
    "classify",
    "funnel_svg",
    "nice_ticks",
]

#: Funnel-plot colours: below the 99.8% limit, below 95%, within, above (Okabe-Ito).
BAND_COLOURS: dict[str, str] = {
    "below_998": "#d55e00",
    "below_95": "#e69f00",
    "within": "#999999",
    "above_95": "#56b4e9",
    "above_998": "#0072b2",
}


def funnel_svg(
    points: Sequence[dict[str, Any]],
    target: float,
    *,
    tau2: float = 0.0,
    width: int = 640,
    height: int = 380,
) -> str:
    """Funnel plot (Spiegelhalter 2005): registered rate against the number of children, with
    95% and 99.8% control limits around the borough rate, widened by the over-dispersion
    ``tau2`` (reach.statistics.funnel_limits; the table's ``funnel_tau2``, so the curves
    match the bands). ``points``: dicts with ``n``, ``rate``, ``band`` and ``label``."""
    left, right, top, bottom = 56, 16, 16, 44
    n_max = max([float(p["n"]) for p in points] + [1.0]) * 1.05
    rates = [float(p["rate"]) for p in points] + [target]
    y_lo = max(0.0, math.floor((min(rates) - 0.05) * 10) / 10)
    y_hi = min(1.0, math.ceil((max(rates) + 0.05) * 10) / 10)
    if y_hi <= y_lo:
        y_lo, y_hi = 0.0, 1.0

    def sx(n: float) -> float:
        return left + n / n_max * (width - left - right)

    def sy(r: float) -> float:
        r = min(max(r, y_lo), y_hi)
        return top + (y_hi - r) / (y_hi - y_lo) * (height - top - bottom)

    parts = [
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="#fff" stroke="#bbb"/>'
    ]
    for t in nice_ticks(n_max):
        parts.append(
            f'<text x="{sx(t):.1f}" y="{height - bottom + 16}" font-size="10" '
            f'text-anchor="middle">{t:,.0f}</text>'
        )
    y = y_lo
    while y <= y_hi + 1e-9:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
            f'stroke="#eee"/><text x="{left - 6}" y="{sy(y) + 3:.1f}" font-size="10" '
            f'text-anchor="end">{100 * y:.0f}%</text>'
        )
        y = round(y + 0.1, 10)
    if 0 < target < 1:
        xs = np.linspace(max(n_max / 200, 1.0), n_max, 80)
        lim = funnel_limits(target, xs, tau2)
        for ys, dash in (
            (lim.lower_95, "4 3"),
            (lim.upper_95, "4 3"),
            (lim.lower_998, ""),
            (lim.upper_998, ""),
        ):
            d = "M" + "L".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(xs, ys, strict=True))
            parts.append(
                f'<path d="{d}" fill="none" stroke="#555" stroke-width="1" '
                f'stroke-dasharray="{dash}"/>'
            )
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{sy(target):.1f}" y2="{sy(target):.1f}" '
            f'stroke="#000" stroke-width="1.2"/>'
        )
    for p in points:
        colour = BAND_COLOURS.get(str(p.get("band")), "#999999")
        parts.append(
            f'<circle cx="{sx(float(p["n"])):.1f}" cy="{sy(float(p["rate"])):.1f}" r="3.2" '
            f'fill="{colour}" fill-opacity="0.85" stroke="#333" stroke-width="0.4">'
            f"<title>{escape(str(p['label']))}</title></circle>"
        )
    parts.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" font-size="11" '
        'text-anchor="middle">Children living in the area (known or registered)</text>'
        f'<text transform="translate(14 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
        'font-size="11" text-anchor="middle">Registered with a centre</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="funnel-title">'
        '<title id="funnel-title">Funnel plot of registered reach by small area</title>'
        f"{''.join(parts)}</svg>"
    )
