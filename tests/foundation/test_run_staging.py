"""A re-run that fails late never mixes two runs (issue 15): each run writes into a staging
folder beside the output folder and is swapped in only when complete."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from everyfamily.errors import EveryfamilyError
from everyfamily.pipeline import (
    check_not_mid_swap,
    run_pipeline,
    run_status,
    staging_dir,
    swap_in,
)
from everyfamily.web.auth import UserStore

pytestmark = pytest.mark.slow

#: The re-runs below run only up to the failing stage (the swap does not depend on which
#: stages ran; communities and services, before access, are left out to save time).
UP_TO_ACCESS = ("ingest", "link", "measure", "access")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_run_that_fails_late_leaves_the_previous_outputs_byte_identical(
    knowsley_small_scenario: Any, knowsley_small_run: Path, tmp_path: Path
) -> None:
    """On the quarter-size world: the swap does not depend on the size of the run."""
    from everyfamily.config import NetworkFile, load_project

    project = load_project(knowsley_small_scenario.project_file)
    out = tmp_path / "results"
    # the previous run: a copy of the shared run of the same scenario (tests/conftest.py)
    shutil.copytree(knowsley_small_run, out)
    # something the run does not write: the dashboard's users store (and audit log); the
    # good run at the end shows it is carried into a new run
    UserStore.for_output(out).add("kim", "correct horse battery staple", "viewer")
    assert run_status(out) == "complete" and not staging_dir(out).exists()
    before = _snapshot(out)
    for name in ("run.json", "reach.csv", "findings.json", "everyfamily.duckdb"):
        assert name in before

    # the re-run fails in the access stage: after measure has written a new reach.csv, before
    # find writes findings.json (the mix the old in-place writing left behind)
    broken = tmp_path / "broken-network.geojson"
    broken.write_text("this is not GeoJSON", encoding="utf-8")
    assert project.access is not None
    access = project.access.model_copy(update={"networks": [NetworkFile(path=broken)]})
    lines: list[str] = []
    with pytest.raises(EveryfamilyError) as failed:
        run_pipeline(project.model_copy(update={"access": access}), out_dir=out,
                     echo=lines.append, seed=2, stages=UP_TO_ACCESS)  # fmt: skip
    staging = staging_dir(out)
    assert str(staging) in failed.value.one_line()
    assert any(str(staging) in line and "unchanged" in line for line in lines)

    # the previous run's files, every one byte-identical; nothing added
    assert _snapshot(out) == before
    assert run_status(out) == "complete"
    # the failed run's own files stay in its staging folder, marked failed
    meta = json.loads((staging / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "failed" and meta["failure"]["stage"] == "access"
    assert (staging / "reach.csv").is_file() and not (staging / "findings.json").exists()

    # the next good run (ingest alone: a complete run of the stages it names) clears the
    # staging folder and swaps in whole
    run_pipeline(project, out_dir=out, echo=lambda _m: None, seed=1, stages=("ingest",))
    assert not staging.exists() and not out.with_name("results.previous").exists()
    assert run_status(out) == "complete"
    assert UserStore.for_output(out).get("kim").role == "viewer"


def test_swap_in_keeps_what_the_old_run_did_not_write_and_drops_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, staging = tmp_path / "out", tmp_path / "out.staging"
    (out / "scenario").mkdir(parents=True)
    (out / "scenario" / "project.yaml").write_text("a")
    (out / "users.sqlite").write_bytes(b"users")
    (out / "old-only.csv").write_text("an output the new run no longer writes")
    (out / "reach.csv").write_text("old")
    (out / "run.json").write_text(
        json.dumps({"outputs": ["old-only.csv", "reach.csv", "run.json"]})
    )
    staging.mkdir()
    (staging / "reach.csv").write_text("new")
    (staging / "run.json").write_text(json.dumps({"outputs": ["reach.csv", "run.json"]}))
    inode = os.stat(out / "users.sqlite").st_ino
    monkeypatch.chdir(out / "scenario")  # `everyfamily run ... --out .` from inside
    swap_in(staging, out)
    assert Path("project.yaml").read_text() == "a"  # the process followed to the new folder
    assert sorted(p.name for p in out.iterdir()) == ["reach.csv", "run.json", "scenario",
                                                     "users.sqlite"]  # fmt: skip
    assert (out / "reach.csv").read_text() == "new"
    assert (out / "scenario" / "project.yaml").read_text() == "a"
    assert os.stat(out / "users.sqlite").st_ino == inode  # the same file, not a copy
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_swap_stopped_between_its_renames_is_a_one_line_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    check_not_mid_swap(out)  # a first run: nothing there, nothing to say
    (tmp_path / "out.previous").mkdir()
    with pytest.raises(EveryfamilyError, match=r"out is missing but .*out\.previous holds"):
        check_not_mid_swap(out)
    out.mkdir()
    check_not_mid_swap(out)  # both there: swap_in deletes the stale one
