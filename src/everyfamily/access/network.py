"""Street networks: read them (OpenStreetMap .osm.pbf or a line layer), build a graph in a
projected CRS in metres, snap points to it and compute shortest walking (or driving) distances.

Reading is the I/O edge (:func:`read_network_lines`); everything after it is pure.

* A line layer (OS Open Roads, an OSM export, the demo's approximate network) must meet at
  line ends, as topologically structured road data does: lines are joined where their end
  points coincide (to the centimetre), not where they merely cross. A footbridge over a
  motorway therefore does not connect to it, which is what makes a motorway a barrier.
* A line layer whose lines cross without shared end points (a council GIS export) is split
  where its lines cross (``split_crossings``, :func:`split_at_crossings`: GEOS noding through
  :func:`shapely.node`), except lines marked as bridges or tunnels and lines of the
  ``no_junction_classes`` (motorways, railways, rivers), which keep joining others only at
  their end points.
* An OSM extract is read with pyrosm: its walking network (pyrosm's walking filter, which
  already leaves out motorways and ways with foot=no) as walkable lines, its driving network
  for cars and for the barrier classes, and its railways.

Shortest paths use :func:`scipy.sparse.csgraph.dijkstra` on a sparse matrix rather than
networkx: the same multi-source Dijkstra, in C, about 20-50 times faster on a borough-sized
network; networkx is used in the tests as an independent check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from everyfamily.errors import ConfigError, DataError

if TYPE_CHECKING:
    import geopandas as gpd

    from everyfamily.config import AccessSettings, NetworkFile

#: Coordinates are rounded to this many decimal places of a metre before line ends are
#: matched (1 cm): projection round-off is far smaller, real gaps far larger.
NODE_DECIMALS = 2
#: Shortest edge weight in metres: scipy's sparse graphs drop explicit zeros, so two points
#: at the same place are joined by a 1 mm edge instead.
MIN_EDGE_M = 0.001

#: Columns of the joined network lines (one row per line piece).
LINE_COLUMNS = ("road_class", "name", "walkable", "drivable", "geometry")


def check_metres(crs: Any) -> None:
    """Raise ConfigError unless ``crs`` is projected with metre units (distances must be in
    metres: a geographic CRS gives degrees, a US state plane may give feet)."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if not c.is_projected or unit not in {"metre", "meter"}:
        raise ConfigError(
            f"geography.projected_crs {c.to_string()!r}: travel distances need a projected CRS "
            f"in metres (this one is {'in ' + unit if unit else 'not projected'})",
            hint="use EPSG:27700 (British National Grid) in England",
        )


def network_format(spec: NetworkFile) -> str:
    """'osm_pbf' or 'lines', from the setting or the file name."""
    if spec.format is not None:
        return spec.format
    return "osm_pbf" if spec.path.name.lower().endswith(".pbf") else "lines"


