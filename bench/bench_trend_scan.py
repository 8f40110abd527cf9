"""Benchmark: the trend scan's power and false alarms on the town, for each zone shape and
null (trends.scan: circular or flexibly shaped zones; permutation or binomial null).

Usage: ``python bench/bench_trend_scan.py [--planted=2,3,...] [--null=2000,...] [--keep=DIR]
[--scale=S]``. Each world (``TownStories(declining_reach=True)`` for a planted seed, every
other story on as in tests/trends; ``TownStories.none()`` for a null seed; 40 areas) runs
the stages ingest, link, measure and trends once; the scan is then replayed on the run's
exact trends table for each variant (zone shape, null, statistic: recent or hinge; the
product's code and seed, 999 replicates, first scan only: alpha 1 to print every p).
``--keep`` reuses the runs of an earlier call.

Also prints the drift check: in the small areas no story touches, the mean squared trend z
of each area alone (the scan's statistic, latest 5 quarters: 1 when areas vary as binomial
counts, more when they drift) and of the last quarter against the quarter 8 before it
(disjoint children in a 0-1 band).

Prints one JSON line per world and a summary line per variant: plants found at 5% (the
most likely zone holds a planted area and p <= 0.05) and null worlds with p <= 0.05.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

VARIANTS = (("circular", "permutation", "recent"), ("circular", "binomial", "recent"))
VARIANTS += (("flexible", "permutation", "recent"), ("flexible", "binomial", "recent"))
VARIANTS += (("circular", "permutation", "hinge"), ("flexible", "permutation", "hinge"))
STAGES = ("ingest", "link", "measure", "trends")


def _world(folder: Path, seed: int, planted: bool, scale: float) -> dict[str, Any]:
    """Run the town once (kept in ``folder``) and read what the replay needs."""
    from everyfamily.config import load_project
    from everyfamily.demo.town import TownStories
    from everyfamily.demo.town.scenario import generate_town
    from everyfamily.findings.stage import area_centroids, queen_neighbours
    from everyfamily.pipeline import run_pipeline
    from everyfamily.stores import open_run_stores

    project_file, truth_dir = folder / "town" / "project.yaml", folder / "town" / "truth"
    if not project_file.exists():
        stories = TownStories(declining_reach=True) if planted else TownStories.none()
        town = generate_town(folder / "town", seed=seed, stories=stories, n_areas=40, scale=scale)
        project_file, truth_dir = town.project_file, town.truth_dir
    project = load_project(project_file)
    out = folder / "out"
    if not (out / "run.json").exists():
        run_pipeline(project, out_dir=out, echo=lambda _m: None, seed=seed, stages=STAGES)
    engine = open_run_stores(out)
    try:
        exact = engine.query("SELECT * FROM trends").to_pandas()
    finally:
        engine.close()
    exact["period_index"] = exact["period_end"].rank(method="dense").astype(int) - 1
    truth = json.loads((truth_dir / "stories.json").read_text(encoding="utf-8"))
    return {
        "exact": exact,
        "centroids": area_centroids(project) or {},
        "neighbours": queen_neighbours(project) or {},
        "planted": set((truth.get("declining_reach") or {}).get("lsoas") or []),
        "story_areas": _story_areas(truth),
    }


def _story_areas(truth: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for v in truth.values():
        if isinstance(v, dict):
            areas = v.get("areas") or v.get("far_side_areas") or {}
            if isinstance(areas, dict):
                out |= set(areas.get("small_area") or areas.get("lsoa") or [])
    return out


def _drift(exact: pd.DataFrame, story: set[str]) -> dict[str, float]:
    """Mean squared single-area trend z in the areas no story touches (module docstring)."""
    from everyfamily.trends.scan import zone_z

    s = exact[(exact["level"] == "lsoa") & (exact["dimension"] == "all")]
    s = s[s["service"] == "any"]
    x = s.pivot_table(index="area_code", columns="period_index", values="registered")
    n = s.pivot_table(index="area_code", columns="period_index", values="denominator")
    x, n = x.fillna(0.0).to_numpy(), n.fillna(0.0).to_numpy()
    keep = ~np.isin(s.pivot_table(index="area_code", values="registered").index, list(story))
    out = {}
    for name, cols in (("trend_last5", slice(-5, None)), ("last_vs_8_before", [-9, -1])):
        xs, ns = x[:, cols], n[:, cols]
        z = zone_z(xs, ns, xs.sum(axis=0) / ns.sum(axis=0))
        out[name] = round(float(np.mean(z[keep] ** 2)), 2)
    out["areas"] = int(keep.sum())
    return out


def _replay(w: dict[str, Any]) -> dict[str, Any]:
    from everyfamily.trends.scan import _adjacency, hinge_scores, scan_inputs, scan_trends

    out = {}
    for zones, null, statistic in VARIANTS:
        span = int(w["exact"]["period_index"].nunique()) if statistic == "hinge" else 5
        cols = ("registered", "denominator")
        arrays = scan_inputs(w["exact"], "lsoa", cols, span, w["centroids"])
        if arrays is None:
            continue
        x, n, codes, xy = arrays
        scores = hinge_scores(x.shape[1], 5) if statistic == "hinge" else None
        adjacency = _adjacency(codes, w["neighbours"]) if zones == "flexible" else None
        top = scan_trends(
            x, n, codes, xy, adjacency=adjacency, alpha=1.0, max_clusters=1, null=null,
            scores=scores,
        )[0]  # fmt: skip
        out[f"{zones}+{null}+{statistic}"] = {
            "p": top.p_value,
            "z": round(top.z, 2),
            "areas": len(top.areas),
            "planted_areas": len(set(top.areas) & w["planted"]),
        }
    return out


def _seeds(argv: list[str], name: str, default: str) -> list[int]:
    raw = next((a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")), default)
    return [int(s) for s in raw.split(",") if s]


def main(argv: list[str]) -> None:
    planted = _seeds(argv, "planted", "2,3,4,5,6,7,8")
    null = _seeds(argv, "null", "2000,2001,2002,2003,2004,2005,2006,2007")
    keep = next((a.split("=", 1)[1] for a in argv if a.startswith("--keep=")), None)
    scale = float(next((a.split("=", 1)[1] for a in argv if a.startswith("--scale=")), 1.0))
    found = {"+".join(v): [0, 0] for v in VARIANTS}  # [plants found, null alarms]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep) if keep else Path(tmp)
        for seed, is_planted in [(s, True) for s in planted] + [(s, False) for s in null]:
            folder = root / f"{'planted' if is_planted else 'null'}_{seed}"
            w = _world(folder, seed, is_planted, scale)
            rows = _replay(w)
            for k, r in rows.items():
                hit = r["p"] <= 0.05 and (r["planted_areas"] > 0 or not is_planted)
                found[k][0 if is_planted else 1] += int(hit)
            line = {
                "seed": seed,
                "planted": is_planted,
                "drift": _drift(w["exact"], w["story_areas"]),
            }
            print(json.dumps({"bench": "trend_scan", **line, "scan": rows}), flush=True)
    for k, (hits, alarms) in found.items():
        row = {
            "bench": "trend_scan",
            "variant": k,
            "plants_found": hits,
            "planted_worlds": len(planted),
        }
        row.update({"null_alarms": alarms, "null_worlds": len(null), "alpha": 0.05, "scale": scale})
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
