"""``engine:`` and ``spark:``: where a run's tables are stored and its SQL runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from everyfamily.config.base import Strict

#: The engines a run can use (PostgreSQL passes the conformance suite but is not yet wired
#: into a run).
EngineKind = Literal["duckdb", "spark"]


class SparkSettings(Strict):
    master: str = Field(
        "local[2]",
        description="Spark master URL: local[N] on one machine, spark://host:7077, yarn, or "
        "the cluster's (docs/scale.md).",
    )
    config: dict[str, str] = Field(
        default_factory=dict,
        description="Extra Spark configuration (spark.* keys, e.g. spark.driver.memory: 8g); "
        "Splink's jar and UTC timestamps are set already.",
    )
    warehouse: str | None = Field(
        None,
        description="Where the zones' tables are kept (a folder, hdfs:// or s3a:// location); "
        "default: inside the output folder. Identifiable data go under <warehouse>/restricted.",
    )
    storage_encrypted: bool = Field(
        False,
        description="Confirm that the cluster's storage encrypts at rest (Spark does not "
        "encrypt the tables itself). Required while privacy.encrypt_at_rest is true.",
    )
