"""Two consecutive monthly runs of the demo (a quarter-size world, seed 2026): the extracts
of the second are those of the first plus a month (demo.monthly), and since_last_run's exact
counts equal the truth the generator planted and reconcile in every area.

The truth is read from the scenarios' truth/ folders only (children, records); the counts
come from the second run's store."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from everyfamily.cli import main
from everyfamily.demo.run import month_later, run_demo
from everyfamily.since.flows import COUNTS
from everyfamily.stores import open_run_stores

pytestmark = pytest.mark.slow

SCALE = 0.25
#: What these tests read: since_last_run (since), the report's section (report, which reads
#: the ranked findings: find, which reads the trend tests: trends) and ids carried by link.
#: Communities, services, access and planning are left out (about a quarter of each run).
STAGES = ("ingest", "link", "measure", "trends", "since", "find", "report")
R0, R1 = dt.date(2026, 2, 28), dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("monthly")
    first, second = root / "feb", root / "mar"
    run_demo(out_dir=first, echo=lambda _s: None, scale=SCALE, months_earlier=1, stages=STAGES)
    run_demo(out_dir=second, echo=lambda _s: None, stages=STAGES, **month_later(first))
    return first, second


def _exact(run: Path) -> pd.DataFrame:
    engine = open_run_stores(run)
    try:
        frame: pd.DataFrame = engine.query("SELECT * FROM since_last_run").to_pandas()
    finally:
        engine.close()
    return frame


def _truth(run: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = run / "scenario" / "truth"
    kids = pd.read_csv(truth / "children.csv", dtype=str)
    records = pd.read_csv(truth / "records.csv", dtype=str)
    return kids, records


def test_the_second_extract_is_the_first_plus_a_month(runs: tuple[Path, Path]) -> None:
    first, second = runs
    _k, rec0 = _truth(first)
    _k, rec1 = _truth(second)
    ids0 = set(zip(rec0["source"], rec0["record_id"], strict=True))
    ids1 = set(zip(rec1["source"], rec1["record_id"], strict=True))
    assert ids0 < ids1  # nothing dropped, a month added
    meta0 = json.loads((first / "run.json").read_text(encoding="utf-8"))
    meta1 = json.loads((second / "run.json").read_text(encoding="utf-8"))
    assert (meta0["reference_date"], meta1["reference_date"]) == (R0.isoformat(), R1.isoformat())
    assert meta1["previous_run"] == str(first)
    assert meta1["scenario"]["seed"] == meta0["scenario"]["seed"]


def test_since_last_run_equals_the_planted_truth_at_the_borough(runs: tuple[Path, Path]) -> None:
    first, second = runs
    kids, rec1 = _truth(second)
    _k, rec0 = _truth(first)
    borough = _exact(second).query("level == 'borough'").iloc[0]
    dob = pd.to_datetime(kids["date_of_birth"])
    left_in_march = kids["departed_month"].astype(float).eq(1.0)
    gone_before = kids["departed_month"].astype(float).gt(1.0)
    # born in the month, in a family that has not left
    born = ((dob > pd.Timestamp(R0)) & (dob <= pd.Timestamp(R1)) & ~gone_before).sum()
    # children first in any extract this month, born before the last run (moved in)
    new_to_records = set(rec1["child_id"]) - set(rec0["child_id"])
    arrived = kids[kids["child_id"].isin(new_to_records) & (dob <= pd.Timestamp(R0))]
    assert int(borough["born"]) == born > 20
    assert int(borough["left"]) == int(left_in_march.sum()) > 5
    assert int(borough["arrived"]) == len(arrived)
    # nobody moves between small areas in this demo month and nobody turns five
    assert int(borough["aged_out"]) == 0
    assert (int(borough["moved_in"]), int(borough["moved_out"])) == (0, 0)


def test_exact_counts_reconcile_in_every_area(runs: tuple[Path, Path]) -> None:
    _first, second = runs
    exact = _exact(second)
    assert set(exact["level"]) >= {"lsoa", "ward", "msoa", "borough"}
    total = exact["previous"] + exact["born"] + exact["arrived"] + exact["moved_in"]
    total -= exact["moved_out"] + exact["aged_out"] + exact["left"] + exact["relinked"]
    assert (total == exact["current"]).all()
    assert exact["reconciles"].all()
    # every level adds up to the same borough totals
    borough = exact.query("level == 'borough'").iloc[0]
    for level, rows in exact.groupby("level"):
        for c in ("previous", "current", "born", "left", "newly_registered", "lapsed"):
            assert rows[c].sum() == borough[c], (level, c)


def test_since_and_reach_agree_on_who_is_known_in_every_area(runs: tuple[Path, Path]) -> None:
    """One definition of the known population: since's current plus the children it counts
    as moved out of the borough (``away``) is reach's known population, area by area."""
    _first, second = runs
    exact = _exact(second)
    engine = open_run_stores(second)
    try:
        reach = engine.query(
            "SELECT level, area_code, known FROM reach WHERE dimension = 'all' AND service = 'any'"
        ).to_pandas()
    finally:
        engine.close()
    both = reach.merge(exact, on=["level", "area_code"], how="outer", indicator=True)
    assert (both["_merge"] != "right_only").all()  # no area since knows and reach does not
    missing = both["_merge"] == "left_only"  # an area with no child in either run
    assert (both.loc[missing, "known"] == 0).all()
    both = both[~missing]
    assert (both["reach_known"] == both["known"]).all()
    assert (both["current"] + both["away"] == both["known"]).all()
    assert exact["agrees_with_reach"].all()
    borough = both.query("level == 'borough'").iloc[0]
    assert borough["away"] > 0  # the planted moves out are still placed by reach
    doc = json.loads((second / "since_last_run.json").read_text(encoding="utf-8"))
    assert doc["agrees_with_reach_exactly"] is True


