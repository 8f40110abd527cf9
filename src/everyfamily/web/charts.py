"""Small inline SVG charts for the dashboard pages (no chart library, no script needed).
The funnel plot is drawn by :mod:`everyfamily.report.funnel`, the one drawing the dashboard
and the report share."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_pair_svg(
    rows: Sequence[tuple[str, float | None, float | None]],
    *,
    title: str,
    legend: tuple[str, str],
    highlight: str | None = None,
    width: int = 600,
) -> str:
    """Horizontal paired bars (two rates, 0-100%) per row label; the highlighted row's
    label is bold and marked with an arrow, so it reads without colour."""
    bar_h, gap, left, right = 9, 10, 230, 50
    height = 24 + len(rows) * (2 * bar_h + gap)
    span = width - left - right
    out = []
    for i, (label, a, b) in enumerate(rows):
        y = 18 + i * (2 * bar_h + gap)
        mine = label == highlight
        weight = ' font-weight="bold"' if mine else ""
        text = ("▶ " if mine else "") + label[:38]
        out.append(
            f'<text x="{left - 6}" y="{y + bar_h + 3}" font-size="11" text-anchor="end"'
            f' fill="#222"{weight}>{escape(text)}</text>'
        )
        for j, (v, colour) in enumerate(((a, "#3b528b"), (b, "#e69f00"))):
            yy = y + j * bar_h
            if v is None:
                out.append(
                    f'<text x="{left + 2}" y="{yy + 8}" font-size="9" fill="#444">suppressed</text>'
                )
                continue
            out.append(
                f'<rect x="{left}" y="{yy}" width="{span * v:.1f}" height="{bar_h - 1}" '
                f'fill="{colour}"/><text x="{left + span * v + 4:.1f}" y="{yy + 8}" '
                f'font-size="9" fill="#222">{100 * v:.0f}%</text>'
            )
    key = (
        f'<rect x="10" y="2" width="10" height="9" fill="#3b528b"/>'
        f'<text x="24" y="10" font-size="11" fill="#222">{escape(legend[0])}</text>'
        f'<rect x="{width // 2}" y="2" width="10" height="9" fill="#e69f00"/>'
        f'<text x="{width // 2 + 14}" y="10" font-size="11" fill="#222">'
        f"{escape(legend[1])}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">{key}{"".join(out)}</svg>'
    )
