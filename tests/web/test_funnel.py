"""One funnel drawing (report.funnel) for the dashboard and the report: a point lands where
the axes put it by hand, and the report's funnel is that drawing of its small areas."""

from __future__ import annotations

import re

import pandas as pd

from everyfamily.report.build import ReportInputs, _funnel
from everyfamily.report.funnel import BAND_COLOURS, FunnelPoint, funnel_svg


def _circles(svg: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="[\d.]+" fill="(#\w+)"', svg)


def test_a_point_is_drawn_where_the_axes_put_it() -> None:
    # one area of 100 children at 50%, target 50%: x axis 0..108 children (8% headroom) over
    # 560 - 52 - 14 = 494 px from x = 52, so 52 + 100/108 * 494 = 509.4; y axis 40%..60%
    # over 340 - 14 - 46 = 280 px from y = 14, so 50% sits at 14 + 140 = 154.0
    svg = funnel_svg([FunnelPoint("A", "Area A", 100, 0.5, "within")], 0.5, None, title="t")
    assert _circles(svg) == [("509.4", "154.0", BAND_COLOURS["within"])]
    assert 'aria-label="t"' in svg


def test_the_report_draws_its_funnel_with_the_same_function() -> None:
    reach = pd.DataFrame(
        {
            "level": ["lsoa", "lsoa", "borough"],
            "area_code": ["A", "B", "X"],
            "area_name": ["Area A", "Area <B>", "Borough"],
            "dimension": ["all"] * 3,
            "group_value": ["all"] * 3,
            "service": ["any"] * 3,
            "known": [100, 50, 150],
            "denominator": [100, 50, 150],
            "registered": [50, 40, 90],
            "funnel_band": ["within", "above_95", None],
        }
    )
    inputs = ReportInputs(reach=reach, findings={}, title="T", reference_date="2024-08-31")
    svg = _funnel(inputs)
    target = 90 / 150
    expected = funnel_svg(
        [
            FunnelPoint("A", "Area A", 100.0, 0.5, "within"),
            FunnelPoint("B", "Area <B>", 50.0, 0.8, "above_95"),
        ],
        target,
        None,
        title="Funnel plot of registered reach by small area",
    )
    assert svg == expected
    # names are escaped; each area is one dot in its band's colour
    assert "Area &lt;B&gt;: 80%" in svg and "Area <B>" not in svg
    assert [c[2] for c in _circles(svg)] == [BAND_COLOURS["within"], BAND_COLOURS["above_95"]]
