"""Loading into the store: reconciliation, idempotence, later extracts, and all-or-nothing
batches (an exception between writes, and a process killed with SIGKILL mid-load)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from everyfamily.config import Project
from everyfamily.engines import open_engine
from everyfamily.engines.base import Engine
from everyfamily.ingest.stage import ingest_project, ingest_stage, quarantine_rows
from everyfamily.pipeline import RunContext

from .conftest import HEADER, project_dict, source_dict, write_csv

ROWS = [
    ["1", "Zoë", "Nuñez", "01/02/2024", "F", "943 476 5919", "L36 9YA"],
    ["2", "Bo", "Li", "31/02/2024", "M", "", ""],  # impossible date -> quarantine
    ["3", "Amy", "Ng", "05/06/2023", "F", "", "NFA"],  # loads, postcode_invalid
]


def _snapshot(engine: Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in ("records", "quarantine", "ingest_batches"):
        if engine.has_table(t):
            out[t] = sorted(
                json.dumps(r, default=str, sort_keys=True)
                for r in engine.query(f"SELECT * FROM {t}").to_pylist()
            )
    return out


def test_stage_reconciles_and_keeps_quarantine_in_the_store(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    project = make_project(source_dict(path))
    lines: list[str] = []
    engine = open_engine("duckdb", path=tmp_path / "store.duckdb")
    ctx = RunContext(project=project, out_dir=tmp_path / "out", engine=engine, echo=lines.append)
    ingest_stage(ctx)
    rec = ctx.metadata["reconciliation"]["births"]
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_quarantined"]) == (3, 2, 1)
    assert rec["reconciles"] is True and rec["status"] == "loaded"
    assert any("births: read 3 = loaded 2 + quarantined 1" in line for line in lines)
    console = "\n".join(lines)
    for value in ("Zoë", "Nuñez", "9434765919", "943 476 5919", "L36 9YA", "31/02/2024"):
        assert value not in console  # never a person-level value on the console
    assert ctx.metadata["ingest"]["quarantined_rows_this_run"] == 1
    q = quarantine_rows(engine).to_pylist()
    assert [(r["source"], r["row_number"], r["record_id"], r["reasons"]) for r in q] == [
        ("births", 2, "2", "invalid_date_of_birth")
    ]
    assert not (tmp_path / "out" / "restricted").exists()  # no plain copy of raw rows
    batches = engine.query("SELECT * FROM ingest_batches").to_pylist()
    assert len(batches) == 1 and batches[0]["rows_read"] == 3 and batches[0]["status"] == "loaded"
    types = {
        r["column_name"]: r["data_type"]
        for r in engine.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'records'"
        ).to_pylist()
    }
    assert types["date_of_birth"] == "DATE" and types["flags"] == "VARCHAR[]"
    assert types["nhs_number_valid"] == "BOOLEAN" and types["row_number"] == "BIGINT"
    engine.close()


def test_same_file_twice_changes_nothing(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    project = make_project(source_dict(path))
    engine = open_engine("duckdb", path=tmp_path / "s.duckdb")
    ingest_project(project, engine, echo=lambda _m: None)
    before = _snapshot(engine)
    lines: list[str] = []
    reports = ingest_project(project, engine, echo=lines.append)
    assert reports[0].outcome.status == "already_loaded"
    assert (reports[0].outcome.rows_loaded, reports[0].outcome.rows_quarantined) == (2, 1)
    assert _snapshot(engine) == before
    assert "already loaded" in lines[0]
    engine.close()


def test_later_extract_adds_and_updates(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    project = make_project(source_dict(path))
    engine = open_engine("duckdb", path=tmp_path / "s.duckdb")
    ingest_project(project, engine, echo=lambda _m: None)
    later = [
        ["3", "Amy", "Ng", "05/06/2023", "F", "", "L36 9YB"],  # postcode corrected
        ["4", "New", "Baby", "01/01/2025", "M", "", ""],
    ]
    write_csv(path, HEADER, later)
    ingest_project(project, engine, echo=lambda _m: None)
    rows = {
        r["record_id"]: r
        for r in engine.query(
            "SELECT record_id, postcode, batch_id, flags FROM records"
        ).to_pylist()
    }
    assert sorted(rows) == ["1", "3", "4"]  # 1 stays (extracts may be incremental)
    assert rows["3"]["postcode"] == "L36 9YB" and rows["3"]["flags"] == []
    assert rows["1"]["batch_id"] != rows["3"]["batch_id"] == rows["4"]["batch_id"]
    n = engine.query("SELECT count(*) AS n FROM records WHERE record_id = '3'").column("n")
    assert n[0].as_py() == 1
    assert engine.query("SELECT count(*) AS n FROM ingest_batches").column("n")[0].as_py() == 2
    engine.close()


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("step", ["replaced", "records", "quarantine", "batch"])
def test_exception_between_writes_leaves_store_unchanged(
    tmp_path: Path, make_project: Callable[..., Project], step: str
) -> None:
    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    project = make_project(source_dict(path))
    engine = open_engine("duckdb", path=tmp_path / "s.duckdb")
    ingest_project(project, engine, echo=lambda _m: None)
    before = _snapshot(engine)
    write_csv(path, HEADER, [*ROWS, ["9", "Late", "Entry", "01/01/2024", "F", "", ""]])

    def hook(name: str) -> None:
        if name == step:
            raise Boom(name)

    with pytest.raises(Boom):
        ingest_project(project, engine, echo=lambda _m: None, hook=hook)
    assert _snapshot(engine) == before
    engine.close()


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from everyfamily.config import load_project
    from everyfamily.engines import open_engine
    from everyfamily.ingest.stage import ingest_project

    project = load_project(sys.argv[1])
    engine = open_engine("duckdb", path=sys.argv[2])

    def hook(step):
        if step == "quarantine":
            print("MIDWAY", flush=True)
            time.sleep(60)

    ingest_project(project, engine, echo=lambda m: None, hook=hook)
    """
)


