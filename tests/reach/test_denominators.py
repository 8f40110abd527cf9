"""Population denominators: how old the estimate is, cohort projection, area-code checks.

Every expected value is worked by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from everyfamily.config import BirthsSettings, PopulationSettings
from everyfamily.errors import InputError
from everyfamily.population.denominators import (
    VintageCheck,
    check_area_codes,
    check_vintage,
    load_births,
    project_population,
)


def _settings(**kw: object) -> PopulationSettings:
    base: dict[str, object] = {
        "path": Path("pop.csv"),
        "area_column": "code",
        "age_columns": {a: f"age_{a}" for a in range(5)},
        "vintage": "ONS mid-2020 small-area population estimates",
    }
    base.update(kw)
    return PopulationSettings.model_validate(base)


def _estimate() -> pd.DataFrame:
    # Area A: 10, 20, 30, 40, 50 children aged 0..4; area B: 1..5.
    rows = [("A", a, 10.0 * (a + 1)) for a in range(5)] + [("B", a, a + 1.0) for a in range(5)]
    return pd.DataFrame(rows, columns=["area_code", "age", "population"])


def test_the_estimate_date_comes_from_as_at_then_from_the_vintage_text() -> None:
    ref = dt.date(2026, 3, 31)
    assert check_vintage(_settings(as_at="2024-06-30"), ref).as_at == dt.date(2024, 6, 30)
    from_text = check_vintage(_settings(), ref)
    assert (from_text.as_at, from_text.how) == (dt.date(2020, 6, 30), "vintage")
    unknown = check_vintage(_settings(vintage="Council's own count"), ref)
    assert unknown.as_at is None and unknown.how == "unknown"
    assert "not known" in (unknown.warning() or "")


def test_a_gap_of_more_than_a_year_is_a_warning_and_no_shared_cohort_is_said() -> None:
    # mid-2020 against 31 March 2026: 2100 days / 365.25 = 5.749 years: no child aged 0-4
    # on the reference date was born by mid-2020.
    old = VintageCheck(dt.date(2020, 6, 30), dt.date(2026, 3, 31), "vintage")
    assert old.gap_years == pytest.approx(2100 / 365.25)
    text = old.warning(max_age=4) or ""
    assert "5.7 years before" in text and "shares no birth cohort" in text
    assert old.shift_years == 6
    # nine months is within a year: no warning
    assert VintageCheck(dt.date(2025, 6, 30), dt.date(2026, 3, 31), "as_at").warning() is None
    # two years: a warning, but cohorts are shared
    two = VintageCheck(dt.date(2024, 3, 31), dt.date(2026, 3, 31), "as_at").warning() or ""
    assert "2.0 years" in two and "shares no birth cohort" not in two


def test_age_forward_moves_each_cohort_up_by_the_whole_years_between() -> None:
    vintage = VintageCheck(dt.date(2023, 6, 30), dt.date(2025, 6, 30), "as_at")  # 2.0 years
    out, info = project_population(_estimate(), vintage)
    a = out[out["area_code"] == "A"].set_index("age")["population"].to_dict()
    # ages 2, 3, 4 are the estimate's ages 0, 1, 2; ages 0 and 1 were born since and, with
    # no births given, are taken as the youngest cohort (10).
    assert a == {0: 10.0, 1: 10.0, 2: 10.0, 3: 20.0, 4: 30.0}
    assert info.shift_years == 2
    assert info.ages_from_estimate == (2, 3, 4)
    assert info.ages_from_youngest_cohort == (0, 1)
    b = out[out["area_code"] == "B"].set_index("age")["population"].to_dict()
    assert b == {0: 1.0, 1: 1.0, 2: 1.0, 3: 2.0, 4: 3.0}


def test_cohorts_born_since_come_from_births_apportioned_to_their_window() -> None:
    vintage = VintageCheck(dt.date(2024, 6, 30), dt.date(2025, 6, 30), "as_at")  # 1 year
    births = pd.DataFrame(
        {"area_code": ["A", "A", "B"], "year": [2024, 2025, 2024], "births": [366.0, 730.0, 0.0]}
    )
    out, info = project_population(_estimate(), vintage, births=births)
    a = out[out["area_code"] == "A"].set_index("age")["population"].to_dict()
    # Age 0 on 30 June 2025: born 1 July 2024 - 30 June 2025. 2024 (366 days) contributes
    # 184 of its days (1 Jul - 31 Dec): 366 * 184/366 = 184; 2025 (365 days) contributes 181
    # days (1 Jan - 30 Jun): 730 * 181/365 = 362. Total 546.
    assert a[0] == pytest.approx(546.0)
    assert (a[1], a[4]) == (10.0, 40.0)
    assert info.ages_from_births == (0,)
    assert out[(out["area_code"] == "B") & (out["age"] == 0)]["population"].item() == 0.0


def test_no_projection_when_asked_for_none_or_when_the_estimate_is_current() -> None:
    est = _estimate()
    old = VintageCheck(dt.date(2020, 6, 30), dt.date(2026, 3, 31), "as_at")
    same, info = project_population(est, old, method="none")
    pd.testing.assert_frame_equal(same, est)
    assert info.describe().startswith("population estimates used as published")
    current = VintageCheck(dt.date(2025, 12, 31), dt.date(2026, 3, 31), "as_at")
    same2, info2 = project_population(est, current)
    pd.testing.assert_frame_equal(same2, est)
    assert info2.shift_years == 0


def test_area_codes_that_do_not_match_are_counted_and_none_matching_is_an_error() -> None:
    check = check_area_codes(_estimate(), ["A", "C", "D"])
    assert check.not_in_geography == ("B",)
    assert check.not_in_population == ("C", "D")
    msgs = check.messages("pop.csv")
    assert "2 of 3 small areas have no population estimate" in msgs[0]
    assert "1 area codes in the population file are not in the geography" in msgs[1]
    with pytest.raises(InputError, match="none of its area codes match"):
        check_area_codes(_estimate(), ["X", "Y"])


def test_births_file_is_read_and_bad_values_name_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "births.csv"
    path.write_text('lsoa,yr,n\nA,2024,"1,200"\nA,2024,3\nB,2025,7\n', encoding="utf-8")
    s = BirthsSettings(path=path, area_column="lsoa", year_column="yr", births_column="n")
    got = load_births(s)
    assert got.to_dict("records") == [
        {"area_code": "A", "year": 2024, "births": 1203.0},
        {"area_code": "B", "year": 2025, "births": 7.0},
    ]
    path.write_text("lsoa,yr,n\nA,2024,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1, column 'n'"):
        load_births(s)


def _stage_with_population(tmp: Path, block: str) -> dict[str, object]:
    from everyfamily.reach.stage import reach_stage

    from .test_stage import make_ctx, write_project

    project_file = write_project(tmp)
    text = project_file.read_text()
    assert "\n  vintage: test\n" in text
    text = text.replace("\n  vintage: test\n", "\n" + block, 1)
    project_file.write_text(text)
    ctx = make_ctx(tmp, project_file)
    try:
        reach_stage(ctx)
        ons = ctx.engine.query(
            "SELECT ons_population FROM reach WHERE level = 'borough' AND dimension = 'all' "
            "AND service = 'any'"
        ).to_pandas()
    finally:
        ctx.engine.close()
    return {"meta": ctx.metadata, "ons": float(ons["ons_population"].iloc[0])}


def test_the_measure_stage_warns_on_an_old_estimate_and_records_it(tmp_path: Path) -> None:
    # reference date 2025-03-31; estimate mid-2020: 4.75 years old, cohorts mostly not shared
    got = _stage_with_population(tmp_path, "  vintage: ONS mid-2020\n  as_at: 2020-06-30\n")
    meta = got["meta"]
    assert isinstance(meta, dict)
    codes = [w["code"] for w in meta["warnings"]]
    assert codes == ["population_vintage"]
    assert "4.8 years before the reference date 2025-03-31" in meta["warnings"][0]["message"]
    assert meta["population"]["as_at"] == "2020-06-30"
    assert meta["population"]["projection"].startswith("population estimates used as published")
    assert got["ons"] == 15.0  # unchanged: A1 2 x 5 + A2 1 x 5


def test_the_measure_stage_projects_with_births_when_asked(tmp_path: Path) -> None:
    # Estimate at 2024-03-31, one year before the reference date: ages 1-4 are the estimate's
    # ages 0-3 (A1: 2 each, A2: 1 each = 12); age 0 comes from births born 1 Apr 2024 -
    # 31 Mar 2025: 2024 contributes 275 of 366 days, 2025 90 of 365 days.
    (tmp_path / "births_by_area.csv").write_text(
        "lsoa,year,n\nA1,2024,366\nA1,2025,365\nA2,2024,0\n"
    )
    block = (
        "  vintage: test\n  as_at: 2024-03-31\n"
        "  projection: age_forward\n"
        "  births: {path: births_by_area.csv, area_column: lsoa, year_column: year,"
        " births_column: n}\n"
    )
    got = _stage_with_population(tmp_path, block)
    meta = got["meta"]
    assert isinstance(meta, dict)
    assert "warnings" not in meta
    assert got["ons"] == pytest.approx(12 + 275 + 90)
    assert "ages [0] from registered births" in meta["population"]["projection"]
