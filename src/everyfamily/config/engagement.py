"""``engagement:``: who counts as engaged, and the age range."""

from __future__ import annotations

from pydantic import Field

from everyfamily.config.base import Strict


class EngagementSettings(Strict):
    min_attendances: int = Field(
        3, ge=1, description="Attendances within the window that count as sustained engagement."
    )
    window_months: int = Field(
        12,
        ge=1,
        le=60,
        description="Length of the engagement window, ending on the reference date.",
    )
    min_age_years: int = Field(0, ge=0, description="Youngest age (years) counted as under-five.")
    max_age_years: int = Field(4, ge=0, le=18, description="Oldest age (years) counted.")
