"""The services stage's linked records joined and filtered in the engine
(services.stage.linked_records): the same rows the pandas merge and filter it replaced kept,
hand-known, on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.engines import Engine
from everyfamily.services.stage import linked_records

pytestmark = pytest.mark.postgres

D1, D2 = dt.date(2025, 5, 1), dt.date(2025, 9, 1)

#: source, record id, role (None: the source names the service), event date, person
RECORDS = [
    ("hv", "h1", "health_visiting", D1, "P1"),
    ("hv", "h2", None, D2, "P1"),  # no role: the service is the source
    ("cc", "c1", "registrations", None, "P2"),
    ("cc", "c2", "attendances", D2, "P3"),  # P3 is too old
    ("cc", "c3", "attendances", D1, None),  # linked to nobody
]


@pytest.fixture
def store(engine: Engine) -> Engine:
    records = pd.DataFrame(
        [
            {"source": s, "record_id": r, "role": role, "event_date": d, "latitude": 53.4}
            for s, r, role, d, _p in RECORDS
        ]
    ).astype({"role": "string"})
    links = pd.DataFrame(
        [{"source": s, "record_id": r, "person_id": p} for s, r, _r, _d, p in RECORDS if p]
    )
    children = pd.DataFrame(
        {
            "person_id": ["P3", "P2", "P1"],
            "in_age_range": pd.array([False, True, True], dtype="boolean"),
            "area_code": "A1",
        }
    )
    for name, frame in (("records", records), ("links", links), ("children", children)):
        engine.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))
    return engine


def _before(engine: Engine) -> pd.DataFrame:
    """What services_stage did in pandas (verbatim but for the reading)."""
    records = engine.query("SELECT source, record_id, role, event_date FROM records").to_pandas()
    links = engine.query("SELECT source, record_id, person_id FROM links").to_pandas()
    children = engine.query("SELECT person_id, in_age_range FROM children").to_pandas()
    children = children[children["in_age_range"].fillna(False).astype(bool)]
    linked = records.merge(links, on=["source", "record_id"])
    linked["service"] = linked["role"].where(linked["role"].notna(), linked["source"])
    return linked[linked["person_id"].isin(children["person_id"])]


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return sorted(
        (str(p), str(s), pd.Timestamp(d) if pd.notna(d) else None)
        for p, s, d in frame[["person_id", "service", "event_date"]].itertuples(index=False)
    )


def test_linked_records_are_joined_and_filtered_in_the_engine(store: Engine) -> None:
    got = linked_records(store)
    assert list(got.columns) == ["person_id", "service", "event_date"]
    assert _rows(got) == [
        ("P1", "health_visiting", pd.Timestamp(D1)),
        ("P1", "hv", pd.Timestamp(D2)),
        ("P2", "registrations", None),
    ]
    assert _rows(got) == _rows(_before(store))
