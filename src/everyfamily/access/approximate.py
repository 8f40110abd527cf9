"""An APPROXIMATE walking network from postcode centroids and a barrier layer.

For a council with no street network at all, only its postcode lookup (centroids) and a
layer of the things that divide places (motorways, railways, rivers):

* Walkable ways are straight paths between neighbouring points (postcode centroids and the
  sites): the edges of their Delaunay triangulation (:class:`scipy.spatial.Delaunay`) up to
  ``max_edge_m`` long (longer edges join points across open country or the edge of the
  borough, not a walk anyone takes). A Delaunay edge joins natural neighbours, so the paths
  follow where people live.
* No path crosses a barrier line: every path that intersects one is dropped.
* Barriers are crossable only where the barrier layer says: at each crossing point (the
  barrier lines' vertices, for schematic links drawn junction to junction such as National
  Highways' network, and/or the points of a crossings layer: bridges, underpasses, level
  crossings) a footway bridge joins the nearest pair of points on either side (the pair
  among the 16 nearest points to the crossing whose path crosses a barrier, with the least
  total length through the crossing point).
* The barrier lines are kept in the network with their class (``motorway``, ``rail``,
  ``river`` ...), not walkable, so the barrier stage finds them and their crossings.

The result is a line layer with OSM-style columns (``highway``, ``ref``, ``bridge``), the
format a council's own network would have; the access stage reads it like any other line
layer, and every access output says the network is approximate. Walking distances on it are
indicative: straight lines between centroids, not streets.

Pure: takes coordinates and geometries, returns a GeoDataFrame. The I/O edge (reading the
barrier and crossings layers) is :func:`read_barrier_layer` / :func:`read_crossing_points`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from everyfamily.access.network import lines_from_layer
from everyfamily.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd

    from everyfamily.config import AccessSettings

#: Longest path between two neighbouring points (metres), the default of
#: ``access.approximate_network.max_edge_m``.
MAX_EDGE_M = 1200.0
#: Nearest points searched around a crossing for the pair it joins.
CROSSING_NEIGHBOURS = 16
#: Classes of the lines this module writes.
PATH_CLASS = "residential"
BRIDGE_CLASS = "footway"
#: Said with every access output when the project gives no ``approximate_note``.
NOTE = (
    "APPROXIMATE walking network: straight paths between neighbouring postcode centroids, "
    "with barriers crossable only where the barrier layer says. Not real streets: walking "
    "distances are indicative."
)


def approximate_network(
    points_xy: np.ndarray,
    barriers: Sequence[tuple[str, str, Any]],
    *,
    crs: Any,
    crossings_xy: np.ndarray | None = None,
    crossings_at_vertices: bool = True,
    max_edge_m: float = MAX_EDGE_M,
) -> gpd.GeoDataFrame:
    """The approximate network as a line layer: ``highway``, ``ref``, ``bridge``, geometry.

    ``points_xy``: (n, 2) postcode centroids and sites in a projected CRS in metres (rounded
    to 10 cm; duplicates count once). ``barriers``: (class, name, LineString) in the same CRS.
    Crossings: each barrier line's vertices (``crossings_at_vertices``) and then
    ``crossings_xy``, in that order. Rows: the paths, then the bridges, then the barriers.
    """
    import geopandas as gpd
    import shapely
    from scipy.spatial import Delaunay, QhullError, cKDTree
    from shapely.geometry import LineString
    from shapely.ops import unary_union

    pts = np.unique(np.round(np.asarray(points_xy, dtype="float64"), 1), axis=0)
    try:
        tri = Delaunay(pts)
    except (QhullError, ValueError):
        raise DataError(
            f"approximate network: {len(pts)} distinct points cannot be triangulated",
            hint="the postcode lookup needs centroids (latitude and longitude) for at least "
            "three postcodes of the small areas, not all on one line",
        ) from None
    s = tri.simplices
    pairs = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    length = np.hypot(*(pts[pairs[:, 0]] - pts[pairs[:, 1]]).T)
    pairs = pairs[length <= max_edge_m]
    paths = shapely.linestrings(np.stack([pts[pairs[:, 0]], pts[pairs[:, 1]]], axis=1))
    barrier = unary_union([g for _c, _n, g in barriers])
    paths = paths[~shapely.intersects(paths, barrier)]

    points: list[tuple[float, float]] = []
    if crossings_at_vertices:
        for _c, _n, line in barriers:
            points.extend((float(cx), float(cy)) for cx, cy in line.coords)
    if crossings_xy is not None:
        points.extend((float(cx), float(cy)) for cx, cy in np.asarray(crossings_xy))
    tree = cKDTree(pts)
    bridges = []
    for cx, cy in points:
        _d, near = tree.query((cx, cy), k=min(CROSSING_NEIGHBOURS, len(pts)))
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
    n_path, n_bridge = len(paths), len(bridges)
    return gpd.GeoDataFrame(
        {
            "highway": [PATH_CLASS] * n_path
            + [BRIDGE_CLASS] * n_bridge
            + [c for c, _n, _g in barriers],
            "ref": [""] * (n_path + n_bridge) + [n for _c, n, _g in barriers],
            "bridge": ["no"] * n_path + ["yes"] * n_bridge + ["no"] * len(barriers),
        },
        geometry=[*paths, *bridges, *(g for _c, _n, g in barriers)],
        crs=crs,
    )


def _read_layer(path: Path, layer: str | None, what: str, hint: str) -> gpd.GeoDataFrame:
    import pyogrio

    if not path.is_file():
        raise DataError(f"{path}: {what} not found", hint=hint)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(
            f"{path}: the {what} could not be read ({type(exc).__name__})", hint=hint
        ) from None
    if frame.crs is None:
        raise DataError(
            f"{path}: the {what} has no coordinate reference system",
            hint="save the layer with its CRS (e.g. EPSG:27700 or EPSG:4326)",
        )
    return frame


def read_barrier_layer(
    path: Path,
    *,
    layer: str | None,
    class_column: str,
    name_column: str | None,
    crs: Any,
) -> list[tuple[str, str, Any]]:
    """The barrier layer's lines as (class lower-cased, name, LineString in ``crs``)."""
    hint = (
        "set access.approximate_network.barriers to a line layer (GeoPackage, GeoJSON, shapefile)"
    )
    frame = _read_layer(path, layer, "barrier layer", hint)
    for col, key in ((class_column, "class_column"), (name_column, "name_column")):
        if col is not None and col not in frame.columns:
            raise DataError(
                f"{path}, column {col!r}: the column is missing from the barrier layer",
                hint=f"set access.approximate_network.{key} to one of the layer's columns",
            )
    g = frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(crs)
    g = g.explode(index_parts=False, ignore_index=True)
    g = g[g.geom_type == "LineString"].reset_index(drop=True)
    cls = g[class_column].astype("string").fillna("").str.strip().str.lower()
    names = (
        g[name_column].astype("string").fillna("")
        if name_column
        else pd.Series("", index=g.index, dtype="string")
    )
    return [
        (str(c), str(n), geom) for c, n, geom in zip(cls, names, g.geometry.to_numpy(), strict=True)
    ]


