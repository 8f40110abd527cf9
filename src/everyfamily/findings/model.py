"""What a finding is, the kinds there are, and the settings that decide what is striking.

Every threshold is a named constant with its reason. None is tuned to the demo: they are the
conventions an analyst would state in a methods note (FDR 5%, a gap worth a workshop's time,
Fingertips' caution about small numerators).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from everyfamily.evidence import STRENGTH_CAP as STRENGTH_CAP  # the cap is evidence.py's

if TYPE_CHECKING:
    from everyfamily.findings.text import ReleasedTable

Kind = Literal[
    "unreached_area",
    "unreached_group",
    "emerging_community",
    "access_barrier",
    "low_engagement_site",
    "unknown_population",
    "linkage_quality_gap",
    "declining_reach",
    "improving_reach",
]
KINDS: tuple[str, ...] = (
    "unreached_area",
    "unreached_group",
    "emerging_community",
    "access_barrier",
    "low_engagement_site",
    "unknown_population",
    "linkage_quality_gap",
    "declining_reach",
    "improving_reach",
)

Severity = Literal["striking", "watch"]

#: False discovery rate for every family of tests (Benjamini-Hochberg). 5% is the usual
#: convention; with it, of the findings called striking, about 1 in 20 may be chance.
FDR_ALPHA = 0.05
#: Smallest gap in a rate (0-1 scale) that makes a group or site finding: 10 percentage
#: points. With thousands of children a test detects gaps far too small to act on; a
#: 10-point gap is the smallest that would change a service plan (Ofsted read ~65% as good
#: reach, so 10 points is a grade boundary's width).
MIN_RATE_GAP = 0.10
#: Smallest gap for a whole area below the borough rate: 5 percentage points. The funnel
#: limits already scale with the area's size, so only a small floor is needed to stop a
#: very large area being flagged for a trivial shortfall.
MIN_AREA_GAP = 0.05
#: Fewest known children in a group (and in the comparison "everyone else") for a group
#: test. Fingertips publishes rates with numerators below 10 only with care; below 10 a
#: rate moves 10 points with one child.
MIN_GROUP_KNOWN = 10
#: Fewest registered children at a site for an engagement test (a site with fewer has too
#: little to compare: one child moves its rate by 5 points).
MIN_SITE_REGISTERED = 20
#: Shortfall of known children against ONS, after allowing for the borough's overall
#: completeness, below which no unknown_population finding is made: 15%. ONS small-area
#: estimates of 0-4s carry errors of this order themselves (they are rolled forward from the
#: census), so a smaller gap may be the estimate, not missing children.
MIN_UNKNOWN_SHORTFALL = 0.15
#: Smallest recall gap (group against everyone else) for a linkage_quality_gap finding: 5
#: points. At 5 points a group's registered rate can look 5% lower from linkage alone.
MIN_RECALL_GAP = 0.05
#: Fewest ONS-estimated children in an area for an unknown_population test.
MIN_ONS_POPULATION = 10

#: Group values that are not a community: missing or not-stated answers.
NOT_A_GROUP: frozenset[str] = frozenset({"", "unknown", "not_stated", "not stated", "none", "nan"})
#: Group dimensions tested by default. Age and sex are left out: registration rises with age
#: by design (newborns are not yet registered), and neither is a target group in the
#: children's centre framework. Deprivation, ethnicity, language and mother's origin are.
DEFAULT_GROUP_DIMENSIONS: tuple[str, ...] = (
    "ethnicity",
    "ethnicity_broad",
    "main_language",
    "mother_country_of_birth",
    "mother_region_of_birth",
    "imd_decile",
    "imd_quintile",
    "idaci_decile",
    "idaci_quintile",
)
#: Dimensions that describe the *area* a child lives in, not the child: every child in a small
#: area has the same decile. Inside a ward or reach area such a "group" is just a subset of
#: its small areas, which the area detector already judges, so these are tested borough-wide
#: only ("are the most deprived areas reached as well as the rest?").
AREA_ATTRIBUTE_DIMENSIONS: frozenset[str] = frozenset(
    {"imd_decile", "imd_quintile", "idaci_decile", "idaci_quintile"}
)
#: Finer dimension -> the broader one it rolls up into (used to merge duplicate findings).
NESTED_DIMENSIONS: dict[str, str] = {
    "ethnicity": "ethnicity_broad",
    "mother_country_of_birth": "mother_region_of_birth",
    "imd_decile": "imd_quintile",
    "idaci_decile": "idaci_quintile",
}
#: Area levels from broad to fine: a group finding at a broader level absorbs the same group
#: flagged inside it.
LEVEL_ORDER: tuple[str, ...] = ("borough", "reach_area", "ward", "msoa", "lsoa")


@dataclass(frozen=True)
class FindingsSettings:
    """The knobs of the findings engine; defaults are the named constants above."""

    fdr_alpha: float = FDR_ALPHA
    min_rate_gap: float = MIN_RATE_GAP
    min_area_gap: float = MIN_AREA_GAP
    min_group_known: int = MIN_GROUP_KNOWN
    min_site_registered: int = MIN_SITE_REGISTERED
    min_unknown_shortfall: float = MIN_UNKNOWN_SHORTFALL
    min_recall_gap: float = MIN_RECALL_GAP
    min_ons_population: int = MIN_ONS_POPULATION
    small_area_level: str = "lsoa"
    group_dimensions: tuple[str, ...] = DEFAULT_GROUP_DIMENSIONS
    borough_name: str = "the borough"
    #: Counts in headlines go through disclosure control (privacy settings of the project).
    suppress_at_or_below: int = 7
    rounding: Literal["midpoint6", "nearest5", "none"] = "midpoint6"
    #: How counts of sets of children that are no reach cell (a barrier side, a community)
    #: are released (privacy.release.release_child_counts): the project's
    #: ``privacy.release_method`` (the find stage's settings_for sets it); detectors used on
    #: their own suppress and round.
    release_method: Literal["cell_key", "suppress_round"] = "suppress_round"
    #: Cells the released reach table suppresses (level, area_code, dimension, group_value,
    #: service, column), e.g. by secondary suppression: a finding never shows them, nor a
    #: total that would give them back by subtraction (reach.csv and findings.json are
    #: both public, so an attacker holds both).
    withheld: frozenset[tuple[str, str, str, str, str, str]] = frozenset()
    #: The released reach table (findings.text.ReleasedTable): when present, every count a
    #: reach finding shows is a sum or difference of its cells, under either release method
    #: (issue 15), so no finding narrows a withheld or perturbed cell. None: counts are
    #: released from the exact counts by the rules above (detectors used on their own).
    released_table: ReleasedTable | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Finding:
    """One thing an analyst would raise, with its evidence.

    ``children_affected`` is the number of children in scope not reached on the measure
    (e.g. known but not registered). ``score`` ranks findings: the excess of unreached
    children over what the comparison rate predicts, times the strength of evidence
    (-log10 q, capped at :data:`STRENGTH_CAP`).
    """

    kind: str
    areas: tuple[str, ...]
    group: tuple[str, str] | None
    site: str | None
    measure: str
    observed: float
    expected: float
    interval: tuple[float, float]
    children_affected: int
    headline: str
    evidence: Mapping[str, Any]
    score: float
    severity: str = "striking"
    level: str = "lsoa"
    rank: int = 0
    area_names: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return finding_id(self.kind, self.areas, self.group, self.site)

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe dict that :meth:`from_record` turns back into the same finding."""
        out = dataclasses.asdict(self)
        out["group"] = list(self.group) if self.group else None
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Finding:
        """The inverse of :meth:`to_record` (tuples restored)."""
        data = dict(record)
        data["areas"] = tuple(data.get("areas") or ())
        data["group"] = tuple(data["group"]) if data.get("group") else None
        data["interval"] = tuple(data.get("interval") or (float("nan"), float("nan")))
        data["area_names"] = tuple(data.get("area_names") or ())
        return cls(**data)


def finding_id(
    kind: str, areas: tuple[str, ...] | list[str], group: tuple[str, str] | None, site: str | None
) -> str:
    """A stable id: the same thing found in another run gets the same id."""
    key = json.dumps(
        [kind, sorted(areas), list(group) if group else None, site], separators=(",", ":")
    )
    return "F-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
