"""Inline SVG for reach over time and against other places (no chart library, no script).

* :func:`sparkline_svg`: a tile's small line, first and last values written beside it;
* :func:`trend_chart_svg`: quarterly rates with their 95% interval as a band (Wilson, from
  trends.csv's released counts), the first and last values labelled;
* :func:`spine_chart_svg`: Fingertips' spine chart, one row per indicator: the range of the
  borough's small areas (light: lowest to highest, darker: middle half), the borough's value
  as a vertical line, this area as a marker whose shape AND text give the comparison
  (better / similar / worse), so it reads without colour.

Every chart has ``role="img"``, a <title> and a text alternative (``aria-label``) saying
what it shows in words; the width follows the page (``viewBox``), so nothing overflows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Fingertips' comparison colours (better: green, similar: amber, worse: red, none: grey)
#: and the marker drawn for each, so the label never rests on colour alone.
COMPARE_STYLE: dict[str, tuple[str, str]] = {
    "better": ("#3e8e3e", "▲"),
    "similar": ("#e3a21a", "●"),
    "worse": ("#c0392b", "▼"),
    "not compared": ("#8c8c8c", "○"),
}


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def sparkline_svg(values: Sequence[tuple[str, float | None]], *, what: str) -> str:
    """A small line of ``values`` (period label, rate 0-1; None = withheld), with the first
    and last shown values written at its ends. Empty when fewer than two values are shown."""
    shown = [(i, p, v) for i, (p, v) in enumerate(values) if _finite(v)]
    if len(shown) < 2:
        return ""
    w, h, pad_l, pad_r = 200, 40, 34, 34
    lo = min(v for _i, _p, v in shown if v is not None)
    hi = max(v for _i, _p, v in shown if v is not None)
    span = (hi - lo) or 0.01
    n = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad_l + (w - pad_l - pad_r) * i / n
        return x, 6 + (h - 12) * (1 - (v - lo) / span)

    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, _p, v in shown if v is not None))
    (i0, p0, f0), (i1, p1, f1) = shown[0], shown[-1]
    v0, v1 = float(f0 or 0), float(f1 or 0)
    x0, y0 = xy(i0, v0)
    x1, y1 = xy(i1, v1)
    alt = f"{what}: {_pct(v0)} on {p0}, {_pct(v1)} on {p1}, over {len(shown)} quarters"
    return (
        f'<svg class="sparkline" viewBox="0 0 {w} {h}" width="100%" role="img"'
        f' aria-label="{escape(alt)}"><title>{escape(alt)}</title>'
        f'<polyline points="{pts}" fill="none" stroke="#1d4f91" stroke-width="2"/>'
        f'<circle cx="{x0:.1f}" cy="{y0:.1f}" r="2.5" fill="#1d4f91"/>'
        f'<circle cx="{x1:.1f}" cy="{y1:.1f}" r="3" fill="#1d4f91"/>'
        f'<text x="{x0 - 4:.1f}" y="{y0 + 4:.1f}" font-size="11" text-anchor="end"'
        f' fill="#222">{_pct(v0)}</text>'
        f'<text x="{x1 + 5:.1f}" y="{y1 + 4:.1f}" font-size="11" fill="#222"'
        f' font-weight="bold">{_pct(v1)}</text></svg>'
    )


@dataclass(frozen=True)
class TrendPoint:
    """One quarter of a trend chart: its end date and the rate with its 95% interval."""

    period: str
    rate: float | None
    lower: float | None = None
    upper: float | None = None


def trend_chart_svg(points: Sequence[TrendPoint], *, title: str, what: str) -> str:
    """Quarterly rates with a shaded 95% interval (docstring of the module). Empty when
    fewer than two quarters have a shown rate."""
    shown = [(i, p) for i, p in enumerate(points) if _finite(p.rate)]
    if len(shown) < 2:
        return ""
    w, h, left, right, top, bottom = 640, 220, 46, 60, 24, 40
    tops = [p.upper if _finite(p.upper) else p.rate for _i, p in shown]
    y_max = min(1.0, math.ceil(max(float(t or 0) for t in tops) * 10 + 0.5) / 10)
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (w - left - right) * i / n

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - v / y_max)

    out = [
        f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}"'
        ' fill="none" stroke="#ccc"/>'
    ]
    for k in range(0, 11, 2):
        v = y_max * k / 10
        out.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end"'
            f' fill="#444">{_pct(v)}</text>'
        )
    band = [(i, p) for i, p in shown if _finite(p.lower) and _finite(p.upper)]
    if len(band) >= 2:
        upper = " ".join(f"{x(i):.1f},{y(float(p.upper or 0)):.1f}" for i, p in band)
        lower = " ".join(f"{x(i):.1f},{y(float(p.lower or 0)):.1f}" for i, p in reversed(band))
        out.append(f'<polygon points="{upper} {lower}" fill="#1d4f91" fill-opacity="0.18"/>')
    line = " ".join(f"{x(i):.1f},{y(float(p.rate or 0)):.1f}" for i, p in shown)
    out.append(f'<polyline points="{line}" fill="none" stroke="#1d4f91" stroke-width="2"/>')
    for i, p in shown:
        cy = y(float(p.rate or 0))
        out.append(f'<circle cx="{x(i):.1f}" cy="{cy:.1f}" r="3" fill="#1d4f91"/>')
    for i, p in enumerate(points):
        if i in (0, len(points) - 1) or i % 4 == 0:
            out.append(
                f'<text x="{x(i):.1f}" y="{h - bottom + 16}" font-size="11"'
                f' text-anchor="middle" fill="#444">{escape(p.period)}</text>'
            )
    (i0, a), (i1, b) = shown[0], shown[-1]
    for i, p, anchor, dx in ((i0, a, "start", 4), (i1, b, "start", 6)):
        out.append(
            f'<text x="{x(i) + dx:.1f}" y="{y(float(p.rate or 0)) - 7:.1f}" font-size="12"'
            f' text-anchor="{anchor}" fill="#111" font-weight="bold">{_pct(float(p.rate or 0))}'
            "</text>"
        )
    alt = (
        f"{what}: {_pct(float(a.rate or 0))} on {a.period}, {_pct(float(b.rate or 0))} on "
        f"{b.period}; {len(shown)} quarters shown, the shaded band is the 95% interval"
    )
    return (
        f'<svg class="trend-chart" viewBox="0 0 {w} {h}" width="100%" role="img"'
        f' aria-label="{escape(alt)}"><title>{escape(title)}</title>' + "".join(out) + "</svg>"
    )


@dataclass(frozen=True)
class SpineRow:
    """One indicator of a spine chart: the area's value and comparison, the borough's value
    and the spread of the borough's small areas (0-1)."""

    label: str
    value: float | None
    borough: float | None
    lowest: float
    q25: float
    q75: float
    highest: float
    compared: str


