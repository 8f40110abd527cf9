"""``project:``: the project's name, area and reference date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field

from everyfamily.config.base import Strict


class ProjectInfo(Strict):
    name: str = Field(description="Name of the council or project, shown on every output.")
    area_name: str | None = Field(
        None, description="Name of the place (e.g. 'Knowsley'); defaults to the project name."
    )
    reference_date: dt.date = Field(
        description="The date reach is measured on (ages and the engagement window end here)."
    )
    attribution: list[str] = Field(
        default_factory=list,
        description="Attribution lines for open data used (e.g. OGL v3); shown on every output "
        "(default none).",
    )
    previous_run_path: Path | None = Field(
        None,
        description="Output folder of the previous run (e.g. last month's): this run carries "
        "its stable ids over (its id registry) and its history of aggregate measures, and "
        "reports what changed since it (since_last_run.csv); default none. It must hold a "
        "complete everyfamily run (`everyfamily run --previous-run DIR` sets it too).",
    )
