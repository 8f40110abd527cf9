"""The nearest centres on foot from the middle of each small area (for area profiles).

The middle of an area is its representative point (a point inside the polygon; the point
the dashboard's straight-line distances start from). The walk is over the access stage's
walking network (:func:`everyfamily.access.measures.travel_matrix`: Dijkstra from each
site, the straight walk to and from the network added), the time at the project's walking
speed. These are properties of places, not counts of children: they are released as they
are, like the time-band layer's walking figures (access/tables.py ``released_areas``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from everyfamily.access import measures as ms

#: How many centres an area profile lists.
NEAREST_K = 3


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