def lines_from_layer(
    frame: gpd.GeoDataFrame,
    *,
    class_column: str,
    name_column: str | None,
    settings: AccessSettings,
    crs: Any,
    source: str = "network layer",
    split_crossings: bool = False,
    bridge_column: str | None = None,
) -> gpd.GeoDataFrame:
    """A line layer with a road-class column as the joined network lines, in ``crs``.

    ``split_crossings``: split lines where they cross (:func:`split_at_crossings`), except
    lines whose ``bridge_column`` marks a bridge or tunnel and lines of
    ``settings.no_junction_classes``."""
    import geopandas as gpd

    if class_column not in frame.columns:
        raise DataError(
            f"{source}, column {class_column!r}: the road-class column is missing",
            hint="set access.networks[].class_column to the column holding the road class",
        )
    if name_column is not None and name_column not in frame.columns:
        raise DataError(
            f"{source}, column {name_column!r}: the name column is missing",
            hint="set access.networks[].name_column to an existing column or leave it out",
        )
    if bridge_column is not None and bridge_column not in frame.columns:
        raise DataError(
            f"{source}, column {bridge_column!r}: the bridge/tunnel column is missing",
            hint="set access.networks[].bridge_column to an existing column or leave it out",
        )
    if frame.crs is None:
        raise DataError(
            f"{source}: the layer has no coordinate reference system",
            hint="save the layer with its CRS (e.g. EPSG:27700 or EPSG:4326)",
        )
    g = frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(crs)
    g = g.explode(index_parts=False, ignore_index=True)
    g = g[g.geom_type == "LineString"]
    cls = g[class_column].astype("string").fillna("").str.strip().str.lower()
    names = (
        g[name_column].astype("string").fillna("")
        if name_column
        else pd.Series("", index=g.index, dtype="string")
    )
    not_walk = {c.lower() for c in settings.not_walkable_classes}
    speeds = {k.lower() for k in settings.driving_speeds_kmh}
    out = gpd.GeoDataFrame(
        {
            "road_class": cls.to_numpy(dtype=object),
            "name": names.to_numpy(dtype=object),
            "walkable": ~cls.isin(not_walk).to_numpy(dtype=bool),
            "drivable": cls.isin(speeds).to_numpy(dtype=bool),
        },
        geometry=g.geometry.to_numpy(),
        crs=crs,
    )
    out = out[list(LINE_COLUMNS)]
    if split_crossings:
        whole = cls.isin({c.lower() for c in settings.no_junction_classes}).to_numpy(dtype=bool)
        if bridge_column is not None:
            whole |= is_marked(g[bridge_column]).to_numpy(dtype=bool)
        out = split_at_crossings(out, keep_whole=whole)
    return out


#: Values of a bridge/tunnel column that mean "not a bridge or tunnel" (after lower-casing and
#: trimming); anything else (yes, true, 1, bridge, viaduct, tunnel ...) marks one.
NOT_MARKED = frozenset({"", "no", "n", "false", "f", "0", "0.0", "none", "nan", "<na>"})


def is_marked(values: pd.Series) -> pd.Series:
    """True where a bridge/tunnel column marks the line (see :data:`NOT_MARKED`)."""
    text = values.astype("string").fillna("").str.strip().str.lower()
    return ~text.isin(NOT_MARKED)


def split_at_crossings(lines: gpd.GeoDataFrame, *, keep_whole: np.ndarray) -> gpd.GeoDataFrame:
    """Split lines where they cross or touch, so that every crossing becomes a junction.

    Only lines with ``keep_whole`` False take part: they are noded together with GEOS
    (:func:`shapely.node`, a full noding of the linework: each line is cut at every point where
    another one crosses it or ends on it; overlapping stretches are kept once). Each piece keeps
    the attributes of the line it came from (the line nearest the piece's midpoint). Lines
    with ``keep_whole`` (bridges, tunnels, motorways, railways, rivers) are returned as they
    are, so they join other lines only at their own end points, as before.
    """
    import geopandas as gpd
    import shapely

    keep_whole = np.asarray(keep_whole, dtype=bool)
    cut = np.flatnonzero(~keep_whole)
    if len(cut) < 2:
        return lines
    geoms = lines.geometry.to_numpy()[cut]
    pieces = shapely.get_parts(shapely.node(shapely.multilinestrings(geoms)))
    pieces = pieces[shapely.length(pieces) > 0]
    # Each piece's source: a line within 1 cm of the piece's midpoint (the first, where
    # lines overlap); a bounded "dwithin" query is several times faster than nearest-line.
    mid = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    piece_i, src_j = tree.query(mid, predicate="dwithin", distance=10.0**-NODE_DECIMALS)
    src_of = np.full(len(pieces), -1, dtype=np.int64)
    order = np.lexsort((src_j, piece_i))
    first = np.ones(len(order), dtype=bool)
    first[1:] = piece_i[order][1:] != piece_i[order][:-1]
    src_of[piece_i[order][first]] = src_j[order][first]
    lost = np.flatnonzero(src_of < 0)
    if len(lost):  # round-off beyond 1 cm: the nearest line
        li, lj = tree.query_nearest(mid[lost], all_matches=False)
        src_of[lost[li]] = lj
    split = gpd.GeoDataFrame(
        lines.drop(columns="geometry").iloc[cut[src_of]].reset_index(drop=True),
        geometry=pieces,
        crs=lines.crs,
    )
    whole = lines.iloc[np.flatnonzero(keep_whole)].reset_index(drop=True)
    out = gpd.GeoDataFrame(pd.concat([split, whole], ignore_index=True), crs=lines.crs)
    return out[list(lines.columns)]


