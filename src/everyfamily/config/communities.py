"""``communities:``: emerging-community detection."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from everyfamily.config.base import Strict


class CensusBaselineSettings(Strict):
    path: Path = Field(
        description="CSV of census counts by small area (e.g. Census 2011 ethnic group, LSOA)."
    )
    area_column: str = Field(description="Column holding the small-area code.")
    total_column: str = Field(description="Column holding the area's total population.")
    group_columns: dict[str, list[str]] = Field(
        description="Origin group -> the census columns whose sum is the category holding "
        "the group (e.g. polish: [OtherWhite]); groups not listed are tested against the "
        "rest of the borough instead."
    )
    vintage: str = Field(description="What the counts are, e.g. 'Census 2011 ethnic group'.")


class CommunitiesSettings(Strict):
    enabled: bool = Field(True, description="Look for emerging communities (docs/communities.md).")
    use_names: bool = Field(
        True,
        description="Estimate origin from names where no recorded signal says it (an "
        "area-level estimate, corrected for the classifier's measured error).",
    )
    groups: list[str] | None = Field(
        None,
        description="Origin groups to test; default: all but british_irish and other.",
    )
    min_recent_births: int = Field(
        10, ge=1, description="Fewest recent births in a group for a finding."
    )
    min_rate_ratio: float = Field(
        2.0,
        gt=1,
        description="Smallest rise of the group's share (against earlier years "
        "and against the baseline) for a finding.",
    )
    census_baseline: CensusBaselineSettings | None = Field(
        None,
        description="Optional census counts to compare recent births with; without it each "
        "area is compared with the rest of the borough.",
    )
