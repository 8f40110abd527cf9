"""A whole run on Spark gives DuckDB's reach and findings (issue 20).

The smallest demo world (``scale`` 0.1: about 1,000 children, every story planted) runs
through the stages that make the compared outputs (``FINDING_STAGES``: ingest and linkage
to reach.csv; communities, access and trends propose the candidates the find stage ranks
into findings.json) on DuckDB, then on Spark ``local[2]`` with the model the DuckDB run
trained (``linkage.model_path``), so the comparison is of the engines, not of two EM runs
(EM on Spark samples its pairs by another random stream). ``compare_runs``, the project's
own comparison of two runs (time stamps, timings and folders masked), decides.

The same comparison at the demo's full size, of every stage, and on the second world (the
town) is a measurement, not a test: ``bench/bench_engines_equal.py`` (docs/scale.md). The
stages left out here (services, since, planning, report) run on Spark there.

Cost: the two runs are made once for this module, most of it Spark's fixed cost per job in
ingest and linkage. Marked ``spark`` and ``slow``, in the Spark xdist group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import SPARK

pytestmark = [pytest.mark.spark, *SPARK.marks, pytest.mark.slow]

#: The stages whose outputs are compared, and the stages they read (run_pipeline(stages=)).
FINDING_STAGES = ("ingest", "link", "measure", "communities", "access", "trends", "find")


@dataclass(frozen=True)
class TwoRuns:
    duckdb: Path
    spark: Path
    differing: frozenset[str]
    lines: tuple[str, ...]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, spark_session: Any) -> TwoRuns:
    from everyfamily.config import load_project
    from everyfamily.config.engine import SparkSettings
    from everyfamily.demo import generate_scenario
    from everyfamily.pipeline import run_pipeline
    from everyfamily.testing.compare_runs import compare_runs

    root = tmp_path_factory.mktemp("spark-whole-run")
    scenario = generate_scenario(root / "scenario", seed=2026, scale=0.1)
    project = load_project(scenario.project_file)
    duck_out = root / "duckdb"
    run_pipeline(project, out_dir=duck_out, echo=lambda _m: None, seed=1, stages=FINDING_STAGES)
    model = root / "model.json"
    model.write_bytes((duck_out / "linkage" / "model.json").read_bytes())
    on_spark = project.model_copy(
        update={
            "engine": "spark",
            "spark": SparkSettings(storage_encrypted=True),
            "linkage": project.linkage.model_copy(update={"model_path": model}),
        }
    )
    spark_out = root / "spark"
    meta = run_pipeline(
        on_spark, out_dir=spark_out, echo=lambda _m: None, seed=1, stages=FINDING_STAGES
    )
    assert meta["status"] == "complete"
    result = compare_runs(duck_out, spark_out, skip=("spark/", "restricted/spark/"))
    differing = {d.path for d in result.different} | set(result.only_in_a)
    return TwoRuns(
        duck_out, spark_out, frozenset(differing | set(result.only_in_b)), tuple(result.lines())
    )


def test_reach_and_the_stores_are_duckdbs_and_readers_open_them(two_runs: TwoRuns) -> None:
    from everyfamily.stores import open_run_stores

    # the Spark run kept its zones as folders, and copied them into DuckDB files for readers
    assert (two_runs.spark / "spark" / "analysis" / "reach_released").is_dir()
    assert (two_runs.spark / "restricted" / "spark" / "identifiable" / "records").is_dir()
    with open_run_stores(two_runs.spark) as reader:
        assert reader.has_table("reach_released")
    assert "reach.csv" not in two_runs.differing, two_runs.lines
    assert "linkage/anchor_recall.csv" not in two_runs.differing, two_runs.lines
    assert "restricted/identifiable.duckdb" not in two_runs.differing, two_runs.lines


def test_findings_are_duckdbs(two_runs: TwoRuns) -> None:
    findings = (two_runs.duckdb / "findings.json").read_text(encoding="utf-8")
    assert '"kind"' in findings  # the world produced findings to compare
    assert "findings.json" not in two_runs.differing, two_runs.lines