def _osm_lines(path: Any, settings: AccessSettings, crs: Any) -> gpd.GeoDataFrame:
    """Walking, driving and railway lines of an OSM extract (pyrosm)."""
    import geopandas as gpd
    import pyrosm

    osm = pyrosm.OSM(str(path))
    parts = []
    # nodes=True: pyrosm splits each way into edges between its nodes, so ways join at
    # every shared node (a way's end points alone would miss junctions along it).
    walk = _edges(osm.get_network(network_type="walking", nodes=True))
    if walk is not None and len(walk):
        parts.append(_osm_part(walk, "highway", walkable=True, drivable=False))
    drive = _edges(osm.get_network(network_type="driving", nodes=True))
    if drive is not None and len(drive):
        parts.append(_osm_part(drive, "highway", walkable=False, drivable=True))
    rail = osm.get_data_by_custom_criteria(
        custom_filter={"railway": ["rail", "light_rail", "subway", "narrow_gauge"]},
        filter_type="keep",
        keep_nodes=False,
        keep_relations=False,
    )
    if rail is not None and len(rail):
        rail = rail[rail.geom_type.isin(["LineString", "MultiLineString"])]
        tunnel = rail["tunnel"] if "tunnel" in rail.columns else pd.Series(None, index=rail.index)
        rail = rail[tunnel.fillna("no").astype(str) == "no"]  # a railway in a tunnel divides no one
        rail = rail.assign(_cls="rail")
        parts.append(_osm_part(rail, "_cls", walkable=False, drivable=False))
    if not parts:
        raise DataError(f"{path}: the OpenStreetMap extract holds no walkable or drivable ways")
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    frame = frame.explode(index_parts=False, ignore_index=True)
    frame = frame[frame.geom_type == "LineString"].to_crs(crs)
    speeds = {k.lower() for k in settings.driving_speeds_kmh}
    frame["drivable"] = frame["drivable"] & frame["road_class"].isin(speeds)
    return frame[list(LINE_COLUMNS)].reset_index(drop=True)


def _edges(result: Any) -> Any:
    """The edges of pyrosm's (nodes, edges) answer (None when the extract has none)."""
    if result is None:
        return None
    if isinstance(result, tuple):
        return result[1]
    return result


def _osm_part(frame: Any, column: str, *, walkable: bool, drivable: bool) -> pd.DataFrame:
    name = frame["ref"] if "ref" in frame.columns else pd.Series(None, index=frame.index)
    if "name" in frame.columns:
        name = name.fillna(frame["name"])
    return pd.DataFrame(
        {
            "road_class": frame[column].astype("string").fillna("").str.lower().to_numpy(),
            "name": name.astype("string").fillna("").to_numpy(dtype=object),
            "walkable": walkable,
            "drivable": drivable,
            "geometry": frame.geometry.to_numpy(),
        }
    )


