"""The Knowsley demo end to end: generate the synthetic scenario, run the pipeline a council
runs on it, then check the run against the scenario's ground truth (``everyfamily demo``).

It lives in the demo, above the pipeline: the pipeline never imports the demo, so it cannot
read the truth (pyproject.toml's import contracts check this).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from everyfamily.config import load_project
from everyfamily.demo.evaluate import evaluate_demo
from everyfamily.demo.scenario import generate_scenario
from everyfamily.pipeline import Echo, run_pipeline


def run_demo(
    *,
    out_dir: Path,
    seed: int = 2026,
    echo: Echo = print,
    environ: Mapping[str, str] | None = None,
    scale: float = 1.0,
    months_earlier: int | None = None,
    previous_run: Path | None = None,
    stages: Collection[str] | None = None,
) -> dict[str, Any]:
    """Generate the synthetic Knowsley scenario into ``out_dir/scenario``, run the pipeline,
    then check the run against the scenario's ground truth (the pipeline itself never sees
    the truth; only this demo step does) and write demo_evaluation.json. ``scale``: the
    share of the children to simulate (demo.generate_scenario; 1, the default, is the full
    world and leaves run.json as it was). ``months_earlier``: one extract of a monthly
    series (demo.monthly); ``previous_run``: the previous run's folder
    (``project.previous_run_path``: ids carry over, since_last_run.csv). ``stages``: run
    only these stages (``run_pipeline``, for tests); without ``find`` the planted stories are
    not checked (demo_evaluation.json is not written)."""
    t0 = time.perf_counter()
    scenario = generate_scenario(
        out_dir / "scenario", seed=seed, scale=scale, months_earlier=months_earlier
    )
    gen_seconds = round(time.perf_counter() - t0, 3)
    echo(
        f"[generate] synthetic Knowsley scenario (seed {seed}) written to "
        f"{scenario.project_file.parent.resolve()}"
    )
    project = load_project(scenario.project_file)
    if previous_run is not None:
        info = project.project.model_copy(update={"previous_run_path": previous_run.absolute()})
        project = project.model_copy(update={"project": info})
    meta = run_pipeline(
        project,
        out_dir=out_dir,
        echo=echo,
        seed=seed,
        extra_metadata={
            "scenario": {
                "seed": seed,
                "generate_seconds": gen_seconds,
                **({"scale": scale} if scale != 1.0 else {}),
                **({"months_earlier": months_earlier} if months_earlier is not None else {}),
            }
        },
        environ=environ,
        stages=stages,
    )
    if stages is not None and "find" not in stages:
        return meta
    echo("[check against the synthetic truth] (demo only)")
    evaluation = evaluate_demo(out_dir, scenario.truth_dir, project)
    (out_dir / "demo_evaluation.json").write_text(
        json.dumps(evaluation, indent=2), encoding="utf-8"
    )
    kids = evaluation["linkage"]["children"]["pairwise"]
    fams = (evaluation["linkage"].get("families") or {}).get("pairwise", {})
    echo(
        f"  linkage, children: precision {kids['precision']:.4f}, recall {kids['recall']:.4f}, "
        f"F1 {kids['f1']:.4f}"
    )
    if fams:
        echo(f"  linkage, families: F1 {fams['f1']:.4f}")
    worst = min(evaluation["linkage"]["by_group"], key=lambda g: g["recall"], default=None)
    if worst is not None:
        echo(
            f"  lowest recall by group: {worst['dimension']}={worst['group']} "
            f"{worst['recall']:.4f} ({worst['n_children']} children)"
        )
    for story in evaluation["stories"]:
        echo(f"  planted story {story['story']}: {'found' if story['found'] else 'NOT found'}")
    meta["demo_evaluation"] = "demo_evaluation.json"
    return meta


def month_later(previous_run: Path) -> dict[str, Any]:
    """The demo arguments of the run a month after ``previous_run`` (a demo run of a monthly
    series, ``everyfamily demo --months-earlier K``): same seed and scale, one month later,
    naming it as the previous run. A one-line ConfigError when it is not such a run."""
    from everyfamily.errors import ConfigError
    from everyfamily.since.previous import check_previous_run

    check_previous_run(previous_run)
    meta = json.loads((Path(previous_run) / "run.json").read_text(encoding="utf-8"))
    scenario = meta.get("scenario") if isinstance(meta, dict) else None
    k = scenario.get("months_earlier") if isinstance(scenario, dict) else None
    if not isinstance(scenario, dict) or not isinstance(k, int) or k < 1:
        raise ConfigError(
            f"{previous_run}: not a demo run of a monthly series a month or more before the "
            "reference date",
            hint="start the series with `everyfamily demo --months-earlier N` (N >= 1)",
        )
    return {
        "seed": int(scenario["seed"]),
        "scale": float(scenario.get("scale", 1.0)),
        "months_earlier": k - 1,
        "previous_run": Path(previous_run),
    }
