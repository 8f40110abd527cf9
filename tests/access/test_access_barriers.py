"""The barrier detector on a hand-made town: a street grid cut by a motorway crossed at two
bridges, centres on the west side only. A planted drop east of the motorway is found; the
same town with no drop, a drop explained by deprivation, or a motorway with many crossings
gives no finding."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from everyfamily.access import barriers as br
from everyfamily.access import measures as ms
from everyfamily.access.network import lines_from_layer, walking_graph
from everyfamily.config import AccessSettings, NetworkFile
from everyfamily.findings.model import FindingsSettings

SETTINGS = AccessSettings(networks=[NetworkFile(path=Path("x.gpkg"))])
TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform
#: The town sits in Knowsley's corner of the grid (metres east and north of this origin).
X0, Y0 = 340_000.0, 390_000.0


def town(*, bridges: tuple[float, ...] = (-1000.0, 1000.0)) -> gpd.GeoDataFrame:
    """Streets every 100 m over x 0-2000, y -1000..1000; a motorway along x = 1000 from
    y = -3000 to 3000; east-west streets cross it only at the ``bridges`` (y values)."""
    segs: list[tuple[str, str, list[tuple[float, float]]]] = []
    for x in np.arange(0, 2001, 100.0):
        if x != 1000.0:  # no street runs on the motorway
            segs.append(("residential", "", [(x, -1000.0), (x, 1000.0)]))
    for y in np.arange(-1000, 1001, 100.0):
        if y in bridges:
            segs.append(("residential", "", [(0.0, y), (2000.0, y)]))
        else:
            segs.append(("residential", "", [(0.0, y), (900.0, y)]))
            segs.append(("residential", "", [(1100.0, y), (2000.0, y)]))
    segs.append(("motorway", "M99", [(1000.0, -3000.0), (1000.0, 3000.0)]))
    # split the north-south streets at every cross street so the grid joins at nodes
    pieces = []
    for cls, name, pts in segs:
        (ax, ay), (bx, by) = pts
        if cls == "residential" and ax == bx:
            ys = np.arange(ay, by + 1, 100.0)
            pieces += [(cls, name, [(ax, a), (ax, b)]) for a, b in itertools.pairwise(ys)]
        elif cls == "residential":
            xs = np.arange(ax, bx + 1, 100.0)
            pieces += [(cls, name, [(a, ay), (b, ay)]) for a, b in itertools.pairwise(xs)]
        else:
            pieces.append((cls, name, pts))
    frame = gpd.GeoDataFrame(
        {"highway": [p[0] for p in pieces], "ref": [p[1] for p in pieces]},
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in p[2]]) for p in pieces],
        crs="EPSG:27700",
    )
    return lines_from_layer(
        frame, class_column="highway", name_column="ref", settings=SETTINGS, crs="EPSG:27700"
    )


SITES = pd.DataFrame(
    {"site_id": ["W1", "W2"], "x": [X0 + 400.0, X0 + 400.0], "y": [Y0 - 500.0, Y0 + 500.0]}
)


def areas() -> pd.DataFrame:
    """100 areas: 200 m squares, their points at the square centres."""
    xs = np.arange(100, 2000, 200.0)
    ys = np.arange(-900, 1000, 200.0)
    gx, gy = np.meshgrid(xs, ys)
    return pd.DataFrame(
        {
            "area_code": [f"A{i:03d}" for i in range(gx.size)],
            "x": X0 + gx.ravel(),
            "y": Y0 + gy.ravel(),
        }
    )


def children(
    lines: gpd.GeoDataFrame,
    rate: callable,
    *,
    imd: callable = lambda x: 5,
    seed: int = 0,  # type: ignore[valid-type]
) -> pd.DataFrame:
    """50 children per area at the area's point; registered with probability rate(x, imd)."""
    a = areas()
    g = walking_graph(lines)
    m = ms.travel_matrix(
        g, a["x"].to_numpy(), a["y"].to_numpy(), SITES["x"], SITES["y"], SITES["site_id"]
    )
    near = ms.nearest_site(m)
    rng = np.random.default_rng(seed)
    rows = []
    for i, r in a.iterrows():
        x = r["x"] - X0
        d = imd(x) if callable(imd) else imd
        for _ in range(50):
            dec = int(d if np.isscalar(d) else rng.choice(d))
            rows.append(
                {
                    "area_code": r["area_code"],
                    "registered": bool(rng.random() < rate(x, dec)),
                    "imd_decile": dec,
                    "walk_m": near.at[i, "walk_m"],
                    "walk_min": ms.minutes(np.array([near.at[i, "walk_m"]]), 4.8)[0],
                    "detour_ratio": near.at[i, "detour_ratio"],
                }
            )
    kids = pd.DataFrame(rows)
    kids["expected_composition"] = ms.expected_reach(kids, with_access=False).expected
    return kids


