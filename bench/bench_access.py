"""Benchmark: the walking travel-time matrix, Knowsley's home postcodes x all sites.

Usage: ``python bench/bench_access.py [ORIGINS]`` (default: every Knowsley postcode in the
bundled open data, about 3,900; the issue's target is about 5,000 postcodes with children x
all sites in at most 10 s on a 2-core machine; give e.g. 50000 to scale up: extra origins
are postcode centroids moved up to 50 m, seeded). The network is the demo's APPROXIMATE
walking network (demo/network.py), written to a GeoPackage and read back as the access
stage reads it. Timed: reading the network, building the graph, snapping, one Dijkstra per
site and the nearest site for every origin. The baseline, measured in the same run, is the
straight-line distance matrix of the same origins and sites (numpy), so the ratio is the
price of walking the streets instead of flying.

Prints one JSON line: {"bench", "metric", "value", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from everyfamily.access import measures as ms
from everyfamily.access.network import read_network_lines, walking_graph
from everyfamily.config import AccessSettings, NetworkFile
from everyfamily.demo import network as demo_network
from everyfamily.demo import world
from everyfamily.demo.opendata_io import load_open_data, to_bng
from everyfamily.demo.stories import Stories


def main(argv: list[str]) -> int:
    data = load_open_data()
    pcs = data.postcodes
    sizes = [a for a in argv if not a.startswith("--")]
    n = int(sizes[0]) if sizes else len(pcs)
    rng = np.random.default_rng(8)
    ox = pcs["x"].to_numpy(dtype="float64")
    oy = pcs["y"].to_numpy(dtype="float64")
    if n <= len(ox):
        ox, oy = ox[:n], oy[:n]
    else:
        k = rng.integers(0, len(ox), n - len(ox))
        ang = rng.uniform(0, 2 * np.pi, len(k))
        rad = rng.uniform(0, 50, len(k))
        ox = np.concatenate([ox, ox[k] + rad * np.cos(ang)])
        oy = np.concatenate([oy, oy[k] + rad * np.sin(ang)])
    sites = world._sites(data)
    sx, sy = to_bng(sites["lon"].to_numpy(), sites["lat"].to_numpy())

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / demo_network.FILE_NAME
        demo_network.write_network(path, sites[["lat", "lon"]], Stories())
        settings = AccessSettings(networks=[NetworkFile(path=path, name_column="ref")])
        t0 = time.perf_counter()
        lines = read_network_lines(settings, "EPSG:27700")
        graph = walking_graph(lines)
        t1 = time.perf_counter()
        m = ms.travel_matrix(graph, ox, oy, sx, sy, sites["site_id"])
        near = ms.nearest_site(m)
        t2 = time.perf_counter()

    b0 = time.perf_counter()
    straight = np.hypot(ox[:, None] - sx[None, :], oy[:, None] - sy[None, :])
    nearest_straight = np.argmin(straight, axis=1)
    baseline = time.perf_counter() - b0

    value = t2 - t0
    print(
        json.dumps(
            {
                "bench": "access_travel_time_matrix",
                "metric": "seconds (read network + graph + snap + Dijkstra per site + nearest)",
                "value": round(value, 4),
                "baseline": round(baseline, 6),
                "baseline_what": "straight-line distance matrix and nearest site (numpy)",
                "ratio": round(value / baseline, 1) if baseline > 0 else None,
                "origins": len(ox),
                "sites": len(sx),
                "network_lines": len(lines),
                "graph_nodes": graph.n_nodes,
                "graph_edges": graph.n_edges,
                "seconds_network": round(t1 - t0, 4),
                "seconds_matrix": round(t2 - t1, 4),
                "median_walk_m": round(float(np.nanmedian(near["walk_m"])), 1),
                "median_detour_ratio": round(float(np.nanmedian(near["detour_ratio"])), 3),
                "same_nearest_as_straight_line": round(
                    float(
                        (
                            pd.Series(near["nearest_site_walk"]).to_numpy()
                            == np.asarray(sites["site_id"])[nearest_straight]
                        ).mean()
                    ),
                    3,
                ),
                "target_seconds": 10,
                "network": "APPROXIMATE demo network (postcode proximity graph)",
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
