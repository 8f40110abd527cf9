"""The project's engine setting (``engine:``, ``spark:``): parsed, checked, and the Spark
engine refused while the run promises encryption at rest that Spark does not give."""

from __future__ import annotations

from pathlib import Path

import pytest

from everyfamily.cli import main
from everyfamily.config import parse_project
from everyfamily.engines.layout import spark_zone_locations
from everyfamily.errors import ConfigError
from everyfamily.stores import open_project_stores
from foundation.test_config import MINIMAL


def test_engine_defaults_to_duckdb_and_spark_settings_parse() -> None:
    assert parse_project(MINIMAL).engine == "duckdb"
    text = MINIMAL + "engine: spark\nspark:\n  master: spark://head:7077\n"
    text += "  config: {spark.driver.memory: 8g}\n"
    p = parse_project(text)
    assert p.engine == "spark" and p.spark.master == "spark://head:7077"
    assert p.spark.config == {"spark.driver.memory": "8g"}
    assert not p.spark.storage_encrypted
    with pytest.raises(ConfigError, match="engine"):
        parse_project(MINIMAL + "engine: oracle\n")
    with pytest.raises(ConfigError, match="mastr"):
        parse_project(MINIMAL + "engine: spark\nspark: {mastr: local}\n")


def test_spark_is_refused_while_encryption_at_rest_is_promised(tmp_path: Path) -> None:
    p = parse_project(MINIMAL + "engine: spark\n")
    assert p.privacy.encrypt_at_rest
    with pytest.raises(ConfigError, match="storage_encrypted") as err:
        open_project_stores(tmp_path, p)
    assert "\n" not in str(err.value)


def test_identifiable_and_analysis_tables_live_apart() -> None:
    where = spark_zone_locations("s3a://bucket/run/", ("identifiable", "analysis"))
    assert where == {
        "identifiable": "s3a://bucket/run/restricted/spark/identifiable",
        "analysis": "s3a://bucket/run/spark/analysis",
    }


def test_run_engine_option_selects_spark_and_names_unknown_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``everyfamily run --engine spark`` opens the Spark engine: here it stops at the
    encryption promise (one line), before any Spark starts."""
    project = tmp_path / "project.yaml"
    project.write_text(MINIMAL, encoding="utf-8")
    out = str(tmp_path / "out")
    assert main(["run", str(project), "--out", out, "--engine", "spark"]) != 0
    err = capsys.readouterr().err.strip()
    assert "storage_encrypted" in err and len(err.splitlines()) == 1
    assert main(["run", str(project), "--out", out, "--engine", "oracle"]) != 0
    assert "unknown engine" in capsys.readouterr().err
