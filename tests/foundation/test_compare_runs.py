"""compare_runs: two output folders are the same apart from time stamps, run ids and their
own paths; anything else that differs is named (file, table, count), never shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from everyfamily.config import PrivacySettings
from everyfamily.stores import open_stores
from everyfamily.testing.compare_runs import (
    REL_TOL,
    close_numbers,
    close_text,
    compare_runs,
    main,
    mask_text,
    without_volatile,
)

SECRET_NAME = "Zebedee-Quixotica"  # a value from a row: must never be printed


def test_volatile_keys_go_and_time_stamps_are_masked_at_any_depth() -> None:
    doc = {
        "started_at": "2026-12-04T08:17:28+00:00",
        "reach": {"timings_seconds": {"x": 1.5}, "n": 3},
        "note": "generated 2026-12-04T08:17:28+00:00 here",
        "list": [{"generated_at": "x", "k": 1}],
    }
    assert without_volatile(doc) == {
        "reach": {"n": 3},
        "note": "generated <time> here",
        "list": [{"k": 1}],
    }
    assert mask_text("/tmp/a/x.csv at 2026-01-02 03:04:05", [Path("/tmp/a")]) == (
        "<OUT>/x.csv at <time>"
    )


def test_numbers_close_only_within_float_rounding_and_only_numbers() -> None:
    assert close_numbers({"m": [0.9453441171065808]}, {"m": [0.9453441171065804]}) == (
        pytest.approx(4.2e-16, rel=0.1)
    )
    assert close_numbers({"m": 1.0}, {"m": 1.0}) == 0.0
    assert close_numbers({"m": "a"}, {"m": "b"}) is None  # text differs: not close
    assert close_numbers({"m": 1.0}, {"n": 1.0}) is None  # keys differ
    assert close_numbers([1.0, 2.0], [1.0]) is None
    assert close_numbers(1.0, 1.1) == pytest.approx(0.1 / 1.1)  # reported, not hidden
    assert close_text("a,0.30000000000000004\n", "a,0.3\n") == pytest.approx(1.5e-16, rel=0.1)
    assert close_text("a,0.3\n", "b,0.3\n") is None


def _run_folder(root: Path, *, stamp: str, rate: str, weight: float, name: str) -> Path:
    """A miniature output folder: run.json, findings.json, a CSV, an HTML report and an
    unencrypted analysis store with one person-level table."""
    root.mkdir(parents=True)
    run = {
        "started_at": stamp,
        "timings_seconds": {"ingest": 0.1},
        "settings": {"privacy": {"encrypt_at_rest": False}, "out": str(root / "x")},
        "status": "complete",
    }
    (root / "run.json").write_text(json.dumps(run), encoding="utf-8")
    doc = {"generated_at": stamp, "findings": [{"rank": 1, "weight": weight}]}
    (root / "findings.json").write_text(json.dumps(doc), encoding="utf-8")
    (root / "reach.csv").write_text(f"area,rate\nE01,{rate}\n", encoding="utf-8")
    (root / "report.html").write_text(f"<p>Report generated {stamp}.</p>", encoding="utf-8")
    engine = open_stores(root, PrivacySettings(encrypt_at_rest=False), zones=("analysis",))
    try:
        engine.write_table("children", pa.table({"person_id": ["P-1", "P-2"], "name": [name, "B"]}))
    finally:
        engine.close()
    return root


def test_two_runs_apart_from_time_stamps_and_paths_are_the_same(tmp_path: Path) -> None:
    kw = {"rate": "0.5", "weight": 1.25, "name": SECRET_NAME}
    a = _run_folder(tmp_path / "a", stamp="2026-12-04T08:00:00+00:00", **kw)  # type: ignore[arg-type]
    b = _run_folder(tmp_path / "b", stamp="2026-12-04T09:30:00+00:00", **kw)  # type: ignore[arg-type]
    result = compare_runs(a, b)
    assert result.identical and not result.close
    assert set(result.same) == {
        "run.json",
        "findings.json",
        "reach.csv",
        "report.html",
        "everyfamily.duckdb",
    }


def test_what_differs_is_named_by_file_and_table_never_by_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _run_folder(
        tmp_path / "a", stamp="2026-12-04T08:00:00+00:00", rate="0.5", weight=1.25, name="A"
    )
    b = _run_folder(
        tmp_path / "b",
        stamp="2026-12-04T08:00:00+00:00",
        rate="0.6",  # a released number changed
        weight=1.25 * (1 + REL_TOL / 10),  # float rounding only
        name=SECRET_NAME,  # a person-level value changed
    )
    shutil.copy(a / "reach.csv", a / "only_here.csv")
    result = compare_runs(a, b)
    assert not result.identical
    assert result.only_in_a == ("only_here.csv",)
    assert {d.path for d in result.close} == {"findings.json"}
    reasons = {d.path: d.reason for d in result.different}
    assert set(reasons) == {"reach.csv", "everyfamily.duckdb"}
    assert reasons["everyfamily.duckdb"] == "children (1 row(s) differ)"
    assert main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT reach.csv" in out and "close findings.json" in out
    assert SECRET_NAME not in out and SECRET_NAME not in repr(result)
    assert main([str(a), str(a)]) == 0


def test_store_rows_differing_by_float_rounding_or_time_stamps_only_are_close(
    tmp_path: Path,
) -> None:
    import datetime as dt

    folders = []
    for name, rate, when in (
        ("a", 0.0002769027354997976, dt.datetime(2026, 12, 4, 8, 17, 30)),
        ("b", 0.0002769027355001606, dt.datetime(2026, 12, 4, 9, 40, 2)),
    ):
        root = tmp_path / name
        root.mkdir()
        run = {"settings": {"privacy": {"encrypt_at_rest": False}}}
        (root / "run.json").write_text(json.dumps(run), encoding="utf-8")
        engine = open_stores(root, PrivacySettings(encrypt_at_rest=False), zones=("analysis",))
        try:  # the two rates round apart at 9 significant digits, yet differ by 1.3e-12
            engine.write_table(
                "reach",
                pa.table({"area": ["E01", "E02"], "shift": [rate, 0.5], "at": [when, when]}),
            )
        finally:
            engine.close()
        folders.append(root)
    result = compare_runs(*folders)
    assert result.identical
    assert [d.path for d in result.close] == ["everyfamily.duckdb"]
    assert "1.3e-12" in result.close[0].reason
