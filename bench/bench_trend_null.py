"""Benchmark: how often do the trend findings cry wolf? Null calibration of the trends stage.

Usage: ``python bench/bench_trend_null.py [N_SEEDS] [--scale=S] [--keep=DIR] [--planted]``.
For N seeds (default 20) it generates the randomised town (``everyfamily.demo.town``, 40
areas) with nothing planted (``TownStories.none()``), runs the whole pipeline and counts

* the ``declining_reach`` / ``improving_reach`` findings of each run (any severity): the
  false-alarm rate is the share of runs with at least one, and the mean per run;
* the series the recent-trend test labelled ``decreasing`` / ``increasing`` (run.json's
  ``trends`` block) out of the series tested: the per-series false-positive rate, against
  the 5% FDR the Benjamini-Hochberg step promises (on a null world every label is false).

``--planted`` also runs the same seeds with the decline planted
(``TownStories(declining_reach=True)``) and prints the share found (power). ``--scale=S``
simulates that share of the children (0.1 to 1; default 0.25: less CPU, less power).

Prints one JSON line per figure: {"bench", "metric", "value", "baseline", ...}; the
baseline of the false-alarm rate is 0.05 (the FDR level), of power none.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TREND_KINDS = ("declining_reach", "improving_reach")
FDR = 0.05


def _option(argv: list[str], name: str) -> str | None:
    return next((a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")), None)


def _run(folder: Path, seed: int, planted: bool, scale: float) -> dict[str, Any]:
    from everyfamily.demo.town import TownStories
    from everyfamily.demo.town.run import run_town

    out = folder / "out"
    if not (out / "findings.json").exists():
        none = TownStories.none()
        stories = dataclasses.replace(none, declining_reach=True) if planted else none
        run_town(folder, seed, stories, n_areas=40, scale=scale)
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))["findings"]
    trends = json.loads((out / "run.json").read_text(encoding="utf-8")).get("trends") or {}
    kinds = [f["kind"] for f in findings if f["kind"] in TREND_KINDS]
    return {
        "seed": seed,
        "declining": kinds.count("declining_reach"),
        "improving": kinds.count("improving_reach"),
        "tested": int(trends.get("series_tested") or 0),
        "labelled": int(trends.get("decreasing") or 0) + int(trends.get("increasing") or 0),
    }


def _line(metric: str, value: float, baseline: float | None, **extra: Any) -> None:
    row = {"bench": "trend_null", "metric": metric, "value": round(value, 4)}
    row.update({"baseline": baseline, **extra})
    print(json.dumps(row), flush=True)


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    n = int(args[0]) if args else 20
    scale = float(_option(argv, "scale") or 0.25)
    keep = _option(argv, "keep")
    seeds = [2000 + i for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(keep) if keep else Path(tmp)
        runs = []
        for seed in seeds:
            started = time.perf_counter()
            r = _run(root / f"null_{seed}", seed, False, scale)
            r["seconds"] = round(time.perf_counter() - started, 1)
            print(json.dumps({"bench": "trend_null", "run": r}), flush=True)
            runs.append(r)
        with_any = sum(1 for r in runs if r["declining"] + r["improving"] > 0)
        found = sum(r["declining"] + r["improving"] for r in runs)
        tested = sum(r["tested"] for r in runs)
        labelled = sum(r["labelled"] for r in runs)
        extra = {"seeds": n, "scale": scale, "world": "town (40 areas, nothing planted)"}
        _line("null_share_runs_with_trend_finding", with_any / n, FDR, **extra)
        _line("null_trend_findings_per_run", found / n, None, **extra)
        _line(
            "null_series_labelled_share",
            labelled / tested if tested else 0.0,
            FDR,
            series_tested=tested,
            series_labelled=labelled,
            **extra,
        )
        if "--planted" in argv:
            hits = 0
            for seed in seeds:
                r = _run(root / f"planted_{seed}", seed, True, scale)
                hits += int(r["declining"] > 0)
            _line("planted_decline_found_share", hits / n, None, seeds=n, scale=scale)


if __name__ == "__main__":
    main(sys.argv[1:])
