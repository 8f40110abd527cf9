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


def _model_store(engine: Engine, seed: int = 5) -> tuple[pa.Table, pd.DataFrame]:
    """960 children at 20 home points in 4 areas (deprivation by area, one area's unknown);
    registered planted to fall with walking time and deprivation. Returns the placed
    origins and their measures (walk_min)."""
    rng = np.random.default_rng(seed)
    n = 960
    point = rng.integers(0, 20, n)
    walk = np.round(rng.uniform(2, 40, 20), 1)
    imd = np.array([2.0, 5.0, 9.0, np.nan])[point % 4]
    logit = 1.5 - 0.04 * walk[point] - 0.1 * imd
    people = [f"K{i:04d}" for i in range(n)]
    children = pd.DataFrame(
        {
            "person_id": people,
            "area_code": [f"A{p % 4}" for p in point],
            "in_age_range": True,
            "known": True,
            "registered": rng.random(n) < 1 / (1 + np.exp(-np.nan_to_num(logit, nan=0.5))),
            "engaged": False,
            "age_years": rng.integers(0, 5, n),
            "imd_decile": imd,
            "ethnicity_broad": rng.choice(
                ["white", "asian", "black", "mixed"], n, p=[0.8, 0.1, 0.07, 0.03]
            ),
            "main_language": rng.choice(["English", "Polish", None], n, p=[0.85, 0.1, 0.05]),
        }
    )
    records = pd.DataFrame(
        {
            "source": "hv",
            "record_id": [f"r-{p}" for p in people],
            "service_type": "universal",
            "area_code": children["area_code"],
            "latitude": 53.0 + point / 100.0,
            "longitude": -2.0 - point / 100.0,
            "event_date": dt.date(2025, 1, 1),
            "date_of_birth": dt.date(2023, 1, 1),
        }
    )
    links = pd.DataFrame({"source": "hv", "record_id": records["record_id"], "person_id": people})
    for name, frame in (("children", children), ("records", records), ("links", links)):
        engine.write_table(name, pa.Table.from_pandas(frame, preserve_index=False))
    have = set(engine.columns("children"))
    origins = engine.query(engine_sums.origins_sql(engine, have, HOME_SQL))
    lat = np.asarray(origins.column("latitude").to_pylist(), dtype="float64")
    at = np.rint((lat - 53.0) * 100).astype(int)
    return origins, pd.DataFrame({"walk_min": walk[at]})


def test_the_reach_model_on_engine_cells_is_the_per_child_fit(engine: Engine) -> None:
    """Cells of identical covariates with their counts are the binomial rows of the
    per-child likelihood: the same estimates, and each child's expectation its cell's."""
    from everyfamily.access import measures as ms
    from everyfamily.access.stage import CHILD_FIELDS

    origins, measures = _model_store(engine)
    have = set(engine.columns("children"))
    with engine_sums.point_table(engine, origins, measures):
        cells = engine.query(engine_sums.model_cells_sql(engine, have, HOME_SQL)).to_pandas()
        walks = engine.query(
            engine_sums.children_sql(engine, have, HOME_SQL, ["walk_min"])
        ).to_pandas()
    kids = engine.query(engine_sums.population_sql(engine, have, CHILD_FIELDS)).to_pandas()
    kids = engine_sums.in_person_order(kids).merge(walks[["person_id", "walk_min"]])
    assert cells["n"].sum() == len(kids) == 960
    assert len(cells) < len(kids) / 2  # what leaves the engine: cells, not children
    for with_access in (True, False):
        per_child = ms.expected_reach(kids, with_access=with_access)
        from_cells = ms.expected_reach(cells, with_access=with_access, cells=True)
        assert per_child.converged and from_cells.converged
        assert from_cells.n == per_child.n == 960
        assert from_cells.terms == per_child.terms
        assert from_cells.coefficients == per_child.coefficients  # rounded to 1e-6: equal
        assert from_cells.bse == per_child.bse
        # each child's expectation is its cell's
        key = ["walk_min", "imd_decile", "age_years", "ethnicity_broad", "main_language"]
        cell_e = cells[key].assign(e=from_cells.expected).astype({"imd_decile": "float64"})
        child = kids[key].astype({"imd_decile": "float64"}).merge(cell_e, how="left")
        np.testing.assert_allclose(child["e"], per_child.expected, rtol=0, atol=1e-12)
        if with_access:  # the planted effect: reach falls with walking time
            assert from_cells.coefficients["log_walk_min"] < 0


