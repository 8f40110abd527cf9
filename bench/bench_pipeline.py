"""Benchmark: the README's main job end to end on the synthetic Knowsley scenario.

Usage: ``python bench/bench_pipeline.py [SEED]``. Times each stage (generate, ingest, link,
measure, find, report) as run.json records them; the issue's target is at most 90 s end to
end on a 2-core machine. The baseline, measured in the same run, is reading the four
generated extracts into memory with pandas/pyarrow (the floor any pipeline pays), so the
ratio says what the whole analysis costs over just reading the data.

Prints one JSON line per stage and one for the total: {"bench", "metric", "value", ...}.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from everyfamily.demo.run import run_demo

TARGET_SECONDS = 90.0


def _read_extracts(folder: Path) -> float:
    t0 = time.perf_counter()
    for f in sorted((folder / "extracts").iterdir()):
        if f.suffix == ".csv":
            pd.read_csv(f, dtype=str, encoding_errors="replace", sep=None, engine="python")
        elif f.suffix == ".xlsx":
            pd.read_excel(f, dtype=str, engine="calamine")
        elif f.suffix == ".parquet":
            pd.read_parquet(f)
    return time.perf_counter() - t0


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    seed = int(args[0]) if args else 2026
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        t0 = time.perf_counter()
        meta = run_demo(out_dir=out, seed=seed, echo=lambda _m: None)
        total = time.perf_counter() - t0
        baseline = _read_extracts(out / "scenario")
    stages = {"generate": meta["scenario"]["generate_seconds"], **meta["timings_seconds"]}
    for name, seconds in stages.items():
        print(json.dumps({"bench": "pipeline", "metric": f"{name}_seconds", "value": seconds}))
    print(
        json.dumps(
            {
                "bench": "pipeline",
                "metric": "end_to_end_seconds",
                "value": round(total, 2),
                "baseline": round(baseline, 2),
                "ratio": round(total / baseline, 1),
                "target_seconds": TARGET_SECONDS,
                "within_target": total <= TARGET_SECONDS,
                "baseline_is": "reading the four extracts with pandas",
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
