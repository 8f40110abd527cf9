"""The demo's APPROXIMATE walking network (no real street network is available offline).

The network is the product's (:mod:`everyfamily.access.approximate`): straight paths between
neighbouring real postcode centroids and the sites, barriers crossable only at their
crossings. The demo supplies only its own inputs: the real National Highways motorway links
from the open-data roads file (schematic: straight lines between junctions, so every vertex
is a junction), written as class ``motorway``, and, when the barrier story is moved to
another line, that line too, as a synthetic motorway. The result is written as a line layer
with a road-class column, exactly the format a council would give, so the access stage reads
it like any other network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.access import approximate
from everyfamily.demo import opendata_io as od
from everyfamily.demo.stories import Stories

#: Longest path between two neighbouring postcodes (metres): the product's default.
MAX_EDGE_M = approximate.MAX_EDGE_M
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
    """The approximate network as a GeoDataFrame (EPSG:27700): highway, ref, bridge, geometry
    (the product's :func:`everyfamily.access.approximate.approximate_network` on the open-data
    postcode centroids, the sites and the motorways, crossable at their junctions)."""
    data = od.load_open_data()
    sx, sy = od.to_bng(sites_lonlat["lon"].to_numpy(), sites_lonlat["lat"].to_numpy())
    pts = np.vstack(
        [data.postcodes[["x", "y"]].to_numpy(dtype="float64"), np.column_stack([sx, sy])]
    )
    barriers = [("motorway", name, line) for name, line in _motorways(stories)]
    return approximate.approximate_network(
        pts, barriers, crs="EPSG:27700", crossings_at_vertices=True, max_edge_m=MAX_EDGE_M
    )


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
