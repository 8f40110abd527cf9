"""Benchmark: the randomised town's planted stories, found in the top 5 over many seeds?

Usage: ``python bench/bench_town_stories.py [--full] [--seeds=2,3,4,5,6]``. For each seed it
generates the town (``everyfamily.demo.town``, 40 areas), runs the product on it with the
generated project file only, and ranks every planted story in findings.json
(``demo.evaluate.rank_stories``, through ``run_town``). The default seeds are the five the
suite ran before issue 19 (tests/demo/test_town_stories.py keeps two of them); ``--full``
runs seeds 2-21.

Prints one JSON line per story kind: {"bench", "metric", "value", "baseline", "ratio", ...}:
the share of seeds with the story in the top 5 (baseline 1.0, every seed), with the seeds
that missed it and their ranks.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from everyfamily.demo.evaluate import STORY_KINDS
from everyfamily.demo.town.run import run_town

N_AREAS = 40
TOP = 5
DEFAULT_SEEDS = (2, 3, 4, 5, 6)


def main(argv: list[str]) -> int:
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    if "--full" in argv:
        seeds = tuple(range(2, 22))
    for arg in argv:
        if arg.startswith("--seeds="):
            seeds = tuple(int(s) for s in arg.split("=", 1)[1].split(","))
    found: dict[str, int] = dict.fromkeys(STORY_KINDS, 0)
    missed: dict[str, dict[int, object]] = {k: {} for k in STORY_KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            ev = run_town(Path(tmp) / f"seed{seed}", seed, n_areas=N_AREAS, top=TOP).evaluation
            for s in ev["stories"]:
                if s["found"]:
                    found[s["story"]] += 1
                else:
                    missed[s["story"]][seed] = s["rank"]
    for kind in STORY_KINDS:
        share = found[kind] / len(seeds)
        line = {
            "bench": "town_stories",
            "metric": f"{kind}_found_top{TOP}_share",
            "value": round(share, 3),
            "baseline": 1.0,
            "ratio": round(share, 3),
            "seeds": list(seeds),
            "missed": {str(k): v for k, v in missed[kind].items()},
        }
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