def read_network_lines(
    settings: AccessSettings, crs: Any, *, need_walkable: bool = True
) -> gpd.GeoDataFrame:
    """Read and join every network file of the project into one frame of lines in ``crs``.

    ``need_walkable``: raise when the files hold no walkable line (False when the walkable
    ways come from elsewhere: an approximate network)."""
    import geopandas as gpd
    import pyogrio

    check_metres(crs)
    parts = []
    for spec in settings.networks:
        if not spec.path.is_file():
            raise ConfigError(
                f"{spec.path}: network file not found",
                hint="check access.networks[].path in the project file",
            )
        if network_format(spec) == "osm_pbf":
            parts.append(_osm_lines(spec.path, settings, crs))
            continue
        try:
            frame = pyogrio.read_dataframe(spec.path, layer=spec.layer)
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise DataError(
                f"{spec.path}: the network layer could not be read ({type(exc).__name__})",
                hint="give a GeoPackage, GeoJSON or shapefile of lines (or an .osm.pbf)",
            ) from None
        parts.append(
            lines_from_layer(
                frame,
                class_column=spec.class_column,
                name_column=spec.name_column,
                settings=settings,
                crs=crs,
                source=str(spec.path),
                split_crossings=spec.split_crossings,
                bridge_column=spec.bridge_column,
            )
        )
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
    if need_walkable and not out["walkable"].any():
        raise DataError(
            "the network files hold no walkable lines",
            hint="check access.not_walkable_classes and the class column",
        )
    return out


