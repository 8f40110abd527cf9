"""The chi-squared test for trend (findings.stats.chi_square_trend) and the recent-trend
tests and findings built on it (findings.detectors.trends)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import Table

from everyfamily.findings.detectors.trends import (
    DECREASING,
    INCREASING,
    NO_CHANGE,
    NOT_TESTED,
    TrendRules,
    find_reach_trends,
    trend_tests,
)
from everyfamily.findings.model import FindingsSettings
from everyfamily.findings.stats import chi_square_trend
from everyfamily.privacy.release import ReleaseRules
from everyfamily.trends.release import release_trends


def test_agresti_published_linear_by_linear_value() -> None:
    # Agresti, Categorical Data Analysis (3rd ed. 2013), Table 3.8: infant malformation by
    # mother's alcohol consumption, scores 0, 0.5, 1.5, 4, 7: M^2 = 6.57, P = 0.0104.
    present = [48, 38, 5, 1, 1]
    absent = [17066, 14464, 788, 126, 37]
    n = [a + b for a, b in zip(present, absent, strict=True)]
    chi2, p, slope = chi_square_trend(present, n, [0, 0.5, 1.5, 4, 7])
    big_n = sum(n)
    assert chi2 * (big_n - 1) / big_n == pytest.approx(6.57, abs=0.005)
    assert p == pytest.approx(0.0104, abs=0.0001)
    assert slope > 0  # malformation rises with consumption


def test_agrees_with_statsmodels_ordinal_association_on_a_hand_built_table() -> None:
    # registered of children over five quarters: 60/100, 58/100, 50/100, 45/100, 40/100
    x = np.array([60, 58, 50, 45, 40])
    n = np.array([100, 100, 100, 100, 100])
    chi2, p, slope = chi_square_trend(x, n)
    t = Table(np.column_stack([x, n - x]))
    res = t.test_ordinal_association(row_scores=np.arange(5.0), col_scores=np.array([1.0, 0.0]))
    big_n = n.sum()
    assert chi2 * (big_n - 1) / big_n == pytest.approx(res.zscore**2, rel=1e-9)
    # by hand: p = 253/500, t_bar = 2, T = sum x (t - 2) = -53, sum n (t-2)^2 = 1000
    assert slope == pytest.approx(-53 / 1000)
    assert chi2 == pytest.approx(53**2 / (253 / 500 * 247 / 500 * 1000))
    assert p == pytest.approx(math.erfc(math.sqrt(chi2 / 2)))


def test_undefined_without_variation_or_periods() -> None:
    assert all(math.isnan(v) for v in chi_square_trend([0, 0, 0], [10, 10, 10]))
    assert all(math.isnan(v) for v in chi_square_trend([5], [10]))
    # an empty period is left out, not counted as a zero
    a = chi_square_trend([5, 6, 7], [10, 10, 10], [0, 1, 2])
    b = chi_square_trend([5, 0, 6, 7], [10, 0, 10, 10], [0, 9, 1, 2])
    assert a == pytest.approx(b)


def _series(area: str, registered: list[int], children: list[int]) -> pd.DataFrame:
    k = len(registered)
    ends = pd.date_range("2025-03-31", periods=k, freq="QE").strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "period_index": range(k),
            "period_end": ends,
            "level": "lsoa",
            "area_code": area,
            "area_name": f"Area {area}",
            "dimension": "all",
            "group_value": "all",
            "service": "any",
            "denominator": [float(c) for c in children],
            "known": [float(c) for c in children],
            "registered": [float(r) for r in registered],
            "engaged": np.nan,
            "denominator_key": 0,
            "known_key": 0,
            "registered_key": 0,
            "engaged_key": 0,
        }
    )


def _table() -> pd.DataFrame:
    flat = [_series(f"F{i}", [60 + (i % 3) - 1] * 5, [100] * 5) for i in range(8)]
    falling = _series("D", [70, 62, 55, 45, 35], [100] * 5)
    small = _series("S", [15, 12, 9, 6, 3], [15] * 5)  # too few children to test
    gentle = _series("G", [600, 595, 590, 585, 580], [1000] * 5)  # a 2-point change
    return pd.concat([*flat, falling, small, gentle], ignore_index=True)


def test_only_a_clear_fall_of_ten_points_is_decreasing() -> None:
    tests = trend_tests(_table(), TrendRules(test_periods=5, min_children=20, min_change=0.10))
    reg = tests[tests["measure"] == "registered_rate"].set_index("area_code")
    assert reg.loc["D", "trend"] == DECREASING
    assert reg.loc["D", "change"] == pytest.approx(-0.35, abs=0.01)
    assert reg.loc["S", "trend"] == NOT_TESTED
    assert reg.loc["G", "trend"] == NO_CHANGE  # under the 10-point minimum
    assert set(reg.loc[[f"F{i}" for i in range(8)], "trend"]) == {NO_CHANGE}
    # engaged has no counts here: no series, nothing claimed
    assert tests[tests["measure"] == "engaged_rate"].empty
    rising = _table()
    rising["registered"] = rising["denominator"] - rising["registered"]
    up = trend_tests(rising, TrendRules()).set_index(["measure", "area_code"])
    assert up.loc[("registered_rate", "D"), "trend"] == INCREASING


def test_declining_finding_shows_released_numbers_only() -> None:
    exact = _table()
    rules = ReleaseRules(suppress_at_or_below=7, rounding="nearest5", method="suppress_round")
    released = release_trends(exact, rules)
    tests = trend_tests(exact, TrendRules())
    found = find_reach_trends(tests, released, settings=FindingsSettings(), age_band=(0, 1))
    assert [(f.kind, f.areas) for f in found] == [("declining_reach", ("D",))]
    f = found[0]
    # released: 70/100 -> 70%, 35/100 -> 35%
    assert f.headline == (
        "In Area D, registered reach of children aged 0-1 fell from 70% to 35% over 4 quarters "
        "(to 2026-03-31)"
    )
    assert f.evidence["last_counts"] == [35, 100]
    assert f.children_affected == 35  # (70% - 35%) of the 100 children now


def test_a_trend_is_attached_to_a_finding_about_the_same_area() -> None:
    from everyfamily.findings.detectors.trends import attach_trends, released_rates
    from everyfamily.findings.model import Finding

    exact = _table()
    rules = ReleaseRules(suppress_at_or_below=7, rounding="nearest5", method="suppress_round")
    released = release_trends(exact, rules)
    tests = released_rates(trend_tests(exact, TrendRules()), released)

    def area(code: str) -> Finding:
        return Finding(
            kind="unreached_area", areas=(code,), group=None, site=None,
            measure="registered_rate", observed=0.3, expected=0.6, interval=(0.2, 0.4),
            children_affected=10, headline="In Area D, registered: 30%", evidence={},
            score=1.0, level="lsoa",
        )  # fmt: skip

    got = attach_trends([area("D"), area("F1")], tests)
    # D's released rates at the first and last tested quarter: 70/100 and 35/100
    text = "registered reach here has been falling for 4 quarters: 70% to 35% (to 2026-03-31)"
    assert got[0].evidence["trend"]["text"] == text
    assert (got[0].evidence["trend"]["first_rate"], got[0].evidence["trend"]["last_rate"]) == (
        0.7,
        0.35,
    )
    assert got[0].headline == f"In Area D, registered: 30%; {text}"
    assert got[1] == area("F1")  # a flat series attaches nothing
    assert attach_trends([area("D")], None)[0] == area("D")
    # a rate the release withholds is not quoted: the direction is said, no numbers
    hidden = released.assign(registered_rate=np.nan)
    words = attach_trends([area("D")], released_rates(trend_tests(exact, TrendRules()), hidden))
    assert words[0].evidence["trend"]["text"] == (
        "registered reach here has been falling for 4 quarters"
    )
    assert words[0].evidence["trend"]["first_rate"] is None
    # a finding of several areas names the one whose series moved
    pair = dataclasses.replace(area("D"), areas=("F1", "D"))
    named = attach_trends([pair], tests)[0].evidence["trend"]["text"]
    assert named.startswith("registered reach in Area D has been falling for 4 quarters: 70%")


def test_pooled_neighbourhoods_sum_their_small_areas() -> None:
    from everyfamily.findings.detectors.trends import NEIGHBOURHOOD, pool_neighbourhoods

    exact = pd.concat([_series("A", [5] * 5, [10] * 5), _series("B", [7] * 5, [20] * 5)])
    exact = pd.concat([exact, _series("C", [1] * 5, [30] * 5)], ignore_index=True)
    pooled = pool_neighbourhoods(exact, "lsoa", {"A": {"B"}, "B": {"A", "C"}, "C": set()})
    assert set(pooled["level"]) == {NEIGHBOURHOOD}
    assert sorted(set(pooled["area_code"])) == ["A", "B"]  # C alone is no pool
    last = pooled[pooled["period_index"] == 4].set_index("area_code")
    assert last.loc["A", "denominator"] == 30 and last.loc["A", "registered"] == 12
    assert last.loc["B", "denominator"] == 60 and last.loc["B", "registered"] == 13
