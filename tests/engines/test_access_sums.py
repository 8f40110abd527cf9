"""The access stage's counting in the engine (access.engine_sums): DISTINCT origins out
with their children counted, the point measures back as a working table, and
``access_children`` and the band counts (with the record-key sums the cell-key release
perturbs with) joined in SQL. Hand-counted on a 7-child store, and equal to the per-child
band table it replaces; on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.access import engine_sums
from everyfamily.access.stage import HOME_SQL
from everyfamily.access.tables import band_table, band_table_from_sums
from everyfamily.engines import Engine
from everyfamily.findings.model import FindingsSettings
from everyfamily.privacy.cellkey import child_record_keys

pytestmark = pytest.mark.postgres

LIMITS = [10.0, 20.0, 30.0]
LAT, LON = 53.4, -2.8  # C1 and C2 share this home point

#: person, small area, known, registered, engaged, home record (area, lat, lon) or None
CHILDREN = [
    ("C1", "A1", True, True, True, ("A1", LAT, LON)),
    ("C2", "A1", True, False, False, ("A1", LAT, LON)),
    ("C3", "A1", False, True, False, ("A2", 53.5, -2.9)),  # home recorded in another area
    ("C4", "A2", None, False, True, None),  # no home point: the small area's point
    ("C5", "A2", True, True, True, ("A2", 53.41, -2.81)),  # no site reachable on foot
    ("C6", "A2", False, False, False, ("A2", 53.41, -2.81)),  # known to nobody: not counted
    ("C7", "A3", True, True, False, None),  # no home point, no area point: not placed
]

#: each origin (area, home area, lat, lon) the engine returns, in its order, with the walk
#: band and walking metres of its point (None: the origin is not placed)
ORIGINS = [
    (("A1", "A1", LAT, LON), 2, ("0-10", 300.0)),
    (("A1", "A2", 53.5, -2.9), 1, ("10-20", 1200.0)),  # placed at A1's point
    (("A2", "A2", 53.41, -2.81), 1, (None, np.nan)),
    (("A2", None, None, None), 1, ("0-10", 500.0)),
    (("A3", None, None, None), 1, None),
]


def _keys(*people: str) -> int:
    keys = child_record_keys(pd.Series(list(people)))
    return int(keys.sum())


@pytest.fixture
def store(engine: Engine) -> Engine:
    rows = list(reversed(CHILDREN))  # table order is not person order
    people = [r[0] for r in rows]
    children = pd.DataFrame(
        {
            "person_id": people,
            "area_code": [r[1] for r in rows],
            "in_age_range": True,
            "known": pd.array([r[2] for r in rows], dtype="boolean"),
            "registered": [r[3] for r in rows],
            "engaged": [r[4] for r in rows],
            "record_key": child_record_keys(pd.Series(people)).to_numpy(),
        }
    )
    homes = [(p, r[5]) for p, r in zip(people, rows, strict=True)]
    records = pd.DataFrame(
        {
            "source": "hv",
            "record_id": [f"r-{p}" for p, _ in homes],
            "service_type": "universal",
            "area_code": [h[0] if h else None for _, h in homes],
            "latitude": [h[1] if h else None for _, h in homes],
            "longitude": [h[2] if h else None for _, h in homes],
            "event_date": dt.date(2025, 1, 1),
            "date_of_birth": dt.date(2023, 1, 1),
        }
    ).astype({"area_code": "string", "latitude": "float64", "longitude": "float64"})
    links = pd.DataFrame({"source": "hv", "record_id": records["record_id"], "person_id": people})
    for name, frame in (("children", children), ("records", records), ("links", links)):
        engine.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))
    return engine


def _placed(store: Engine) -> tuple[pa.Table, pd.DataFrame]:
    """The engine's origins, placed by hand (ORIGINS), with their point measures."""
    have = set(store.columns("children"))
    origins = store.query(engine_sums.origins_sql(store, have, HOME_SQL))
    keep = np.array([m is not None for _o, _n, m in ORIGINS])
    measures = pd.DataFrame(
        [
            {
                "nearest_site_walk": None if m[0] is None else "S1",
                "walk_m": m[1],
                "walk_min": m[1] / 80.0,
                "walk_band": m[0],
            }
            for _o, _n, m in ORIGINS
            if m is not None
        ]
    )
    return origins.filter(pa.array(keep)), measures


def test_origins_are_distinct_home_points_with_their_children(store: Engine) -> None:
    have = set(store.columns("children"))
    got = store.query(engine_sums.origins_sql(store, have, HOME_SQL)).to_pandas()
    want = [(*o, n) for o, n, _m in ORIGINS]
    rows = [
        tuple(None if isinstance(v, float) and np.isnan(v) else v for v in r)
        for r in got[[*engine_sums.ORIGIN_KEYS, "n"]].itertuples(index=False)
    ]
    assert rows == want
    assert got["n"].sum() == 6  # C6 is outside the reach population


def test_access_children_and_band_counts_are_joined_in_the_engine(store: Engine) -> None:
    have = set(store.columns("children"))
    origins, measures = _placed(store)
    cols = ["nearest_site_walk", "walk_m", "walk_band"]
    with engine_sums.point_table(store, origins, measures):
        kids = store.query(engine_sums.children_sql(store, have, HOME_SQL, cols)).to_pandas()
        sums = store.query(engine_sums.band_sums_sql(store, have, HOME_SQL, "walk_band"))
    assert not store.has_table(engine_sums.POINTS)  # the working table is dropped
    assert kids["person_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]  # person order
    assert kids["walk_band"].tolist() == ["0-10", "0-10", "10-20", "0-10", None]
    assert kids["walk_m"].tolist()[:4] == [300.0, 300.0, 1200.0, 500.0]
    assert np.isnan(kids["walk_m"].iloc[4])
    by_band = {r["band"]: r for r in sums.to_pylist()}
    assert by_band["0-10"] == {
        "band": "0-10",
        "children": 3,  # C1, C2, C4
        "known": 2,  # C4's is unknown
        "registered": 1,
        "engaged": 2,
        "key_children": _keys("C1", "C2", "C4"),
        "key_registered": _keys("C1"),
        "key_engaged": _keys("C1", "C4"),
    }
    assert by_band["10-20"]["children"] == 1 and by_band["10-20"]["key_engaged"] == 0
    assert by_band[None]["children"] == 1  # C5: no band, counted in none of them
    assert set(by_band) == {"0-10", "10-20", None}


@pytest.mark.parametrize("method", ["cell_key", "suppress_round"])
def test_the_band_table_from_engine_sums_is_the_per_child_table(store: Engine, method: str) -> None:
    have = set(store.columns("children"))
    origins, measures = _placed(store)
    with engine_sums.point_table(store, origins, measures):
        kids = store.query(
            engine_sums.children_sql(store, have, HOME_SQL, ["walk_band"])
        ).to_pandas()
        sums = store.query(
            engine_sums.band_sums_sql(store, have, HOME_SQL, "walk_band")
        ).to_pandas()
    flags = {r[0]: r[2:5] for r in CHILDREN}
    for i, col in enumerate(("known", "registered", "engaged")):
        kids[col] = [bool(flags[p][i]) for p in kids["person_id"]]
    settings = FindingsSettings(release_method=method, suppress_at_or_below=0)
    per_child = band_table(kids, LIMITS, None, driving=False, settings=settings)
    from_sums = band_table_from_sums({"walk": sums}, LIMITS, None, settings=settings)
    pd.testing.assert_frame_equal(from_sums, per_child)
    assert from_sums["children"].tolist() == [3, 1, 0, 0]
