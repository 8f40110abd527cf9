"""The demo's APPROXIMATE walking network (no real street network is available offline).

Walkable ways are straight paths between neighbouring real postcode centroids (a Delaunay
triangulation, edges up to :data:`MAX_EDGE_M`) and the sites. The motorways are the real
National Highways links from the open-data roads file (schematic: straight lines between
junctions), written as class ``motorway``; when the barrier story is moved to another line,
that line is written too, as a synthetic motorway. No path crosses a motorway except at its
junctions (the line's vertices), where a footway bridges it. The result is written as a
line layer with a road-class column, exactly the format a council would give, so the access
stage reads it like any other network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.demo import opendata_io as od
from everyfamily.demo.stories import Stories

#: Longest path between two neighbouring postcodes (metres). Delaunay also joins points
#: across open country and the borough's edge; longer than this is not a walk anyone takes.
MAX_EDGE_M = 1200.0
#: Name given to the barrier story's line when the story moves it off the M57.
SYNTHETIC_NAME = "synthetic motorway"
#: GeoJSON rather than GeoPackage: a GeoPackage records the time it was written, and the
#: scenario must be the same bytes for the same seed.
FILE_NAME = "walking_network_approximate.geojson"
NOTE = (
    "APPROXIMATE walking network: straight paths between neighbouring postcode centroids, "
    "with motorways from National Highways' schematic links crossable only at junctions. "
    "Not real streets: walking distances are indicative."
)


def _motorways(stories: Stories) -> list[tuple[str, Any]]:
    """(name, LineString in EPSG:27700) for each real motorway link (one per pair of
    junctions) and, when the barrier story is moved, its line."""
    roads = json.loads((od.OPENDATA_DIR / od.ROADS).read_text(encoding="utf-8"))
    seen: set[tuple[tuple[float, float], ...]] = set()
    out: list[tuple[str, Any]] = []
    for f in roads["features"]:
        coords = tuple(tuple(c[:2]) for c in f["geometry"]["coordinates"])
        key = tuple(sorted((coords[0], coords[-1])))
        if key in seen:
            continue
        seen.add(key)
        out.append((str(f["properties"].get("road") or ""), od.line_to_bng(coords)))
    b = stories.barrier
    if b.enabled and b.line is not None:
        out.append((SYNTHETIC_NAME, od.line_to_bng(tuple(b.line))))
    return out


def approximate_network(sites_lonlat: pd.DataFrame, stories: Stories) -> Any:
    """The approximate network as a GeoDataFrame (EPSG:27700): highway, ref, geometry."""
    import geopandas as gpd
    import shapely
    from scipy.spatial import Delaunay, cKDTree
    from shapely.geometry import LineString
    from shapely.ops import unary_union

    data = od.load_open_data()
    sx, sy = od.to_bng(sites_lonlat["lon"].to_numpy(), sites_lonlat["lat"].to_numpy())
    pts = np.vstack(
        [data.postcodes[["x", "y"]].to_numpy(dtype="float64"), np.column_stack([sx, sy])]
    )
    pts = np.unique(np.round(pts, 1), axis=0)
    tri = Delaunay(pts)
    s = tri.simplices
    pairs = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    length = np.hypot(*(pts[pairs[:, 0]] - pts[pairs[:, 1]]).T)
    pairs = pairs[length <= MAX_EDGE_M]
    paths = shapely.linestrings(
        np.stack([pts[pairs[:, 0]], pts[pairs[:, 1]]], axis=1)  # (n, 2 points, xy)
    )
    motorways = _motorways(stories)
    barrier = unary_union([g for _n, g in motorways])
    paths = paths[~shapely.intersects(paths, barrier)]

    # Footway bridges at every junction: join the nearest pair of points on either side.
    tree = cKDTree(pts)
    bridges = []
    for _name, line in motorways:
        for cx, cy in line.coords:
            _d, near = tree.query((cx, cy), k=min(16, len(pts)))
            best, best_len = None, np.inf
            for a_i, a in enumerate(near):
                for b in near[a_i + 1 :]:
                    seg = LineString([pts[a], pts[b]])
                    if not seg.intersects(barrier):
                        continue
                    total = np.hypot(*(pts[a] - (cx, cy))) + np.hypot(*(pts[b] - (cx, cy)))
                    if total < best_len:
                        best, best_len = (a, b), total
            if best is not None:
                bridges.append(LineString([pts[best[0]], (cx, cy), pts[best[1]]]))
    frame = gpd.GeoDataFrame(
        {
            "highway": ["residential"] * len(paths)
            + ["footway"] * len(bridges)
            + ["motorway"] * len(motorways),
            "ref": [""] * (len(paths) + len(bridges)) + [n for n, _g in motorways],
            "bridge": ["no"] * len(paths) + ["yes"] * len(bridges) + ["no"] * len(motorways),
        },
        geometry=[*paths, *bridges, *(g for _n, g in motorways)],
        crs="EPSG:27700",
    )
    return frame


def write_network(path: Path, sites_lonlat: pd.DataFrame, stories: Stories) -> Path:
    """Write the approximate network as a GeoJSON line layer (EPSG:27700, coordinates to the
    centimetre); returns the path."""
    frame = approximate_network(sites_lonlat, stories)
    if path.exists():
        path.unlink()
    frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=2)
    return path


def access_block(relative_path: str) -> dict[str, Any]:
    """The project file's ``access:`` block for the demo network."""
    return {
        "networks": [
            {
                "path": relative_path,
                "format": "lines",
                "class_column": "highway",
                "name_column": "ref",
            }
        ],
        "approximate": True,
        "approximate_note": NOTE,
    }
