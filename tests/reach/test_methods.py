"""The methods text says what the code did (issue 14): generated from the run's numbers."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from everyfamily.reach import methods
from everyfamily.reach import statistics as st


def test_methods_text_states_the_overdispersion_used() -> None:
    widened = methods.rates_and_limits(
        {"level": "lsoa", "units": 98, "phi": 2.2, "tau2": 0.0049}, max_error=3
    )
    assert "98 lsoa areas" in widened and "phi = 2.20" in widened
    assert "tau squared = 0.00490" in widened and "tau = 7.0 percentage points" in widened
    assert "widened by it" in widened
    assert "up to 3" in widened  # the release error, when counts are rounded or perturbed
    flat = methods.rates_and_limits({"level": "lsoa", "units": 98, "phi": 0.9, "tau2": 0.0})
    assert "plain binomial" in flat and "widened by it" not in flat and "up to" not in flat
    assert "fewer than three" in methods.rates_and_limits(None)
    assert "not widened" in methods.funnel_caption(0.0)
    assert "7.0 percentage points" in methods.funnel_caption(0.0049)


def _reach_with_tau2(tau2: float) -> pd.DataFrame:
    # 20 small areas of 50 children, rates spread from 40% to 95%
    reg = np.linspace(20, 47, 20).round().astype(int)
    rows = [
        {"level": "lsoa", "area_code": f"A{i:02d}", "area_name": f"Area {i}", "registered": x}
        for i, x in enumerate(reg)
    ]
    rows.append({"level": "borough", "area_code": "B", "area_name": "B", "registered": reg.sum()})
    t = pd.DataFrame(rows).assign(dimension="all", group_value="all", service="any")
    t["denominator"] = np.where(t["level"] == "borough", 50 * len(reg), 50)
    t["known"] = t["denominator"]
    t["engaged"] = t["registered"] // 2
    t["ons_population"] = np.nan
    t["funnel_tau2"] = np.where(t["level"] == "lsoa", tau2, 0.0)
    t["funnel_band"] = "within"
    return t


def test_report_methods_and_funnel_match_the_table() -> None:
    from everyfamily.report.build import ReportInputs, render_report

    reach = _reach_with_tau2(0.0121)
    funnel = {"level": "lsoa", "units": 20, "phi": 3.1, "tau2": 0.0121}
    page = render_report(
        ReportInputs(
            reach=reach,
            findings={},
            title="Test",
            reference_date="2025-03-31",
            funnel=funnel,
            release_max_error=3,
        )
    )
    text = html.unescape(page)
    assert methods.rates_and_limits(funnel, max_error=3) in text
    assert methods.funnel_caption(0.0121) in text
    # the old claim ("widened for over-dispersion when areas vary") is gone: the text now
    # states the number used
    assert "when areas vary" not in text
    # the drawn 95% limit at the largest n is p0 - 1.96 sqrt(p0(1-p0)/n + tau2): with
    # tau2 = .0121 (tau = .11) the limits are far wider than the binomial ones
    p0 = reach.loc[reach["level"] == "borough", "registered"].iloc[0] / 1000
    wide = st.funnel_limits(p0, [52.5], 0.0121).lower_95[0]
    narrow = st.funnel_limits(p0, [52.5]).lower_95[0]
    assert wide == pytest.approx(p0 - 1.959964 * np.sqrt(p0 * (1 - p0) / 52.5 + 0.0121))
    assert wide < narrow - 0.1


def test_findings_area_funnel_uses_the_reach_table_tau2() -> None:
    # One tau2 everywhere (issue 14, defect 1): the findings detector's over-dispersion for
    # the small areas equals the funnel_tau2 the reach table carries for the same family.
    from everyfamily.findings.detectors import find_unreached_areas
    from everyfamily.findings.model import FindingsSettings
    from everyfamily.reach.measure import statistics_columns
    from everyfamily.schema import REACH_COLUMNS

    t = _reach_with_tau2(0.0).drop(columns=["funnel_tau2", "funnel_band"])
    t.loc[t["area_code"] == "A00", "registered"] = 5  # one area far below: 5 of 50
    t.loc[t["level"] == "borough", "registered"] = t.loc[t["level"] == "lsoa", "registered"].sum()
    cols = statistics_columns(
        t[["level", "area_code", "dimension", "group_value", "service"]],
        registered=t["registered"].to_numpy(dtype="float64"),
        engaged=t["engaged"].to_numpy(dtype="float64"),
        denominator=t["denominator"].to_numpy(dtype="float64"),
        ons=t["ons_population"].to_numpy(dtype="float64"),
        small_area_level="lsoa",
    )
    reach = t.assign(**cols, known_completeness=np.nan)
    reach["linkage_shift_lower"] = np.nan
    reach["linkage_shift_upper"] = np.nan
    reach = reach[list(REACH_COLUMNS)]
    tau2 = float(reach.loc[reach["level"] == "lsoa", "funnel_tau2"].iloc[0])
    assert tau2 > 0
    found = find_unreached_areas(
        reach, settings=FindingsSettings(rounding="none", suppress_at_or_below=0)
    )
    assert found, "the area at 10% is far below a borough near 66%"
    evidence = found[0].evidence["overdispersion"]
    assert evidence["tau2"] == pytest.approx(tau2, rel=1e-4)  # evidence rounds to 4 figures
    a00 = reach[reach["area_code"] == "A00"].iloc[0]
    assert found[0].evidence["areas"][0]["z"] == pytest.approx(a00["funnel_z"], rel=1e-4)
