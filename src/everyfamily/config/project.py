"""``project:``: the project's name, area and reference date."""

from __future__ import annotations

import datetime as dt

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
