"""Generate a town, run the product on it exactly as a council would, and evaluate (demo only).

The pipeline reads only the project file; the truth is read afterwards, by the evaluator.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from everyfamily.demo.town.scenario import Town, generate_town
from everyfamily.demo.town.stories import TownStories


@dataclass(frozen=True)
class TownRun:
    town: Town
    out_dir: Path
    evaluation: dict[str, Any]


def run_town(
    folder: Path,
    seed: int,
    stories: TownStories | None = None,
    n_areas: int | None = None,
    top: int = 5,
    scale: float = 1.0,
    boundary_format: str = "geojson",
    stages: Collection[str] | None = None,
) -> TownRun:
    """Generate the town of ``seed`` in ``folder/town``, run the pipeline into ``folder/out``
    and rank the planted stories in its findings (``demo.evaluate.evaluate_run``).
    ``scale``: the share of the children to simulate (``generate_town``). ``stages``: run
    only these stages (``run_pipeline``, for tests); they must include ``find``."""
    from everyfamily.config import load_project
    from everyfamily.demo.evaluate import evaluate_run
    from everyfamily.pipeline import run_pipeline

    town = generate_town(
        folder / "town",
        seed=seed,
        stories=stories,
        n_areas=n_areas,
        scale=scale,
        boundary_format=boundary_format,
    )
    project = load_project(town.project_file)
    out = folder / "out"
    run_pipeline(project, out_dir=out, echo=lambda _m: None, seed=seed, stages=stages)
    return TownRun(town=town, out_dir=out, evaluation=evaluate_run(out, town.truth_dir, top))
