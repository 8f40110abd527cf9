"""Indirect standardisation against similar places (trends.compare), on hand-typed tables.

Two deprivation quintiles, two ages, three small areas:

    area  quintile   age 0 (children, registered)   age 1 (children, registered)
    A     1          10, 5                           20, 12
    B     1          30, 9                           10, 8
    C     5          40, 20                          10, 5

Borough stratum rates: q1 age 0 = 14/40 = 0.35, q1 age 1 = 20/30; q5 = 0.5 at both ages.
Expected: A = 10 x 0.35 + 20 x 2/3 = 16.8333; B = 30 x 0.35 + 10 x 2/3 = 17.1667; C = 25.
Observed: A 17, B 17, C 25, so the ratios are 1.0099, 0.9903 and 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from everyfamily.trends.compare import (
    BETTER,
    NOT_COMPARED,
    SIMILAR,
    WORSE,
    Strata,
    compare_table,
    indirect_standardise,
    label,
)

CELLS = [
    ("A", "1", "0", 10, 5),
    ("A", "1", "1", 20, 12),
    ("B", "1", "0", 30, 9),
    ("B", "1", "1", 10, 8),
    ("C", "5", "0", 40, 20),
    ("C", "5", "1", 10, 5),
]


def strata(cells: list[tuple[str, str, str, float, float]]) -> Strata:
    t = pd.DataFrame(cells, columns=["area_code", "group", "age", "children", "registered"])
    return Strata(t.assign(engaged=t["registered"]), by_deprivation=True)


def test_expected_and_ratio_by_hand() -> None:
    out = indirect_standardise(strata(CELLS), "registered").set_index("area_code")
    assert out.loc["A", "expected"] == pytest.approx(16.8333, abs=1e-2)
    assert out.loc["B", "expected"] == pytest.approx(17.1667, abs=1e-2)
    assert out.loc["C", "expected"] == pytest.approx(25.0)
    assert out.loc["A", "ratio"] == pytest.approx(17 / 16.83333, abs=1e-4)
    assert out.loc["B", "ratio"] == pytest.approx(17 / 17.16667, abs=1e-4)
    # internal standard: observed and expected agree within each quintile
    assert out.loc[["A", "B"], "expected"].sum() == pytest.approx(34.0, abs=1e-2)
    assert set(out["compared_95"]) == {SIMILAR}
    # the standardised rate is the ratio times the borough's crude rate, 59 / 120
    assert out.loc["C", "rate_standardised"] == pytest.approx(59 / 120, abs=1e-4)
    assert out.loc["A", "deprivation_group"] == "1"


def test_limits_are_exact_poisson_at_both_levels() -> None:
    out = indirect_standardise(strata(CELLS), "registered").set_index("area_code")
    e = 25.0
    # O = 25 >= 10: Byar; within 0.5% of the exact (Garwood) limits (Breslow & Day 1987)
    assert out.loc["C", "ratio_lower_95"] == pytest.approx(chi2.ppf(0.025, 50) / 2 / e, rel=5e-3)
    assert out.loc["C", "ratio_upper_95"] == pytest.approx(chi2.ppf(0.975, 52) / 2 / e, rel=5e-3)
    assert out.loc["C", "ratio_lower_998"] == pytest.approx(chi2.ppf(0.001, 50) / 2 / e, rel=1e-2)
    assert out.loc["C", "ratio_upper_998"] == pytest.approx(chi2.ppf(0.999, 52) / 2 / e, rel=1e-2)
    assert out.loc["C", "ratio_lower_998"] < out.loc["C", "ratio_lower_95"]


def test_an_area_below_similar_places_is_worse_and_the_borough_rate_does_not_decide() -> None:
    # D, in quintile 5, registers 10 of 100 at each age where its quintile neighbour C
    # registers half: q5 rates become 30/140 and 15/110.
    cells = [*CELLS, ("D", "5", "0", 100, 10), ("D", "5", "1", 100, 10)]
    out = indirect_standardise(strata(cells), "registered").set_index("area_code")
    e_d = 100 * 30 / 140 + 100 * 15 / 110  # 21.4286 + 13.6364 = 35.0649
    assert out.loc["D", "expected"] == pytest.approx(e_d, abs=1e-2)
    assert out.loc["D", "ratio"] == pytest.approx(20 / e_d, abs=1e-4)
    assert out.loc["D", "compared_95"] == WORSE
    assert out.loc["C", "compared_95"] == BETTER
    # A and B, in quintile 1, are compared with each other only: unchanged by D
    assert out.loc["A", "expected"] == pytest.approx(16.8333, abs=1e-2)


def test_a_withheld_count_is_not_compared_and_left_out_of_the_rates() -> None:
    cells = [*CELLS[:2], ("B", "1", "0", 30, float("nan")), *CELLS[3:]]
    out = indirect_standardise(strata(cells), "registered").set_index("area_code")
    assert out.loc["B", "compared_95"] == NOT_COMPARED
    assert np.isnan(out.loc["B", "ratio"])
    # q1 age 0 is now A's cell alone: 5/10; A's expected = 10 x 0.5 + 20 x 20/30
    assert out.loc["A", "expected"] == pytest.approx(5 + 20 * 20 / 30, abs=1e-2)


def test_label_reads_the_interval_against_one() -> None:
    got = label(np.array([1.1, 0.5, 0.8, np.nan]), np.array([1.5, 0.9, 1.2, 2.0]))
    assert list(got) == [BETTER, WORSE, SIMILAR, NOT_COMPARED]


def test_compare_table_from_a_released_reach_table() -> None:
    rows = []
    for area, _q, age, n, y in CELLS:
        rows.append(("lsoa", area, f"Area {area}", "age_years", age, "any", n, y, y / 2))
    for area, q in (("A", "1"), ("B", "1"), ("C", "5")):
        rows.append(("lsoa", area, f"Area {area}", "imd_quintile", q, "any", 30, 1, 1))
        other = "5" if q == "1" else "1"
        rows.append(("lsoa", area, f"Area {area}", "imd_quintile", other, "any", 0, 0, 0))
    rows.append(("borough", "K", "K", "age_years", "0", "any", 80, 34, 17))
    cols = ["level", "area_code", "area_name", "dimension", "group_value", "service"]
    reach = pd.DataFrame(rows, columns=[*cols, "denominator", "registered", "engaged"])
    out = compare_table(reach, "lsoa")
    assert len(out) == 6 and set(out["measure"]) == {"registered", "engaged"}
    reg = out[out["measure"] == "registered"].set_index("area_code")
    assert reg.loc["A", "area_name"] == "Area A"
    assert reg.loc["A", "expected"] == pytest.approx(16.8333, abs=1e-2)
    assert reg.loc["C", "deprivation_group"] == "5"
    assert reg.loc["C", "strata"] == "deprivation quintile x age"
    # with no deprivation rows the strata are age alone: expected A = 10 x 34/80 + 20 x 25/40
    no_dep = compare_table(reach[reach["dimension"] != "imd_quintile"], "lsoa")
    a = no_dep[(no_dep["measure"] == "registered") & (no_dep["area_code"] == "A")].iloc[0]
    assert a["strata"] == "age" and a["expected"] == pytest.approx(4.25 + 12.5, abs=1e-2)


def test_observed_counts_come_from_the_released_table_when_the_exact_one_is_given() -> None:
    cols = ["level", "area_code", "area_name", "dimension", "group_value", "service"]
    exact_rows = [("lsoa", a, a, "age_years", age, "any", n, y, y) for a, _q, age, n, y in CELLS]
    exact_rows += [("lsoa", a, a, "imd_quintile", q, "any", 30, 1, 1) for a, q in CQ]
    exact = pd.DataFrame(exact_rows, columns=[*cols, "denominator", "registered", "engaged"])
    # released totals: A perturbed to 20 registered of 32; B withheld; C as exact
    released_rows = [
        ("lsoa", "A", "A", "all", "all", "any", 32, 20, 20),
        ("lsoa", "B", "B", "all", "all", "any", 40, np.nan, np.nan),
        ("lsoa", "C", "C", "all", "all", "any", 50, 25, 25),
    ]
    released = pd.DataFrame(released_rows, columns=[*cols, "denominator", "registered", "engaged"])
    out = compare_table(released, "lsoa", exact)
    reg = out[out["measure"] == "registered"].set_index("area_code")
    # expected from the exact strata, observed and children as released
    assert reg.loc["A", "expected"] == pytest.approx(16.8333, abs=1e-2)
    assert reg.loc["A", "observed"] == 20 and reg.loc["A", "children"] == 32
    assert reg.loc["A", "ratio"] == pytest.approx(20 / 16.83333, abs=1e-4)
    assert reg.loc["B", "compared_95"] == NOT_COMPARED and np.isnan(reg.loc["B", "observed"])


CQ = (("A", "1"), ("B", "1"), ("C", "5"))


def test_a_ward_is_compared_with_the_sum_of_its_small_areas_expected_counts() -> None:
    cols = ["level", "area_code", "area_name", "dimension", "group_value", "service"]
    exact_rows = [("lsoa", a, a, "age_years", age, "any", n, y, y) for a, _q, age, n, y in CELLS]
    exact_rows += [("lsoa", a, a, "imd_quintile", q, "any", 30, 1, 1) for a, q in CQ]
    exact = pd.DataFrame(exact_rows, columns=[*cols, "denominator", "registered", "engaged"])
    # ward W holds A (quintile 1) and C (quintile 5); ward V holds B alone
    membership = pd.DataFrame(
        {
            "level": ["lsoa"] * 3 + ["ward"] * 3 + ["borough"] * 3,
            "area_code": ["A", "B", "C", "W", "V", "W", "K", "K", "K"],
            "small_area": ["A", "B", "C"] * 3,
        }
    )
    released_rows = [
        ("lsoa", "A", "A", "all", "all", "any", 30, 17, 17),
        ("lsoa", "B", "B", "all", "all", "any", 40, 17, 17),
        ("lsoa", "C", "C", "all", "all", "any", 50, 25, 25),
        ("ward", "W", "Ward W", "all", "all", "any", 80, 25, 25),  # released: 25 of 80
        ("ward", "V", "Ward V", "all", "all", "any", 40, 17, 17),
        ("borough", "K", "K", "all", "all", "any", 120, 59, 59),
    ]
    released = pd.DataFrame(released_rows, columns=[*cols, "denominator", "registered", "engaged"])
    out = compare_table(released, "lsoa", exact, membership)
    assert set(out["level"]) == {"lsoa", "ward"}  # the borough is its own standard
    reg = out[out["measure"] == "registered"].set_index("area_code")
    # E_W = E_A + E_C = 16.8333 + 25 (the borough's stratum rates, W's own mix)
    assert reg.loc["W", "expected"] == pytest.approx(41.8333, abs=1e-2)
    assert reg.loc["W", "observed"] == 25 and reg.loc["W", "children"] == 80
    assert reg.loc["W", "ratio"] == pytest.approx(25 / 41.8333, abs=1e-4)
    assert reg.loc["W", "deprivation_group"] == "1/5" and reg.loc["W", "area_name"] == "Ward W"
    assert reg.loc["V", "expected"] == pytest.approx(reg.loc["B", "expected"])
    # 25 against 41.83: Byar's 95% upper limit, 26 (1 - 1/234 + 1.96 / (3 sqrt 26))^3 / 41.83
    # = 0.882, is below 1, so the ward does worse
    assert reg.loc["W", "ratio_upper_95"] == pytest.approx(0.882, abs=1e-3)
    assert reg.loc["W", "compared_95"] == WORSE


def test_report_lines_name_counts_of_areas_and_say_when_there_is_no_benchmark() -> None:
    from everyfamily.trends.compare_stage import report_lines

    meta = {"file": "compare.csv", "areas": 98, "strata": "age", "registered_worse_95": 2,
            "registered_better_95": 0, "engaged_worse_95": 15, "engaged_better_95": 3,
            "benchmark": None}  # fmt: skip
    lines = report_lines(meta)
    assert "of 98 small areas, 2 register fewer children and 0 more" in lines[0]
    assert "15 have less sustained engagement and 3 more" in lines[0]
    assert lines[1].startswith("No benchmark file")
    bench = {"places": ["England", "Neighbour A"], "illustrative": True}
    assert "ILLUSTRATIVE" in report_lines({**meta, "benchmark": bench})[1]
    assert report_lines({"skipped": "no reach_released table"}) == []
