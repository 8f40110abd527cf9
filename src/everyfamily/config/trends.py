"""``trends:``: reach over time (quarter ends before the reference date) and its recent trend."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from everyfamily.config.base import Strict


class BenchmarkSettings(Strict):
    path: Path = Field(
        description="CSV of other places' rates (England, region, statistical neighbours): "
        "indicator, geography, period, value, lower, upper, optional count and denominator "
        "(docs/trends.md, 'Other places')."
    )
    values: Literal["percent", "proportion"] = Field(
        "percent", description="Whether value, lower and upper are percentages or 0-1."
    )
    illustrative: bool = Field(
        False,
        description="True when the figures are illustrative, not published ones (said on "
        "every page that shows them).",
    )


class TrendsSettings(Strict):
    enabled: bool = Field(
        True, description="Measure reach at every quarter end and test its recent trend."
    )
    periods: int = Field(
        12,
        ge=2,
        le=40,
        description="Quarter ends to measure, the last on or before the reference date.",
    )
    test_periods: int = Field(
        5,
        ge=3,
        le=40,
        description="Latest periods the recent-trend test uses (Fingertips: the last 5 points).",
    )
    max_age_years: int | None = Field(
        None,
        ge=0,
        le=18,
        description="Oldest age counted in the trends; default: engagement.max_age_years, "
        "lowered to the ages whose births the extracts cover at the first period (an extract "
        "of today's under-fives cannot show who was under five three years ago).",
    )
    dimensions: list[str] = Field(
        default_factory=lambda: ["ethnicity_broad", "main_language", "mother_region_of_birth"],
        description="Group dimensions (columns of the children table, properties of the "
        "child) whose reach is followed over time, at the borough level (default: "
        "ethnicity_broad, main_language, mother_region_of_birth).",
    )
    pool_neighbours: bool = Field(
        False,
        description="Also test each small area pooled with its touching neighbours (Queen "
        "contiguity): a fall across a few small areas, each too small to test alone. Off by "
        "default: on a town of 40 areas the overlapping pools around a decline inflate the "
        "pools' over-dispersion estimate and nothing more was found (docs/trends.md).",
    )
    scan_clusters: bool = Field(
        True,
        description="Also scan for a fall or rise of registration shared by neighbouring "
        "small areas (circular zones, each zone's trend against the borough's, Monte Carlo "
        "p from shuffling the areas' series: trends.scan, docs/trends.md). Needs the "
        "small areas' boundaries.",
    )
    scan_flexible: bool = Field(
        True,
        description="Also scan flexibly shaped zones (Tango & Takahashi 2005: every connected "
        "set of an area and some of its 5 nearest areas), not only circles. On by default "
        "with the hinge statistic: measured on the town (seeds 2-8, docs/trends.md) the two "
        "together found 6 of 7 planted declines (the old defaults 3 of 7) and raised no "
        "cluster on 12 null towns (the old defaults 2 of 14).",
    )
    scan_null: Literal["permutation", "binomial"] = Field(
        "permutation",
        description="The trend scan's null: 'permutation' shuffles the areas' whole series "
        "among the places; 'binomial' draws every area's counts from the borough's rates "
        "(quasi-binomial: the observed statistic divided by the areas' own winsorised "
        "dispersion when above 1). Measured on the town (docs/trends.md): binomial found "
        "more planted declines and raised fewer clusters on null worlds; off by default "
        "until the Knowsley demo's trend tests are run with it.",
    )
    scan_statistic: Literal["recent", "hinge"] = Field(
        "hinge",
        description="The trend scan's statistic: 'recent', the trend over the latest "
        "test_periods quarters (Fingertips' recent trend); 'hinge', the change over them "
        "against a flat baseline of every earlier quarter (segmented regression, Wagner et al. "
        "2002; the default). Measured on the town with flexible zones (docs/trends.md): "
        "hinge found 6 of 7 planted declines against recent's 3 of 7, with no cluster on "
        "12 null towns; with circles only it raised a rising zone on one town.",
    )
    min_change: float = Field(
        0.10,
        gt=0,
        le=1,
        description="Smallest fitted change in a rate over the test periods (0-1) for a "
        "declining_reach or improving_reach finding.",
    )
    min_children: int = Field(
        20,
        ge=1,
        description="Fewest children in each test period for a series to be tested.",
    )
    coverage_share: float = Field(
        0.25,
        gt=0,
        le=1,
        description="A month counts as covered by a source when it holds at least this "
        "share of the source's median monthly count of events (births for the population).",
    )
    benchmark: BenchmarkSettings | None = Field(
        None,
        description="A benchmark file of other places' rates, shown against the borough's "
        "own with Fingertips' better / similar / worse colouring (none: the section says so).",
    )

    @model_validator(mode="after")
    def _test_within_periods(self) -> TrendsSettings:
        if self.test_periods > self.periods:
            raise ValueError(
                f"trends.test_periods ({self.test_periods}) cannot exceed trends.periods "
                f"({self.periods}): the test uses the latest of the measured periods"
            )
        return self
