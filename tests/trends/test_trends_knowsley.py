"""Trends on the shared Knowsley demo run (the planted decline), on a storyless world (no
trend found) and on a town of another seed (its planted decline found).

The truth (scenario/truth/stories.json) is read only here, never by the pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest

from everyfamily.stores import open_run_stores

pytestmark = pytest.mark.slow

TREND_KINDS = {"declining_reach", "improving_reach"}


def _findings(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "findings.json").read_text(encoding="utf-8"))["findings"]


def _truth(out: Path) -> dict[str, Any]:
    return json.loads((out / "scenario" / "truth" / "stories.json").read_text(encoding="utf-8"))


def _small_areas(out: Path) -> dict[tuple[str, str], set[str]]:
    """(level, area code) -> its small areas, from the run's store."""
    engine = open_run_stores(out)
    try:
        m = engine.query("SELECT level, area_code, small_area FROM area_membership").to_pandas()
    finally:
        engine.close()
    return {
        (str(level), str(code)): set(g["small_area"].astype(str))
        for (level, code), g in m.groupby(["level", "area_code"])
    }


def test_trends_csv_has_twelve_quarters_per_borough_measure(knowsley_demo: Path) -> None:
    t = pd.read_csv(knowsley_demo / "trends.csv", dtype={"area_code": str})
    borough = t[(t["level"] == "borough") & (t["dimension"] == "all") & (t["service"] == "any")]
    assert borough["period_end"].nunique() >= 12
    assert borough["registered_rate"].notna().sum() >= 12
    # engagement only where the attendance extract covers the whole 12-month window
    run = json.loads((knowsley_demo / "run.json").read_text(encoding="utf-8"))["trends"]
    assert borough["engaged_rate"].notna().sum() == run["engaged_periods"] >= 5
    layer = pyogrio.read_dataframe(knowsley_demo / "reach.gpkg", layer="trends")
    assert layer["period_end"].nunique() == borough["period_end"].nunique()


def test_the_last_quarter_end_reproduces_the_measure_stage(knowsley_demo: Path) -> None:
    """On the reference date (a quarter end) with the full age range, a period is the reach
    table: the same children in every area."""
    from everyfamily.trends.periods import PeriodQuery, periods_sql

    run = json.loads((knowsley_demo / "run.json").read_text(encoding="utf-8"))
    engine = open_run_stores(knowsley_demo, zones=("identifiable", "analysis"))
    try:
        ref = pd.Timestamp(run["trends"]["last_period"]).date()
        q = PeriodQuery((ref,), 12, 3, 0, 4)
        sql, params = periods_sql(q, engine.dialect.quote_ident)
        one = engine.query(sql, params).to_pandas()
        reach = engine.query(
            "SELECT level, area_code, denominator, known, registered, engaged FROM reach "
            "WHERE dimension = 'all' AND service = 'any'"
        ).to_pandas()
    finally:
        engine.close()
    one = one[one["service"] == "any"]
    both = one.merge(reach, on=["level", "area_code"], suffixes=("", "_reach"))
    assert len(both) == len(reach) == len(one) > 100
    for c in ("denominator", "known", "registered", "engaged"):
        assert (both[c].astype(int) == both[f"{c}_reach"].astype(int)).all(), c


def test_planted_decline_is_a_top_five_finding(knowsley_demo: Path) -> None:
    findings = _findings(knowsley_demo)
    truth = _truth(knowsley_demo)["declining_reach"]
    planted = set(truth["lsoas"])
    members = _small_areas(knowsley_demo)
    hits = [
        f
        for f in findings
        if f["kind"] == "declining_reach"
        and not f["site"]
        and any(members.get((f["evidence"]["level"], a), {a}) & planted for a in f["areas"])
    ]
    assert hits, "no declining_reach finding over the planted areas"
    assert min(f["rank"] for f in hits) <= 5
    assert all(f["evidence"]["severity"] == "striking" for f in hits)
    # every falling area is (in) the planted set: nothing else declines
    others = [f for f in findings if f["kind"] in TREND_KINDS and not f["site"] and f not in hits]
    assert others == []
    # the centre whose engagement fell after a date
    site = [f for f in findings if f["kind"] == "declining_reach" and f["site"]]
    assert [f["site"] for f in site] == [truth["site_id"]]
    assert "fell from" in site[0]["headline"]


