"""Benchmark: how long a council's first commands take on the demo's four extracts.

Usage: ``python bench/bench_onboarding.py``. Generates the Knowsley scenario once, then times
``everyfamily validate`` (issue 13 sets a target of 10 s, including the wrong-date-format
error) and ``everyfamily init`` on its extracts. The baseline measured in the same run is the
time to read the four extracts with the product's readers (the floor both commands share).

Prints one JSON line per figure: {"bench", "metric", "value", "baseline", "ratio"}.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _line(metric: str, value: float, baseline: float) -> None:
    row = {"bench": "onboarding", "metric": metric, "value": round(value, 2)}
    row.update({"baseline": round(baseline, 2), "ratio": round(value / baseline, 2)})
    print(json.dumps(row), flush=True)


def main(argv: list[str]) -> int:
    from everyfamily.cli import main as cli
    from everyfamily.config import load_project
    from everyfamily.demo import generate_scenario
    from everyfamily.ingest.readers import read_source

    with tempfile.TemporaryDirectory() as tmp:
        scenario = generate_scenario(Path(tmp) / "scenario", seed=2026)
        project_file = scenario.project_file
        sources = load_project(project_file).sources
        read = _timed(lambda: [read_source(s) for s in sources])
        text = project_file.read_text(encoding="utf-8")
        births = text.index("- name: births")
        wrong = project_file.parent / "wrong.yaml"
        wrong.write_text(
            text[:births] + text[births:].replace("'%d/%m/%Y'", "'%Y-%m-%d'", 1), encoding="utf-8"
        )
        files = [str(p) for p in sorted((project_file.parent / "extracts").iterdir())]
        drafted = project_file.parent / "drafted.yaml"
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            ok = _timed(lambda: cli(["validate", str(project_file)]))
            bad = _timed(lambda: cli(["validate", str(wrong)]))
            init = _timed(
                lambda: cli(["init", *files, "--out", str(drafted), "--base", str(project_file)])
            )
        _line("validate_seconds", ok, read)
        _line("validate_wrong_date_format_seconds", bad, read)
        _line("init_seconds", init, read)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
