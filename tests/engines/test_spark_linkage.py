"""Linkage on Spark (Splink's SparkAPI with its Scala UDF jar) gives DuckDB's links.

One small synthetic extract (planted truth: ``linkage.synthetic``), one model: trained on
DuckDB and saved, then loaded on both engines (``linkage.model_path``), so the comparison
is of the engines, not of two EM runs. The same record pairs score at or above the match
threshold, with the same probabilities, and the records fall into the same persons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from everyfamily.config import LinkageSettings
from everyfamily.engines import open_engine

from .conftest import SPARK

pytestmark = [pytest.mark.spark, *SPARK.marks, pytest.mark.slow]


def _persons(links: pd.DataFrame) -> set[frozenset[tuple[str, str]]]:
    """The partition of records into persons (person ids themselves are pseudonyms)."""
    groups = links.groupby("person_id")[["source", "record_id"]]
    return {frozenset(map(tuple, g.to_numpy().tolist())) for _, g in groups}


def _pairs(engine: Any, threshold: float) -> dict[tuple[str, str], float]:
    rows = engine.query(
        "SELECT unique_id_l, unique_id_r, match_probability FROM ef_link_pairs "
        "WHERE match_probability >= ?",
        [threshold],
    ).to_pylist()
    return {
        tuple(sorted((str(r["unique_id_l"]), str(r["unique_id_r"])))): r["match_probability"]
        for r in rows
    }


def test_spark_links_equal_duckdb_links(
    tmp_path: Path, spark_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from everyfamily.linkage import stage
    from linkage.helpers import KEY, population

    data = population(160, seed=5)
    kept: dict[str, dict[tuple[str, str], float]] = {}

    def keep_pairs(engine: Any) -> None:  # the working tables are dropped at the end of a run
        kept[engine.name] = _pairs(engine, settings.match_threshold)

    trained = tmp_path / "duck-train"
    duck = open_engine("duckdb", path=tmp_path / "train.duckdb")
    duck.write_table("records", data.records)
    stage.link_records(duck, LinkageSettings(), key=KEY, out_dir=trained, run="r")
    duck.close()
    model = trained / "linkage" / "model.json"
    settings = LinkageSettings(model_path=model)

    real_drop = stage._drop_working_tables

    def drop_after_keeping(engine: Any) -> None:
        keep_pairs(engine)
        real_drop(engine)

    monkeypatch.setattr(stage, "_drop_working_tables", drop_after_keeping)
    links = {}
    for kind in ("duckdb", "spark"):
        if kind == "duckdb":
            engine = open_engine("duckdb", path=tmp_path / "d.duckdb")
        else:
            engine = open_engine("spark", path=tmp_path / "wh", session=spark_session)
        engine.write_table("records", data.records)
        stage.link_records(engine, settings, key=KEY, out_dir=tmp_path / kind, run="r")
        links[kind] = engine.query("SELECT source, record_id, person_id FROM links").to_pandas()
        engine.close()

    assert len(kept["duckdb"]) > 20  # the extract has real links to compare
    assert kept["spark"].keys() == kept["duckdb"].keys()
    for pair, p in kept["duckdb"].items():
        assert kept["spark"][pair] == pytest.approx(p, abs=1e-9)
    assert len(links["spark"]) == len(links["duckdb"]) == data.records.num_rows
    assert _persons(links["spark"]) == _persons(links["duckdb"])
