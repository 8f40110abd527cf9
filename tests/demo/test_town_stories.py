"""The planted stories of the randomised town, over two seeds: found in the top 5?

Each seed draws another town (place, layouts, which fields exist) and places every story at
random. The product runs on it with the generated project file only; the evaluator then
ranks each story in findings.json (demo/evaluate.py ``rank_stories``). The ranks per seed and
kind are printed (``pytest -s``) and feed other work. A kind the product misses for a reason
of its own (statistics, barrier detection) is a strict expected failure naming the seeds: the
planted effects keep the Knowsley scenario's realistic sizes and are never weakened to pass.

Two seeds in the suite (every seed plants every story kind), one xdist group each so that two
workers run them side by side; ``bench/bench_town_stories.py`` ranks the stories over many
seeds (it ran 2-6 here before, measured all found), and ``bench/bench_null_calibration.py``
measures the power per story kind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from everyfamily.demo.evaluate import STORY_KINDS
from everyfamily.demo.town import TownStories
from everyfamily.demo.town.run import run_town

#: Two of the seeds 2-6 the suite ran before (all found); the bench runs more.
SEEDS = (2, 4)
N_AREAS = 40
TOP = 5
#: The stages that make findings (candidates from communities, access and trends, ranked
#: by find); services, since, planning and the report make none, and no test here reads them.
FINDING_STAGES = ("ingest", "link", "measure", "communities", "access", "trends", "find")

pytestmark = pytest.mark.slow

_EVALUATIONS: dict[int, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def town_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("town_stories")


def _evaluation(base: Path, seed: int) -> dict[str, Any]:
    """The town of ``seed`` run once per process (its tests share one xdist group)."""
    if seed not in _EVALUATIONS:
        ev = run_town(
            base / f"seed{seed}", seed, n_areas=N_AREAS, top=TOP, stages=FINDING_STAGES
        ).evaluation
        print(f"\ntown story ranks, seed {seed} (story -> rank kind severity):")
        for s in ev["stories"]:
            print(f"  {s['story']} -> {s['rank']} {s['kind']} {s['severity']}")
        print(f"  striking findings no story explains: {ev['striking_not_planted']}")
        _EVALUATIONS[seed] = ev
    return _EVALUATIONS[seed]


#: Measured on seeds 2-6 (40 areas): kind -> why the product misses it, with the ranks.
_MISSED: dict[str, str] = {}


@pytest.mark.parametrize(
    ("seed", "story"),
    [
        pytest.param(
            seed,
            k,
            marks=[pytest.mark.xdist_group(f"town-{seed}")]
            + ([pytest.mark.xfail(strict=True, reason=_MISSED[k])] if k in _MISSED else []),
        )
        for seed in SEEDS
        for k in STORY_KINDS
    ],
)
def test_story_found_in_top_5(town_base: Path, seed: int, story: str) -> None:
    rank = next(s for s in _evaluation(town_base, seed)["stories"] if s["story"] == story)
    assert rank["planted"]
    assert rank["found"], f"{story} not in the top {TOP} on seed {seed}: {rank}"


def test_null_town_false_alarms(tmp_path: Path) -> None:
    """Nothing planted: every striking finding is a false alarm (printed; issue 14's target
    is at most 0.25 striking findings per null run on average)."""
    run = run_town(
        tmp_path / "null",
        SEEDS[0],
        TownStories.none(),
        n_areas=N_AREAS,
        top=TOP,
        stages=FINDING_STAGES,
    )
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