def read_crossing_points(path: Path, *, layer: str | None, crs: Any) -> np.ndarray:
    """(k, 2) crossing points (bridges, underpasses, level crossings) in ``crs``."""
    import shapely

    hint = "set access.approximate_network.crossings to a point layer of bridges and crossings"
    frame = _read_layer(path, layer, "crossings layer", hint)
    g = frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(crs)
    g = g.explode(index_parts=False, ignore_index=True)
    if not (g.geom_type == "Point").all():
        raise DataError(f"{path}: the crossings layer must hold points only", hint=hint)
    geoms = g.geometry.to_numpy()
    return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]).astype("float64")


def approximate_lines(
    settings: AccessSettings, points_xy: np.ndarray, crs: Any
) -> gpd.GeoDataFrame:
    """The project's approximate network (``access.approximate_network``) as network lines
    (:data:`everyfamily.access.network.LINE_COLUMNS`) in ``crs``: read the barrier and
    crossings layers, build :func:`approximate_network` on ``points_xy`` (postcode centroids
    and sites) and mark every barrier line not walkable, whatever its class."""
    spec = settings.approximate_network
    if spec is None:
        raise DataError("the project file has no access.approximate_network block")
    barriers = (
        read_barrier_layer(
            spec.barriers,
            layer=spec.layer,
            class_column=spec.class_column,
            name_column=spec.name_column,
            crs=crs,
        )
        if spec.barriers is not None
        else []
    )
    crossings = (
        read_crossing_points(spec.crossings, layer=spec.crossings_layer, crs=crs)
        if spec.crossings is not None
        else None
    )
    frame = approximate_network(
        points_xy,
        barriers,
        crs=crs,
        crossings_xy=crossings,
        crossings_at_vertices=spec.crossings_at_vertices,
        max_edge_m=spec.max_edge_m,
    )
    lines = lines_from_layer(
        frame,
        class_column="highway",
        name_column="ref",
        settings=settings,
        crs=crs,
        source="approximate network",
    )
    n = len(barriers)
    if n:
        walk = lines["walkable"].to_numpy(dtype=bool).copy()
        walk[len(lines) - n :] = False  # barriers come last, one line each
        lines["walkable"] = walk
    return lines
