"""The nearest centres on foot from the middle of each small area (for area profiles).

The middle of an area is its representative point (a point inside the polygon; the point
the dashboard's straight-line distances start from). The walk is over the access stage's
walking network (:func:`everyfamily.access.measures.travel_matrix`: Dijkstra from each
site, the straight walk to and from the network added), the time at the project's walking
speed. These are properties of places, not counts of children: they are released as they
are, like the time-band layer's walking figures (access/tables.py ``released_areas``).

The larger areas a project lists (ward, locality ...) get the same walk from their own
middle (the representative point of the union of their small areas), so a ward's profile
measures its nearest centres over the same streets as its small areas and the barrier
finding: :func:`level_walks`, written to ``area_walks.csv`` by :func:`write_level_walks`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.access import measures as ms

#: How many centres an area profile lists.
NEAREST_K = 3
#: The file (in the run folder) of the centres nearest on foot from each larger area's
#: middle: ``level``, ``area_code`` and :func:`walk_columns`. Places, not counts: public.
LEVEL_WALKS_FILE = "area_walks.csv"


def walk_columns(k: int = NEAREST_K) -> list[str]:
    """The wide columns :func:`nearest_sites_on_foot` returns besides ``area_code``:
    ``walk_site_1``, ``walk_m_1``, ``walk_min_1``, ... up to ``k``."""
    return [f"{c}_{i}" for i in range(1, k + 1) for c in ("walk_site", "walk_m", "walk_min")]


def k_nearest(m: ms.Matrix, k: int = NEAREST_K) -> list[list[tuple[str, float]]]:
    """Pure: per origin, up to ``k`` sites nearest over the network, nearest first, as
    (site id, network metres); unreachable sites are left out. Ties keep the order the
    sites are listed in (a stable sort)."""
    out: list[list[tuple[str, float]]] = []
    for row in np.asarray(m.network_m, dtype="float64"):
        order = np.argsort(np.where(np.isfinite(row), row, np.inf), kind="stable")
        out.append([(m.site_ids[j], float(row[j])) for j in order[:k] if np.isfinite(row[j])])
    return out


def nearest_sites_on_foot(
    graph: Any,
    area_xy: pd.DataFrame,
    sites_xy: pd.DataFrame,
    speed_kmh: float,
    k: int = NEAREST_K,
) -> pd.DataFrame:
    """Pure: per area (``area_code``, projected ``x``, ``y`` of its middle), the ``k``
    centres nearest on foot with the walk in metres and minutes, in wide columns
    (:func:`walk_columns`); missing where fewer than ``k`` centres can be reached."""
    m = ms.travel_matrix(
        graph, area_xy["x"], area_xy["y"], sites_xy["x"], sites_xy["y"], sites_xy["site_id"]
    )
    rows: list[dict[str, Any]] = []
    for code, near in zip(area_xy["area_code"].astype(str), k_nearest(m, k), strict=True):
        row: dict[str, Any] = {"area_code": code}
        for i in range(1, k + 1):
            site, metres = near[i - 1] if i <= len(near) else (None, np.nan)
            row[f"walk_site_{i}"] = site
            row[f"walk_m_{i}"] = round(metres, 1) if np.isfinite(metres) else np.nan
            row[f"walk_min_{i}"] = float(ms.minutes(np.array([metres]), speed_kmh)[0])
        rows.append(row)
    return pd.DataFrame(rows, columns=["area_code", *walk_columns(k)])


def area_middles(small: Any, crs: Any) -> pd.DataFrame:
    """Each small area's representative point in the projected ``crs`` (area_code, x, y)."""
    points = small.to_crs(crs).geometry.representative_point()
    return pd.DataFrame(
        {
            "area_code": small["area_code"].astype(str).to_numpy(),
            "x": points.x.to_numpy(),
            "y": points.y.to_numpy(),
        }
    )


def level_middles(small: Any, hierarchy: pd.DataFrame, crs: Any) -> pd.DataFrame:
    """Pure: the middle of every area of every larger level in ``hierarchy`` (as
    :func:`everyfamily.population.geography.load_hierarchy` returns it: ``area_code`` of the
    small area, one code column per level, ``<level>_name`` columns): the representative
    point of the union of its small areas in the projected ``crs``. Columns ``level``,
    ``area_code``, ``x``, ``y``; small areas without a code at a level are left out of it."""
    levels = [c for c in hierarchy.columns if c != "area_code" and not c.endswith("_name")]
    shapes = small[["area_code", "geometry"]].to_crs(crs)
    shapes = shapes.assign(area_code=shapes["area_code"].astype(str))
    codes = hierarchy.assign(area_code=hierarchy["area_code"].astype(str))
    frames: list[pd.DataFrame] = []
    for level in levels:
        joined = shapes.merge(codes[["area_code", level]], on="area_code", how="inner")
        joined = joined[joined[level].notna() & (joined[level].astype(str) != "")]
        if joined.empty:
            continue
        whole = joined.assign(code=joined[level].astype(str)).dissolve(by="code")
        points = whole.geometry.representative_point()
        frames.append(
            pd.DataFrame(
                {
                    "level": level,
                    "area_code": whole.index.astype(str),
                    "x": points.x.to_numpy(),
                    "y": points.y.to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["level", "area_code", "x", "y"])
    return pd.concat(frames, ignore_index=True)


def level_walks(
    graph: Any,
    small: Any,
    hierarchy: pd.DataFrame,
    crs: Any,
    sites_xy: pd.DataFrame,
    speed_kmh: float,
    k: int = NEAREST_K,
) -> pd.DataFrame:
    """Pure: per larger area (:func:`level_middles`), the ``k`` centres nearest on foot
    from its middle (:func:`nearest_sites_on_foot`), with its ``level``."""
    middles = level_middles(small, hierarchy, crs)
    if middles.empty or sites_xy.empty:
        return pd.DataFrame(columns=["level", "area_code", *walk_columns(k)])
    near = nearest_sites_on_foot(graph, middles, sites_xy, speed_kmh, k)
    return pd.concat([middles[["level"]].reset_index(drop=True), near], axis=1)


def write_level_walks(
    out_dir: Path,
    project: Any,
    graph: Any,
    small: Any,
    crs: Any,
    sites_xy: pd.DataFrame,
    speed_kmh: float,
) -> int:
    """Write :data:`LEVEL_WALKS_FILE` for the project's larger levels (the I/O edge:
    reads the hierarchy); returns its number of rows. A project without a hierarchy, or
    whose hierarchy cannot be read, writes no file (area profiles then say their list is
    in a straight line)."""
    from everyfamily.errors import EveryfamilyError
    from everyfamily.population.geography import load_hierarchy

    path = Path(out_dir) / LEVEL_WALKS_FILE
    try:
        hierarchy = load_hierarchy(project)
    except EveryfamilyError:
        hierarchy = pd.DataFrame(columns=["area_code"])
    walks = level_walks(graph, small, hierarchy, crs, sites_xy, speed_kmh)
    if walks.empty:
        path.unlink(missing_ok=True)
        return 0
    walks.to_csv(path, index=False)
    return len(walks)
