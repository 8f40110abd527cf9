"""A narrow run (``run_pipeline(..., stages=...)``, ``everyfamily.stage.subset``): only the
named stages run, in the pipeline's order; the others say in run.json that they were left
out; a subset in which a stage would read a table a left-out stage must write is refused
before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from everyfamily.errors import ConfigError
from everyfamily.pipeline import stages
from everyfamily.stage import subset


def test_a_subset_runs_in_the_pipelines_order() -> None:
    chosen = subset(stages(), ["find", "trends", "measure", "link", "ingest"])
    assert [s.name for s in chosen] == ["ingest", "link", "measure", "trends", "find"]


@pytest.mark.parametrize(
    ("names", "reader", "table", "writer"),
    [
        # access reads the children measure writes
        (("ingest", "link", "access"), "access", "children", "measure"),
        # find reads the trend tests (trends declares it always writes them)
        (("ingest", "link", "measure", "access", "find"), "find", "trend_tests", "trends"),
        # measure reads the links
        (("ingest", "measure"), "measure", "links", "link"),
    ],
)
def test_a_subset_missing_an_input_is_refused_with_one_line(
    names: tuple[str, ...], reader: str, table: str, writer: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        subset(stages(), names)
    line = str(caught.value)
    assert "\n" not in line
    assert f"{reader!r} reads the table {table!r}, which the left-out stage {writer!r}" in line
    assert f"add {writer!r} to the stages" in line


def test_a_stage_writing_only_optional_tables_may_be_left_out() -> None:
    # communities and access only may_write candidate findings: find runs without them
    names = ("ingest", "link", "measure", "trends", "find")
    assert [s.name for s in subset(stages(), names)] == list(names)


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"'mesure': not a stage of the pipeline \(name"):
        subset(stages(), ("ingest", "mesure"))


@pytest.mark.slow
def test_a_narrow_run_runs_only_its_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from everyfamily.config import load_project
    from everyfamily.demo.town import generate_town
    from everyfamily.pipeline import run_pipeline, staging_dir
    from everyfamily.stores import open_run_stores

    town = generate_town(tmp_path / "town", seed=11, n_areas=20)
    project = load_project(town.project_file)
    out = tmp_path / "out"
    # refused before anything is written
    with pytest.raises(ConfigError, match="left-out stage 'link'"):
        run_pipeline(project, out_dir=out, echo=lambda _m: None, stages=("ingest", "measure"))
    assert not out.exists() and not staging_dir(out).exists()
    # the same from the command line (a developer's run): one line, exit 2, nothing written
    from everyfamily.cli import main

    args = ["run", str(town.project_file), "--out", str(out), "--stages", "ingest, measure"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "'measure' reads the table 'links', which the left-out stage 'link' writes" in err
    assert not out.exists() and not staging_dir(out).exists()

    lines: list[str] = []
    meta = run_pipeline(
        project, out_dir=out, echo=lines.append, seed=3, stages=("measure", "ingest", "link")
    )
    assert [line for line in lines if line.startswith("[")] == ["[ingest]", "[link]", "[measure]"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["status"] == "complete" and run["stages_run"] == ["ingest", "link", "measure"]
    assert list(run["timings_seconds"]) == ["ingest", "link", "measure"]
    left_out = [s.name for s in stages()][3:]
    assert left_out[0] == "communities" and left_out[-1] == "report"
    for name in left_out:
        assert run[name] == {"skipped": "not among the stages asked for"}
    assert meta["stages_run"] == run["stages_run"]
    # the measure stage's outputs are there, no later stage's
    assert (out / "reach.csv").is_file()
    assert not (out / "findings.json").exists() and not (out / "report.html").exists()
    engine = open_run_stores(out)
    try:
        assert engine.has_table("reach") and engine.has_table("children")
        assert not engine.has_table("findings") and not engine.has_table("trend_tests")
    finally:
        engine.close()
