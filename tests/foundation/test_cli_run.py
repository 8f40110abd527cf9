"""The README's user path: `everyfamily run PROJECT.yaml --out DIR` on a council-style folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from everyfamily.cli import main

pytestmark = pytest.mark.slow


def test_run_command_writes_the_public_outputs(
    knowsley_scenario: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    assert main(["run", str(knowsley_scenario.project_file), "--out", str(out)]) == 0
    console = capsys.readouterr().out
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
    assert (out / "restricted" / "not_reached.csv").is_file()
    # the truth is never part of a council run's outputs
    assert not list(out.rglob("stories.json"))


def test_run_command_without_an_output_folder_says_how_to_fix(
    knowsley_scenario: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(knowsley_scenario.project_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--out" in err and err.count("\n") == 1
