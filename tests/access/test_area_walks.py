"""The centres nearest on foot from an area's middle (access/area_walks.py), on a hand-made
street network where the nearest in a straight line is the farthest on foot."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from everyfamily.access import measures as ms
from everyfamily.access.area_walks import (
    k_nearest,
    level_middles,
    level_walks,
    nearest_sites_on_foot,
    walk_columns,
)
from everyfamily.access.network import walking_graph

CRS = "EPSG:27700"
X0, Y0 = 340_000.0, 390_000.0

#   P (0,400) ---------- R (1000,400)
#                         |
#   A (0,0) ------------ Q (1000,0) ------------------- S (3000,0)
# No street joins A to P directly: P is 400 m from A as the crow flies, 2,400 m on foot.
STREETS = [
    [(0, 0), (1000, 0)],
    [(1000, 0), (1000, 400)],
    [(1000, 400), (0, 400)],
    [(1000, 0), (3000, 0)],
]
SITES = {"P": (0, 400), "Q": (1000, 0), "R": (1000, 400), "S": (3000, 0)}


def _graph() -> object:
    lines = gpd.GeoDataFrame(
        {
            "road_class": ["residential"] * len(STREETS),
            "name": [""] * len(STREETS),
            "walkable": [True] * len(STREETS),
            "drivable": [True] * len(STREETS),
        },
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in s]) for s in STREETS],
        crs=CRS,
    )
    return walking_graph(lines)


def _sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": list(SITES),
            "x": [X0 + x for x, _y in SITES.values()],
            "y": [Y0 + y for _x, y in SITES.values()],
        }
    )


def test_the_nearest_centres_on_foot_by_hand() -> None:
    sites = _sites()
    area = pd.DataFrame({"area_code": ["A"], "x": [X0], "y": [Y0]})
    got = nearest_sites_on_foot(_graph(), area, sites, speed_kmh=4.8)
    assert list(got.columns) == ["area_code", *walk_columns()]
    row = got.iloc[0]
    # on foot: Q 1,000 m, R 1,400 m, P 2,400 m (S, 3,000 m, is fourth); at 4.8 km/h
    # (80 m a minute): 12.5, 17.5 and 30 minutes. In a straight line P (400 m) comes first.
    assert [row[f"walk_site_{i}"] for i in (1, 2, 3)] == ["Q", "R", "P"]
    assert [row[f"walk_m_{i}"] for i in (1, 2, 3)] == pytest.approx([1000, 1400, 2400])
    assert [row[f"walk_min_{i}"] for i in (1, 2, 3)] == pytest.approx([12.5, 17.5, 30.0])


def test_unreachable_sites_are_left_out_and_ties_keep_the_listed_order() -> None:
    inf = np.inf
    m = ms.Matrix(
        network_m=np.array([[500.0, inf, 200.0, 500.0], [inf, inf, inf, inf]]),
        straight_m=np.ones((2, 4)),
        site_ids=("a", "b", "c", "d"),
    )
    assert k_nearest(m, 3) == [[("c", 200.0), ("a", 500.0), ("d", 500.0)], []]
    assert k_nearest(m, 1) == [[("c", 200.0)], []]


def test_a_ward_walks_from_the_middle_of_its_small_areas_together() -> None:
    """Ward W1 is two small areas, each with its middle off A; together they are a square
    centred on A, so the ward walks from A: Q, R, P (1,000, 1,400, 2,400 m), as by hand
    above. Ward W2 is one small area centred on S: S (0 m), Q (2,000 m), R (2,400 m). A
    small area with no ward code belongs to no ward."""
    squares = [(-50, -50, 0, 50), (0, -50, 50, 50), (2950, -50, 3050, 50), (500, 500, 600, 600)]
    small = gpd.GeoDataFrame(
        {"area_code": ["a1", "a2", "s1", "x1"]},
        geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in squares],
        crs=CRS,
    ).to_crs("EPSG:4326")  # as the access stage holds them: projected here
    hierarchy = pd.DataFrame(
        {
            "area_code": ["a1", "a2", "s1", "x1"],
            "ward": ["W1", "W1", "W2", ""],
            "ward_name": ["One", "One", "Two", ""],
        }
    )
    middles = level_middles(small, hierarchy, CRS)
    assert list(middles["area_code"]) == ["W1", "W2"]
    assert list(middles["level"]) == ["ward", "ward"]
    assert middles[["x", "y"]].to_numpy() - [X0, Y0] == pytest.approx(
        np.array([[0.0, 0.0], [3000.0, 0.0]]), abs=0.01
    )
    got = level_walks(_graph(), small, hierarchy, CRS, _sites(), speed_kmh=4.8)
    assert list(got.columns) == ["level", "area_code", *walk_columns()]
    w1, w2 = got.iloc[0], got.iloc[1]
    assert [w1[f"walk_site_{i}"] for i in (1, 2, 3)] == ["Q", "R", "P"]
    assert [w1[f"walk_m_{i}"] for i in (1, 2, 3)] == pytest.approx([1000, 1400, 2400], abs=0.1)
    assert [w2[f"walk_site_{i}"] for i in (1, 2, 3)] == ["S", "Q", "R"]
    assert [w2[f"walk_m_{i}"] for i in (1, 2, 3)] == pytest.approx([0, 2000, 2400], abs=0.1)
    assert [w2[f"walk_min_{i}"] for i in (1, 2, 3)] == pytest.approx([0, 25, 30], abs=0.01)
    # no larger level: nothing to walk from
    none = level_walks(_graph(), small, hierarchy[["area_code"]], CRS, _sites(), 4.8)
    assert none.empty