@dataclass(frozen=True)
class Graph:
    """A network as a sparse graph: node coordinates (metres) and edge lengths (metres).

    ``matrix`` is symmetric (ways are walked both ways) with the edge length, or for driving
    the travel time in seconds, as weight. ``component``: each node's connected component;
    points are snapped only to the largest one so that a fragment cut off by the edge of the
    extract cannot capture a postcode.
    """

    x: np.ndarray
    y: np.ndarray
    matrix: sparse.csr_matrix
    component: np.ndarray
    main_component: int
    weight: str = "metres"

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return int(self.matrix.nnz // 2)

    def snap(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of the main component to each point, and the distance to it (m)."""
        from scipy.spatial import cKDTree

        keep = np.flatnonzero(self.component == self.main_component)
        tree = cKDTree(np.column_stack([self.x[keep], self.y[keep]]))
        dist, k = tree.query(np.column_stack([np.asarray(px), np.asarray(py)]))
        return keep[k], np.asarray(dist, dtype="float64")

    def distances_from(self, sources: Iterable[int]) -> np.ndarray:
        """Shortest distances (rows: sources, columns: all nodes); inf where unreachable."""
        idx = np.asarray(list(sources), dtype=np.int64)
        if idx.size == 0:
            return np.zeros((0, self.n_nodes))
        out: np.ndarray = csgraph.dijkstra(self.matrix, directed=False, indices=idx)
        return np.atleast_2d(out)


def build_graph(lines: gpd.GeoDataFrame, *, weights: np.ndarray | None = None) -> Graph:
    """A graph joining ``lines`` at their end points (see module docstring).

    ``weights``: per line, the edge weight; default its length in metres (the CRS must be
    projected in metres, which :func:`read_network_lines` checks)."""
    import shapely

    geoms = lines.geometry.to_numpy()
    if len(geoms) == 0:
        raise DataError("the network has no lines of the kind needed (walkable or drivable)")
    first = shapely.get_point(geoms, 0)
    last = shapely.get_point(geoms, -1)
    ends = np.vstack(
        [
            np.column_stack([shapely.get_x(first), shapely.get_y(first)]),
            np.column_stack([shapely.get_x(last), shapely.get_y(last)]),
        ]
    )
    keys = np.round(ends, NODE_DECIMALS)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(geoms)
    u, v = inverse[:n], inverse[n:]
    w = (
        np.asarray(weights, dtype="float64")
        if weights is not None
        else np.asarray(shapely.length(geoms), dtype="float64")
    )
    keep = u != v
    u, v, w = u[keep], v[keep], np.maximum(w[keep], MIN_EDGE_M)
    # Parallel lines between the same two nodes: keep the shortest (a sparse matrix would
    # add them up).
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first_of = np.ones(len(a), dtype=bool)
    first_of[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, w = a[first_of], b[first_of], w[first_of]
    m = len(uniq)
    mat = sparse.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(m, m)
    ).tocsr()
    _n, labels = csgraph.connected_components(mat, directed=False)
    main = int(np.bincount(labels).argmax())
    return Graph(
        x=uniq[:, 0].astype("float64"),
        y=uniq[:, 1].astype("float64"),
        matrix=mat,
        component=labels,
        main_component=main,
    )


def walking_graph(lines: gpd.GeoDataFrame) -> Graph:
    """The graph of walkable lines, weighted by length in metres."""
    return build_graph(lines[lines["walkable"]].reset_index(drop=True))


def driving_graph(lines: gpd.GeoDataFrame, speeds_kmh: dict[str, float]) -> Graph | None:
    """The graph of drivable lines weighted by travel time in seconds (length / class speed);
    None when the network has no drivable lines. Every way is taken as two-way: one-way
    streets are not modelled (a simplification that shortens a few car journeys)."""
    import shapely

    d = lines[lines["drivable"]].reset_index(drop=True)
    if d.empty:
        return None
    speed = d["road_class"].map({k.lower(): v for k, v in speeds_kmh.items()}).astype("float64")
    seconds = np.asarray(shapely.length(d.geometry.to_numpy())) / (speed.to_numpy() / 3.6)
    g = build_graph(d, weights=seconds)
    return Graph(
        x=g.x,
        y=g.y,
        matrix=g.matrix,
        component=g.component,
        main_component=g.main_component,
        weight="seconds",
    )


@dataclass(frozen=True)
class NetworkCheck:
    """Is the walking network fit to measure access on? (:func:`check_network`)

    ``pieces``: connected pieces of the walking graph; ``share_outside_main``: share of its
    length outside the largest piece; ``share_far``: share of home points (one per child)
    farther than ``max_snap_m`` from the largest piece; ``median_snap_m``: their median
    distance to it."""

    pieces: int
    share_outside_main: float
    share_far: float
    median_snap_m: float
    max_snap_m: float

    def problems(self, *, max_share_far: float, max_share_outside_main: float) -> list[str]:
        """Codes of the checks that fail: ``network_far_from_homes``, ``network_in_pieces``."""
        out = []
        if self.share_far > max_share_far:
            out.append("network_far_from_homes")
        if self.share_outside_main > max_share_outside_main:
            out.append("network_in_pieces")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "pieces": self.pieces,
            "share_outside_main_piece": round(self.share_outside_main, 4),
            "share_homes_far": round(self.share_far, 4),
            "median_snap_m": round(self.median_snap_m, 1),
            "max_snap_m": self.max_snap_m,
        }


def check_network(
    graph: Graph,
    px: np.ndarray,
    py: np.ndarray,
    *,
    max_snap_m: float,
    weights: np.ndarray | None = None,
) -> NetworkCheck:
    """Measure how well a walking graph covers the home points ``(px, py)`` (one per child,
    or one per distinct point with ``weights``, its children: the same shares and median).

    A network that comes out in many disconnected pieces (lines that should meet but do not:
    a layer that needed ``split_crossings``, a CRS mix-up, a clipped extract) or that lies
    far from where families live (the wrong area, only main roads) gives walking times that
    are artefacts of the data, not of the streets: the access stage withholds its findings on
    it (docs/access.md)."""
    coo = graph.matrix.tocoo()
    total = float(coo.data.sum())
    outside = float(coo.data[graph.component[coo.row] != graph.main_component].sum())
    px, py = np.asarray(px, dtype="float64"), np.asarray(py, dtype="float64")
    w = np.ones(len(px), dtype="int64") if weights is None else np.asarray(weights, "int64")
    if len(px) and w.sum() > 0:
        from everyfamily.access.measures import weighted_median

        _node, dist = graph.snap(px, py)
        share_far = float(w[dist > max_snap_m].sum() / w.sum())
        median = weighted_median(dist, w)
    else:
        share_far, median = 0.0, float("nan")
    return NetworkCheck(
        pieces=len(np.unique(graph.component)),
        share_outside_main=outside / total if total > 0 else 0.0,
        share_far=share_far,
        median_snap_m=median,
        max_snap_m=float(max_snap_m),
    )
