"""Home points: where each child is placed, the access measures of each distinct point,
and the engine's distinct origins matched to their points (pure apart from
:func:`load_origins`, which queries the engine).

The travel-time matrix, nearest sites, bands and the two-step floating catchment are
computed once per distinct home point (:func:`measure_points`); the engine joins them back
to the children (access.engine_sums), so no row per child is needed to count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.access import engine_sums
from everyfamily.access import measures as ms
from everyfamily.access.network import driving_graph

if TYPE_CHECKING:
    from everyfamily.config import AccessSettings
    from everyfamily.engines.base import Engine


def place(frame: pd.DataFrame, small_xy: pd.DataFrame, to_xy: Any) -> tuple[Any, Any]:
    """Projected x, y of each row of ``frame`` (area_code, home_area, latitude, longitude):
    the home point when it lies in the child's small area, else the small area's point (as
    the measure stage does); NaN where neither is known."""
    lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(dtype="float64")
    lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(dtype="float64")
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    same = (frame["home_area"] == frame["area_code"]).fillna(False).to_numpy(dtype=bool)
    ok = np.isfinite(lat) & np.isfinite(lon) & same
    if ok.any():
        px, py = to_xy(lon[ok], lat[ok])
        x[ok], y[ok] = np.asarray(px), np.asarray(py)
    # No postcode point: the small area's point (as the measure stage does).
    ax = frame["area_code"].map(small_xy.set_index("area_code")["x"]).to_numpy(dtype="float64")
    ay = frame["area_code"].map(small_xy.set_index("area_code")["y"]).to_numpy(dtype="float64")
    fill = ~np.isfinite(x)
    x[fill], y[fill] = ax[fill], ay[fill]
    return x, y


def measure_points(
    pts: np.ndarray,
    demand: np.ndarray,
    graph: Any,
    lines: Any,
    sites: pd.DataFrame,
    sites_xy: pd.DataFrame,
    a: AccessSettings,
) -> tuple[pd.DataFrame, dict[str, Any], bool, float]:
    """Pure: per distinct home point (``pts``, (n, 2) projected x, y; ``demand``, the
    children at each), the nearest site on foot (and by car), walking band and two-step
    floating catchment access (Luo & Wang 2003). Returns the point measures (a row per
    point, in ``pts`` order), what driving did, whether capacity was the supply, and the
    time the walking matrix was done."""
    # --- travel-time matrix: home points x sites --------------------------------------------
    mat = ms.travel_matrix(
        graph, pts[:, 0], pts[:, 1], sites_xy["x"], sites_xy["y"], sites_xy["site_id"]
    )
    t_matrix = time.perf_counter()
    out = ms.nearest_site(mat)
    out["walk_min"] = ms.minutes(out["walk_m"], a.walking_speed_kmh)
    out["walk_band"] = ms.time_band(out["walk_min"], a.band_minutes)
    walk_min_matrix = ms.minutes(mat.network_m, a.walking_speed_kmh)

    drive_info: dict[str, Any] = {"enabled": a.driving}
    if a.driving:
        dg = driving_graph(lines, a.driving_speeds_kmh)
        if dg is None:
            drive_info["skipped"] = "the network has no drivable lines"
        else:
            # weights are seconds; the way to and from the road is walked
            dmat = ms.travel_matrix(
                dg,
                pts[:, 0],
                pts[:, 1],
                sites_xy["x"],
                sites_xy["y"],
                sites_xy["site_id"],
                snap_cost_per_m=3.6 / a.walking_speed_kmh,
            )
            secs = np.nanmin(np.where(np.isfinite(dmat.network_m), dmat.network_m, np.inf), axis=1)
            out["drive_min"] = secs / 60.0
            out["drive_band"] = ms.time_band(out["drive_min"], a.band_minutes)

    # --- two-step floating catchment area ------------------------------------------------
    cap_used = a.use_capacity and "capacity" in sites and sites["capacity"].notna().any()
    supply = (
        pd.to_numeric(sites["capacity"], errors="coerce").fillna(0).to_numpy(dtype="float64")
        if cap_used
        else np.ones(len(sites))
    )
    score, _ratio = ms.two_step_fca(demand, supply, walk_min_matrix, a.catchment_minutes)
    out["access_2sfca_per_1000"] = 1000.0 * score
    return out, drive_info, bool(cap_used), t_matrix


@dataclass(frozen=True)
class Origins:
    """The reach population's distinct origins as the engine returned them (a row per home
    point and small area, with its ``n`` children, not a row per child), placed as
    :func:`place` places a child; origins with no place are left out. ``pts`` are the
    distinct placed points (sorted, as numpy's unique sorts them), ``at`` each origin's
    point and ``demand`` the children at each point."""

    table: pa.Table  # the placed origins: ORIGIN_KEYS and n
    area_code: np.ndarray
    x: np.ndarray
    y: np.ndarray
    n: np.ndarray
    pts: np.ndarray
    at: np.ndarray
    demand: np.ndarray

    @property
    def children(self) -> int:
        """The placed children of the reach population."""
        return int(self.n.sum())


def load_origins(engine: Engine, home_sql: str, small_xy: pd.DataFrame, to_xy: Any) -> Origins:
    """The reach population's distinct origins (access.engine_sums.origins_sql), placed."""
    have = set(engine.columns("children"))
    table = engine.query(engine_sums.origins_sql(engine, have, home_sql))
    frame = table.to_pandas()
    x, y = place(frame, small_xy, to_xy)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = frame["n"].to_numpy(dtype="int64")[keep]
    pts, at = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    at = at.reshape(-1)
    demand = np.bincount(at, weights=n, minlength=len(pts)).astype("float64")
    return Origins(
        table.filter(pa.array(keep)),
        frame["area_code"].astype("string").to_numpy(dtype=object)[keep],
        x,
        y,
        n,
        pts,
        at,
        demand,
    )
