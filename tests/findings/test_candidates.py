"""Findings from other stages (barriers, communities) are ranked with the find stage's own."""

from __future__ import annotations

import math

from everyfamily.engines import open_engine
from everyfamily.findings.model import Finding
from everyfamily.findings.stage import read_candidates, write_candidates
from everyfamily.pipeline import RunContext


def _finding(kind: str, area: str, score: float) -> Finding:
    return Finding(
        kind=kind,
        areas=(area,),
        group=("main_language", "romanian"),
        site=None,
        measure="registered_rate",
        observed=0.1,
        expected=0.7,
        interval=(0.05, 0.2),
        children_affected=30,
        headline=f"{area}: something",
        evidence={"severity": "striking", "test": "hand-made"},
        score=score,
    )


def test_record_round_trip_keeps_the_finding_and_its_id() -> None:
    f = _finding("emerging_community", "E01000001", 12.5)
    back = Finding.from_record(f.to_record())
    assert back == f and back.id == f.id
    nan = Finding.from_record({**f.to_record(), "interval": None})
    assert all(math.isnan(v) for v in nan.interval)


def test_candidates_are_replaced_per_stage(tmp_path) -> None:
    with open_engine("duckdb", path=tmp_path / "s.duckdb") as engine:
        ctx = RunContext(project=None, out_dir=tmp_path, engine=engine, echo=print)  # type: ignore[arg-type]
        write_candidates(ctx, "access", [_finding("access_barrier", "A", 1.0)])
        write_candidates(ctx, "communities", [_finding("emerging_community", "B", 2.0)])
        write_candidates(ctx, "access", [_finding("access_barrier", "C", 3.0)])
        got = sorted((f.kind, f.areas) for f in read_candidates(ctx))
    assert got == [("access_barrier", ("C",)), ("emerging_community", ("B",))]


def test_a_stage_without_candidates_first_leaves_room_for_the_next(tmp_path) -> None:
    # a null world: communities finds nothing, then access writes its barrier (the table
    # created by the empty write must hold text)
    with open_engine("duckdb", path=tmp_path / "s.duckdb") as engine:
        ctx = RunContext(project=None, out_dir=tmp_path, engine=engine, echo=print)  # type: ignore[arg-type]
        write_candidates(ctx, "communities", [])
        write_candidates(ctx, "access", [_finding("access_barrier", "A", 1.0)])
        got = [(f.kind, f.areas) for f in read_candidates(ctx)]
    assert got == [("access_barrier", ("A",))]
