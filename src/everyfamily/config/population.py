"""``population:``, ``births:``, ``deprivation:``, ``sites:``: reference tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field

from everyfamily.config.base import Strict


class BirthsSettings(Strict):
    path: Path = Field(description="CSV of births by small area and calendar year.")
    area_column: str = Field(description="Column holding the small-area code.")
    year_column: str = Field(description="Column holding the calendar year of birth.")
    births_column: str = Field(description="Column holding the number of births.")


class PopulationSettings(Strict):
    path: Path = Field(description="CSV of small-area population estimates.")
    area_column: str = Field(description="Column holding the small-area code.")
    age_columns: dict[int, str] = Field(
        description="Single year of age -> column of its count (ages 0 to 4 at least)."
    )
    vintage: str = Field(description="What the estimates are, e.g. 'ONS mid-2020 (SAPE23DT2)'.")
    as_at: dt.date | None = Field(
        None,
        description="The date the estimates describe (ONS mid-year estimates: 30 June of the "
        "year, e.g. 2020-06-30). Compared with project.reference_date: a gap of more than a "
        "year is a loud warning. Without it the year is read from `vintage` ('mid-2020') "
        "where it can be, else the gap cannot be checked (also a warning).",
    )
    projection: Literal["none", "age_forward"] = Field(
        "none",
        description="How to bring the estimates to the reference date. 'none': use them as "
        "they are. 'age_forward': age each single-year cohort forward by the whole years "
        "between as_at and the reference date; cohorts born since come from `births` when "
        "given, else are assumed the size of the estimate's youngest cohort (no migration "
        "or mortality adjustment: docs/measures.md).",
    )
    births: BirthsSettings | None = Field(
        None,
        description="Optional registered births by small area and calendar year (e.g. ONS "
        "births by LSOA, or the council's own), used by projection 'age_forward' for the "
        "cohorts born after the estimate.",
    )


class DeprivationSettings(Strict):
    path: Path = Field(description="CSV of deprivation by small area (e.g. IoD2019).")
    area_column: str = Field(description="Column holding the small-area code.")
    imd_decile_column: str | None = Field(
        None, description="Column of the IMD decile (1 = most deprived)."
    )
    idaci_decile_column: str | None = Field(None, description="Column of the IDACI decile.")
    vintage: str = Field(description="What the index is, e.g. 'English IoD2019'.")


class SitesSettings(Strict):
    path: Path = Field(description="CSV of service sites (children's centres, family hubs).")
    id_column: str = Field("site_id", description="Column holding the site id.")
    name_column: str = Field("name", description="Column holding the site name.")
    latitude_column: str = Field("lat", description="Column of the site latitude (WGS84).")
    longitude_column: str = Field("lon", description="Column of the site longitude (WGS84).")
    reach_areas_column: str | None = Field(
        None,
        description="Optional column listing the small areas the site is responsible for, "
        "separated by ';'. Without it each area is given to its nearest site.",
    )
    capacity_column: str | None = Field(None, description="Optional column of weekly capacity.")
    illustrative: bool = Field(
        False,
        description="True when the sites are illustrative, not the real list (said on outputs).",
    )
