"""Benchmark: a monthly run does not grow with the run history (issue 18, "a council's
twelfth monthly run still takes minutes").

Usage: ``python bench/bench_trend_history.py [SCALE] [--keep=DIR]`` (default scale 0.25;
``--keep`` reuses the four runs already in DIR).
Runs a monthly demo series (``demo --months-earlier 3`` then three ``--month-later``
runs, demo.monthly): the second run holds 1 previous snapshot in its store's
``run_history``, the fourth holds 3. On each of those two finished runs it times the
``since`` stage again on its own stores (best of 3: it reads the previous run's child table
and rewrites the history) and reads the whole run's wall time from run.json. A run's cost
must not grow with the history: ``ratio`` (since stage with 3 previous runs / with 1) should
be about 1 (the history adds one aggregate row per area per run; no earlier child table is
read).

Prints JSON lines: {"bench", "metric", "value", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench_trends import _timed  # the same timing loop (run as a script from bench/)
from everyfamily.config import load_project
from everyfamily.demo.run import month_later, run_demo
from everyfamily.since.stage import since_stage
from everyfamily.stores import open_run_stores


def _since_seconds(out: Path, repeats: int = 3) -> tuple[float, int]:
    """The best of ``repeats`` runs of the since stage on the run's stores, and the rows of
    its run_history."""
    project = load_project(out / "scenario" / "project.yaml")
    previous = json.loads((out / "run.json").read_text(encoding="utf-8")).get("previous_run")
    # the demo names the previous run on the command line, not in the project file
    settings = project.project.model_copy(update={"previous_run_path": Path(previous)})
    project = project.model_copy(update={"project": settings})
    best = _timed(out, since_stage, repeats, project)
    engine = open_run_stores(out, zones=("analysis",))
    try:
        with engine.zone("analysis"):
            rows = int(engine.query("SELECT COUNT(*) AS n FROM run_history").column(0)[0].as_py())
    finally:
        engine.close()
    return best, rows


def _run_seconds(out: Path) -> float:
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return float(sum((run.get("timings_seconds") or {}).values()))


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    keep = next((a.split("=", 1)[1] for a in argv if a.startswith("--keep=")), None)
    scale = float(args[0]) if args else 0.25
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep or tmp)
        runs = [root / f"m{i}" for i in range(4)]
        if not all((r / "run.json").is_file() for r in runs):  # --keep: reuse a series
            first = {"seed": 2026, "scale": scale, "months_earlier": 3}
            run_demo(out_dir=runs[0], echo=lambda _m: None, **first)
            for i in range(1, 4):
                run_demo(out_dir=runs[i], echo=lambda _m: None, **month_later(runs[i - 1]))
        one, rows_one = _since_seconds(runs[1])
        three, rows_three = _since_seconds(runs[3])
        whole = [round(_run_seconds(r), 1) for r in runs]
    print(
        json.dumps(
            {
                "bench": "trend_history",
                "metric": "since_stage_seconds_with_3_previous_runs",
                "value": round(three, 3),
                "baseline": round(one, 3),
                "ratio": round(three / one, 2),
                "history_rows": [rows_one, rows_three],
                "run_seconds": whole,
                "scale": scale,
                "baseline_is": "the since stage of the second monthly run (1 previous run)",
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