def test_binomial_rows_and_one_row_per_child_give_the_same_estimates() -> None:
    """The method under both paths: a GLM on (successes, failures) per covariate pattern
    and a Bernoulli GLM on one row per child maximise the same likelihood (their
    estimates agree to 1e-9 when both are iterated to convergence)."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    from everyfamily.access.measures import _design

    rng = np.random.default_rng(11)
    n = 3000
    kids = pd.DataFrame(
        {
            "walk_min": rng.integers(1, 31, n).astype("float64"),
            "imd_decile": rng.choice([2, 5, 9], n),
            "age_years": rng.integers(0, 5, n),
        }
    )
    p = 1 / (1 + np.exp(-(1.0 - 0.5 * np.log1p(kids["walk_min"]) + 0.05 * kids["imd_decile"])))
    y = (rng.random(n) < p).astype("float64")
    x, _terms = _design(kids, with_access=True)
    xa = x.to_numpy(dtype="float64")
    patterns, inverse = np.unique(xa, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    succ = np.bincount(inverse, weights=y)
    tot = np.bincount(inverse).astype("float64")
    grouped = GLM(np.column_stack([succ, tot - succ]), patterns, family=families.Binomial())
    per_child = GLM(y, xa, family=families.Binomial())
    a = grouped.fit(tol=1e-14, maxiter=200).params
    b = per_child.fit(tol=1e-14, maxiter=200).params
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    assert len(patterns) < n / 5


def _area_cells_and_children(
    engine: Engine, origins: pa.Table, measures: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine's per-area cells over the point measures, and the same children one row
    each with their measures (what the per-child path read), ``registered`` as bool."""
    from everyfamily.access.stage import CHILD_FIELDS

    have = set(engine.columns("children"))
    cols = list(engine_sums.AREA_MEASURES)
    with engine_sums.point_table(engine, origins, measures):
        cells = engine.query(engine_sums.area_cells_sql(engine, have, HOME_SQL)).to_pandas()
        placed = engine.query(engine_sums.children_sql(engine, have, HOME_SQL, cols)).to_pandas()
    kids = engine.query(engine_sums.population_sql(engine, have, CHILD_FIELDS)).to_pandas()
    kids = engine_sums.in_person_order(kids).merge(placed.drop(columns="area_code"))
    kids["registered"] = kids["registered"].astype(bool)
    return cells, kids


def test_the_area_table_from_engine_cells_is_the_per_child_table(engine: Engine) -> None:
    """Per small area from the engine's cells: children, registered, medians and the most
    common site exactly as per child; means and expected sums to float rounding."""
    from everyfamily.access import measures as ms
    from everyfamily.access.tables import area_table, area_table_from_cells

    origins, measures = _model_store(engine)
    rng = np.random.default_rng(2)
    k = len(measures)
    measures = measures.assign(
        walk_m=measures["walk_min"] * 80.0,
        detour_ratio=np.where(rng.random(k) < 0.1, np.nan, rng.uniform(1.0, 2.5, k)),
        nearest_site_walk=rng.choice(["S1", "S2", "S3"], k),
        access_2sfca_per_1000=rng.uniform(0.1, 3.0, k),
    )
    cells, kids = _area_cells_and_children(engine, origins, measures)
    kids["expected_full"] = ms.expected_reach(kids, with_access=True).expected
    expected = ms.expected_reach(cells, with_access=True, cells=True).expected
    names = pd.DataFrame({"area_code": ["A0", "A1", "A2", "A3"], "area_name": list("wxyz")})
    per_child = area_table(kids, names, LIMITS, None)
    from_cells = area_table_from_cells(cells, expected, names, LIMITS, None)
    assert list(from_cells.columns) == list(per_child.columns)
    exact = ["area_code", "area_name", "children", "registered", "median_walk_m"]
    exact += ["median_walk_min", "median_detour_ratio", "nearest_site_walk", "walk_band"]
    pd.testing.assert_frame_equal(from_cells[exact], per_child[exact], check_dtype=False)
    for col in ("access_2sfca_per_1000", "expected", "expected_rate"):
        np.testing.assert_array_equal(from_cells[col], per_child[col])
    # z divides by sqrt(sum p(1 - p)), which the per-child table sums pairwise (not
    # compensated): equal to the last bit or two (where O = E it is 0 +- 1e-14)
    np.testing.assert_allclose(from_cells["residual_z"], per_child["residual_z"], atol=1e-9)
    assert from_cells["children"].sum() == 960