def test_the_totals_are_the_two_runs_own_counts(runs: tuple[Path, Path]) -> None:
    first, second = runs
    engine = open_run_stores(second)
    try:
        history = engine.query(
            "SELECT reference_date, known FROM run_history WHERE level = 'borough'"
        ).to_pandas()
    finally:
        engine.close()
    by_date = dict(zip(history["reference_date"], history["known"], strict=True))
    borough = _exact(second).query("level == 'borough'").iloc[0]
    assert by_date == {R0.isoformat(): borough["previous"], R1.isoformat(): borough["current"]}
    # the first run's own history says the same of its date
    engine = open_run_stores(first)
    try:
        h0 = engine.query(
            "SELECT known FROM run_history WHERE level = 'borough' AND reference_date = ?",
            [R0.isoformat()],
        ).to_pylist()
    finally:
        engine.close()
    assert h0 == [{"known": borough["previous"]}]


def test_ids_carry_over_from_the_previous_run(runs: tuple[Path, Path]) -> None:
    ids: list[set[str]] = []
    for run in runs:
        engine = open_run_stores(run)
        try:
            ids.append(
                {r["person_id"] for r in engine.query("SELECT person_id FROM children").to_pylist()}
            )
        finally:
            engine.close()
    kept = len(ids[0] & ids[1]) / len(ids[0])
    assert kept > 0.995, kept


def test_released_file_report_and_json(runs: tuple[Path, Path]) -> None:
    _first, second = runs
    with (second / "since_last_run.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "previous_reference_date", "reference_date", "level", "area_code", "area_name", *COUNTS
    ]  # fmt: skip
    assert len(rows) == len(_exact(second))
    # released: a count of 1 to 7 never shows (cell key: 0 or 8)
    shown = [int(r[c]) for r in rows for c in COUNTS if r[c] not in ("", None)]
    assert not [v for v in shown if 1 <= v <= 7]
    doc = json.loads((second / "since_last_run.json").read_text(encoding="utf-8"))
    assert doc["reconciles_exactly"] is True
    assert doc["previous_reference_date"] == R0.isoformat()
    html = (second / "report.html").read_text(encoding="utf-8")
    assert 'id="since"' in html and "Since the last run (2026-02-28)" in html


def test_run_names_a_previous_run_on_the_command_line(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = runs
    project = second / "scenario" / "project.yaml"
    # a folder that is no run: one line, nothing written
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out), "--previous-run", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no run.json" in err and err.count("\n") == 1
    assert not out.exists()
    # the first run is not a run a month before the second's previous: demo refuses
    from everyfamily.errors import ConfigError

    with pytest.raises(ConfigError, match="monthly series"):
        month_later(second)
    assert (first / "run.json").is_file()


def test_the_overview_shows_the_since_last_run_panel(runs: tuple[Path, Path]) -> None:
    from fastapi.testclient import TestClient

    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy

    first, second = runs
    doc = json.loads((second / "since_last_run.json").read_text(encoding="utf-8"))
    borough = next(a for a in doc["areas"] if a["level"] == "borough")
    page = TestClient(create_app(second, policy=StaticPolicy("viewer"))).get("/").text
    assert "Since the last run (2026-02-28)" in page
    assert f"{borough['born']:,} born since" in page
    assert f"{borough['current']:,} children known across the borough" in page
    # a run that named no previous run has no panel
    page = TestClient(create_app(first, policy=StaticPolicy("viewer"))).get("/").text
    assert "Since the last run" not in page


def test_the_run_history_is_released_shown_and_reported(runs: tuple[Path, Path]) -> None:
    from fastapi.testclient import TestClient

    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy

    first, second = runs
    with (second / "run_history.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["level"] == "borough"]
    assert [r["reference_date"] for r in rows] == [R0.isoformat(), R1.isoformat()]
    # the same children with the same record keys: released as since_last_run.csv releases
    # the previous and current totals
    with (second / "since_last_run.csv").open(encoding="utf-8") as fh:
        since = next(r for r in csv.DictReader(fh) if r["level"] == "borough")
    assert [r["known"] for r in rows] == [since["previous"], since["current"]]
    page = TestClient(create_app(second, policy=StaticPolicy("viewer"))).get("/").text
    assert "Run history" in page
    assert f'<th scope="row">{R0.isoformat()}</th><td>{int(since["previous"]):,}</td>' in page
    html = (second / "report.html").read_text(encoding="utf-8")
    assert "Run history (2 reference dates, run_history.csv)" in html
    # one run is no history: no panel
    page = TestClient(create_app(first, policy=StaticPolicy("viewer"))).get("/").text
    assert "Run history" not in page
