"""The planted stories of the randomised town, over five seeds: found in the top 5?

Each seed draws another town (place, layouts, which fields exist) and places every story at
random. The product runs on it with the generated project file only; the evaluator then
ranks each story in findings.json (demo/evaluate.py ``rank_stories``). The ranks per seed and
kind are printed (``pytest -s``) and feed other work. A kind the product misses for a reason
of its own (statistics, barrier detection) is a strict expected failure naming the seeds: the
planted effects keep the Knowsley scenario's realistic sizes and are never weakened to pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from everyfamily.demo.evaluate import STORY_KINDS
from everyfamily.demo.town import TownStories
from everyfamily.demo.town.run import run_town

SEEDS = (2, 3, 4, 5, 6)
N_AREAS = 40
TOP = 5

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    base = tmp_path_factory.mktemp("town_stories")
    out = {}
    for seed in SEEDS:
        run = run_town(base / f"seed{seed}", seed, n_areas=N_AREAS, top=TOP)
        out[seed] = run.evaluation
    print("\ntown story ranks (seed: story -> rank kind severity):")
    for seed, ev in out.items():
        for s in ev["stories"]:
            print(f"  {seed}: {s['story']} -> {s['rank']} {s['kind']} {s['severity']}")
        print(f"  {seed}: striking findings no story explains: {ev['striking_not_planted']}")
    return out


def _ranks(evaluations: dict[int, dict[str, Any]], story: str) -> dict[int, Any]:
    return {
        seed: next(s for s in ev["stories"] if s["story"] == story)
        for seed, ev in evaluations.items()
    }


#: Measured on seeds 2-6 (40 areas): kind -> why the product misses it, with the ranks.
_MISSED: dict[str, str] = {}


@pytest.mark.parametrize(
    "story",
    [
        pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=_MISSED[k]))
        if k in _MISSED
        else k
        for k in STORY_KINDS
    ],
)
def test_story_found_in_top_5_on_every_seed(
    evaluations: dict[int, dict[str, Any]], story: str
) -> None:
    ranks = _ranks(evaluations, story)
    assert all(r["planted"] for r in ranks.values())
    missed = {seed: (r["rank"], r["severity"]) for seed, r in ranks.items() if not r["found"]}
    assert not missed, f"{story} not in the top {TOP} (seed: rank, severity): {missed}"


def test_null_town_false_alarms(tmp_path: Path) -> None:
    """Nothing planted: every striking finding is a false alarm (printed; issue 14's target
    is at most 0.25 striking findings per null run on average)."""
    run = run_town(tmp_path / "null", SEEDS[0], TownStories.none(), n_areas=N_AREAS, top=TOP)
    ev = run.evaluation
    assert ev["stories"] == []  # nothing planted, nothing to find
    doc = json.loads((run.out_dir / "findings.json").read_text(encoding="utf-8"))
    print(f"\nnull town seed {SEEDS[0]}: {ev['n_findings']} findings, {ev['n_striking']} striking")
    for f in doc["findings"]:
        print(f"  {f['rank']}. {f['kind']} {f['evidence']['severity']} {f['group']}")
    assert ev["striking_not_planted"] == [
        {"rank": f["rank"], "kind": f["kind"], "id": f["id"]}
        for f in doc["findings"]
        if f["evidence"]["severity"] == "striking"
    ]
