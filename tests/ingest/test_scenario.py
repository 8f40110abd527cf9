"""The synthetic Knowsley scenario through the ingest: every file reconciles, every planted
broken row is quarantined with exactly its expected reasons, no good row is quarantined, and
every loaded row carries exactly its expected quality flags (truth/records.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from everyfamily.config import load_project
from everyfamily.demo import Scenario
from everyfamily.engines import open_engine
from everyfamily.ingest.stage import ingest_project, ingest_stage, quarantine_rows
from everyfamily.pipeline import RunContext

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ingested(
    knowsley_scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    project = load_project(knowsley_scenario.project_file)
    out = tmp_path_factory.mktemp("ingest-scenario")
    engine = open_engine("duckdb", path=out / "store.duckdb")
    lines: list[str] = []
    ctx = RunContext(project=project, out_dir=out, engine=engine, echo=lines.append)
    ingest_stage(ctx)
    role_to_source = {s.role: s.name for s in project.sources}
    truth = pd.read_csv(
        knowsley_scenario.truth_dir / "records.csv", dtype=str, keep_default_na=False
    )
    truth["source"] = truth["source"].map(role_to_source)
    truth["row_number"] = truth["row_number"].astype(int)
    quarantine = engine.query(
        "SELECT source, row_number, record_id, array_to_string(reasons, ';') AS reasons "
        "FROM quarantine"
    ).to_pandas()
    records = engine.query(
        "SELECT source, row_number, record_id, array_to_string(flags, ';') AS flags FROM records"
    ).to_pandas()
    yield {
        "ctx": ctx,
        "engine": engine,
        "truth": truth,
        "quarantine": quarantine,
        "records": records,
        "lines": lines,
        "project": project,
        "out": out,
    }
    engine.close()


def test_every_scenario_file_reconciles(ingested: dict[str, Any]) -> None:
    recon = ingested["ctx"].metadata["reconciliation"]
    truth = ingested["truth"]
    assert set(recon) == set(truth["source"])
    for source, r in recon.items():
        expected_rows = int((truth["source"] == source).sum())
        assert r["rows_read"] == expected_rows, source
        assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"], source
        assert r["reconciles"] is True
        line = (
            f"{source}: read {r['rows_read']:,} = loaded {r['rows_loaded']:,} + "
            f"quarantined {r['rows_quarantined']:,}"
        )
        assert any(line in printed for printed in ingested["lines"])
    total_q = sum(r["rows_quarantined"] for r in recon.values())
    assert ingested["ctx"].metadata["ingest"]["quarantined_rows_this_run"] == total_q
    assert quarantine_rows(ingested["ctx"].engine).num_rows == total_q


def test_broken_rows_quarantined_with_exact_reasons(ingested: dict[str, Any]) -> None:
    truth, q = ingested["truth"], ingested["quarantine"]
    broken = truth[truth["expected_quarantine"] != ""]
    assert len(broken) > 100  # the scenario plants a few hundred
    got = broken.merge(q, on=["source", "row_number"], how="left", suffixes=("", "_q"))
    assert got["reasons"].notna().all()
    assert (got["record_id_q"].fillna("") == got["record_id"]).all()
    assert (got["reasons"] == got["expected_quarantine"]).all()


def test_no_good_row_is_quarantined(ingested: dict[str, Any]) -> None:
    truth, q = ingested["truth"], ingested["quarantine"]
    keys = set(
        zip(
            truth.loc[truth["expected_quarantine"] == "", "source"],
            truth.loc[truth["expected_quarantine"] == "", "row_number"],
            strict=True,
        )
    )
    quarantined = set(zip(q["source"], q["row_number"], strict=True))
    assert not (keys & quarantined)
    assert len(q) == int((truth["expected_quarantine"] != "").sum())


def test_loaded_rows_carry_exact_flags(ingested: dict[str, Any]) -> None:
    truth, r = ingested["truth"], ingested["records"]
    good = truth[truth["expected_quarantine"] == ""]
    got = good.merge(r, on=["source", "row_number"], how="left", suffixes=("", "_r"))
    assert got["flags"].notna().all() and len(got) == len(r)
    assert (got["record_id_r"] == got["record_id"]).all()
    assert (got["flags"] == got["expected_flags"]).all()
    assert (got["expected_flags"] != "").sum() > 100


def test_scenario_twice_changes_nothing(ingested: dict[str, Any]) -> None:
    engine = ingested["engine"]
    before = engine.query("SELECT count(*) AS n FROM records").column("n")[0].as_py()
    reports = ingest_project(ingested["project"], engine, echo=lambda _m: None)
    assert {rep.outcome.status for rep in reports} == {"already_loaded"}
    assert engine.query("SELECT count(*) AS n FROM records").column("n")[0].as_py() == before
    assert engine.query("SELECT count(*) AS n FROM ingest_batches").column("n")[0].as_py() == 4


def test_console_and_metadata_hold_no_person_values(
    ingested: dict[str, Any], knowsley_scenario: Scenario
) -> None:
    children = pd.read_csv(
        knowsley_scenario.truth_dir / "children.csv", dtype=str, keep_default_na=False
    )
    text = "\n".join(ingested["lines"]) + repr(ingested["ctx"].metadata)
    nhs = [v for v in children.get("nhs_number", pd.Series(dtype=str)).head(200) if v]
    surnames = [v for v in children.get("last_name", pd.Series(dtype=str)).head(200) if len(v) > 5]
    assert nhs or surnames  # the truth has identifiers to look for
    for value in [*nhs, *surnames]:
        assert value not in text


def test_records_are_typed(ingested: dict[str, Any]) -> None:
    engine = ingested["engine"]
    row = engine.query(
        "SELECT typeof(date_of_birth) AS d, typeof(flags) AS f, typeof(nhs_number_valid) AS b "
        "FROM records LIMIT 1"
    ).to_pylist()[0]
    assert row == {"d": "DATE", "f": "VARCHAR[]", "b": "BOOLEAN"}
    n_placed = (
        engine.query(
            "SELECT count(*) AS n FROM records WHERE postcode IS NOT NULL AND area_code IS NULL"
        )
        .column("n")[0]
        .as_py()
    )
    assert n_placed == 0  # every valid Knowsley postcode is placed in an LSOA


def test_paths_in_metadata(ingested: dict[str, Any]) -> None:
    sources = ingested["ctx"].metadata["ingest"]["sources"]
    assert sources["births"]["encoding"] == "cp1252"
    assert sources["centre_registrations"]["delimiter"] == ";"
    assert Path(sources["health_visiting"]["path"]).suffix == ".xlsx"
