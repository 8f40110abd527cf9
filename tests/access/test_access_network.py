"""Networks: real OSM extracts (pyrosm's bundled test data), line layers, hand-made graphs
with hand-computed shortest paths, and an independent check against networkx."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from everyfamily.access import measures as ms
from everyfamily.access.network import (
    build_graph,
    check_metres,
    lines_from_layer,
    read_network_lines,
    walking_graph,
)
from everyfamily.config import AccessSettings, NetworkFile
from everyfamily.errors import ConfigError, DataError

#: ETRS89 / TM35FIN: the projected CRS (metres) for pyrosm's Helsinki test extract.
FINNISH_CRS = "EPSG:3067"


def settings(*files: NetworkFile, **kw: object) -> AccessSettings:
    return AccessSettings(networks=list(files), **kw)  # type: ignore[arg-type]


def test_pyrosm_test_extract_loads_as_a_walking_graph_in_metres() -> None:
    import pyrosm  # a dependency of the package: missing, this fails

    path = Path(pyrosm.get_data("test_pbf"))
    lines = read_network_lines(settings(NetworkFile(path=path)), FINNISH_CRS)
    assert lines.crs.to_epsg() == 3067
    walk = lines[lines["walkable"]]
    assert len(walk) > 500
    # Finland in TM35FIN: x within 0-800 km, y about 6,600-7,800 km (metres, not degrees),
    # and the extract spans a few km
    x0, y0, x1, y1 = walk.total_bounds
    assert 0 < x0 < x1 < 800_000 and 6_600_000 < y0 < y1 < 7_800_000
    assert 500 < x1 - x0 < 20_000 and 500 < y1 - y0 < 20_000
    # Units: our projected lengths agree with pyrosm's own geodesic lengths (metres) to 0.5%
    osm = pyrosm.OSM(str(path))
    own = osm.get_network(network_type="walking", nodes=True)[1]
    assert float(shapely.length(walk.geometry.to_numpy()).sum()) == pytest.approx(
        float(own["length"].sum()), rel=0.005
    )
    g = walking_graph(lines)
    assert g.n_nodes > 500 and g.n_edges > 500
    # Shortest paths are at least the straight line between two nodes, and finite in the
    # main component
    main = np.flatnonzero(g.component == g.main_component)
    d = g.distances_from(main[:3])
    for row, src in zip(d, main[:3], strict=True):
        reach = np.isfinite(row)
        assert reach.sum() > 0.9 * len(main)
        straight = np.hypot(g.x[reach] - g.x[src], g.y[reach] - g.y[src])
        assert np.all(row[reach] >= straight - 0.05)  # node positions are kept to 1 cm


def test_pyrosm_helsinki_extract_gives_travel_times_to_sites() -> None:
    import pyrosm  # a dependency of the package: missing, this fails

    path = Path(pyrosm.get_data("helsinki_pbf"))
    lines = read_network_lines(settings(NetworkFile(path=path)), FINNISH_CRS)
    g = walking_graph(lines)
    x0, y0, x1, y1 = lines.total_bounds
    rng = np.random.default_rng(1)
    ox = rng.uniform(x0 + 500, x1 - 500, 50)
    oy = rng.uniform(y0 + 500, y1 - 500, 50)
    sx = np.array([(x0 + x1) / 2, x0 + 800])
    sy = np.array([(y0 + y1) / 2, y1 - 800])
    m = ms.travel_matrix(g, ox, oy, sx, sy, ["A", "B"])
    ok = np.isfinite(m.network_m)
    assert ok.mean() > 0.95
    # a walk over real streets is never shorter than the crow flies, and on a city grid
    # seldom more than twice as long
    assert np.all(m.network_m[ok] >= m.straight_m[ok] - 1e-6)
    assert np.median(m.network_m[ok] / m.straight_m[ok]) < 2.0


def test_geographic_or_feet_crs_is_refused() -> None:
    with pytest.raises(ConfigError, match="metres"):
        check_metres("EPSG:4326")
    with pytest.raises(ConfigError, match="metres"):
        check_metres("EPSG:2263")  # New York state plane, US feet
    check_metres("EPSG:27700")


def _layer(
    tmp_path: Path, rows: list[tuple[str, str, list[tuple[float, float]]]], crs: str
) -> Path:
    frame = gpd.GeoDataFrame(
        {"roadclass": [r[0] for r in rows], "ref": [r[1] for r in rows]},
        geometry=[LineString(r[2]) for r in rows],
        crs=crs,
    )
    path = tmp_path / "net.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_line_layer_with_a_road_class_column_loads(tmp_path: Path) -> None:
    # Around Knowsley, in lon/lat: reprojected to British National Grid on reading.
    path = _layer(
        tmp_path,
        [
            ("Residential", "", [(-2.85, 53.43), (-2.84, 53.43)]),
            ("footway", "", [(-2.84, 53.43), (-2.84, 53.44)]),
            ("motorway", "M57", [(-2.845, 53.42), (-2.845, 53.45)]),
        ],
        "EPSG:4326",
    )
    spec = NetworkFile(path=path, class_column="roadclass", name_column="ref")
    lines = read_network_lines(settings(spec), "EPSG:27700")
    assert list(lines["road_class"]) == ["residential", "footway", "motorway"]
    assert list(lines["walkable"]) == [True, True, False]
    assert list(lines["name"]) == ["", "", "M57"]
    # 0.01 degrees of longitude at 53.43 N is about 664 m; of latitude about 1,113 m
    lengths = shapely.length(lines.geometry.to_numpy())
    assert lengths[0] == pytest.approx(664, rel=0.01)
    assert lengths[1] == pytest.approx(1113, rel=0.01)


def test_a_missing_class_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = _layer(tmp_path, [("residential", "", [(0, 0), (100, 0)])], "EPSG:27700")
    with pytest.raises(DataError, match="column 'highway'"):
        read_network_lines(settings(NetworkFile(path=path)), "EPSG:27700")


def _grid_lines(extra: list[tuple[str, list[tuple[float, float]]]] = ()) -> gpd.GeoDataFrame:  # type: ignore[assignment]
    """A 3 x 3 grid of 100 m blocks (nodes at 0, 100, 200 m) plus extra lines."""
    segs: list[tuple[str, list[tuple[float, float]]]] = []
    for i in range(3):
        for j in range(2):
            segs.append(("residential", [(j * 100.0, i * 100.0), ((j + 1) * 100.0, i * 100.0)]))
            segs.append(("residential", [(i * 100.0, j * 100.0), (i * 100.0, (j + 1) * 100.0)]))
    segs += list(extra)
    frame = gpd.GeoDataFrame(
        {"highway": [s[0] for s in segs]},
        geometry=[LineString(s[1]) for s in segs],
        crs="EPSG:27700",
    )
    return lines_from_layer(
        frame,
        class_column="highway",
        name_column=None,
        settings=settings(NetworkFile(path=Path("x.gpkg"))),
        crs="EPSG:27700",
    )


def test_hand_made_grid_gives_exact_walking_times() -> None:
    g = walking_graph(_grid_lines())
    assert (g.n_nodes, g.n_edges) == (9, 12)
    # origins at (0,0) and (200, 200) (on nodes), and (50, 0) (30 m off the grid: snapped to
    # the nearest node (0, 0) or (100, 0) at 50 m); one site at (200, 0)
    m = ms.travel_matrix(
        g,
        np.array([0.0, 200.0, 100.0]),
        np.array([0.0, 200.0, 30.0]),
        np.array([200.0]),
        np.array([0.0]),
        ["S"],
    )
    # (0,0) -> (200,0): 200 m; (200,200) -> (200,0): 200 m; (100,30) snaps to (100,0) 30 m away,
    # then 100 m along the street
    assert m.network_m[:, 0].tolist() == pytest.approx([200.0, 200.0, 130.0])
    assert m.straight_m[:, 0].tolist() == pytest.approx([200.0, 200.0, math.hypot(100, 30)])
    # 4.8 km/h = 80 m a minute: 200 m is 2.5 minutes
    assert ms.minutes(m.network_m[:, 0], 4.8).tolist() == pytest.approx([2.5, 2.5, 1.625])
    near = ms.nearest_site(m)
    assert near["detour_ratio"].tolist() == pytest.approx([1.0, 1.0, 130 / math.hypot(100, 30)])


def _frame(segs: list[tuple[str, list[tuple[float, float]]]]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"highway": [s[0] for s in segs]},
        geometry=[LineString(s[1]) for s in segs],
        crs="EPSG:27700",
    )
    return lines_from_layer(
        frame,
        class_column="highway",
        name_column=None,
        settings=settings(NetworkFile(path=Path("x.gpkg"))),
        crs="EPSG:27700",
    )


def test_a_motorway_is_crossed_only_where_a_bridge_crosses_it() -> None:
    # West streets x = 0 and 100, east streets x = 200 and 300, y from 0 to 200; a motorway
    # along x = 150; one footbridge at y = 200 from (100, 200) to (200, 200). Streets at
    # y = 0 join x = 0 to 100 and x = 200 to 300 only.
    segs = [("residential", [(x, 0.0), (x, 200.0)]) for x in (0.0, 100.0, 200.0, 300.0)] + [
        ("residential", [(0.0, 0.0), (100.0, 0.0)]),
        ("residential", [(200.0, 0.0), (300.0, 0.0)]),
        ("footway", [(100.0, 200.0), (200.0, 200.0)]),
        ("motorway", [(150.0, -1000.0), (150.0, 1000.0)]),
    ]
    g = walking_graph(_frame(segs))
    m = ms.travel_matrix(
        g, np.array([100.0]), np.array([0.0]), np.array([200.0]), np.array([0.0]), ["S"]
    )
    # 100 m apart as the crow flies; the walk goes north 200, over the bridge 100, south 200
    assert m.straight_m[0, 0] == pytest.approx(100.0)
    assert m.network_m[0, 0] == pytest.approx(500.0)
    assert ms.nearest_site(m)["detour_ratio"].iloc[0] == pytest.approx(5.0)


def test_time_bands_put_limits_in_the_band_below() -> None:
    assert ms.band_labels([10, 20, 30]) == ["0-10", "10-20", "20-30", "30+"]
    got = ms.time_band(np.array([0.0, 10.0, 10.01, 29.9, 30.0, 45.0, np.nan]), [10, 20, 30])
    assert got.tolist() == ["0-10", "0-10", "10-20", "20-30", "20-30", "30+", None]


def test_shortest_paths_agree_with_networkx_multi_source_dijkstra() -> None:
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 2000, size=(300, 2))
    from scipy.spatial import Delaunay

    tri = Delaunay(pts)
    pairs = {
        tuple(sorted((int(a), int(b))))
        for s in tri.simplices
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2]))
    }
    segs = [LineString([pts[a], pts[b]]) for a, b in sorted(pairs)]
    frame = gpd.GeoDataFrame({"highway": ["footway"] * len(segs)}, geometry=segs, crs="EPSG:27700")
    lines = lines_from_layer(
        frame,
        class_column="highway",
        name_column=None,
        settings=settings(NetworkFile(path=Path("x.gpkg"))),
        crs="EPSG:27700",
    )
    g = build_graph(lines[lines["walkable"]])
    G = nx.Graph()
    for a, b in sorted(pairs):
        G.add_edge(
            tuple(np.round(pts[a], 2)),
            tuple(np.round(pts[b], 2)),
            weight=float(np.hypot(*(pts[a] - pts[b]))),
        )
    sources = [0, 5, 9]
    ours = g.distances_from(sources).min(axis=0)
    src_keys = [(round(float(g.x[i]), 2), round(float(g.y[i]), 2)) for i in sources]
    theirs = nx.multi_source_dijkstra_path_length(G, src_keys, weight="weight")
    for i in range(g.n_nodes):
        key = (round(float(g.x[i]), 2), round(float(g.y[i]), 2))
        assert ours[i] == pytest.approx(theirs[key], rel=1e-9)


def test_driving_times_use_class_speeds_and_walk_to_the_road() -> None:
    from everyfamily.access.network import driving_graph

    # a 1 km residential street (25 km/h) and a 1 km primary road (40 km/h) in a line, and a
    # footway no car uses
    lines = _frame(
        [
            ("residential", [(0.0, 0.0), (1000.0, 0.0)]),
            ("primary", [(1000.0, 0.0), (2000.0, 0.0)]),
            ("footway", [(0.0, 0.0), (2000.0, 0.0)]),
        ]
    )
    g = driving_graph(lines, SPEEDS)
    assert g is not None and g.weight == "seconds" and g.n_edges == 2
    # the origin is 48 m off the road: 36 s on foot at 4.8 km/h (1.333 m/s)
    m = ms.travel_matrix(
        g,
        np.array([0.0]),
        np.array([48.0]),
        np.array([2000.0]),
        np.array([0.0]),
        ["S"],
        snap_cost_per_m=3.6 / 4.8,
    )
    # 1000 m at 25 km/h = 144 s, 1000 m at 40 km/h = 90 s, plus the 36 s walk
    assert m.network_m[0, 0] == pytest.approx(144 + 90 + 36)
    assert driving_graph(_frame([("footway", [(0.0, 0.0), (1.0, 0.0)])]), SPEEDS) is None


SPEEDS = {"residential": 25.0, "primary": 40.0}


def test_a_missing_network_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="network file not found"):
        read_network_lines(settings(NetworkFile(path=tmp_path / "none.gpkg")), "EPSG:27700")


# --- line layers whose lines cross without shared end points (split_crossings) ------------
#
# A street along y = 0 from (0, 0) to (400, 0); two streets crossing it at x = 100 and
# x = 300, each from y = -100 to y = 300 (no end point on the first street); a street along
# y = 300 joining their top ends. Home at (100, -100), site at (400, 0).
# Split where they cross: 100 m up to the crossing, 300 m east = 400 m.
# If the x = 100 street is a bridge (or a class that is never split): up 400 m, along the top
# 200 m, down 300 m to the crossing at (300, 0), then 100 m east = 1,000 m.
_CROSSING_ROWS: list[tuple[str, str, list[tuple[float, float]]]] = [
    ("residential", "", [(0.0, 0.0), (400.0, 0.0)]),
    ("residential", "yes", [(100.0, -100.0), (100.0, 300.0)]),
    ("residential", "", [(300.0, -100.0), (300.0, 300.0)]),
    ("residential", "", [(100.0, 300.0), (300.0, 300.0)]),
]


def _crossing_file(tmp_path: Path, rows: list[tuple[str, str, list[tuple[float, float]]]]) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "kind": [r[0] for r in rows],
            "structure": [r[1] for r in rows],
            "ref": [f"street {i}" for i in range(len(rows))],
        },
        geometry=[LineString(r[2]) for r in rows],
        crs="EPSG:27700",
    )
    path = tmp_path / "council_export.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def _walk_home_to_site(lines: gpd.GeoDataFrame) -> float:
    g = walking_graph(lines)
    m = ms.travel_matrix(
        g, np.array([100.0]), np.array([-100.0]), np.array([400.0]), np.array([0.0]), ["S"]
    )
    return float(m.network_m[0, 0])


def test_crossing_lines_are_split_into_junctions(tmp_path: Path) -> None:
    path = _crossing_file(tmp_path, _CROSSING_ROWS)
    spec = NetworkFile(path=path, class_column="kind", name_column="ref", split_crossings=True)
    lines = read_network_lines(settings(spec), "EPSG:27700")
    # the y = 0 street is cut twice (3 pieces), each crossing street once (2 pieces each),
    # the top street not at all: 8 pieces, same total length (400 + 400 + 400 + 200 m)
    assert len(lines) == 8
    assert float(shapely.length(lines.geometry.to_numpy()).sum()) == pytest.approx(1400.0)
    # every piece keeps its own line's attributes
    assert sorted(lines["name"]) == ["street 0"] * 3 + ["street 1"] * 2 + ["street 2"] * 2 + [
        "street 3"
    ]
    assert _walk_home_to_site(lines) == pytest.approx(400.0)
    # at 4.8 km/h (80 m a minute) that is a 5-minute walk
    assert ms.minutes(np.array([_walk_home_to_site(lines)]), 4.8)[0] == pytest.approx(5.0)


def test_without_splitting_crossing_lines_do_not_join(tmp_path: Path) -> None:
    path = _crossing_file(tmp_path, _CROSSING_ROWS)
    spec = NetworkFile(path=path, class_column="kind", name_column="ref")
    lines = read_network_lines(settings(spec), "EPSG:27700")
    assert len(lines) == 4
    g = walking_graph(lines)
    # the y = 0 street is a piece of its own, apart from the other three
    assert len(set(g.component.tolist())) == 2


def test_a_bridge_is_not_split_where_it_crosses(tmp_path: Path) -> None:
    path = _crossing_file(tmp_path, _CROSSING_ROWS)
    spec = NetworkFile(
        path=path,
        class_column="kind",
        name_column="ref",
        split_crossings=True,
        bridge_column="structure",
    )
    lines = read_network_lines(settings(spec), "EPSG:27700")
    # the bridge stays whole; the y = 0 street is cut only at x = 300 (2 pieces), the x = 300
    # street once (2 pieces), the top street not at all: 6 lines
    assert len(lines) == 6
    assert _walk_home_to_site(lines) == pytest.approx(1000.0)


def test_a_missing_bridge_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = _crossing_file(tmp_path, _CROSSING_ROWS)
    spec = NetworkFile(
        path=path, class_column="kind", split_crossings=True, bridge_column="is_bridge"
    )
    with pytest.raises(DataError, match="column 'is_bridge'"):
        read_network_lines(settings(spec), "EPSG:27700")


def test_a_no_junction_class_is_not_split_where_it_crosses(tmp_path: Path) -> None:
    # the x = 100 street is a trunk road walked along (a class the project says has no
    # junctions with what crosses it): the same 1,000 m walk as for a bridge
    rows = list(_CROSSING_ROWS)
    rows[1] = ("trunk", "", rows[1][2])
    path = _crossing_file(tmp_path, rows)
    spec = NetworkFile(path=path, class_column="kind", split_crossings=True)
    lines = read_network_lines(settings(spec, no_junction_classes=["trunk"]), "EPSG:27700")
    assert _walk_home_to_site(lines) == pytest.approx(1000.0)
    # with the default classes (motorways, railways, rivers) the trunk road is split
    lines = read_network_lines(settings(spec), "EPSG:27700")
    assert _walk_home_to_site(lines) == pytest.approx(400.0)


def test_a_motorway_and_a_river_are_never_junctions(tmp_path: Path) -> None:
    # The y = 0 street of the layout above becomes a motorway and a river runs along
    # y = 150: neither is split, nor are the streets where they pass over or under them (5
    # lines, as given). The walk from (100, -100) to a site at (300, -100) goes up 400 m,
    # along the top 200 m and down 400 m.
    rows: list[tuple[str, str, list[tuple[float, float]]]] = [
        ("motorway", "", [(0.0, 0.0), (400.0, 0.0)]),
        ("residential", "", [(100.0, -100.0), (100.0, 300.0)]),
        ("residential", "", [(300.0, -100.0), (300.0, 300.0)]),
        ("residential", "", [(100.0, 300.0), (300.0, 300.0)]),
        ("river", "", [(0.0, 150.0), (400.0, 150.0)]),
    ]
    path = _crossing_file(tmp_path, rows)
    spec = NetworkFile(path=path, class_column="kind", split_crossings=True)
    lines = read_network_lines(settings(spec), "EPSG:27700")
    assert len(lines) == 5
    assert list(lines.loc[~lines["walkable"], "road_class"]) == ["motorway", "river"]
    g = walking_graph(lines)
    m = ms.travel_matrix(
        g, np.array([100.0]), np.array([-100.0]), np.array([300.0]), np.array([-100.0]), ["S"]
    )
    assert float(m.network_m[0, 0]) == pytest.approx(400.0 + 200.0 + 400.0)


def test_network_check_measures_pieces_and_distance_from_homes() -> None:
    from everyfamily.access.network import check_network

    # main piece: 300 m of street from (0, 0) to (300, 0); a fragment of 100 m far away
    lines = _frame(
        [
            ("residential", [(0.0, 0.0), (100.0, 0.0)]),
            ("residential", [(100.0, 0.0), (200.0, 0.0)]),
            ("residential", [(200.0, 0.0), (300.0, 0.0)]),
            ("residential", [(5000.0, 0.0), (5100.0, 0.0)]),
        ]
    )
    g = walking_graph(lines)
    # homes on the street, 40 m off it, and 600 m off it (next to the fragment, which does
    # not count: points snap to the main piece only)
    px = np.array([100.0, 300.0, 0.0, 5100.0])
    py = np.array([0.0, 40.0, 0.0, 0.0])
    c = check_network(g, px, py, max_snap_m=500.0)
    assert c.pieces == 2
    assert c.share_outside_main == pytest.approx(100 / 400)
    assert c.share_far == pytest.approx(1 / 4)
    assert c.median_snap_m == pytest.approx(20.0)  # distances 0, 40, 0, 4800
    assert c.problems(max_share_far=0.5, max_share_outside_main=0.2) == ["network_in_pieces"]
    assert c.problems(max_share_far=0.2, max_share_outside_main=0.3) == ["network_far_from_homes"]
    assert c.problems(max_share_far=0.5, max_share_outside_main=0.3) == []


def test_network_check_on_distinct_points_weighted_by_their_children() -> None:
    """The access stage checks each distinct home point once, weighted by its children:
    the same shares and median as a point per child."""
    from everyfamily.access.network import check_network

    street = [[(0.0, 0.0), (100.0, 0.0)], [(100.0, 0.0), (200.0, 0.0)]]
    g = walking_graph(_frame([("residential", seg) for seg in street]))
    # 3 children on the street, 1 at 40 m, 2 at 600 m: distances 0, 0, 0, 40, 600, 600
    px, py = np.array([100.0, 100.0, 100.0, 200.0]), np.array([0.0, 40.0, 600.0, 600.0])
    w = np.array([3, 1, 1, 1])
    c = check_network(g, px, py, max_snap_m=500.0, weights=w)
    each = check_network(g, np.repeat(px, w), np.repeat(py, w), max_snap_m=500.0)
    assert c == each
    assert c.share_far == pytest.approx(2 / 6)
    assert c.median_snap_m == pytest.approx(20.0)  # the mean of the middle two: 0 and 40


def test_a_bridge_column_without_split_crossings_is_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="split_crossings"):
        NetworkFile(path=tmp_path / "x.gpkg", bridge_column="structure")


def test_a_railway_only_file_may_join_an_approximate_network(tmp_path: Path) -> None:
    # alone, a file with no walkable line is an error; next to an approximate network (whose
    # paths are the walkable ways) it is read as it is
    path = _layer(tmp_path, [("rail", "", [(0.0, 0.0), (2000.0, 0.0)])], "EPSG:27700")
    spec = NetworkFile(path=path, class_column="roadclass")
    with pytest.raises(DataError, match="no walkable lines"):
        read_network_lines(settings(spec), "EPSG:27700")
    lines = read_network_lines(settings(spec), "EPSG:27700", need_walkable=False)
    assert list(lines["road_class"]) == ["rail"] and not lines["walkable"].any()
