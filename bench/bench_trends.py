"""Benchmark: reach at 12 quarter ends (the trends stage) against one measure of reach.

Usage: ``python bench/bench_trends.py [SCALE]`` (default 1: the whole Knowsley demo, the
issue's target; a smaller scale must still leave an area with 80 under-fives for the
demo's emerging community). Runs the demo once (untimed), then on
its stores times the measure stage (``reach.stage.reach_stage``: one reference date, the
baseline, measured in the same run) and the trends stage (``trends.stage.trends_stage``:
12 quarter ends in one statement, the trend tests, release and files). Issue 18's target:
12 periods cost at most 2x a single-date measure stage (``ratio`` <= 2).

Prints JSON lines: {"bench", "metric", "value", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from everyfamily.config import Project, load_project
from everyfamily.demo.run import run_demo
from everyfamily.pipeline import RunContext
from everyfamily.reach.stage import reach_stage
from everyfamily.stores import open_run_stores
from everyfamily.trends.stage import trends_stage

TARGET_RATIO = 2.0


def _timed(out: Path, stage: object, repeats: int = 2, project: Project | None = None) -> float:
    """The best of ``repeats`` runs of ``stage`` on the run's stores (analysis zone), with
    ``project`` (default: the run's own project file)."""
    project = project or load_project(out / "scenario" / "project.yaml")
    best = float("inf")
    for _ in range(repeats):
        engine = open_run_stores(out, zones=("identifiable", "analysis"), read_only=False)
        ctx = RunContext(project=project, out_dir=out, engine=engine, echo=lambda _m: None)
        try:
            with engine.zone("analysis"):
                t0 = time.perf_counter()
                stage(ctx)  # type: ignore[operator]
                best = min(best, time.perf_counter() - t0)
        finally:
            engine.close()
    return best


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    scale = float(args[0]) if args else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        run_demo(out_dir=out, seed=2026, echo=lambda _m: None, scale=scale)
        measure = _timed(out, reach_stage)
        trends = _timed(out, trends_stage)
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    periods = run.get("trends", {}).get("periods")
    print(
        json.dumps(
            {
                "bench": "trends",
                "metric": "trends_stage_seconds",
                "value": round(trends, 3),
                "baseline": round(measure, 3),
                "ratio": round(trends / measure, 2),
                "periods": periods,
                "scale": scale,
                "target_ratio": TARGET_RATIO,
                "within_target": trends <= TARGET_RATIO * measure,
                "baseline_is": "the measure stage (reach at the reference date) on the same store",
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
