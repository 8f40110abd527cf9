"""Reach over time and against other places, for the pages: sparklines on the overview tiles,
trend charts on area and centre profiles, an area's spine chart against the borough, and the
/compare page (similar places within the borough, the council's benchmark file).

Reads only released files of the run folder: trends.csv (trends stage), compare.csv and
benchmark.csv (trends.compare_stage), each computed from disclosure-controlled counts. A
missing file gives an empty chart or a section that says why, never an error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.findings.stats import wilson_interval
from everyfamily.trends.benchmark import BoroughValue, compare_with_borough
from everyfamily.web.tables import Column, Table, clean
from everyfamily.web.trend_svg import (
    COMPARE_STYLE,
    SpineRow,
    TrendPoint,
    sparkline_svg,
    spine_chart_svg,
    trend_chart_svg,
)
from everyfamily.web.view import RunView

TRENDS_FILE, COMPARE_FILE, BENCHMARK_FILE = "trends.csv", "compare.csv", "benchmark.csv"
#: The rates followed on tiles and profiles: column -> plain name.
RATES: dict[str, str] = {
    "registered_rate": "Registered with a centre",
    "engaged_rate": "Sustained engagement",
}
_TEXT = {"area_code": str, "level": str, "group_value": str, "service": str, "dimension": str}


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=_TEXT, keep_default_na=True)


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


class ComparePage:
    """Trend and comparison views of one run (module docstring)."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        out = view.outputs.out_dir
        self.trends = _read(out / TRENDS_FILE)
        self.similar = _read(out / COMPARE_FILE)
        self.bench = _read(out / BENCHMARK_FILE)

    def series(self, level: str, code: str, service: str = "any") -> pd.DataFrame:
        """The released all-children rows of one area (or a site's borough rows), by period."""
        t = self.trends
        if t is None:
            return pd.DataFrame()
        sel = t[
            (t["level"] == level)
            & (t["area_code"] == code)
            & (t["dimension"] == "all")
            & (t["service"] == service)
        ]
        return sel.sort_values("period_end")

    def sparklines(self) -> dict[str, str]:
        """Overview tiles: the borough's registered and engaged rates over the quarters
        (and ``band``, the age band), or nothing when no line can be drawn."""
        b = self.view.borough_row()
        if not b or self.trends is None:
            return {}
        rows = self.series("borough", str(b["area_code"]))
        if rows.empty:
            return {}
        band = str(rows["age_band"].iloc[0])
        lines = {
            col: sparkline_svg(
                [(str(p), _f(v)) for p, v in zip(rows["period_end"], rows[col], strict=True)],
                what=f"{label} of children aged {band}, borough",
            )
            for col, label in RATES.items()
        }
        return {**lines, "band": band} if any(lines.values()) else {}

    def area_trends(self, level: str, code: str) -> list[dict[str, str]]:
        """An area's trend charts: one per rate with at least two shown quarters."""
        rows = self.series(level, code)
        if rows.empty:
            return []
        name = self.view.area_name(code)
        band = str(rows["age_band"].iloc[0])
        charts = []
        for col, label in RATES.items():
            points = [
                TrendPoint(str(p), _f(r), _f(lo), _f(hi))
                for p, r, lo, hi in zip(
                    rows["period_end"],
                    rows[col],
                    rows[f"{col}_lower"],
                    rows[f"{col}_upper"],
                    strict=True,
                )
            ]
            what = f"{label}, children aged {band}, {name}"
            svg = trend_chart_svg(points, title=what, what=what)
            if svg:
                trend = rows["registered_trend" if col == "registered_rate" else "engaged_trend"]
                charts.append({"label": label, "svg": svg, "trend": _first(trend)})
        return charts

    def centre_trend(self, site: str) -> dict[str, str] | None:
        """A centre's engagement of its registered children by quarter (Wilson 95% from
        the released counts, shown only where trends.csv shows the rate)."""
        b = self.view.borough_row()
        if not b:
            return None
        rows = self.series("borough", str(b["area_code"]), site)
        if rows.empty:
            return None
        points = []
        for p, e, r, rate in zip(
            rows["period_end"],
            rows["engaged"],
            rows["registered"],
            rows["engaged_of_registered"],
            strict=True,
        ):
            if _f(rate) is None or _f(e) is None or _f(r) is None:
                points.append(TrendPoint(str(p), None))
                continue
            lo, hi = wilson_interval(float(e), float(r))
            points.append(TrendPoint(str(p), _f(rate), float(lo), float(hi)))
        what = f"Engagement of children registered at {self.view.site_name(site)}"
        svg = trend_chart_svg(points, title=what, what=what)
        return {"svg": svg, "trend": _first(rows["engaged_trend"])} if svg else None

    def spine(self, level: str, code: str) -> str:
        """The area against the borough and the spread of the small areas (Fingertips'
        spine chart); the comparison is the area's 95% interval against the borough value."""
        v = self.view
        g = v.by_slice.get((v.small_level, "all", "all", "any"))
        area = v.by_area.get((level, code))
        b = v.borough_row()
        if g is None or area is None or not b or level == "borough":
            return ""
        me = area[(area["dimension"] == "all") & (area["service"] == "any")]
        if me.empty:
            return ""
        row = me.iloc[0]
        spine = []
        for col, label in RATES.items():
            spread = pd.to_numeric(g[col], errors="coerce").dropna().to_numpy()
            if len(spread) == 0:
                continue
            value = BoroughValue(_f(row[col]), _f(row[f"{col}_lower"]), _f(row[f"{col}_upper"]))
            boro = _f(b.get(col))
            # the area's interval against the borough's value: above = better
            compared = compare_with_borough(value, np.array([np.nan if boro is None else boro]))
            q25, q75 = np.quantile(spread, [0.25, 0.75])
            spine.append(
                SpineRow(
                    label,
                    value.value,
                    boro,
                    float(spread.min()),
                    float(q25),
                    float(q75),
                    float(spread.max()),
                    str(compared[0]),
                )
            )
        return spine_chart_svg(spine, area=v.area_name(code))

    def area_view(self, level: str, code: str) -> dict[str, Any]:
        """An area profile's trend charts, spine chart and similar-places rows."""
        return {
            "charts": self.area_trends(level, code),
            "spine_svg": self.spine(level, code),
            "similar": self.similar_rows(code),
        }

    def similar_rows(self, code: str) -> list[dict[str, Any]]:
        """compare.csv's rows of one small area (registered, engaged)."""
        s = self.similar
        if s is None:
            return []
        sel = s[s["area_code"] == code]
        return [
            {str(k): clean(val) for k, val in rec.items()} | _style(str(rec["compared_95"]))
            for rec in sel.to_dict("records")
        ]

    def context(self) -> dict[str, Any]:
        """The /compare page."""
        settings = (self.view.outputs.settings.get("trends") or {}).get("benchmark") or {}
        return {
            "benchmark": self.benchmark_table(),
            "benchmark_configured": bool(settings),
            "benchmark_illustrative": bool(settings.get("illustrative")),
            "similar": self.similar_table(),
            "has_similar": self.similar is not None,
            "styles": COMPARE_STYLE,
        }

    def benchmark_table(self) -> Table | None:
        if self.bench is None:
            return None
        rows = [
            {
                "indicator": rec["indicator_label"],
                "geography": rec["geography"],
                "period": rec["period"],
                "value": clean(rec["value"]),
                "interval": _interval(rec["lower"], rec["upper"]),
                "borough_value": clean(rec["borough_value"]),
                "compared": _mark(str(rec["compared"])),
            }
            for rec in self.bench.to_dict("records")
        ]
        return Table(
            "benchmark",
            f"{self.view.title} against other places",
            (
                Column("indicator", "Indicator"),
                Column("geography", "Place"),
                Column("period", "Period"),
                Column("value", "Their rate", "rate"),
                Column("interval", "Their 95% interval"),
                Column("borough_value", f"{self.view.title} (today)", "rate"),
                Column("compared", f"{self.view.title} compared with them"),
            ),
            tuple(rows),
            note="Better or worse: the borough's own 95% interval lies wholly above or below "
            "their rate (Fingertips' comparison with a benchmark); similar: it contains it.",
        )

    def similar_table(self) -> Table | None:
        s = self.similar
        if s is None:
            return None
        flagged = s[s["compared_95"].isin(["better", "worse"])].sort_values(["measure", "ratio"])
        rows = [
            {
                "area": self.view.area_name(str(rec["area_code"])),
                "level": self.view.level_label(str(rec.get("level") or self.view.small_level)),
                "url": f"/areas/{rec['area_code']}",
                "measure": RATES.get(f"{rec['measure']}_rate", str(rec["measure"])),
                "deprivation": rec["deprivation_group"],
                "observed": clean(rec["observed"]),
                "expected": _fixed(rec["expected"], 1),
                "ratio": _fixed(rec["ratio"], 2),
                "interval": _ratio_interval(rec["ratio_lower_95"], rec["ratio_upper_95"]),
                "compared_95": _mark(str(rec["compared_95"])),
                "compared_998": _mark(str(rec["compared_998"])),
            }
            for rec in flagged.to_dict("records")
        ]
        strata = str(s["strata"].iloc[0]) if len(s) else "deprivation quintile x age"
        return Table(
            "similar_places",
            "Areas that differ from similar places",
            (
                Column("area", "Area"),
                Column("level", "Level"),
                Column("measure", "Measure"),
                Column("deprivation", "IMD quintile"),
                Column("observed", "Children reached", "count"),
                Column("expected", "Expected from similar places"),
                Column("ratio", "Ratio"),
                Column("interval", "95% interval"),
                Column("compared_95", "At 95%"),
                Column("compared_998", "At 99.8%"),
            ),
            tuple(rows),
            note=f"Expected: the borough's rate for children of the same {strata}, applied "
            "to the area's children (indirect standardisation); a ratio below 1 means fewer "
            "children reached than in similar places. Exact Poisson (Byar) intervals.",
            links={"area": "url"},
        )


def _first(s: pd.Series) -> str:
    vals = [str(v) for v in s.dropna() if str(v)]
    return vals[-1] if vals else ""


def _style(label: str) -> dict[str, str]:
    colour, mark = COMPARE_STYLE.get(label, COMPARE_STYLE["not compared"])
    return {"colour": colour, "mark": mark}


def _mark(label: str) -> str:
    return f"{COMPARE_STYLE.get(label, COMPARE_STYLE['not compared'])[1]} {label}"


def _fixed(v: Any, places: int) -> str:
    x = _f(v)
    return "" if x is None else f"{x:.{places}f}"


def _interval(lo: Any, hi: Any) -> str:
    a, b = _f(lo), _f(hi)
    return f"{100 * a:.1f}% to {100 * b:.1f}%" if a is not None and b is not None else ""


def _ratio_interval(lo: Any, hi: Any) -> str:
    a, b = _f(lo), _f(hi)
    return f"{a:.2f} to {b:.2f}" if a is not None and b is not None else ""