def detect(
    lines: gpd.GeoDataFrame, kids: pd.DataFrame
) -> tuple[list[br.Barrier], list[br.SideTest], list]:
    bars = br.find_barriers(lines, SETTINGS.barrier_classes)
    tests = br.side_tests(bars, areas(), SITES, kids, buffer_m=1500, max_crossings_per_km=2)
    labels = {c: f"Area {c}" for c in areas()["area_code"]}
    found = br.make_findings(
        tests,
        settings=FindingsSettings(),
        area_labels=labels,
        place_names={c: "Eastfield" for c in labels},
        to_wgs84=TO_WGS84,
        approximate_note=None,
        speed_kmh=4.8,
    )
    return bars, tests, found


def test_the_motorway_is_a_candidate_with_two_crossings() -> None:
    bars = br.find_barriers(town(), SETTINGS.barrier_classes)
    (m99,) = bars
    assert (m99.name, m99.kind, m99.length_m) == ("M99", "motorway", 6000.0)
    # the two bridges, at y = -1000 and 1000 on x = 1000
    assert sorted((round(x - X0), round(y - Y0)) for x, y in m99.crossings) == [
        (1000, -1000),
        (1000, 1000),
    ]
    assert m99.crossings_per_km == pytest.approx(2 / 6)
    pieces = br.sides(m99, 1500)
    assert len(pieces) == 2
    west = next(p for p in pieces if p.contains(Point(X0 + 500, Y0)))
    assert not west.contains(Point(X0 + 1500, Y0))


def test_a_planted_drop_east_of_the_motorway_is_found() -> None:
    lines = town()
    kids = children(lines, lambda x, _d: 0.35 if x > 1000 else 0.80, seed=1)
    _bars, _tests, found = detect(lines, kids)
    (f,) = found
    east = set(areas().loc[areas()["x"] > X0 + 1000, "area_code"])
    assert set(f.areas) == east
    assert f.kind == "access_barrier" and f.severity == "striking"
    assert f.observed == pytest.approx(0.35, abs=0.05) and f.expected == pytest.approx(
        0.80, abs=0.05
    )
    ev = f.evidence
    assert ev["cut_off_side"]["direction"] == "east" and ev["other_side"]["direction"] == "west"
    assert ev["barrier"]["name"] == "M99" and ev["barrier"]["crossings"] == 2
    assert ev["cut_off_side"]["median_detour_ratio"] > ev["other_side"]["median_detour_ratio"]
    lo, hi = ev["cut_off_side"]["interval"]
    assert lo < f.observed < hi
    assert ev["q_value"] < 0.05 and ev["unexplained_gap"] > 0.3
    geom = ev["barrier"]["geometry"]
    assert geom["type"] == "LineString" and len(geom["coordinates"]) == 2
    json.dumps(ev)  # JSON-safe
    assert f.headline.startswith("Families east of the M99 in Eastfield walk ")
    assert (
        "against 80% west of it" in f.headline
        or "against 79% west of it" in f.headline
        or "against 81% west of it" in f.headline
    )
    assert f.children_affected == sum(~kids.loc[kids["area_code"].isin(east), "registered"])


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_no_drop_no_finding(seed: int) -> None:
    lines = town()
    kids = children(lines, lambda _x, _d: 0.75, seed=seed)
    _bars, tests, found = detect(lines, kids)
    assert tests and not found


def test_a_drop_explained_by_deprivation_is_not_a_barrier() -> None:
    # East is more affluent (IMD 6-10) and registration falls with affluence; the drop across
    # the motorway is the deprivation gradient, not the motorway.
    lines = town()
    kids = children(
        lines,
        lambda _x, d: 0.92 - 0.06 * (d - 1),
        imd=lambda x: [6, 7, 8, 9, 10] if x > 1000 else [1, 2, 3, 4, 5],
        seed=5,
    )
    _bars, tests, found = detect(lines, kids)
    (t,) = tests
    assert t.gap > 0.2  # the raw gap is large...
    assert t.unexplained_gap < 0.05  # ...and deprivation explains it
    assert not found


def test_a_motorway_with_many_crossings_is_not_a_candidate() -> None:
    lines = town(bridges=tuple(np.arange(-1000, 1001, 100.0)))
    kids = children(lines, lambda x, _d: 0.35 if x > 1000 else 0.80, seed=6)
    bars, tests, found = detect(lines, kids)
    assert len(bars[0].crossings) == 21
    assert not tests and not found
