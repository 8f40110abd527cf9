"""The approximate network (access/approximate.py) on a hand-made town whose walks are known:
postcode centroids on a 100 m grid, a river between two columns of them, crossable only
where the barrier layer says."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from everyfamily.access import measures as ms
from everyfamily.access.approximate import approximate_lines, approximate_network
from everyfamily.access.network import walking_graph
from everyfamily.config import AccessSettings, ApproximateNetworkSettings
from everyfamily.errors import DataError

CRS = "EPSG:27700"
X0, Y0 = 340_000.0, 390_000.0
#: Postcode centroids every 100 m over x, y = 0..1000 (121 points).
GRID = np.array([(X0 + x, Y0 + y) for x in range(0, 1001, 100) for y in range(0, 1001, 100)])
#: A river between the columns x = 500 and x = 600, drawn with vertices at both ends and in
#: the middle (y = -50, 500, 1050).
RIVER = LineString([(X0 + 550, Y0 - 50), (X0 + 550, Y0 + 500), (X0 + 550, Y0 + 1050)])


def _walk(lines: gpd.GeoDataFrame, home: tuple[float, float], site: tuple[float, float]) -> float:
    g = walking_graph(lines)
    m = ms.travel_matrix(
        g,
        np.array([X0 + home[0]]),
        np.array([Y0 + home[1]]),
        np.array([X0 + site[0]]),
        np.array([Y0 + site[1]]),
        ["S"],
    )
    return float(m.network_m[0, 0])


def _as_lines(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from everyfamily.access.network import lines_from_layer

    settings = AccessSettings(approximate_network=ApproximateNetworkSettings())
    return lines_from_layer(
        frame, class_column="highway", name_column="ref", settings=settings, crs=CRS
    )


def test_no_path_crosses_the_river_and_it_is_not_walkable() -> None:
    frame = approximate_network(GRID, [("river", "Alt", RIVER)], crs=CRS)
    paths = frame[frame["highway"] == "residential"]
    assert not shapely.intersects(paths.geometry.to_numpy(), RIVER).any()
    # the grid's sides are Delaunay edges (100 m) and no edge is longer than the 1,200 m limit
    lengths = shapely.length(paths.geometry.to_numpy())
    assert lengths.min() == pytest.approx(100.0) and lengths.max() <= 1200.0
    lines = _as_lines(frame)
    river = lines[lines["road_class"] == "river"]
    assert len(river) == 1 and not river["walkable"].any() and river["name"].iloc[0] == "Alt"


def test_crossings_at_the_barrier_vertices() -> None:
    # Three crossings, one at each vertex: at (550, -50) the bridge joins (500, 0) and
    # (600, 0) through the vertex, 2 x sqrt(50^2 + 50^2) = 141.4 m; at (550, 500) it joins
    # (500, 500) and (600, 500), 100 m; at (550, 1050) as at the south end, 141.4 m.
    frame = approximate_network(GRID, [("river", "", RIVER)], crs=CRS)
    bridges = frame[frame["bridge"] == "yes"]
    assert len(bridges) == 3
    assert shapely.length(bridges.geometry.to_numpy()).tolist() == pytest.approx(
        [2 * math.hypot(50, 50), 100.0, 2 * math.hypot(50, 50)]
    )
    assert _walk(_as_lines(frame), (500, 0), (600, 0)) == pytest.approx(2 * math.hypot(50, 50))


def test_crossings_only_where_a_crossing_point_says() -> None:
    # One footbridge at (550, 1000): from (500, 0) to (600, 0), 100 m apart as the crow
    # flies, the walk goes 1,000 m north, 100 m over the bridge and 1,000 m south.
    frame = approximate_network(
        GRID,
        [("river", "", RIVER)],
        crs=CRS,
        crossings_xy=np.array([(X0 + 550, Y0 + 1000)]),
        crossings_at_vertices=False,
    )
    assert (frame["bridge"] == "yes").sum() == 1
    assert _walk(_as_lines(frame), (500, 0), (600, 0)) == pytest.approx(2100.0)
    # on one bank the walk is straight along the column of centroids
    assert _walk(_as_lines(frame), (500, 0), (500, 700)) == pytest.approx(700.0)


def test_no_barriers_gives_straight_paths_between_neighbours() -> None:
    frame = approximate_network(GRID, [], crs=CRS)
    assert set(frame["highway"]) == {"residential"}
    assert _walk(_as_lines(frame), (500, 0), (600, 0)) == pytest.approx(100.0)


def test_too_few_points_is_a_data_error() -> None:
    with pytest.raises(DataError, match="cannot be triangulated"):
        approximate_network(GRID[:2], [], crs=CRS)


def _write(tmp_path: Path) -> tuple[Path, Path]:
    barriers = gpd.GeoDataFrame(
        {"kind": ["River"], "label": ["Alt"]}, geometry=[RIVER], crs=CRS
    ).to_crs("EPSG:4326")  # a council layer in lon/lat: reprojected on reading
    b = tmp_path / "barriers.geojson"
    barriers.to_file(b, driver="GeoJSON")
    crossings = gpd.GeoDataFrame(
        {"what": ["footbridge"]}, geometry=[Point(X0 + 550, Y0 + 1000)], crs=CRS
    )
    c = tmp_path / "crossings.gpkg"
    crossings.to_file(c, layer="bridges", driver="GPKG")
    return b, c


def test_project_settings_read_the_barrier_and_crossing_layers(tmp_path: Path) -> None:
    b, c = _write(tmp_path)
    settings = AccessSettings(
        approximate_network=ApproximateNetworkSettings(
            barriers=b,
            class_column="kind",
            name_column="label",
            crossings=c,
            crossings_layer="bridges",
            crossings_at_vertices=False,
        )
    )
    lines = approximate_lines(settings, GRID, CRS)
    assert list(lines.columns) == ["road_class", "name", "walkable", "drivable", "geometry"]
    river = lines[lines["road_class"] == "river"]
    assert len(river) == 1 and not river["walkable"].any()
    # the same 2,100 m walk as above (the lon/lat round trip moves points by far less than 1 m)
    assert _walk(lines, (500, 0), (600, 0)) == pytest.approx(2100.0, abs=0.5)


def test_a_barrier_class_outside_not_walkable_classes_is_still_not_walked(
    tmp_path: Path,
) -> None:
    b, _c = _write(tmp_path)
    settings = AccessSettings(
        approximate_network=ApproximateNetworkSettings(barriers=b, class_column="kind"),
        not_walkable_classes=["motorway"],
    )
    lines = approximate_lines(settings, GRID, CRS)
    assert not lines.loc[lines["road_class"] == "river", "walkable"].any()


def test_a_missing_barrier_column_names_the_file_and_column(tmp_path: Path) -> None:
    b, _c = _write(tmp_path)
    settings = AccessSettings(
        approximate_network=ApproximateNetworkSettings(barriers=b, class_column="class")
    )
    with pytest.raises(DataError, match="column 'class'"):
        approximate_lines(settings, GRID, CRS)


def test_access_settings_need_a_network_or_an_approximate_one() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="approximate_network"):
        AccessSettings()


def test_the_river_is_a_barrier_crossed_where_the_layer_says() -> None:
    from everyfamily.access import barriers as br

    frame = approximate_network(
        GRID,
        [("river", "Alt", RIVER)],
        crs=CRS,
        crossings_xy=np.array([(X0 + 550, Y0 + 1000)]),
        crossings_at_vertices=False,
    )
    lines = _as_lines(frame)
    # rivers are barrier classes by default; the 1.1 km river has one crossing: the bridge
    defaults = AccessSettings(approximate_network=ApproximateNetworkSettings())
    (bar,) = br.find_barriers(lines, defaults.barrier_classes)
    assert (bar.kind, bar.name) == ("river", "Alt")
    assert bar.length_m == pytest.approx(1100.0)
    assert bar.crossings == ((X0 + 550, Y0 + 1000),)
