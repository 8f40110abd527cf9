"""A whole run on Spark gives DuckDB's findings and reach (issue 20).

The smallest demo world (``scale`` 0.1: about 1,000 children, every story planted) runs
through every stage on DuckDB, then on Spark ``local[2]`` with the model the DuckDB run
trained (``linkage.model_path``), so the comparison is of the engines, not of two EM runs
(EM on Spark samples its pairs by another random stream). ``compare_runs`` (the project's
own run comparison: time stamps, timings and folders masked) must find findings.json and
reach.csv the same. The Spark run's stores are also copied into DuckDB files at the end
(``stores.export_to_duckdb``), which the dashboard and ``extract`` open.

Cost: the most expensive test of the suite (about 25 minutes of wall time on the shared
2-core machine, most of it Spark's per-job overhead in the link stage); marked ``spark`` and
``slow``, in the Spark xdist group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import SPARK

pytestmark = [pytest.mark.spark, *SPARK.marks, pytest.mark.slow]

#: The files that must be the same on both engines (issue 20's "must show").
MUST_MATCH = ("findings.json", "reach.csv")


def test_a_whole_run_on_spark_gives_duckdbs_findings_and_reach(
    tmp_path: Path, spark_session: Any
) -> None:
    from everyfamily.config import load_project
    from everyfamily.config.engine import SparkSettings
    from everyfamily.demo import generate_scenario
    from everyfamily.pipeline import run_pipeline
    from everyfamily.stores import open_run_stores
    from everyfamily.testing.compare_runs import compare_runs

    scenario = generate_scenario(tmp_path / "scenario", seed=2026, scale=0.1)
    project = load_project(scenario.project_file)
    duck_out = tmp_path / "duckdb"
    run_pipeline(project, out_dir=duck_out, echo=lambda _m: None, seed=1)
    model = tmp_path / "model.json"
    model.write_bytes((duck_out / "linkage" / "model.json").read_bytes())
    linkage = project.linkage.model_copy(update={"model_path": model})
    on_spark = project.model_copy(
        update={
            "engine": "spark",
            "spark": SparkSettings(storage_encrypted=True),
            "linkage": linkage,
        }
    )
    spark_out = tmp_path / "spark"
    meta = run_pipeline(on_spark, out_dir=spark_out, echo=lambda _m: None, seed=1)
    assert meta["status"] == "complete"
    # the Spark run kept its zones as folders and copied them into DuckDB files for readers
    assert (spark_out / "spark" / "analysis" / "reach_released").is_dir()
    assert (spark_out / "restricted" / "spark" / "identifiable" / "records").is_dir()
    with open_run_stores(spark_out) as reader:
        assert reader.has_table("reach_released")

    result = compare_runs(duck_out, spark_out)
    findings = (duck_out / "findings.json").read_text(encoding="utf-8")
    assert '"kind"' in findings  # the world produced findings to compare
    differing = {d.path for d in result.different} | set(result.only_in_a)
    assert not differing & set(MUST_MATCH), result.lines()
