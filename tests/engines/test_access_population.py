"""The access stage's reach population filtered in the engine (access.engine_sums) keeps
exactly the children, in the table's order, that the pandas filter it replaced kept, and
reads home points for those children only: hand-known rows, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.access import engine_sums
from everyfamily.access.stage import CHILD_FIELDS, HOME_SQL
from everyfamily.engines import Engine

#: Spark kept no table order (a table of several files is read largest file first) until
#: its engine wrote one file per table (engines/spark_engine.py ``_save``).

pytestmark = pytest.mark.postgres

#: person, in age range, area, known, registered, engaged; kept by the filter?
ROWS = [
    ("P1", True, "A1", True, False, False, True),
    ("P2", True, "A1", False, True, False, True),
    ("P3", True, "A2", False, False, True, True),
    ("P4", True, "A2", False, False, False, False),  # known to nobody
    ("P5", False, "A1", True, True, True, False),  # too old
    ("P6", None, "A1", True, True, True, False),  # age unknown
    ("P7", True, None, True, True, True, False),  # no small area
    ("P8", True, "A3", None, None, True, True),  # flags partly missing
]


def _pandas_filter(kids: pd.DataFrame) -> pd.DataFrame:
    """The filter access/stage._children applied in pandas before (verbatim)."""
    return kids[
        kids["in_age_range"].fillna(False).astype(bool)
        & kids["area_code"].notna()
        & (
            kids["known"].astype(bool)
            | kids["registered"].astype(bool)
            | kids["engaged"].astype(bool)
        )
    ].reset_index(drop=True)


@pytest.fixture
def store(engine: Engine) -> Engine:
    children = pd.DataFrame(
        [
            {
                "person_id": p,
                "in_age_range": age,
                "area_code": area,
                "known": known,
                "registered": reg,
                "engaged": eng,
                "age_years": 2,
            }
            for p, age, area, known, reg, eng, _ in ROWS
        ]
    ).astype({"in_age_range": "boolean", "known": "boolean", "registered": "boolean"})
    engine.write_table("children", pa.Table.from_pandas(children, preserve_index=False))
    people = [r[0] for r in ROWS]
    records = pd.DataFrame(
        {
            "source": "hv",
            "record_id": [f"r{i}" for i in range(len(people))],
            "service_type": "universal",
            "area_code": "A1",
            "latitude": 53.4,
            "longitude": -2.8,
            "event_date": dt.date(2025, 1, 1),
            "date_of_birth": dt.date(2023, 1, 1),
        }
    )
    links = pd.DataFrame({"source": "hv", "record_id": records["record_id"], "person_id": people})
    engine.write_table("records", pa.Table.from_pandas(records, preserve_index=False))
    engine.write_table("links", pa.Table.from_pandas(links, preserve_index=False))
    return engine


def test_the_population_is_filtered_in_the_engine_as_pandas_did(
    store: Engine, request: pytest.FixtureRequest
) -> None:
    have = set(store.columns("children"))
    got = store.query(engine_sums.population_sql(store, have, CHILD_FIELDS)).to_pandas()
    assert got["person_id"].tolist() == [r[0] for r in ROWS if r[-1]]  # P1, P2, P3, P8
    assert list(got.columns) == list(CHILD_FIELDS)
    assert got["imd_decile"].isna().all()  # a column the table lacks reads as NULL
    whole = store.query("SELECT * FROM children").to_pandas()
    for col in CHILD_FIELDS:
        if col not in whole:
            whole[col] = None
    want = _pandas_filter(whole[list(CHILD_FIELDS)])
    assert got["person_id"].tolist() == want["person_id"].tolist()


def test_home_points_are_read_for_the_population_only(store: Engine) -> None:
    have = set(store.columns("children"))
    homes = store.query(engine_sums.homes_sql(store, have, HOME_SQL)).to_pandas()
    assert sorted(homes["person_id"]) == ["P1", "P2", "P3", "P8"]
    everyone = store.query(store.dialect.portable(HOME_SQL)).to_pandas()
    assert len(everyone) == len(ROWS)
    same = everyone.set_index("person_id").loc[sorted(homes["person_id"])]
    pd.testing.assert_frame_equal(homes.set_index("person_id").sort_index(), same)
