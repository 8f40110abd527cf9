"""Measurement: a whole run on Spark gives DuckDB's findings.json and reach.csv (issue 20).

Usage::

    python bench/bench_engines_equal.py [--world=demo|town] [--scale=1] [--seed=N]
                                        [--stages=a,b,c] [--out=DIR] [--master=local[2]]
                                        [--conf=spark.driver.memory=4g ...] [--reuse]

Generates one synthetic world (``demo``: the Knowsley scenario, ``generate_scenario``;
``town``: the second world, the randomised town, ``demo.town.generate_town``) at ``scale``
(0.1 to 1; 1, the default, is the demo's size), runs it through the pipeline on DuckDB,
then on Spark (``--master``, ``local[2]`` by default) with the linkage model the DuckDB run
trained (``linkage.model_path``: EM on Spark samples its pairs by another random stream, so
the comparison is of the engines, not of two EM runs), and compares the two output folders
with the project's own comparison (``everyfamily.testing.compare_runs``: time stamps,
timings and folders masked; Spark's own ``spark/`` folders left out).

Prints, for findings.json and reach.csv, whether they are equal on the two engines, the
wall time of each run, and every other file that differs; one JSON line at the end
({"bench", "metric", "value", ...}). Exits 1 when findings.json or reach.csv differ (or is
missing from a run), 0 otherwise. ``--out`` keeps both runs in that folder (default: a
temporary folder, removed at the end); ``--reuse`` then keeps a world and a finished
DuckDB run found there (to repeat the Spark side only). ``--conf=KEY=VALUE`` (repeatable)
adds Spark configuration (``spark.config``): the driver's heap is Spark's default 1 GB
unless ``--conf=spark.driver.memory=...`` says otherwise.

The suite keeps the smallest such run (tests/engines/test_spark_run.py: the demo world at
0.1, the stages that make findings); this is the measurement at meaningful size, with
results in docs/scale.md.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: The two files whose equality issue 20 asks for.
COMPARED = ("findings.json", "reach.csv")


def _args(argv: list[str]) -> dict[str, str]:
    opts = {"world": "demo", "scale": "1", "seed": "", "stages": "", "out": "", "master": ""}
    opts |= {"conf": "", "reuse": ""}
    for arg in argv:
        key, _, value = arg.removeprefix("--").partition("=")
        if key == "conf":
            value = f"{opts['conf']}\n{value}".strip()
        if key == "reuse":
            value = "yes"
        if key not in opts or not arg.startswith("--"):
            raise SystemExit(f"unknown argument {arg!r}: see the docstring (--world=demo|town)")
        opts[key] = value
    if opts["world"] not in ("demo", "town"):
        raise SystemExit("--world must be demo or town")
    return opts


def _project_file(world: str, folder: Path, scale: float, seed: str) -> Path:
    """Generate the world into ``folder``; its project file."""
    if world == "town":
        from everyfamily.demo.town import generate_town

        return generate_town(folder, seed=int(seed or 3), scale=scale).project_file
    from everyfamily.demo import generate_scenario

    return generate_scenario(folder, seed=int(seed or 2026), scale=scale).project_file


def _timed_run(project: Any, out: Path, stages: tuple[str, ...] | None) -> float:
    from everyfamily.pipeline import run_pipeline

    t0 = time.perf_counter()
    meta = run_pipeline(project, out_dir=out, echo=lambda _m: None, seed=1, stages=stages)
    if meta.get("status") != "complete":
        raise SystemExit(f"the run into {out} did not complete: {meta.get('status')}")
    return time.perf_counter() - t0


def measure(opts: dict[str, str], root: Path) -> dict[str, Any]:
    """Both runs of one world into ``root``; the comparison's facts."""
    from everyfamily.config import load_project
    from everyfamily.config.engine import SparkSettings
    from everyfamily.testing.compare_runs import compare_runs

    scale = float(opts["scale"])
    stages = tuple(opts["stages"].split(",")) if opts["stages"] else None
    done = root / "duckdb" / "run.json"
    reuse = bool(opts["reuse"]) and done.is_file() and (root / "world" / "project.yaml").is_file()
    if reuse:
        project = load_project(root / "world" / "project.yaml")
        duck_seconds = float("nan")  # run earlier
    else:
        world = _project_file(opts["world"], root / "world", scale, opts["seed"])
        project = load_project(world)
        duck_seconds = _timed_run(project, root / "duckdb", stages)
    model = root / "model.json"
    model.write_bytes((root / "duckdb" / "linkage" / "model.json").read_bytes())
    spark = SparkSettings(storage_encrypted=True)
    if opts["master"]:
        spark = spark.model_copy(update={"master": opts["master"]})
    if opts["conf"]:
        pairs = (line.split("=", 1) for line in opts["conf"].splitlines())
        spark = spark.model_copy(update={"config": {k: v for k, v in pairs}})
    on_spark = project.model_copy(
        update={
            "engine": "spark",
            "spark": spark,
            "linkage": project.linkage.model_copy(update={"model_path": model}),
        }
    )
    spark_seconds = _timed_run(on_spark, root / "spark", stages)
    result = compare_runs(root / "duckdb", root / "spark", skip=("spark/", "restricted/spark/"))
    differing = {d.path for d in result.different}
    missing = set(result.only_in_a) | set(result.only_in_b)
    equal = {f: f not in differing and f not in missing for f in COMPARED}
    return {
        "world": opts["world"],
        "scale": scale,
        "stages": list(stages) if stages else "all",
        "duckdb_seconds": round(duck_seconds, 1),
        "spark_seconds": round(spark_seconds, 1),
        "equal": equal,
        "other_differing": sorted((differing | missing) - set(COMPARED)),
        "lines": list(result.lines()),
    }


def main(argv: list[str]) -> int:
    opts = _args(argv)
    if opts["out"]:
        root = Path(opts["out"])
        root.mkdir(parents=True, exist_ok=True)
        facts = measure(opts, root)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
            facts = measure(opts, Path(tmp))
    print(f"world {facts['world']} at scale {facts['scale']:g}, stages: {facts['stages']}")
    print(f"DuckDB run {facts['duckdb_seconds']} s, Spark run {facts['spark_seconds']} s (wall)")
    for name, same in facts["equal"].items():
        print(f"{name}: {'EQUAL' if same else 'DIFFERENT'} on DuckDB and Spark")
    for path in facts["other_differing"]:
        print(f"also differs: {path}")
    all_equal = all(facts["equal"].values())
    line = {
        "bench": "engines_equal",
        "metric": f"{facts['world']}_findings_and_reach_equal",
        "value": all_equal,
        "scale": facts["scale"],
        "duckdb_seconds": facts["duckdb_seconds"],
        "spark_seconds": facts["spark_seconds"],
        "other_differing": facts["other_differing"],
    }
    print(json.dumps(line))
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
