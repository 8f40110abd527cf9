"""Trends and comparisons on the pages (issue 18), on the hand-made fixture folder with a
hand-typed trends.csv, compare.csv and benchmark.csv planted in it:

* the borough's registered rate rises 50% -> 60% over six quarters (2024-12-31 to
  2026-03-31); engagement is shown at the last three only (30%, 31%, 33%);
* Knowsley 004D (E01006508) falls 90% -> 80%, with 95% intervals; compare.csv says it is
  worse than similar places (ratio 0.70, 0.58-0.84) and the benchmark says the borough is
  better than "Place A" (40%), worse than "Place B" (95%), similar to "Place C" (78%);
* centre S1's engagement of its registered children falls 60% -> 50%.

In Chromium (tests/web/conftest.py's browser) at 1440 and 390 px: the overview tiles carry
sparklines whose text alternative and end labels give the first and last values, the area
has two trend charts and a spine chart, the centre a trend chart, /compare the Fingertips
labels; no page overflows sideways, axe finds no serious violation. Without the files the
pages still work and /compare says there is no benchmark file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from everyfamily.findings.stats import wilson_interval
from everyfamily.trends.compare import COMPARE_COLUMNS

from .fixture_outputs import build_fixture
from .test_browser import _axe
from .test_readable import _new_page, _open, _overflow

BOROUGH, AREA = "E08000011", "E01006508"
PERIODS = ("2024-12-31", "2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31", "2026-03-31")
BOROUGH_REG = (0.50, 0.52, 0.54, 0.56, 0.58, 0.60)
BOROUGH_ENG = (None, None, None, 0.30, 0.31, 0.33)
AREA_REG = (0.90, 0.88, 0.86, 0.84, 0.82, 0.80)
SITE_ENG = (0.60, 0.58, 0.56, 0.54, 0.52, 0.50)


def _row(period: str, level: str, code: str, service: str, **rates: float | None) -> dict[str, Any]:
    n = 200
    row: dict[str, Any] = {
        "period_end": period,
        "level": level,
        "area_code": code,
        "area_name": "",
        "dimension": "all",
        "group_value": "all",
        "service": service,
        "age_band": "0-1",
        "denominator": n,
    }
    for col in ("registered_rate", "engaged_rate"):
        r = rates.get(col)
        row[col] = r
        lo, hi = wilson_interval(r * n, n) if r is not None else (None, None)
        row[f"{col}_lower"], row[f"{col}_upper"] = lo, hi
    eor = rates.get("engaged_of_registered")
    row["registered"] = 100 if eor is not None else None
    row["engaged"] = eor * 100 if eor is not None else None
    row["engaged_of_registered"] = eor
    row["registered_trend"] = "increasing" if code == BOROUGH else "decreasing"
    row["engaged_trend"] = "decreasing" if service == "S1" else ""
    return row


def plant(out: Path) -> None:
    rows = []
    for i, p in enumerate(PERIODS):
        rows.append(
            _row(
                p,
                "borough",
                BOROUGH,
                "any",
                registered_rate=BOROUGH_REG[i],
                engaged_rate=BOROUGH_ENG[i],
            )
        )
        rows.append(_row(p, "lsoa", AREA, "any", registered_rate=AREA_REG[i]))
        rows.append(_row(p, "borough", BOROUGH, "S1", engaged_of_registered=SITE_ENG[i]))
    pd.DataFrame(rows).to_csv(out / "trends.csv", index=False)
    similar = {c: None for c in COMPARE_COLUMNS} | {
        "level": "lsoa",
        "area_code": AREA,
        "area_name": "Knowsley 004D",
        "measure": "registered",
        "strata": "deprivation quintile x age",
        "deprivation_group": "1",
        "observed": 80,
        "children": 100,
        "expected": 114.3,
        "ratio": 0.70,
        "ratio_lower_95": 0.58,
        "ratio_upper_95": 0.84,
        "ratio_lower_998": 0.52,
        "ratio_upper_998": 0.93,
        "compared_95": "worse",
        "compared_998": "worse",
    }
    pd.DataFrame([similar]).to_csv(out / "compare.csv", index=False)
    bench = [
        ("Place A", 0.40, "better"),
        ("Place B", 0.95, "worse"),
        ("Place C", 0.78, "similar"),
    ]
    pd.DataFrame(
        [
            {
                "indicator": "registered_rate",
                "indicator_label": "Registered with a centre",
                "geography": g,
                "period": "2025/26",
                "value": v,
                "lower": v - 0.01,
                "upper": v + 0.01,
                "count": None,
                "denominator": None,
                "borough_value": 0.77,
                "borough_lower": 0.75,
                "borough_upper": 0.79,
                "compared": c,
            }
            for g, v, c in bench
        ]
    ).to_csv(out / "benchmark.csv", index=False)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    run["settings"]["trends"] = {"benchmark": {"path": "b.csv", "illustrative": True}}
    (out / "run.json").write_text(json.dumps(run), encoding="utf-8")


@pytest.fixture(scope="module")
def planted_url(tmp_path_factory: pytest.TempPathFactory, serve: Callable[[Path, str], str]) -> str:
    out = tmp_path_factory.mktemp("compare") / "out"
    build_fixture(out)
    plant(out)
    return serve(out, "admin")


PAGES = ("/", "/compare", f"/areas/{AREA}", "/centres/S1")


def test_pages_show_the_planted_trends_and_comparisons(planted_url: str) -> None:
    ov = httpx.get(planted_url + "/").text
    assert ov.count('class="sparkline"') == 2
    assert "the borough's rates for children aged 0-1 at each quarter end" in ov
    assert (
        "Registered with a centre of children aged 0-1, borough: 50% on 2024-12-31, "
        "60% on 2026-03-31, over 6 quarters" in ov
    )
    # engagement: only the three quarters the extracts cover
    assert "33% on 2026-03-31, over 3 quarters" in ov
    area = httpx.get(planted_url + f"/areas/{AREA}").text
    assert area.count('class="trend-chart"') == 1  # the area's engagement is not measured
    assert "90% on 2024-12-31, 80% on 2026-03-31" in area
    assert "Recent trend (last quarters, chi-squared test for trend): decreasing" in area
    assert 'class="spine-chart"' in area and "Spine chart of Knowsley 004D" in area
    assert "fewer children reached than in similar places (80 children against 114.3" in area
    centre = httpx.get(planted_url + "/centres/S1").text
    assert "60% on 2024-12-31, 50% on 2026-03-31" in centre
    page = httpx.get(planted_url + "/compare").text
    assert "ILLUSTRATIVE" in page
    for place, label in (("Place A", "better"), ("Place B", "worse"), ("Place C", "similar")):
        assert f"{place}</td>" in page and label in page
    assert "Knowsley 004D" in page and "0.58 to 0.84" in page


def test_without_the_files_the_pages_say_so(viewer_url: str) -> None:
    url = viewer_url
    page = httpx.get(url + "/compare").text
    assert "No benchmark file" in page and "trends.benchmark.path" in page
    assert "no comparison with similar places" in page
    overview = httpx.get(url + "/").text
    assert 'class="sparkline"' not in overview and "there is no trend yet" in overview
    assert httpx.get(url + f"/areas/{AREA}").status_code == 200


@pytest.mark.browser
@pytest.mark.parametrize("width", (1440, 390))
def test_chart_pages_fit_and_pass_axe(browser: Any, planted_url: str, width: int) -> None:
    failures: dict[str, Any] = {}
    for path in PAGES:
        pg = _new_page(browser, width)
        _open(pg, planted_url + path)
        o = _overflow(pg)
        if o["scroll"] > o["client"]:
            failures[f"{path} overflow"] = o
        if pg.errors:
            failures[f"{path} errors"] = pg.errors
        violations = _axe(pg)
        if violations:
            failures[f"{path} axe"] = violations
        # every chart has a text alternative
        for svg in pg.locator("svg.sparkline, svg.trend-chart, svg.spine-chart").all():
            assert svg.get_attribute("role") == "img" and svg.get_attribute("aria-label")
        pg.context.close()
    assert failures == {}, json.dumps(failures, indent=1)
