"""The whole project file (:class:`Project`), every block above."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from everyfamily.config.access import AccessSettings
from everyfamily.config.base import Strict
from everyfamily.config.communities import CommunitiesSettings
from everyfamily.config.engagement import EngagementSettings
from everyfamily.config.engine import EngineKind, SparkSettings
from everyfamily.config.geography import GeographySettings
from everyfamily.config.linkage import LinkageSettings
from everyfamily.config.output import OutputSettings, WebSettings
from everyfamily.config.planning import PlanningSettings
from everyfamily.config.population import DeprivationSettings, PopulationSettings, SitesSettings
from everyfamily.config.privacy import PrivacySettings
from everyfamily.config.project import ProjectInfo
from everyfamily.config.sources import SourceSettings
from everyfamily.config.trends import TrendsSettings


class Project(Strict):
    project: ProjectInfo = Field(description="Who and when.")
    geography: GeographySettings = Field(description="Areas, postcodes and boundaries.")
    population: PopulationSettings = Field(description="Official population denominators.")
    deprivation: DeprivationSettings | None = Field(None, description="Deprivation by area.")
    sites: SitesSettings | None = Field(None, description="Service sites.")
    sources: Annotated[list[SourceSettings], Field(min_length=1)] = Field(
        description="The council's exports, one entry each."
    )
    engagement: EngagementSettings = Field(
        default_factory=EngagementSettings, description="What counts as sustained engagement."
    )
    linkage: LinkageSettings = Field(default_factory=LinkageSettings, description="Record linkage.")
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, description="Privacy.")
    outputs: OutputSettings = Field(default_factory=OutputSettings, description="Outputs.")
    web: WebSettings = Field(default_factory=WebSettings, description="The web dashboard.")
    communities: CommunitiesSettings = Field(
        default_factory=CommunitiesSettings, description="Emerging communities."
    )
    access: AccessSettings | None = Field(
        None, description="Travel times to sites and barriers (street network files)."
    )
    planning: PlanningSettings | None = Field(
        None, description="Costed service model and scenarios (the planning stage)."
    )
    trends: TrendsSettings = Field(
        default_factory=TrendsSettings, description="Reach over time and its recent trend."
    )
    engine: EngineKind = Field(
        "duckdb",
        description="Where tables are stored and SQL runs: duckdb (one machine, the default) "
        "or spark (a cluster; docs/scale.md).",
    )
    spark: SparkSettings = Field(
        default_factory=SparkSettings, description="The Spark engine (when engine is spark)."
    )

    @model_validator(mode="after")
    def _unique_sources(self) -> Project:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"two sources are named {s.name!r}: names must be unique")
            seen.add(s.name)
        return self

    def source(self, name: str) -> SourceSettings:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)