def spine_chart_svg(rows: Sequence[SpineRow], *, area: str) -> str:
    """Fingertips' spine chart of ``area`` against the borough (module docstring)."""
    if not rows:
        return ""
    w, left, right, row_h, top = 640, 170, 120, 34, 26
    h = top + row_h * len(rows) + 10
    span = w - left - right

    def x(v: float) -> float:
        return left + span * max(0.0, min(1.0, v))

    out = [
        f'<text x="{left}" y="14" font-size="11" fill="#444">0%</text>',
        f'<text x="{left + span}" y="14" font-size="11" text-anchor="end" fill="#444">100%</text>',
    ]
    words = []
    for k, r in enumerate(rows):
        yc = top + row_h * k + row_h / 2
        colour, mark = COMPARE_STYLE.get(r.compared, COMPARE_STYLE["not compared"])
        out.append(
            f'<text x="{left - 8}" y="{yc + 4:.1f}" font-size="12" text-anchor="end"'
            f' fill="#222">{escape(r.label[:26])}</text>'
            f'<rect x="{x(r.lowest):.1f}" y="{yc - 8:.1f}" width="{x(r.highest) - x(r.lowest):.1f}"'
            ' height="16" fill="#d9dde3"/>'
            f'<rect x="{x(r.q25):.1f}" y="{yc - 8:.1f}" width="{x(r.q75) - x(r.q25):.1f}"'
            ' height="16" fill="#9aa5b4"/>'
        )
        if _finite(r.borough):
            bx = x(float(r.borough or 0))
            out.append(
                f'<line x1="{bx:.1f}" x2="{bx:.1f}" y1="{yc - 12:.1f}" y2="{yc + 12:.1f}"'
                ' stroke="#111" stroke-width="2"/>'
            )
        if _finite(r.value):
            out.append(
                f'<text x="{x(float(r.value or 0)):.1f}" y="{yc + 6:.1f}" font-size="17"'
                f' text-anchor="middle" fill="{colour}" stroke="#111" stroke-width="0.6">'
                f"{mark}</text>"
            )
        value = _pct(float(r.value or 0)) if _finite(r.value) else "withheld"
        out.append(
            f'<text x="{left + span + 10}" y="{yc + 4:.1f}" font-size="12" fill="#222">'
            f"{escape(value)} · {escape(r.compared)}</text>"
        )
        boro = _pct(float(r.borough or 0)) if _finite(r.borough) else "not known"
        words.append(f"{r.label} {value}, borough {boro}, {r.compared}")
    alt = f"Spine chart of {area} against the borough: " + "; ".join(words)
    return (
        f'<svg class="spine-chart" viewBox="0 0 {w} {h}" width="100%" role="img"'
        f' aria-label="{escape(alt)}"><title>{escape(alt)}</title>' + "".join(out) + "</svg>"
    )
