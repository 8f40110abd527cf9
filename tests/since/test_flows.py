"""Changes since the last run (since.flows) on two runs small enough to count by hand:
nine children, two small areas in one borough, every kind of change once or twice."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from everyfamily.privacy.cellkey import child_record_keys
from everyfamily.since import flows

D = dt.date
R0 = D(2026, 2, 28)
COLS = ["person_id", "area_code", "in_age_range", "known", "registered", "engaged"]


def _children(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*COLS, "month_of_birth"])


#   a: S1 both runs, engaged then, not now (lapsed)      b: S1 -> S2, registered now
#   c: S2, past the age range now (aged out)              d: S2, moved out of the borough now
#   e: S1, id gone from this run's table (relinked)       f: S2, not known then, known now
#   g: born after R0 in S1, registered                    h: S2, new to the records
#   i: in this run's table without a small area (not counted)
PREVIOUS = _children(
    [
        ("a", "S1", True, True, True, True, D(2023, 1, 1)),
        ("b", "S1", True, True, False, False, D(2024, 5, 1)),
        ("c", "S2", True, True, True, False, D(2021, 3, 1)),
        ("d", "S2", True, True, False, False, D(2022, 7, 1)),
        ("e", "S1", True, True, False, False, D(2024, 9, 1)),
        ("f", "S2", True, False, True, False, D(2024, 2, 1)),
    ]
)
CURRENT = _children(
    [
        ("a", "S1", True, True, True, False, D(2023, 1, 1)),
        ("b", "S2", True, True, True, False, D(2024, 5, 1)),
        ("c", "S2", False, True, True, False, D(2021, 3, 1)),
        ("d", "S2", True, True, False, False, D(2022, 7, 1)),
        ("f", "S2", True, True, True, False, D(2024, 2, 1)),
        ("g", "S1", True, True, True, False, D(2026, 3, 1)),
        ("h", "S2", True, True, False, False, D(2025, 1, 1)),
        ("i", None, True, True, False, False, D(2025, 6, 1)),
    ]
)
MEMBERSHIP = pd.DataFrame(
    {
        "level": ["lsoa", "lsoa", "borough", "borough"],
        "area_code": ["S1", "S2", "B", "B"],
        "small_area": ["S1", "S2", "S1", "S2"],
    }
)
EXPECTED = {  # hand-counted from the table above
    ("lsoa", "S1"): dict(
        previous=3, born=1, arrived=0, moved_in=0, moved_out=1, aged_out=0, left=0,
        relinked=1, current=2, newly_registered=1, lapsed=1, away=0, reach_known=2,
    ),
    ("lsoa", "S2"): dict(
        previous=2, born=0, arrived=2, moved_in=1, moved_out=0, aged_out=1, left=1,
        relinked=0, current=3, newly_registered=1, lapsed=0, away=1, reach_known=4,
    ),
    ("borough", "B"): dict(
        previous=5, born=1, arrived=2, moved_in=0, moved_out=0, aged_out=1, left=1,
        relinked=1, current=5, newly_registered=2, lapsed=1, away=1, reach_known=6,
    ),
}  # fmt: skip
# away: d, placed in S2 by the measure stage (known, in range) but moved out of the borough;
# reach_known: the measure stage's known population, S1 {a, g}, S2 {b, d, f, h} (c aged out)


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    changes = flows.child_changes(PREVIOUS, CURRENT, R0, away_now=frozenset({"d"}))
    return flows.change_counts(changes, MEMBERSHIP).set_index(["level", "area_code"])


def test_every_kind_of_change_is_counted_as_by_hand(counts: pd.DataFrame) -> None:
    got = {k: {c: int(counts.loc[k, c]) for c in flows.COUNTS} for k in EXPECTED}
    assert got == EXPECTED


def test_previous_plus_joined_minus_left_is_current_in_every_area(counts: pd.DataFrame) -> None:
    table = counts.reset_index()
    assert flows.reconciles(table).all()
    # one child too many leaving S1 breaks S1's reconciliation, and only S1's
    broken = table.assign(left=table["left"] + (table["area_code"] == "S1").astype(int))
    assert list(flows.reconciles(broken)) == list(table["area_code"] != "S1")


def test_each_count_carries_the_record_keys_of_exactly_its_children(
    counts: pd.DataFrame,
) -> None:
    keys = child_record_keys(pd.Series(list("abcdefghi"))).set_axis(list("abcdefghi"))
    assert counts.loc[("borough", "B"), "born_key"] == keys["g"]
    assert counts.loc[("borough", "B"), "arrived_key"] == keys["f"] + keys["h"]
    assert counts.loc[("lsoa", "S1"), "moved_out_key"] == keys["b"]
    assert counts.loc[("borough", "B"), "current_key"] == keys[list("abfgh")].sum()


def test_a_child_away_then_and_now_is_counted_in_neither_run() -> None:
    changes = flows.child_changes(
        PREVIOUS, CURRENT, R0, away_then=frozenset({"d"}), away_now=frozenset({"d"})
    )
    got = flows.change_counts(changes, MEMBERSHIP).set_index(["level", "area_code"])
    assert got.loc[("lsoa", "S2"), "previous"] == 1
    assert got.loc[("lsoa", "S2"), "left"] == 0
    # d is only where reach.csv places them: away, in neither run's count
    d = changes.set_index("person_id").loc["d"]
    assert pd.isna(d["prev_area"]) and pd.isna(d["curr_area"]) and d["away_area"] == "S2"


def test_current_plus_away_is_the_known_population_of_reach(counts: pd.DataFrame) -> None:
    table = counts.reset_index()
    assert flows.agrees_with_reach(table).all()
    broken = table.assign(away=table["away"] + (table["area_code"] == "S2").astype(int))
    assert list(flows.agrees_with_reach(broken)) == list(table["area_code"] != "S2")


def test_moved_away_is_a_latest_record_outside_the_small_areas() -> None:
    latest = pd.DataFrame({"person_id": ["a", "b", "c"], "area_code": ["S1", None, "X9"]})
    assert flows.moved_away(latest, {"S1", "S2"}) == frozenset({"b", "c"})


def test_history_rows_are_aggregates_of_the_children_counted() -> None:
    rows = flows.history_rows(CURRENT, MEMBERSHIP, D(2026, 3, 31), away=frozenset({"d"}))
    got = {
        (r.level, r.area_code): (r.known, r.registered, r.engaged)
        for r in rows.itertuples(index=False)
    }
    assert got == {
        ("lsoa", "S1"): (2, 2, 0),
        ("lsoa", "S2"): (3, 2, 0),
        ("borough", "B"): (5, 4, 0),
    }
    assert set(rows["reference_date"]) == {"2026-03-31"}
    assert "person_id" not in rows.columns


def test_a_children_table_without_a_needed_column_is_refused() -> None:
    with pytest.raises(ValueError, match="engaged"):
        flows.child_changes(PREVIOUS.drop(columns="engaged"), CURRENT, R0)
