"""Inline SVG for the report: the choropleth of small-area reach, drawn by
everyfamily/svgmap.py (which the stages' own report sections share; its names are re-exported
here). The funnel plot is drawn by :mod:`everyfamily.report.funnel`, shared with the
dashboard.

Hand-written SVG rather than matplotlib or a web map: the report must be one file that opens
on a closed network with no scripts, fonts or tiles, and a few hundred polygons and points
are simple enough to draw directly.
"""

from __future__ import annotations

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
    "NO_DATA",
    "PALETTE",
    "MapClass",
    "choropleth_svg",
    "class_breaks",
    "classify",
    "nice_ticks",
]