def test_barrier_side_tests_on_engine_cells_are_the_per_child_tests(engine: Engine) -> None:
    """The barrier side test (access.barriers.side_tests) on the engine's per-area cells,
    with the composition model fitted on those cells, is the per-child test exactly: the
    same children and registered counted, z and p, medians of walk and detour, and the
    composition-expected rates; and those counts are the children the store holds."""
    from shapely.geometry import LineString

    from everyfamily.access import barriers as br
    from everyfamily.access import measures as ms

    origins, measures = _model_store(engine)
    rng = np.random.default_rng(8)
    k = len(measures)
    measures = measures.assign(
        walk_m=measures["walk_min"] * 80.0,
        detour_ratio=np.where(rng.random(k) < 0.1, np.nan, rng.uniform(1.0, 2.5, k)),
        nearest_site_walk="S1",
        access_2sfca_per_1000=rng.uniform(0.1, 3.0, k),
    )
    cells, kids = _area_cells_and_children(engine, origins, measures)
    kids["expected_composition"] = ms.expected_reach(kids, with_access=False).expected
    comp = ms.expected_reach(cells, with_access=False, cells=True)
    cells["expected_composition"] = comp.expected
    # a motorway at x = 500 m between A0, A1 (west, with the only site) and A2, A3 (east)
    bar = br.Barrier("M1", "M1", "motorway", LineString([(500, -3000), (500, 3000)]), 6000.0, ())
    areas = pd.DataFrame({"area_code": ["A0", "A1", "A2", "A3"], "x": [0.0, 200, 800, 1000]})
    areas["y"] = 0.0
    site = pd.DataFrame({"site_id": ["S1"], "x": [-100.0], "y": [0.0]})

    def tests(frame: pd.DataFrame) -> list[br.SideTest]:
        return br.side_tests([bar], areas, site, frame, buffer_m=1500, max_crossings_per_km=2)

    (per_child,) = tests(kids)
    (from_cells,) = tests(cells)
    assert len(cells) < len(kids) / 2  # what left the engine: cells, not children
    assert from_cells == per_child
    # the children the store holds on the cut-off side (east), counted here by hand
    east = kids[kids["area_code"].isin(["A2", "A3"])]
    assert per_child.cut_off == ("A2", "A3") and per_child.other == ("A0", "A1")
    assert per_child.n_cut == len(east) and per_child.x_cut == int(east["registered"].sum())
    assert per_child.direction == "east"
    assert per_child.walk_cut_m == float(np.median(east["walk_m"]))


def test_origins_are_placed_and_their_children_counted_per_point(store: Engine) -> None:
    """access.points.load_origins: the engine's distinct origins placed as a child is
    (home point in the child's area, else the area's point, else not placed), and the
    children at each distinct point counted: what the matrix, the 2SFCA demand and the
    network check read instead of a row per child (hand-counted on the 7-child store)."""
    from everyfamily.access import points as pt

    small_xy = pd.DataFrame({"area_code": ["A1", "A2"], "x": [1.0, 2.0], "y": [10.0, 20.0]})

    def to_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(lon) * 1000.0, np.asarray(lat) * 1000.0

    o = pt.load_origins(store, HOME_SQL, small_xy, to_xy)
    # C1+C2 at their home, C3 (home in A2, child in A1) at A1's point, C4 (no home) at A2's,
    # C5 at its home; C6 is known to nobody, C7 has no point at all
    assert o.children == 5 and o.table.num_rows == 4
    demand = dict(zip(map(tuple, o.pts.tolist()), o.demand.tolist(), strict=True))
    assert demand == {
        (LON * 1000.0, LAT * 1000.0): 2.0,
        (1.0, 10.0): 1.0,
        (2.0, 20.0): 1.0,
        (-2.81 * 1000.0, 53.41 * 1000.0): 1.0,
    }
    # each origin's point is its own x, y
    np.testing.assert_array_equal(o.pts[o.at], np.column_stack([o.x, o.y]))