def test_killed_mid_load_leaves_store_unchanged(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    proj = tmp_path / "project.yaml"
    proj.write_text(yaml.safe_dump(project_dict(tmp_path, [source_dict(path)])), encoding="utf-8")
    store = tmp_path / "s.duckdb"
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}

    # first load completes, then a bigger second extract is killed between its writes
    subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; from everyfamily.config import load_project; "
                "from everyfamily.engines import open_engine; "
                "from everyfamily.ingest.stage import ingest_project; "
                "e = open_engine('duckdb', path=sys.argv[2]); "
                "ingest_project(load_project(sys.argv[1]), e, echo=lambda m: None); e.close()"
            ),
            str(proj),
            str(store),
        ],
        check=True,
        env=env,
        timeout=120,
    )
    engine = open_engine("duckdb", path=store)
    before = _snapshot(engine)
    engine.close()
    assert len(before["records"]) == 2

    extra = [[str(i), "Kid", f"N{i}", "01/01/2024", "F", "", "L36 9YA"] for i in range(10, 2000)]
    write_csv(path, HEADER, [*ROWS, *extra])
    proc = subprocess.Popen(
        [sys.executable, str(script), str(proj), str(store)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "MIDWAY"  # records are written, the transaction is open
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    engine = open_engine("duckdb", path=store)
    assert _snapshot(engine) == before
    engine.close()


def test_a_source_mostly_quarantined_stops_the_run_before_anything_is_loaded(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    from everyfamily.errors import DataError

    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    # The dates are day/month/year; a project that says year-month-day parses none of them:
    # all 3 rows would be quarantined (100% > 50%).
    wrong = make_project(source_dict(path, date_formats={"date_of_birth": "%Y-%m-%d"}))
    engine = open_engine("duckdb", path=tmp_path / "store.duckdb")
    ctx = RunContext(project=wrong, out_dir=tmp_path / "out", engine=engine, echo=lambda _m: None)
    with pytest.raises(DataError) as err:
        ingest_stage(ctx)
    msg = str(err.value)
    assert "\n" not in msg
    assert "source 'births'" in msg and "births.csv" in msg
    assert "3 of 3 rows (100%) would be quarantined" in msg
    assert "max_quarantined_share 50%" in msg and "invalid_date_of_birth 3" in msg
    for value in ("Zoë", "Nuñez", "01/02/2024", "31/02/2024"):
        assert value not in msg
    assert not engine.has_table("records") and not engine.has_table("quarantine")
    # 1 of 3 quarantined (33%) passes the default; a threshold of 0.2 stops it
    right = make_project(source_dict(path))
    strict = make_project(source_dict(path, max_quarantined_share=0.2))
    ingest_project(right, engine, echo=lambda _m: None)
    engine.close()
    other = open_engine("duckdb", path=tmp_path / "other.duckdb")
    with pytest.raises(DataError, match=r"1 of 3 rows \(33%\) would be quarantined"):
        ingest_project(strict, other, echo=lambda _m: None)
    other.close()


def test_an_output_path_that_is_a_file_is_a_one_line_error(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    from everyfamily.errors import ConfigError
    from everyfamily.pipeline import run_pipeline

    project = make_project(source_dict(write_csv(tmp_path / "births.csv", HEADER, ROWS)))
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    with pytest.raises(ConfigError, match=r"results\.txt: the output folder is a file"):
        run_pipeline(project, out_dir=target, echo=lambda _m: None)
    assert target.read_text() == "not a folder"


def test_a_failed_run_is_marked_failed_and_serve_refuses_its_folder(
    tmp_path: Path,
    make_project: Callable[..., Project],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from everyfamily.cli import main
    from everyfamily.errors import DataError
    from everyfamily.pipeline import run_pipeline, run_status, staging_dir

    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    wrong = make_project(source_dict(path, date_formats={"date_of_birth": "%Y-%m-%d"}))
    monkeypatch.setenv(wrong.privacy.key_env, "store-test-key-0123456789abcdef")
    with pytest.raises(DataError):
        run_pipeline(wrong, out_dir=tmp_path / "results", echo=lambda _m: None)
    # the failed run stays in its staging folder (the output folder is left as it was)
    assert not (tmp_path / "results").exists()
    out = staging_dir(tmp_path / "results")
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "failed"
    assert meta["failure"] == {"stage": "ingest", "error": "DataError"}
    assert run_status(out) == "failed" and run_status(tmp_path / "nowhere") == "unknown"
    assert main(["serve", str(out)]) == 2
    err = capsys.readouterr().err
    assert "its last run failed (run.json status failed)" in err and "--allow-incomplete" in err
    # a run killed before it finished leaves "running"
    meta["status"] = "running"
    (out / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    assert main(["serve", str(out)]) == 2
    assert "is still running or was stopped" in capsys.readouterr().err


def test_run_takes_the_key_from_the_environment_main_was_given(
    tmp_path: Path, make_project: Callable[..., Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: `run` passes main()'s environ to the stores and to linkage (it used to read
    os.environ only, so a key given to main() alone failed)."""
    from everyfamily.cli import main
    from everyfamily.pipeline import staging_dir

    path = write_csv(tmp_path / "births.csv", HEADER, ROWS)
    project = make_project(source_dict(path))
    monkeypatch.delenv(project.privacy.key_env, raising=False)
    data = project_dict(tmp_path, [source_dict(path)])
    project_file = tmp_path / "project.yaml"
    project_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "results"
    env = {project.privacy.key_env: "store-test-key-0123456789abcdef"}
    # the tiny project opens the encrypted store (the key), ingests, loads the key again in
    # linkage and only then stops: two records are too few to train a linkage model
    assert main(["run", str(project_file), "--out", str(out)], environ=env) == 2
    meta = json.loads((staging_dir(out) / "run.json").read_text(encoding="utf-8"))
    assert meta["failure"] == {"stage": "link", "error": "LinkageError"}
    # without it, the same run stops at once: no key
    assert main(["run", str(project_file), "--out", str(tmp_path / "other")], environ={}) == 2
