"""Reach at every quarter end in one statement (trends.periods), on a store small enough to
count by hand: five children, two small areas, three quarter ends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.engines import open_engine
from everyfamily.trends.periods import (
    PeriodQuery,
    age_band,
    coverage_start,
    periods_sql,
    quarter_ends,
    window_start,
)

D = dt.date


def test_quarter_ends_are_the_last_n_on_or_before_the_reference_date() -> None:
    assert quarter_ends(D(2026, 3, 31), 3) == (D(2025, 9, 30), D(2025, 12, 31), D(2026, 3, 31))
    # a reference date inside a quarter starts from the quarter end before it
    assert quarter_ends(D(2026, 2, 14), 2) == (D(2025, 9, 30), D(2025, 12, 31))
    assert quarter_ends(D(2024, 1, 1), 1) == (D(2023, 12, 31),)
    assert len(quarter_ends(D(2026, 3, 31), 12)) == 12
    assert quarter_ends(D(2026, 3, 31), 12)[0] == D(2023, 6, 30)


def test_window_start_is_the_first_day_not_in_the_window() -> None:
    assert window_start(D(2026, 3, 31), 12) == D(2025, 3, 31)
    assert window_start(D(2025, 12, 31), 6) == D(2025, 6, 30)


def test_coverage_starts_at_the_first_month_with_a_steady_flow() -> None:
    months = pd.date_range("2024-01-01", "2024-12-01", freq="MS")
    n = [1, 0, 2, 40, 50, 45, 50, 48, 52, 50, 49, 51]  # a stray date, then a part month
    got = coverage_start(pd.DataFrame({"month": months, "n": n}), share=0.25)
    assert got == D(2024, 4, 1)
    assert coverage_start(pd.DataFrame({"month": [], "n": []})) is None


def test_age_band_keeps_only_ages_whose_births_are_covered() -> None:
    # births from 1 April 2021; first period 30 June 2023: children aged 1 then were born
    # from 1 July 2021 (covered), aged 2 from 1 July 2020 (not)
    assert age_band(0, 4, D(2023, 6, 30), D(2021, 4, 1)) == (0, 1)
    assert age_band(0, 4, D(2023, 6, 30), D(2010, 1, 1)) == (0, 4)
    assert age_band(0, 4, D(2023, 6, 30), None) == (0, 4)
    assert age_band(0, 4, D(2023, 6, 30), D(2023, 1, 1)) is None


def _store() -> object:
    """Five children (see the module docstring of the test for the hand counts)."""
    e = open_engine("duckdb")
    rec = pd.DataFrame(
        [
            # source, record_id, role, service_type, area, event_date, date_of_birth, site
            ("b", "1", "births", "universal", "A1", None, "2025-02-10", None),
            ("r", "1", "registrations", "targeted", "A1", "2025-11-15", "2025-02-10", "S1"),
            ("a", "1", "attendances", "targeted", "A1", "2025-12-01", "2025-02-10", "S1"),
            ("a", "2", "attendances", "targeted", "A1", "2026-01-10", "2025-02-10", "S1"),
            ("b", "2", "births", "universal", "A1", None, "2024-03-20", None),
            ("h", "2", "health_visiting", "universal", "A2", "2025-10-05", "2024-03-20", None),
            ("b", "3", "births", "universal", "A2", None, "2025-11-05", None),
            ("r", "4", "registrations", "targeted", "A2", "2025-08-01", "2024-06-01", "S2"),
            ("b", "5", "births", "universal", "A1", None, "2020-05-01", None),
        ],
        columns=[
            "source", "record_id", "role", "service_type", "area_code", "event_date",
            "date_of_birth", "site",
        ],
    )  # fmt: skip
    for c in ("event_date", "date_of_birth"):
        rec[c] = pd.to_datetime(rec[c]).dt.date
    person = {("b", "1"): "P1", ("r", "1"): "P1", ("a", "1"): "P1", ("a", "2"): "P1"}
    person |= {("b", "2"): "P2", ("h", "2"): "P2", ("b", "3"): "P3", ("r", "4"): "P4"}
    person |= {("b", "5"): "P5"}
    links = pd.DataFrame(
        [(s, r, p) for (s, r), p in person.items()], columns=["source", "record_id", "person_id"]
    )
    children = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4", "P5"],
            "month_of_birth": pd.to_datetime(
                ["2025-02-01", "2024-03-01", "2025-11-01", "2024-06-01", "2020-05-01"]
            ).date,
            "record_key": [1, 10, 100, 1000, 10000],
            "ethnicity_broad": ["white", "asian", None, "white", "white"],
        }
    )
    membership = pd.DataFrame(
        {
            "level": ["lsoa", "lsoa", "borough", "borough"],
            "area_code": ["A1", "A2", "B", "B"],
            "small_area": ["A1", "A2", "A1", "A2"],
        }
    )
    for name, frame in (
        ("records", rec),
        ("links", links),
        ("children", children),
        ("area_membership", membership),
    ):
        e.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))
    return e


@pytest.fixture
def counted() -> pd.DataFrame:
    e = _store()
    q = PeriodQuery(
        period_ends=quarter_ends(D(2026, 3, 31), 3),
        window_months=6,
        min_attendances=2,
        min_age=0,
        max_age=1,
        dimensions=("ethnicity_broad",),
        group_level="borough",
    )
    sql, params = periods_sql(q, e.dialect.quote_ident)  # type: ignore[attr-defined]
    try:
        return e.query(e.dialect.portable(sql), params).to_pandas()  # type: ignore[attr-defined]
    finally:
        e.close()  # type: ignore[attr-defined]


def _counts(t: pd.DataFrame, level: str, area: str, dim: str = "all", group: str = "all",
            service: str = "any") -> list[list[float]]:  # fmt: skip
    rows = t[
        (t["level"] == level)
        & (t["area_code"] == area)
        & (t["dimension"] == dim)
        & (t["group_value"] == group)
        & (t["service"] == service)
    ].sort_values("period_index")
    cols = ["period_index", "denominator", "known", "registered", "engaged"]
    return rows[cols].astype("float64").fillna(-1).to_numpy().tolist()


def test_each_period_counts_children_as_at_its_end(counted: pd.DataFrame) -> None:
    # Q1 30 Sep 2025: P1 (0, known) and P2 (1, known) in A1; P4 (1, registered) in A2;
    # P3 not yet born, P5 aged 5. Q2: P1 registered (one attendance: not engaged); P2 moved
    # to A2 (the health visitor's record is newer); P3 born in A2. Q3: P1 engaged (two
    # attendances in the 6-month window); P2 turned 2 (March birthday) and left the band.
    assert _counts(counted, "lsoa", "A1") == [[0, 2, 2, 0, 0], [1, 1, 1, 1, 0], [2, 1, 1, 1, 1]]
    assert _counts(counted, "lsoa", "A2") == [[0, 1, 0, 1, 0], [1, 3, 2, 1, 0], [2, 2, 1, 1, 0]]
    assert _counts(counted, "borough", "B") == [
        [0, 3, 2, 1, 0],
        [1, 4, 3, 2, 0],
        [2, 3, 2, 2, 1],
    ]


def test_groups_at_the_group_level_and_sites(counted: pd.DataFrame) -> None:
    assert _counts(counted, "borough", "B", "ethnicity_broad", "white")[-1] == [2, 2, 1, 2, 1]
    assert _counts(counted, "borough", "B", "ethnicity_broad", "unknown")[-1] == [2, 1, 1, 0, 0]
    assert counted[(counted["level"] == "lsoa") & (counted["dimension"] != "all")].empty
    # sites: registered there by the period end, engaged there in the window (no denominator)
    assert _counts(counted, "borough", "B", service="S1") == [[1, -1, -1, 1, 0], [2, -1, -1, 1, 1]]
    assert _counts(counted, "borough", "B", service="S2") == [
        [0, -1, -1, 1, 0],
        [1, -1, -1, 1, 0],
        [2, -1, -1, 1, 0],
    ]


def test_record_key_sums_are_of_exactly_the_children_counted(counted: pd.DataFrame) -> None:
    b = counted[
        (counted["level"] == "borough")
        & (counted["dimension"] == "all")
        & (counted["service"] == "any")
    ].sort_values("period_index")
    # Q3: P1 (1), P3 (100), P4 (1000); known P1 + P3; registered P1 + P4; engaged P1
    last = b.iloc[-1]
    assert [int(last[c]) for c in ("denominator_key", "known_key", "registered_key")] == [
        1101,
        101,
        1001,
    ]
    assert int(last["engaged_key"]) == 1


def test_settings_refuse_a_test_longer_than_the_periods() -> None:
    from pydantic import ValidationError

    from everyfamily.config import TrendsSettings

    assert TrendsSettings().periods == 12 and TrendsSettings().test_periods == 5
    with pytest.raises(ValidationError, match="test_periods"):
        TrendsSettings(periods=4, test_periods=5)
