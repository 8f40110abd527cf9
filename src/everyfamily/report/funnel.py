"""The funnel plot, drawn once for the dashboard and for the report (inline SVG, no chart
library, no script needed).

Spiegelhalter (2005), "Funnel plots for comparing institutional performance", Stat Med
24:1185-1202: each area's rate against its number of children, with 95% and 99.8% control
limits around the overall rate (:func:`everyfamily.reach.statistics.funnel_limits`), widened by
the over-dispersion ``tau2`` the bands were decided with. The area whose profile is open is
drawn larger, outlined and labelled, so its position reads without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from everyfamily.reach.statistics import funnel_limits
from everyfamily.svgmap import nice_ticks

#: Okabe-Ito colours by funnel band (colour-blind safe); grey within the limits.
BAND_COLOURS: dict[str, str] = {
    "below_998": "#d55e00",
    "below_95": "#e69f00",
    "within": "#8c8c8c",
    "above_95": "#56b4e9",
    "above_998": "#0072b2",
}


@dataclass(frozen=True)
class FunnelPoint:
    code: str
    label: str
    n: float  # released denominator
    rate: float  # released rate (0-1)
    band: str | None


def funnel_svg(
    points: Sequence[FunnelPoint],
    target: float,
    highlight: str | None,
    *,
    title: str,
    tau2: float = 0.0,
    width: int = 560,
    height: int = 340,
) -> str:
    """The funnel plot as an SVG string (escaped; safe to embed). ``tau2``: the over-dispersion
    of the plotted areas (the reach table's ``funnel_tau2``), so the limits drawn are the ones
    the bands were decided with."""
    left, right, top, bottom = 52, 14, 14, 46
    n_max = max([p.n for p in points] + [1.0]) * 1.08
    rates = [p.rate for p in points] + [target]
    y_lo = max(0.0, math.floor((min(rates) - 0.05) * 10) / 10)
    y_hi = min(1.0, math.ceil((max(rates) + 0.05) * 10) / 10)
    if y_hi <= y_lo:
        y_lo, y_hi = 0.0, 1.0

    def sx(n: float) -> float:
        return left + n / n_max * (width - left - right)

    def sy(r: float) -> float:
        r = min(max(r, y_lo), y_hi)
        return top + (y_hi - r) / (y_hi - y_lo) * (height - top - bottom)

    out = [
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="#fff" stroke="#767676"/>'
    ]
    for t in nice_ticks(n_max):
        out.append(
            f'<text x="{sx(t):.1f}" y="{height - bottom + 15}" font-size="11" '
            f'text-anchor="middle" fill="#333">{t:,.0f}</text>'
        )
    y = y_lo
    while y <= y_hi + 1e-9:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
            f'stroke="#e6e6e6"/><text x="{left - 6}" y="{sy(y) + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#333">{100 * y:.0f}%</text>'
        )
        y = round(y + 0.1, 10)
    if 0 < target < 1:
        xs = np.linspace(max(n_max / 150, 2.0), n_max, 60)
        lim = funnel_limits(target, xs, tau2)
        for arr, dash in (
            (lim.lower_95, "5 3"),
            (lim.upper_95, "5 3"),
            (lim.lower_998, ""),
            (lim.upper_998, ""),
        ):
            d = "M" + "L".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(xs, arr, strict=True))
            out.append(f'<path d="{d}" fill="none" stroke="#444" stroke-dasharray="{dash}"/>')
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{sy(target):.1f}" '
            f'y2="{sy(target):.1f}" stroke="#000" stroke-width="1.4"/>'
        )
    chosen = None
    for p in points:
        if p.code == highlight:
            chosen = p
            continue
        colour = BAND_COLOURS.get(p.band or "", "#8c8c8c")
        out.append(
            f'<circle cx="{sx(p.n):.1f}" cy="{sy(p.rate):.1f}" r="3.4" fill="{colour}" '
            f'stroke="#333" stroke-width="0.5"><title>{escape(p.label)}: '
            f"{100 * p.rate:.0f}%</title></circle>"
        )
    if chosen is not None:
        cx, cy = sx(chosen.n), sy(chosen.rate)
        anchor = "end" if cx > width * 0.7 else "start"
        dx = -10 if anchor == "end" else 10
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="#000" stroke="#fff" '
            f'stroke-width="2"><title>{escape(chosen.label)}</title></circle>'
            f'<text x="{cx + dx:.1f}" y="{cy - 9:.1f}" font-size="12" font-weight="bold" '
            f'text-anchor="{anchor}" fill="#000">{escape(chosen.label)}</text>'
        )
    out.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 10}" font-size="12" '
        'text-anchor="middle" fill="#222">Children living in the area</text>'
        f'<text transform="translate(14 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
        'font-size="12" text-anchor="middle" fill="#222">Registered with a centre</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">{"".join(out)}</svg>'
    )
