"""The project file: one YAML document that describes a council's data.

It is read and validated once, here, at the edge. Every setting is a field of a pydantic
model below with a description; docs/settings.md is generated from these models
(``everyfamily settings-doc``) and a test checks the two agree. Unknown or misspelt keys are
rejected with the key, the file and the line.

Relative paths in the file are resolved against the file's own folder, so a project folder
can be moved or zipped as a whole.

One module per settings group (``config.geography``, ``config.sources`` ...); every name
is re-exported here, so ``from everyfamily.config import X`` is the one way to import it.
"""

from __future__ import annotations

from everyfamily.config.access import (
    AccessSettings,
    ApproximateNetworkSettings,
    NetworkFile,
    NetworkFormat,
)
from everyfamily.config.base import (
    Strict,
    _did_you_mean,
)
from everyfamily.config.communities import (
    CensusBaselineSettings,
    CommunitiesSettings,
)
from everyfamily.config.engagement import (
    EngagementSettings,
)
from everyfamily.config.engine import (
    EngineKind,
    SparkSettings,
)
from everyfamily.config.geography import (
    AreaHierarchy,
    AreaLayer,
    AreaNames,
    GeographySettings,
    PostcodeLookup,
)
from everyfamily.config.linkage import (
    LinkageSettings,
)
from everyfamily.config.loading import (
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    _line_for,
    _LineLoader,
    _load_with_lines,
    _model_at,
    _resolve_paths,
    load_project,
    parse_project,
    read_project_yaml,
)
from everyfamily.config.output import (
    OutputSettings,
    WebSettings,
)
from everyfamily.config.planning import (
    NeedWeightsSettings,
    PlanningSettings,
    Session,
    VenuesFile,
)
from everyfamily.config.population import (
    BirthsSettings,
    DeprivationSettings,
    PopulationSettings,
    SitesSettings,
)
from everyfamily.config.privacy import (
    PrivacySettings,
    RoundingRule,
)
from everyfamily.config.project import (
    ProjectInfo,
)
from everyfamily.config.sources import (
    FileFormat,
    SourceOptions,
    SourceSettings,
)
from everyfamily.config.trends import (
    TrendsSettings,
)
from everyfamily.config.whole import (
    Project,
)

__all__ = [
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "AccessSettings",
    "ApproximateNetworkSettings",
    "AreaHierarchy",
    "AreaLayer",
    "AreaNames",
    "BirthsSettings",
    "CensusBaselineSettings",
    "CommunitiesSettings",
    "DeprivationSettings",
    "EngagementSettings",
    "EngineKind",
    "FileFormat",
    "GeographySettings",
    "LinkageSettings",
    "NeedWeightsSettings",
    "NetworkFile",
    "NetworkFormat",
    "OutputSettings",
    "PlanningSettings",
    "PopulationSettings",
    "PostcodeLookup",
    "PrivacySettings",
    "Project",
    "ProjectInfo",
    "RoundingRule",
    "Session",
    "SitesSettings",
    "SourceOptions",
    "SourceSettings",
    "SparkSettings",
    "Strict",
    "TrendsSettings",
    "VenuesFile",
    "WebSettings",
    "_LineLoader",
    "_did_you_mean",
    "_line_for",
    "_load_with_lines",
    "_model_at",
    "_resolve_paths",
    "load_project",
    "parse_project",
    "read_project_yaml",
]
