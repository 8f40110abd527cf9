"""The reach table's cell counts run in the engine (reach.engine_sums) and give exactly the
pandas grouping (reach.measure.cell_sums) on every engine: hand-counted on the reach
fixture (tests/reach/fixtures.py), then compared cell by cell, weighted sums included."""

from __future__ import annotations

import functools

import pandas as pd
import pytest

from everyfamily.engines import Engine
from everyfamily.reach.children import ChildParameters, ChildTables, build_children
from everyfamily.reach.engine_sums import FLAGS, MEMBERS, PEOPLE, cell_sums_in_engine
from everyfamily.reach.measure import (
    ReachInputs,
    assign_reach_areas,
    build_reach,
    cell_sums,
    membership_table,
)
from reach.fixtures import (
    AREA_XY,
    HIERARCHY,
    ONS,
    REFERENCE_DATE,
    SITES,
    SITES_XY,
    SMALL_AREAS,
    records_and_links,
)

pytestmark = pytest.mark.postgres

PARAMS = ChildParameters(reference_date=REFERENCE_DATE, min_attendances=3, window_months=12)


@pytest.fixture(scope="module")
def tables() -> ChildTables:
    records, links = records_and_links()
    return build_children(records, links, PARAMS, sites_xy=SITES_XY, area_xy=AREA_XY)


@pytest.fixture(scope="module")
def membership() -> pd.DataFrame:
    return membership_table(
        SMALL_AREAS,
        HIERARCHY,
        small_area_level="lsoa",
        borough_code="E08",
        borough_name="Borough",
        reach_areas=assign_reach_areas(AREA_XY, SITES, SITES_XY),
    )


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    flat = frame.reset_index()
    return flat.sort_values(list(flat.columns)).reset_index(drop=True)


def test_cell_counts_in_the_engine_are_the_hand_counts(
    engine: Engine, tables: ChildTables, membership: pd.DataFrame
) -> None:
    lc, ls = cell_sums_in_engine(engine, tables.children, tables.child_sites, membership, "lsoa")
    # A1: P1, P2, P3 (all known); A2: P4, P5 known, P7 registered only (P6 is 6: out)
    assert lc.loc[("lsoa", "A1", "all", "all")].tolist() == [3, 3]
    assert lc.loc[("lsoa", "A2", "all", "all")].tolist() == [2, 3]
    assert lc.loc[("borough", "E08", "all", "all")].tolist() == [5, 6]
    # female: P1, P3, P5 known; P7 registered only
    assert lc.loc[("borough", "E08", "sex", "female")].tolist() == [3, 4]
    # registered / engaged: any service, and at a site
    assert ls.loc[("lsoa", "A1", "all", "all", "any")].tolist() == [2, 1]  # P1, P2; P1
    assert ls.loc[("lsoa", "A2", "all", "all", "any")].tolist() == [1, 0]  # P7
    assert ls.loc[("borough", "E08", "all", "all", "S1")].tolist() == [2, 1]
    assert ls.loc[("borough", "E08", "all", "all", "S2")].tolist() == [2, 0]  # P2, P7
    assert str(lc["known"].dtype) == "int64" and str(ls["engaged"].dtype) == "int64"
    assert not any(engine.has_table(t) for t in (PEOPLE, FLAGS, MEMBERS))


def test_cell_sums_in_the_engine_equal_the_pandas_grouping(
    engine: Engine, tables: ChildTables, membership: pd.DataFrame
) -> None:
    keyed = tables.children.assign(
        record_key=[(7919 * i) % 1000 for i in range(len(tables.children))]
    )
    for weight in (None, "record_key"):
        got = cell_sums_in_engine(engine, keyed, tables.child_sites, membership, "lsoa", weight)
        want = cell_sums(keyed, tables.child_sites, membership, "lsoa", weight)
        for g, w in zip(got, want, strict=True):
            pd.testing.assert_frame_equal(_sorted(g), _sorted(w), check_dtype=False)


def test_the_reach_table_is_the_same_counted_in_the_engine(
    engine: Engine, tables: ChildTables, membership: pd.DataFrame
) -> None:
    def reach(sums: object) -> pd.DataFrame:
        return build_reach(
            ReachInputs(
                children=tables.children,
                child_sites=tables.child_sites,
                membership=membership,
                ons=ONS,
                sites=("S1", "S2"),
                sums=sums,  # type: ignore[arg-type]
            )
        )

    in_engine = reach(functools.partial(cell_sums_in_engine, engine))
    pd.testing.assert_frame_equal(in_engine, reach(None))
    assert in_engine["denominator"].sum() > 0
