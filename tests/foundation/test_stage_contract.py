"""The stage contract (issue 19): each stage declared once, in its own package, and found by
the pipeline, the report and the dashboard; tables named from the catalogue; the pipeline
checks that a stage wrote what it declares."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from markupsafe import escape

from everyfamily import catalogue
from everyfamily.engines.duckdb_engine import DuckDBEngine
from everyfamily.errors import DataError
from everyfamily.pipeline import RunContext, check_declared_writes
from everyfamily.stage import (
    MapOverlay,
    ReportSection,
    Stage,
    declared,
    discover,
    map_overlays,
    missing_writes,
    report_sections,
)

BUILT_IN = (
    "ingest",
    "link",
    "measure",
    "communities",
    "services",
    "access",
    "trends",
    "since",
    "planning",
    "find",
    "report",
)


def _built_in() -> tuple[Stage, ...]:
    return tuple(s for s in discover() if s.name in BUILT_IN)


def test_the_built_in_stages_are_discovered_in_pipeline_order_and_zone() -> None:
    stages = _built_in()
    assert tuple(s.name for s in stages) == BUILT_IN
    # direct identifiers only in ingest and link
    assert [s.name for s in stages if s.zone == catalogue.IDENTIFIABLE] == ["ingest", "link"]
    for s in stages:  # declared in its own package, next to the function it runs
        assert s.run.__module__.startswith("everyfamily.")
        assert s.run.__module__.endswith(".stage")


def test_every_declared_table_is_in_the_catalogue_and_written_by_whoever_it_says() -> None:
    stages = _built_in()
    for s in stages:
        unknown = [t for t in s.tables if t not in catalogue.TABLES]
        assert not unknown, f"stage {s.name} names tables the catalogue lacks: {unknown}"
    writers: dict[str, set[str]] = {}
    for s in stages:
        for t in (*s.writes, *s.may_write):
            writers.setdefault(t, set()).add(s.name)
    for t in catalogue.STORE_TABLES:
        assert writers.get(t.name) == set(t.written_by.split(", ")), t.name


def test_every_table_a_stage_reads_is_written_by_itself_or_an_earlier_stage() -> None:
    written: set[str] = set()
    for s in _built_in():
        early = set(s.reads) - written - set(s.writes) - set(s.may_write)
        assert not early, f"stage {s.name} reads {early} before any stage writes them"
        written |= {*s.writes, *s.may_write}


def test_report_sections_and_map_overlays_come_from_the_declarations() -> None:
    keys = [s.key for s in report_sections(_built_in())]
    assert keys == [
        "warnings",
        "figures",
        "map",
        "funnel",
        "trends",
        "since",
        "findings",
        "access",
        "plan",
        "communities",
        "services",
        "quality",
        "methods",
    ]
    overlays = {o.key for o in map_overlays(_built_in())}
    assert overlays == {
        "access_time_bands",
        "access_barriers",
        "access_cut_off",
        "communities_emerging",
    }
    from everyfamily.web.pages.maps import overlay_labels

    assert set(overlay_labels()) == overlays


def _noop(ctx: RunContext) -> None:
    return None


def test_a_declaration_is_checked_and_a_name_is_declared_once() -> None:
    with pytest.raises(ValueError, match="zone"):
        Stage(name="bad_zone", zone="elsewhere", order=1, run=_noop)
    with pytest.raises(ValueError, match="two stages are named 'ingest'"):
        Stage(name="ingest", zone="analysis", order=1, run=_noop)
    assert "ingest" in {s.name for s in discover()}  # the real one kept


def test_the_pipeline_refuses_a_stage_that_did_not_write_what_it_declares(
    tmp_path: Path,
) -> None:
    engine = DuckDBEngine(None)
    try:
        with declared(
            Stage(name="forgetful", zone="analysis", order=99, run=_noop, writes=("toy_table",))
        ) as stage:
            ctx = RunContext(project=None, out_dir=tmp_path, engine=engine, echo=print)  # type: ignore[arg-type]
            assert missing_writes(stage, engine.has_table, None) == ["toy_table"]
            with pytest.raises(DataError, match=r"'forgetful' did not write .* toy_table"):
                check_declared_writes(ctx, stage)
            # a stage that says it skipped wrote nothing and is not held to its declaration
            ctx.metadata["forgetful"] = {"skipped": "nothing to do"}
            check_declared_writes(ctx, stage)
            ctx.metadata.clear()
            engine.write_table("toy_table", pa.table({"n": [1]}))
            check_declared_writes(ctx, stage)
        assert "forgetful" not in {s.name for s in discover()}
    finally:
        engine.close()


# --- a toy stage, declared here and nowhere else, runs in a real pipeline ------------------


def _toy(ctx: RunContext) -> None:
    """Counts the ranked findings from the store; deletes findings.json, so the report can
    only have its findings from the store."""
    n = int(ctx.engine.query("SELECT count(*) AS n FROM findings").column("n")[0].as_py())
    ctx.engine.write_table("toy_counts", pa.table({"findings": [n]}))
    (ctx.out_dir / "findings.json").unlink()
    ctx.metadata["toy"] = {"report": [f"The toy stage counted {n} findings."]}


@pytest.mark.slow
def test_a_toy_stage_needs_one_declaration_to_run_and_appear_in_the_report(
    tmp_path: Path,
) -> None:
    from everyfamily.config import load_project
    from everyfamily.demo.town import generate_town
    from everyfamily.pipeline import run_pipeline

    town = generate_town(tmp_path / "town", seed=11, n_areas=20)
    project = load_project(town.project_file)
    out = tmp_path / "out"
    lines: list[str] = []
    with declared(
        Stage(
            name="toy",
            zone="analysis",
            order=65,  # after find, before report
            run=_toy,
            reads=("findings",),
            writes=("toy_counts",),
            sections=(ReportSection("toy", "A toy section", 75),),
            overlays=(MapOverlay("toy_layer", "A toy layer"),),
        )
    ):
        assert "toy_layer" in {o.key for o in map_overlays()}
        # the stages find needs (and the report): the toy's place among them is the point;
        # communities, services, access, since and planning would only add time
        narrow = ("ingest", "link", "measure", "trends", "find", "toy", "report")
        meta = run_pipeline(project, out_dir=out, echo=lines.append, seed=3, stages=narrow)
    assert lines.index("[find]") < lines.index("[toy]") < lines.index("[report]")
    assert "toy" in meta["timings_seconds"]
    assert any(line.startswith("  toy took ") and line.endswith(" s") for line in lines)
    assert not (out / "findings.json").exists()

    from everyfamily.stores import open_run_stores

    engine = open_run_stores(out)
    try:
        n = engine.query("SELECT findings FROM toy_counts").column(0)[0].as_py()
        first = engine.query("SELECT json FROM findings ORDER BY rank LIMIT 1").column(0)
        top = json.loads(first[0].as_py())["headline"] if n else None
    finally:
        engine.close()
    report = (out / "report.html").read_text(encoding="utf-8")
    # the toy's section, drawn by the generic template, between data quality and methods
    assert f"<p>The toy stage counted {n} findings.</p>" in report
    assert (
        report.index('<section id="quality">')
        < report.index('<section id="toy">')
        < report.index('<section id="methods">')
    )
    assert "<h2>A toy section</h2>" in report
    # findings reached the report from the store, findings.json having been deleted
    if top is not None:
        assert str(escape(top)) in report


def test_a_declared_overlay_is_served_as_an_overlay_not_an_area_level() -> None:
    from everyfamily.web.outputs import is_overlay

    assert is_overlay("access_barriers") and not is_overlay("lsoa")
    assert not is_overlay("toy_layer")
    with declared(
        Stage(
            name="toy_map",
            zone="analysis",
            order=66,
            run=_noop,
            overlays=(MapOverlay("toy_layer", "A toy layer"),),
        )
    ):
        assert is_overlay("toy_layer")
    assert not is_overlay("toy_layer")
