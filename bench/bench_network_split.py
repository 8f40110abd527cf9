"""Benchmark: splitting a line layer whose lines cross without shared end points.

Usage: ``python bench/bench_network_split.py [LINES]`` (default 5,000; 20,000 with
``--full``). The layer is a seeded synthetic council export: LINES straight 200 m streets at
random places and bearings in a
square sized so that each street crosses about three others (the density of a town's
streets), in EPSG:27700. Timed: :func:`everyfamily.access.network.lines_from_layer` with
``split_crossings`` (GEOS noding, each piece mapped back to its line) and the walking graph.
The baseline, measured in the same run, is the same layer read without splitting (lines
joined at their end points only), so the ratio is the price of noding.

Prints one JSON line: {"bench", "metric", "value", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from everyfamily.access.network import lines_from_layer, walking_graph
from everyfamily.config import AccessSettings, NetworkFile

#: Street length (m) and the expected crossings per street that set the square's size: two
#: random segments of length L in a square of side S cross with probability about
#: 2 L^2 / (pi S^2), so S = L * sqrt(2 n / (pi c)).
STREET_M = 200.0
CROSSINGS_PER_STREET = 3.0


def main(argv: list[str]) -> int:
    sizes = [a for a in argv if not a.startswith("--")]
    n = int(sizes[0]) if sizes else (20000 if "--full" in argv else 5000)
    side = STREET_M * np.sqrt(2 * n / (np.pi * CROSSINGS_PER_STREET))
    rng = np.random.default_rng(13)
    x = rng.uniform(0, side, n) + 340_000
    y = rng.uniform(0, side, n) + 390_000
    a = rng.uniform(0, np.pi, n)
    ends = np.c_[x + STREET_M * np.cos(a), y + STREET_M * np.sin(a)]
    geoms = shapely.linestrings(np.stack([np.c_[x, y], ends], axis=1))
    frame = gpd.GeoDataFrame({"highway": ["residential"] * n}, geometry=geoms, crs="EPSG:27700")
    settings = AccessSettings(networks=[NetworkFile(path=Path("bench.gpkg"))])

    def build(split: bool) -> tuple[float, int, int]:
        t0 = time.perf_counter()
        lines = lines_from_layer(
            frame,
            class_column="highway",
            name_column=None,
            settings=settings,
            crs="EPSG:27700",
            split_crossings=split,
        )
        g = walking_graph(lines)
        return time.perf_counter() - t0, len(lines), len(np.unique(g.component))

    baseline, _n0, pieces0 = build(False)
    value, pieces_n, pieces1 = build(True)
    print(
        json.dumps(
            {
                "bench": "access_split_crossings",
                "metric": "seconds (split crossing lines + walking graph)",
                "value": round(value, 4),
                "baseline": round(baseline, 4),
                "baseline_what": "the same layer joined at end points only",
                "ratio": round(value / baseline, 1) if baseline > 0 else None,
                "lines": n,
                "pieces_after_split": pieces_n,
                "graph_components_without_split": pieces0,
                "graph_components_with_split": pieces1,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
