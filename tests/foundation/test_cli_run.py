"""The README's user path: `everyfamily run PROJECT.yaml --out DIR` on a council-style folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from everyfamily.cli import main
from small_world import SmallRun

pytestmark = pytest.mark.slow


def test_run_command_writes_the_public_outputs(
    knowsley_small_cli_run: SmallRun, tmp_path: Path
) -> None:
    """The shared quarter-size run (tests/conftest.py ``knowsley_small_cli_run``: `everyfamily
    run PROJECT --out DIR`, once per session, what it printed kept): the command's outputs,
    stores and extracts do not depend on the size of the world; a narrow second run (ingest
    and link) carries its ids."""
    # a copy: `everyfamily extract` writes its audit entry into the run's users store
    out = tmp_path / "results"
    shutil.copytree(knowsley_small_cli_run.out, out)
    console = knowsley_small_cli_run.console
    for stage in ("[ingest]", "[link]", "[measure]", "[find]", "[report]"):
        assert stage in console
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    # every stage timed, every source reconciled (read = loaded + quarantined)
    assert {"ingest", "link", "measure", "find", "report"} <= set(run["timings_seconds"])
    for source in run["reconciliation"].values():
        assert source["rows_read"] == source["rows_loaded"] + source["rows_quarantined"]
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert findings["schema_version"] and findings["findings"]
    for name in ("reach.csv", "reach.gpkg", "report.html"):
        assert (out / name).stat().st_size > 0
    # person-level data only in the two encrypted stores (tests/privacy/test_stores.py)
    assert sorted(p.name for p in (out / "restricted").iterdir()) == ["identifiable.duckdb"]
    assert run["stores"]["encrypted"] is True
    _analysis_store_holds_no_direct_identifier(out)
    # the one way out of the stores: named, purposeful, audited
    q = tmp_path / "quarantine.csv"
    args = ["extract", str(out), "quarantine", "--to", str(q), "--purpose", "fix at source"]
    assert main([*args, "--by", "analyst.one"]) == 0
    n_quarantined = sum(s["rows_quarantined"] for s in run["reconciliation"].values())
    assert len(q.read_text(encoding="utf-8").splitlines()) == 1 + n_quarantined
    _ids_carry_to_a_run_in_a_new_folder(knowsley_small_cli_run.project_file, out, tmp_path)
    # the truth is never part of a council run's outputs
    assert not list(out.rglob("stories.json"))


def test_run_command_without_an_output_folder_says_how_to_fix(
    knowsley_small_scenario: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(knowsley_small_scenario.project_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--out" in err and err.count("\n") == 1


def _analysis_store_holds_no_direct_identifier(out: Path) -> None:
    from everyfamily.governance.register import DIRECT_IDENTIFIERS
    from everyfamily.stores import ANALYSIS, IDENTIFIABLE, IDENTIFIABLE_TABLES, open_run_stores

    engine = open_run_stores(out, zones=(IDENTIFIABLE,))
    try:  # every table the identifiable zone is said to hold is there ...
        assert all(engine.has_table(t) for t in IDENTIFIABLE_TABLES)
    finally:
        engine.close()
    engine = open_run_stores(out, zones=(ANALYSIS,))
    try:
        columns = engine.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = 'analysis'"
        ).to_pylist()
        found = {(c["table_name"], c["column_name"]) for c in columns}
        assert ("children", "person_id") in found and ("not_reached", "person_id") in found
        # ... and none of them in the analysis store
        assert {"records", "links", "quarantine", *IDENTIFIABLE_TABLES}.isdisjoint(
            t for t, _ in found
        )
        leaked = {(t, c) for t, c in found if c in DIRECT_IDENTIFIERS or c == "record_id"}
        assert leaked == set()
        # the children table keeps month and year of birth only (the 1st of the month)
        days = engine.query("SELECT DISTINCT day(month_of_birth) AS d FROM children")
        assert days.column("d").to_pylist() == [1]
    finally:
        engine.close()


def _ids_carry_to_a_run_in_a_new_folder(project_file: Path, out: Path, tmp_path: Path) -> None:
    """The id registry extracted from one run keeps every child's id in a run elsewhere."""
    from everyfamily.config import load_project
    from everyfamily.pipeline import run_pipeline
    from everyfamily.stores import IDENTIFIABLE, open_run_stores

    ids = tmp_path / "ids.parquet"
    purpose = "carry ids to the next run"
    assert main(["extract", str(out), "id_registry", "--to", str(ids), "--purpose", purpose]) == 0
    project = load_project(project_file)
    linkage = project.linkage.model_copy(update={"previous_ids_path": ids})
    # A new key (a key rotation): fresh ids would all differ, so equal ids prove the carry.
    new_key = tmp_path / "rotated.key"
    new_key.write_text("rotated-key-for-the-test-0123456789abcdef", encoding="utf-8")
    privacy = project.privacy.model_copy(update={"key_file": new_key})
    nxt = tmp_path / "next"
    update = {"linkage": linkage, "privacy": privacy}
    # only the stages that make the links (all this run is read for)
    stages = ("ingest", "link")
    run_pipeline(
        project.model_copy(update=update), out_dir=nxt, echo=lambda _m: None, stages=stages
    )

    def links(folder: Path) -> dict[tuple[str, str], str]:
        engine = open_run_stores(folder, zones=(IDENTIFIABLE,))
        try:
            rows = engine.query("SELECT source, record_id, person_id FROM links").to_pylist()
        finally:
            engine.close()
        return {(r["source"], r["record_id"]): r["person_id"] for r in rows}

    before, after = links(out), links(nxt)
    # every loaded record has its link, in both runs (read = loaded + quarantined, above)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    loaded = sum(s["rows_loaded"] for s in run["reconciliation"].values())
    assert before.keys() == after.keys() and len(before) == loaded > 0
    same = sum(before[k] == after[k] for k in before)
    assert same == len(before)