def test_a_finding_over_the_planted_decline_says_its_trend(knowsley_demo: Path) -> None:
    """Trends attached to findings of other kinds: only over the planted decline (areas or
    centre), said in the sentence with released rates, on the findings page and the report."""
    from fastapi.testclient import TestClient

    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy

    truth = _truth(knowsley_demo)["declining_reach"]
    planted = set(truth["lsoas"])
    members = _small_areas(knowsley_demo)
    attached = [f for f in _findings(knowsley_demo) if "trend" in f["evidence"]]
    assert attached, "no finding carries the planted decline's trend"
    for f in attached:
        smalls = set().union(*(members.get((f["evidence"]["level"], a), {a}) for a in f["areas"]))
        assert (smalls & planted) or f["site"] == truth["site_id"], f["headline"]
        trend = f["evidence"]["trend"]
        assert trend["direction"] == "falling"
        assert f["headline"].endswith(trend["text"]) and " to " in trend["text"]
        assert trend["first_rate"] > trend["last_rate"]
    page = TestClient(create_app(knowsley_demo, policy=StaticPolicy("viewer"))).get("/findings")
    report = (knowsley_demo / "report.html").read_text(encoding="utf-8")
    for f in attached:
        text = f["evidence"]["trend"]["text"]
        assert text in page.text and text in report


@pytest.mark.xdist_group("knowsley-no-stories-12")
def test_no_trend_found_when_nothing_is_planted(knowsley_world: Any) -> None:
    from everyfamily.demo.stories import Stories

    out = knowsley_world(seed=12, stories=Stories.none())
    assert [f["headline"] for f in _findings(out) if f["kind"] in TREND_KINDS] == []
    assert [f["headline"] for f in _findings(out) if "trend" in f["evidence"]] == []
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))["trends"]
    assert run["series_tested"] > 100 and run["decreasing"] == run["increasing"] == 0


def test_town_of_another_seed_finds_its_planted_decline(tmp_path: Path) -> None:
    from everyfamily.demo.town import TownStories
    from everyfamily.demo.town.run import run_town

    # the stages a declining-reach finding needs: trends tests the series, find ranks them
    # (communities and access add only other kinds of finding, which could only push the
    # decline down the ranks; services, since, planning and the report make none)
    stages = ("ingest", "link", "measure", "trends", "find")
    run = run_town(
        tmp_path / "town", 3, TownStories(declining_reach=True), n_areas=40, top=5, stages=stages
    )
    ranks = {s["story"]: s for s in run.evaluation["stories"]}
    print(json.dumps(run.evaluation, indent=1))
    assert ranks["declining_reach"]["planted"]
    assert ranks["declining_reach"]["rank"] is not None
    found = [f for f in _findings(run.out_dir) if f["kind"] == "declining_reach"]
    assert found, "the town's planted decline was not found"


def test_compare_and_benchmark_files_on_the_demo(knowsley_demo: Path) -> None:
    """compare.csv: every small area x (registered, engaged); within a deprivation quintile
    the expected counts add up to the observed ones (an internal standard), up to the
    release's perturbation; the planted decline's areas register fewer children than
    similar places. benchmark.csv: the demo's illustrative file, labelled."""
    from everyfamily.privacy.release import ReleaseRules

    every = pd.read_csv(knowsley_demo / "compare.csv", dtype={"area_code": str})
    c = every[every["level"] == "lsoa"]
    reach = pd.read_csv(knowsley_demo / "reach.csv", dtype={"area_code": str})
    small = reach[(reach["level"] == "lsoa") & (reach["dimension"] == "all")]
    assert len(c) == 2 * small["area_code"].nunique()
    # wards too: a ward's expected count is the sum of its small areas' (same stratum rates)
    wards = every[(every["level"] == "ward") & (every["measure"] == "registered")]
    members = _small_areas(knowsley_demo)
    assert len(wards) == len({code for level, code in members if level == "ward"}) > 1
    e = c[c["measure"] == "registered"].set_index("area_code")["expected"]
    for w in wards.itertuples():
        parts = members[("ward", w.area_code)]
        assert abs(w.expected - e.loc[sorted(parts)].sum()) <= 0.01 * len(parts)
    assert set(c["strata"]) == {"deprivation quintile x age"}
    run = json.loads((knowsley_demo / "run.json").read_text(encoding="utf-8"))
    error = ReleaseRules.from_run(run.get("privacy")).max_error
    reg = c[(c["measure"] == "registered") & c["observed"].notna()]
    for _q, g in reg.groupby("deprivation_group"):
        assert abs(g["observed"].sum() - g["expected"].sum()) <= error * len(g) + 1
    planted = set(_truth(knowsley_demo)["declining_reach"]["lsoas"])
    mine = reg[reg["area_code"].isin(planted)]
    assert len(mine) == len(planted) and (mine["ratio"] < 1).all()
    b = pd.read_csv(knowsley_demo / "benchmark.csv")
    assert len(b) == 9 and set(b["compared"]) <= {"better", "similar", "worse", "not compared"}
    assert run["compare"]["benchmark"]["illustrative"] is True
